//! `zerocpctl`: inspect a running ZeroCP domain (see `zerocp_daemon::ctl`).

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::Duration;

use zerocp_core::wire::PortKind;
use zerocp_daemon::cli::{self, Command};
use zerocp_daemon::ctl::live::{self, LiveCommand, hz::DEFAULT_WINDOW};
use zerocp_daemon::ctl::top::{self, Order, SortKey, TopError};
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
  info SERVICE
             one service: its type, its publishers and subscribers with
             their processes' names and counters
  mempools   mempools: group, chunk size, count, used, minimum free
  groups     segment groups: service patterns, publish and subscribe rules,
             pools (size, count, used), resets
  metrics    every counter and gauge in the Prometheus text format (0.0.4)

The live view:
  top [--interval SECONDS] [--once] [--filter TEXT] [--sort KEY]
             processes (pid, heartbeat age, state), services (publish rate,
             bandwidth), subscribers (queue fill, drops) and mempools (use,
             minimum free), drawn again every --interval (default 1); keys:
             q, Esc or Ctrl-C quit, s cycles the sort key, / filters by
             service or process name. KEY is name, pid, rate, bandwidth or
             drops. --once prints one frame (rates over --interval) and
             exits, for scripts (--json: one object); without --once
             stdout must be a terminal

Live commands (they subscribe to SERVICE, never blocking its publishers;
Ctrl-C ends them):
  echo SERVICE [--count N]
             print every sample as it is published: header and hex dump
             (--json: one object per line)
  hz SERVICE [--window SECONDS] [--count N]
             publish rate, min/max/std dev of the period, every second
  bw SERVICE [--window SECONDS] [--count N]
             published bytes per second, every second

SERVICE is written Service/Instance/Event. --count N stops after N
samples; --window is the span of publish time measured (default 10);
--json prints each sample or report as one line of JSON.

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

const COMMANDS: &str = "status, processes, services, info, top, echo, hz, bw, mempools, groups, \
                        metrics, reset-group or revoke-port";

/// A one-shot query, the live view, or a live command.
enum Action {
    Query(Query),
    Top(TopOptions),
    Live(LiveCommand),
}

/// The options of `top`.
struct TopOptions {
    interval: Duration,
    once: bool,
    order: Order,
}

/// `top`'s options as given: `Some` for each one seen.
#[derive(Default)]
struct TopFlags {
    interval: Option<Duration>,
    once: bool,
    filter: Option<String>,
    sort: Option<SortKey>,
}

impl TopFlags {
    fn any(&self) -> bool {
        self.interval.is_some() || self.once || self.filter.is_some() || self.sort.is_some()
    }

    fn options(self) -> TopOptions {
        TopOptions {
            interval: self.interval.unwrap_or(top::DEFAULT_INTERVAL),
            once: self.once,
            order: Order {
                sort: self.sort.unwrap_or_default(),
                filter: self.filter.unwrap_or_default(),
            },
        }
    }
}

struct Args {
    domain: Option<String>,
    json: bool,
    action: Action,
}

/// The options only live commands take.
#[derive(Default)]
struct LiveOptions {
    count: Option<u64>,
    window: Option<Duration>,
}

/// The command `name` and the arguments it takes from `words` (and, for
/// `top`, `flags`; for a live command, `live`).
fn parse_action(
    name: &str,
    words: &[String],
    live: LiveOptions,
    flags: TopFlags,
) -> Result<Action, lexopt::Error> {
    match (name, words) {
        ("top", []) if live.count.is_none() && live.window.is_none() => {
            return Ok(Action::Top(flags.options()));
        }
        ("top", []) => return Err("top takes no --count or --window (it takes --interval)".into()),
        ("top", [extra, ..]) => return Err(format!("top takes no argument, got {extra:?}").into()),
        _ if flags.any() => {
            return Err(format!(
                "{name} takes no --interval, --once, --filter or --sort (top does)"
            )
            .into());
        }
        _ => {}
    }
    let service = |words: &[String]| match words {
        [service] => service_arg(service),
        _ => Err(format!("{name} takes one argument: SERVICE (Service/Instance/Event)").into()),
    };
    let window = live.window.unwrap_or(DEFAULT_WINDOW);
    let command = match name {
        "echo" if live.window.is_some() => return Err("echo takes no --window".into()),
        "echo" => LiveCommand::Echo {
            service: service(words)?,
            count: live.count,
        },
        "hz" => LiveCommand::Hz {
            service: service(words)?,
            window,
            count: live.count,
        },
        "bw" => LiveCommand::Bw {
            service: service(words)?,
            window,
            count: live.count,
        },
        _ if live.count.is_some() || live.window.is_some() => {
            return Err(format!("{name} takes no --count or --window (echo, hz and bw do)").into());
        }
        "info" => return Ok(Action::Query(Query::Info(service(words)?))),
        _ => return parse_query(name, words).map(Action::Query),
    };
    Ok(Action::Live(command))
}

