//! `zerocpd`: the ZeroCP daemon. Runs in the foreground, logs to stderr,
//! stops cleanly on SIGTERM, SIGINT, SIGHUP and SIGQUIT (exit 0); any
//! start-up failure is one clear line on stderr and exit status 1; a bad
//! command line is exit status 2.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use zerocp_daemon::cli::{self, Command};
use zerocp_daemon::daemon::{self, DaemonOptions};
use zerocp_daemon::logging::{self, LevelFilter};

const USAGE: &str = "\
Usage: zerocpd [--domain NAME] [--config FILE] [--log-level LEVEL]

The ZeroCP daemon: owns a domain's shared memory, registers processes,
routes services and cleans up after processes that die. Runs in the
foreground until SIGTERM, SIGINT, SIGHUP or SIGQUIT.

Options:
  --domain NAME      domain to serve (else ZEROCP_DOMAIN, else the config's
                     `domain`, else \"default\")
  --config FILE      configuration file (default: /etc/zerocp/zerocpd.toml
                     when present, else built-in defaults)
  --log-level LEVEL  off, error, warn, info, debug or trace (else
                     ZEROCPD_LOG_LEVEL, else info)
  -h, --help         print this help
  -V, --version      print the version
";

/// The environment variable giving the log level when `--log-level` is absent.
const LOG_LEVEL_ENV: &str = "ZEROCPD_LOG_LEVEL";

struct Args {
    options: DaemonOptions,
    log_level: LevelFilter,
}

fn parse_level(text: &str) -> Result<LevelFilter, lexopt::Error> {
    text.parse().map_err(|_| {
        format!("invalid log level {text:?}: expected off, error, warn, info, debug or trace")
            .into()
    })
}

fn parse_args() -> Result<Command<Args>, lexopt::Error> {
    use lexopt::prelude::*;
    let mut options = DaemonOptions::default();
    let mut log_level = None;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("domain") => options.domain = Some(parser.value()?.string()?),
            Long("config") => options.config = Some(PathBuf::from(parser.value()?)),
            Long("log-level") => log_level = Some(parse_level(&parser.value()?.string()?)?),
            Short('h') | Long("help") => return Ok(Command::Print(USAGE.into())),
            Short('V') | Long("version") => return Ok(Command::version("zerocpd")),
            _ => return Err(arg.unexpected()),
        }
    }
    let log_level = match (log_level, std::env::var(LOG_LEVEL_ENV)) {
        (Some(level), _) => level,
        (None, Ok(text)) if !text.is_empty() => {
            parse_level(&text).map_err(|e| lexopt::Error::from(format!("{LOG_LEVEL_ENV}: {e}")))?
        }
        (None, _) => LevelFilter::Info,
    };
    Ok(Command::Run(Args { options, log_level }))
}

fn main() -> ExitCode {
    let args = match cli::arguments("zerocpd", parse_args()) {
        ControlFlow::Continue(args) => args,
        ControlFlow::Break(status) => return status,
    };
    logging::init("zerocpd", args.log_level);
    match daemon::run(&args.options) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            logging::fatal(&format!("zerocpd: error: {e}"));
            ExitCode::FAILURE
        }
    }
}
