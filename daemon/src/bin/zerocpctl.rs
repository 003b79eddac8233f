//! `zerocpctl`: inspect a running ZeroCP domain (see `zerocp_daemon::ctl`).

use std::ops::ControlFlow;
use std::process::ExitCode;

use zerocp_core::wire::PortKind;
use zerocp_daemon::cli::{self, Command};
use zerocp_daemon::ctl::{self, Query};

const USAGE: &str = "\
Usage: zerocpctl [--domain NAME] [--json] COMMAND [ARGS]

Inspect a running ZeroCP domain.

Commands:
  status     the daemon: pid, uptime, counts, segment sizes, connections
             refused, evicted and expired, processes registered and died,
             heartbeat timeouts, chunks reclaimed
  processes  registered processes: pid, name, state, heartbeat age
  services   services with their publishers and subscribers (samples
             published and received, queue fill, drops, failed loans, time
             blocked)
  mempools   mempools: group, chunk size, count, used, minimum free
  groups     segment groups: service patterns, publish and subscribe rules,
             pools (size, count, used), resets
  metrics    every counter and gauge in the Prometheus text format (0.0.4)

Operator commands (root and the daemon's uid only):
  reset-group NAME
             reset the segment group NAME onto fresh memory: every port of
             it is revoked (its process is told and creates it again)
  revoke-port GROUP publisher|subscriber INDEX
             revoke one port (GROUP and INDEX as `services` shows them); its
             process is told

Options:
  --domain NAME  domain to inspect (else ZEROCP_DOMAIN, else \"default\")
  --json         print JSON instead of a table (docs/cli-json.md)
  -h, --help     print this help
  -V, --version  print the version
";

const COMMANDS: &str =
    "status, processes, services, mempools, groups, metrics, reset-group or revoke-port";

struct Args {
    domain: Option<String>,
    json: bool,
    query: Query,
}

/// The command `name` and the arguments it takes from `words`.
fn parse_query(name: &str, words: &[String]) -> Result<Query, lexopt::Error> {
    let query = match (name, words) {
        ("status", []) => Query::Status,
        ("processes", []) => Query::Processes,
        ("services", []) => Query::Services,
        ("mempools", []) => Query::Mempools,
        ("groups", []) => Query::Groups,
        ("metrics", []) => Query::Metrics,
        ("reset-group", [group]) => Query::ResetGroup(group.clone()),
        ("reset-group", _) => return Err("reset-group takes one argument: the group's name".into()),
        ("revoke-port", [group, kind, index]) => Query::RevokePort {
            group: number("GROUP", group)?,
            kind: match kind.as_str() {
                "publisher" => PortKind::Publisher,
                "subscriber" => PortKind::Subscriber,
                "notifier" => PortKind::Notifier,
                "listener" => PortKind::Listener,
                other => {
                    return Err(format!(
                        "{other:?} is not publisher, subscriber, notifier or listener"
                    )
                    .into());
                }
            },
            index: number("INDEX", index)?,
        },
        ("revoke-port", _) => {
            return Err(
                "revoke-port takes GROUP publisher|subscriber|notifier|listener INDEX".into(),
            );
        }
        ("status" | "processes" | "services" | "mempools" | "groups" | "metrics", [extra, ..]) => {
            return Err(format!("{name} takes no argument, got {extra:?}").into());
        }
        (other, _) => {
            return Err(format!("unknown command {other:?}: expected {COMMANDS}").into());
        }
    };
    Ok(query)
}

fn number(what: &str, text: &str) -> Result<u32, lexopt::Error> {
    text.parse()
        .map_err(|_| format!("{what} must be a number, got {text:?}").into())
}

fn parse_args() -> Result<Command<Args>, lexopt::Error> {
    use lexopt::prelude::*;
    let (mut domain, mut json, mut words) = (None, false, Vec::new());
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("domain") => domain = Some(parser.value()?.string()?),
            Long("json") => json = true,
            Short('h') | Long("help") => return Ok(Command::Print(USAGE.into())),
            Short('V') | Long("version") => return Ok(Command::version("zerocpctl")),
            Value(word) => words.push(word.string()?),
            _ => return Err(arg.unexpected()),
        }
    }
    let (name, rest) = words
        .split_first()
        .ok_or_else(|| format!("missing command: {COMMANDS}"))?;
    let query = parse_query(name, rest)?;
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
