//! The daemon's stderr logger, behind the `log` facade.
//!
//! Every record becomes one line, written to stderr with a single `write`, so
//! lines of concurrent writers never interleave. The line's form depends on
//! where stderr goes, decided once at start ([`LineStyle::detect`]):
//!
//! - **the journal** (systemd sets `JOURNAL_STREAM=<dev>:<inode>` and it
//!   matches stderr): `<N>LEVEL message`, where `<N>` is the syslog priority
//!   journald files the line under (3 error, 4 warning, 6 info, 7 debug);
//!   the journal adds time, program and pid itself;
//! - **anything else** (a terminal, a file, a pipe): `2026-12-02T03:04:05.678Z
//!   zerocpd[PID] LEVEL message`, with a UTC timestamp in milliseconds.
//!
//! The level comes from `--log-level` (`off`, `error`, `warn`, `info`,
//! `debug`, `trace`). This is the whole logger: the daemon needs no
//! filtering by module and no colours, so it carries no logging crate
//! beyond `log` itself.

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::fd::AsFd;
use std::time::{SystemTime, UNIX_EPOCH};

pub use log::LevelFilter;
use log::{Level, Log, Metadata, Record};

/// The environment variable systemd sets to the `<dev>:<inode>` of the
/// journal stream it connected to stdout/stderr.
pub const JOURNAL_STREAM_ENV: &str = "JOURNAL_STREAM";

/// How log lines look (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStyle {
    /// `<N>LEVEL message`: stderr is the journal.
    Journal,
    /// `TIMESTAMP name[pid] LEVEL message`.
    Plain,
}

impl LineStyle {
    /// [`LineStyle::Journal`] when `JOURNAL_STREAM` names the file stderr
    /// is, else [`LineStyle::Plain`]. A child that inherits the variable
    /// but not the stream (its stderr redirected) thus logs plain lines.
    pub fn detect() -> Self {
        let Some(value) = std::env::var_os(JOURNAL_STREAM_ENV) else {
            return Self::Plain;
        };
        let stderr = std::io::stderr();
        let Ok(stat) = rustix::fs::fstat(stderr.as_fd()) else {
            return Self::Plain;
        };
        let expected = format!("{}:{}", stat.st_dev, stat.st_ino);
        if value.to_str() == Some(expected.as_str()) {
            Self::Journal
        } else {
            Self::Plain
        }
    }
}

/// The syslog priority journald files a record of `level` under.
pub fn syslog_priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// The logger: program name, pid, level and line style.
#[derive(Debug)]
struct StderrLogger {
    name: &'static str,
    pid: u32,
    level: LevelFilter,
    style: LineStyle,
}

impl StderrLogger {
    fn line(&self, record: &Record<'_>) -> String {
        let mut line = String::with_capacity(128);
        // Writing into a String cannot fail.
        let _ = match self.style {
            LineStyle::Journal => write!(
                line,
                "<{}>{:<5} {}",
                syslog_priority(record.level()),
                record.level(),
                record.args()
            ),
            LineStyle::Plain => write!(
                line,
                "{} {}[{}] {:<5} {}",
                UtcTimestamp(SystemTime::now()),
                self.name,
                self.pid,
                record.level(),
                record.args()
            ),
        };
        line.push('\n');
        line
    }
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            // Nowhere to report a failing stderr; the daemon goes on.
            let _ = std::io::stderr()
                .lock()
                .write_all(self.line(record).as_bytes());
        }
    }

    fn flush(&self) {}
}

/// Installs the stderr logger for program `name` at `level`, in the
/// [`LineStyle`] stderr calls for.
///
/// Calling it twice keeps the first logger (the second call does nothing).
///
/// ```
/// zerocp_daemon::logging::init("doc", zerocp_daemon::logging::LevelFilter::Warn);
/// log::warn!("shown on stderr");
/// ```
pub fn init(name: &'static str, level: LevelFilter) {
    let logger = StderrLogger {
        name,
        pid: std::process::id(),
        level,
        style: LineStyle::detect(),
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

/// Writes `message` to stderr as an error whatever the log level: with the
/// journal's error priority `<3>` when stderr is the journal. For the one
/// line a program prints when it fails.
pub fn fatal(message: &str) {
    let priority = match LineStyle::detect() {
        LineStyle::Journal => "<3>",
        LineStyle::Plain => "",
    };
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{priority}{message}\n").as_bytes());
}

/// A point in time written as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use zerocp_daemon::logging::UtcTimestamp;
/// let t = UNIX_EPOCH + Duration::from_millis(1_796_180_645_678);
/// assert_eq!(UtcTimestamp(t).to_string(), "2026-12-02T03:04:05.678Z");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct UtcTimestamp(pub SystemTime);

impl std::fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let since = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let (year, month, day) = civil_date(secs / 86_400);
        let time = secs % 86_400;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            time / 3600,
            time / 60 % 60,
            time % 60,
            since.subsec_millis()
        )
    }
}

/// The proleptic Gregorian date of day `days` since 1970-01-01, counting in
/// 400-year eras of 146 097 days whose years start on March 1st (so the
/// leap day is the last day of a year).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> String {
        UtcTimestamp(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(951_868_799), "2000-02-29T23:59:59.000Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59.000Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn priorities_follow_syslog() {
        let all = [Level::Error, Level::Warn, Level::Info, Level::Debug];
        assert_eq!(all.map(syslog_priority), [3, 4, 6, 7]);
    }

    #[test]
    fn lines_have_the_style_asked_for() {
        let logger = |style| StderrLogger {
            name: "zerocpd",
            pid: 42,
            level: LevelFilter::Info,
            style,
        };
        let args = format_args!("hello {}", 7);
        let record = Record::builder().level(Level::Warn).args(args).build();
        assert_eq!(
            logger(LineStyle::Journal).line(&record),
            "<4>WARN  hello 7\n"
        );
        let plain = logger(LineStyle::Plain).line(&record);
        assert!(plain.ends_with("Z zerocpd[42] WARN  hello 7\n"), "{plain}");
        assert_eq!(plain.find('T'), Some(10), "{plain}");
    }
}
