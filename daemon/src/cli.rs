//! What the command lines of `zerocpd` and `zerocpctl` share: `--help` and
//! `--version` print their text and exit 0; a bad command line is one line on
//! stderr naming the problem with a pointer to `--help`, and exit status 2.

use std::ops::ControlFlow;
use std::process::ExitCode;

/// What a command line asks for.
#[derive(Debug)]
pub enum Command<A> {
    /// Run with these arguments.
    Run(A),
    /// Print this text (`--help`, `--version`) and exit 0.
    Print(String),
}

impl<A> Command<A> {
    /// The `--version` text of `program`.
    pub fn version(program: &str) -> Self {
        Self::Print(format!("{program} {}\n", env!("CARGO_PKG_VERSION")))
    }
}

/// The arguments to run `program` with (`Continue`), or the exit status
/// (`Break`) once the requested text was printed or the bad command line
/// reported.
pub fn arguments<A>(
    program: &str,
    parsed: Result<Command<A>, lexopt::Error>,
) -> ControlFlow<ExitCode, A> {
    match parsed {
        Ok(Command::Run(args)) => ControlFlow::Continue(args),
        Ok(Command::Print(text)) => {
            print!("{text}");
            ControlFlow::Break(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{program}: error: {e}\nTry `{program} --help`.");
            ControlFlow::Break(ExitCode::from(2))
        }
    }
}