/// `given` if it is written `Service/Instance/Event` (each part non-empty;
/// the event may hold more `/`).
fn service_arg(given: &str) -> Result<String, lexopt::Error> {
    let parts: Vec<&str> = given.splitn(3, '/').collect();
    if parts.len() == 3 && parts.iter().all(|p| !p.is_empty()) {
        Ok(given.to_owned())
    } else {
        Err(format!("SERVICE is written Service/Instance/Event, got {given:?}").into())
    }
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

/// `--window SECONDS` or `--interval SECONDS` (`option`): a positive
/// number of seconds (fractions allowed).
fn seconds(option: &str, text: &str) -> Result<Duration, lexopt::Error> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| {
            format!("{option} must be a positive number of seconds, got {text:?}").into()
        })
}

fn parse_args() -> Result<Command<Args>, lexopt::Error> {
    use lexopt::prelude::*;
    let (mut domain, mut json, mut words) = (None, false, Vec::new());
    let mut live = LiveOptions::default();
    let mut flags = TopFlags::default();
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("domain") => domain = Some(parser.value()?.string()?),
            Long("json") => json = true,
            Long("count") => {
                let text = parser.value()?.string()?;
                live.count =
                    Some(text.parse().ok().filter(|&n: &u64| n > 0).ok_or_else(|| {
                        format!("--count must be a positive number, got {text:?}")
                    })?);
            }
            Long("window") => live.window = Some(seconds("--window", &parser.value()?.string()?)?),
            Long("interval") => {
                flags.interval = Some(seconds("--interval", &parser.value()?.string()?)?);
            }
            Long("once") => flags.once = true,
            Long("filter") => flags.filter = Some(parser.value()?.string()?),
            Long("sort") => {
                let text = parser.value()?.string()?;
                flags.sort = Some(SortKey::parse(&text).ok_or_else(|| {
                    format!("--sort takes name, pid, rate, bandwidth or drops, got {text:?}")
                })?);
            }
            Short('h') | Long("help") => return Ok(Command::Print(USAGE.into())),
            Short('V') | Long("version") => return Ok(Command::version("zerocpctl")),
            Value(word) => words.push(word.string()?),
            _ => return Err(arg.unexpected()),
        }
    }
    let (name, rest) = words
        .split_first()
        .ok_or_else(|| format!("missing command: {COMMANDS}"))?;
    let action = parse_action(name, rest, live, flags)?;
    if json && matches!(&action, Action::Top(top) if !top.once) {
        return Err("top --json prints one frame: add --once".into());
    }
    Ok(Command::Run(Args {
        domain,
        json,
        action,
    }))
}

fn main() -> ExitCode {
    let args = match cli::arguments("zerocpctl", parse_args()) {
        ControlFlow::Continue(args) => args,
        ControlFlow::Break(status) => return status,
    };
    let query = match args.action {
        Action::Query(query) => query,
        Action::Live(command) => return live_main(args.domain.as_deref(), &command, args.json),
        Action::Top(options) => return top_main(args.domain.as_deref(), options, args.json),
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

/// Runs a live command: exit 0 at its count, on Ctrl-C and when the
/// output's reader left; 1 with the error otherwise.
fn live_main(domain: Option<&str>, command: &LiveCommand, json: bool) -> ExitCode {
    match live::run(domain, command, json, &mut std::io::stdout().lock()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zerocpctl: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `top`: exit 0 when it printed its frame (`--once`) or was quit;
/// 2 when the live view was asked for without a terminal (or built
/// without it); 1 with the
/// error otherwise (the terminal is restored by then).
fn top_main(domain: Option<&str>, options: TopOptions, json: bool) -> ExitCode {
    let result = if options.once {
        top::once(domain, options.interval, &options.order, json).map(|text| {
            print!("{text}");
            if json {
                println!();
            }
        })
    } else {
        top::live(domain, options.interval, options.order)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ (TopError::NotATerminal | TopError::NoLiveView)) => {
            eprintln!("zerocpctl: error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("zerocpctl: error: {e}");
            ExitCode::FAILURE
        }
    }
}
