//! `zerocpd`: the ZeroCP daemon. Runs in the foreground, logs to stderr,
//! stops cleanly on SIGTERM/SIGINT (exit 0); any start-up failure is one
//! clear line on stderr and exit status 1.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use zerocp_daemon::daemon::{self, DaemonOptions};
use zerocp_daemon::logging::{self, LevelFilter};

/// The ZeroCP daemon: owns a domain's shared memory, registers processes,
/// routes services and cleans up after processes that die.
#[derive(Debug, Parser)]
#[command(name = "zerocpd", version)]
struct Args {
    /// Domain to serve (else ZEROCP_DOMAIN, else the config's `domain`, else "default").
    #[arg(long, value_name = "NAME")]
    domain: Option<String>,
    /// Configuration file (default: /etc/zerocp/zerocpd.toml when present, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log level: off, error, warn, info, debug, trace.
    #[arg(
        long,
        value_name = "LEVEL",
        default_value = "info",
        env = "ZEROCPD_LOG_LEVEL"
    )]
    log_level: LevelFilter,
}

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init("zerocpd", args.log_level);
    let options = DaemonOptions {
        domain: args.domain,
        config: args.config,
    };
    match daemon::run(&options) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zerocpd: error: {e}");
            ExitCode::FAILURE
        }
    }
}
