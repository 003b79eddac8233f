//! `zerocpctl`: inspect a running ZeroCP domain (see `zerocp_daemon::ctl`).

use std::ops::ControlFlow;
use std::process::ExitCode;

use zerocp_daemon::cli::{self, Command};
use zerocp_daemon::ctl::{self, Query};

const USAGE: &str = "\
Usage: zerocpctl [--domain NAME] [--json] COMMAND

Inspect a running ZeroCP domain.

Commands:
  status     the daemon: pid, uptime, counts, segment sizes, connections
             refused, evicted and expired
  processes  registered processes: pid, name, state, heartbeat age
  services   services with their publishers and subscribers (queue fill,
             dropped count)
  mempools   mempools: group, chunk size, count, used, minimum free
  groups     segment groups: service patterns, publish and subscribe rules,
             pools (size, count, used)

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

fn parse_query(name: &str) -> Result<Query, lexopt::Error> {
    match name {
        "status" => Ok(Query::Status),
        "processes" => Ok(Query::Processes),
        "services" => Ok(Query::Services),
        "mempools" => Ok(Query::Mempools),
        "groups" => Ok(Query::Groups),
        other => Err(format!(
            "unknown command {other:?}: expected status, processes, services, mempools or groups"
        )
        .into()),
    }
}

fn parse_args() -> Result<Command<Args>, lexopt::Error> {
    use lexopt::prelude::*;
    let (mut domain, mut json, mut query) = (None, false, None);
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("domain") => domain = Some(parser.value()?.string()?),
            Long("json") => json = true,
            Short('h') | Long("help") => return Ok(Command::Print(USAGE.into())),
            Short('V') | Long("version") => return Ok(Command::version("zerocpctl")),
            Value(name) if query.is_none() => query = Some(parse_query(&name.string()?)?),
            _ => return Err(arg.unexpected()),
        }
    }
    let query = query.ok_or("missing command: status, processes, services, mempools or groups")?;
    Ok(Command::Run(Args {
        domain,
        json,
        query,
    }))
}

fn main() -> ExitCode {
    let args = match cli::arguments("zerocpctl", parse_args()) {
        ControlFlow::Continue(args) => args,
        ControlFlow::Break(status) => return status,
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
