//! `zerocpctl`: inspect a running ZeroCP domain (see `zerocp_daemon::ctl`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zerocp_daemon::ctl::{self, Query};

/// Inspect a running ZeroCP domain.
#[derive(Debug, Parser)]
#[command(name = "zerocpctl", version)]
struct Args {
    /// Domain to inspect (else ZEROCP_DOMAIN, else "default").
    #[arg(long, value_name = "NAME", global = true)]
    domain: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The daemon: pid, uptime, counts, segment sizes.
    Status,
    /// Registered processes: pid, name, state, heartbeat age.
    Processes,
    /// Services with their publishers and subscribers (queue fill, dropped count).
    Services,
    /// Mempools: chunk size, count, used, minimum free.
    Mempools,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let query = match args.command {
        Command::Status => Query::Status,
        Command::Processes => Query::Processes,
        Command::Services => Query::Services,
        Command::Mempools => Query::Mempools,
    };
    match ctl::run(args.domain.as_deref(), query, args.json) {
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
