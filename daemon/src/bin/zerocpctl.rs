//! `zerocpctl`: inspect a running ZeroCP domain (see `zerocp_daemon::ctl`).

use std::process::ExitCode;

use zerocp_daemon::ctl::{self, Query};

const USAGE: &str = "\
Usage: zerocpctl [--domain NAME] [--json] COMMAND

Inspect a running ZeroCP domain.

Commands:
  status     the daemon: pid, uptime, counts, segment sizes
  processes  registered processes: pid, name, state, heartbeat age
  services   services with their publishers and subscribers (queue fill,
             dropped count)
  mempools   mempools: chunk size, count, used, minimum free

Options:
  --domain NAME  domain to inspect (else ZEROCP_DOMAIN, else \"default\")
  --json         print JSON instead of a table
  -h, --help     print this help
  -V, --version  print the version
";

struct Args {
    domain: Option<String>,
    json: bool,
    query: Query,
}

/// What the command line asks for.
enum Command {
    Run(Args),
    Print(String),
}

fn parse_query(name: &str) -> Result<Query, lexopt::Error> {
    match name {
        "status" => Ok(Query::Status),
        "processes" => Ok(Query::Processes),
        "services" => Ok(Query::Services),
        "mempools" => Ok(Query::Mempools),
        other => Err(format!(
            "unknown command {other:?}: expected status, processes, services or mempools"
        )
        .into()),
    }
}

fn parse_args() -> Result<Command, lexopt::Error> {
    use lexopt::prelude::*;
    let (mut domain, mut json, mut query) = (None, false, None);
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("domain") => domain = Some(parser.value()?.string()?),
            Long("json") => json = true,
            Short('h') | Long("help") => return Ok(Command::Print(USAGE.into())),
            Short('V') | Long("version") => {
                return Ok(Command::Print(format!(
                    "zerocpctl {}\n",
                    env!("CARGO_PKG_VERSION")
                )));
            }
            Value(name) if query.is_none() => query = Some(parse_query(&name.string()?)?),
            _ => return Err(arg.unexpected()),
        }
    }
    let query = query.ok_or("missing command: status, processes, services or mempools")?;
    Ok(Command::Run(Args {
        domain,
        json,
        query,
    }))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Command::Run(args)) => args,
        Ok(Command::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("zerocpctl: error: {e}\nTry `zerocpctl --help`.");
            return ExitCode::from(2);
        }
    };
    match ctl::run(args.domain.as_deref(), args.query, args.json) {
        Ok(text) => {
            print!("{text}");
            if args.json {
                println!();
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zerocpctl: error: {e}");
            ExitCode::FAILURE
        }
    }
}
