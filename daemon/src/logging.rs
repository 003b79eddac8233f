//! The daemon's and `zerocpctl`'s stderr logger, behind the `log` facade.
//!
//! One line per record, `zerocpd[PID] LEVEL message`, written unbuffered to
//! stderr (systemd's journal adds timestamps). The level comes from
//! `--log-level` (`off`, `error`, `warn`, `info`, `debug`, `trace`).

use std::io::Write;

pub use log::LevelFilter;

/// Installs the stderr logger for program `name` at `level`.
///
/// Calling it twice keeps the first logger (the second call does nothing).
///
/// ```
/// zerocp_daemon::logging::init("doc", zerocp_daemon::logging::LevelFilter::Warn);
/// log::warn!("shown on stderr");
/// ```
pub fn init(name: &'static str, level: LevelFilter) {
    let pid = std::process::id();
    let result = env_logger::Builder::new()
        .filter_level(level)
        .target(env_logger::Target::Stderr)
        .format(move |buf, record| {
            writeln!(buf, "{name}[{pid}] {:<5} {}", record.level(), record.args())
        })
        .try_init();
    // A logger already installed (e.g. by a test) stays; nothing to report.
    drop(result);
}
