//! `zerocpctl bw SERVICE [--window SECONDS] [--count N] [--json]`: the
//! bytes per second a service's publishers publish ([`super::rate_window`]
//! says how it is measured: rate times mean payload size, so samples the
//! tool dropped still count).
//!
//! Every second (of the tool's clock), and once more when `--count`
//! samples were seen, it prints, as `ros2 topic bw` does:
//!
//! ```text
//! 12.80 KB/s from 1001 samples
//!     sample size mean: 128 B min: 128 B max: 128 B
//! ```
//!
//! (B, KB, MB: powers of 1000). With `--json` each report is one line
//! `{"schema", "service", "bytes_per_s", "window", "window_s", "size_mean",
//! "size_min", "size_max"}`; a second without a new sample prints
//! `no new samples`, or nothing with `--json`. The window is that of `hz`.

use std::time::Duration;

use serde::Serialize;

use super::rate_window::Stats;
use crate::ctl::render::to_json;

#[derive(Serialize)]
struct BwJson<'a> {
    service: &'a str,
    bytes_per_s: f64,
    window: usize,
    window_s: f64,
    size_mean: f64,
    size_min: usize,
    size_max: usize,
}

/// One report (module docs), with its newline.
pub fn report(service: &str, window: Duration, stats: &Stats, json: bool) -> String {
    if json {
        let line = BwJson {
            service,
            bytes_per_s: stats.bytes_per_s,
            window: stats.window,
            window_s: window.as_secs_f64(),
            size_mean: stats.size_mean,
            size_min: stats.size_min,
            size_max: stats.size_max,
        };
        return to_json(&line) + "\n";
    }
    format!(
        "{}/s from {} samples\n\tsample size mean: {} min: {} max: {}\n",
        bytes(stats.bytes_per_s),
        stats.window,
        bytes(stats.size_mean),
        bytes(stats.size_min as f64),
        bytes(stats.size_max as f64),
    )
}

/// `n` bytes with a unit: `512 B`, `12.80 KB`, `3.20 MB` (powers of 1000).
pub(crate) fn bytes(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.2} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.2} KB", n / 1e3)
    } else {
        format!("{n:.0} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_read_like_ros2_topic_bw() {
        let stats = Stats {
            rate_hz: 100.0,
            min_period_s: 0.01,
            max_period_s: 0.01,
            std_dev_s: 0.0,
            window: 1001,
            bytes_per_s: 12_800.0,
            size_mean: 128.0,
            size_min: 128,
            size_max: 128,
        };
        assert_eq!(
            report("A/B/C", Duration::from_secs(10), &stats, false),
            "12.80 KB/s from 1001 samples\n\tsample size mean: 128 B min: 128 B max: 128 B\n"
        );
        assert_eq!(bytes(3_200_000.0), "3.20 MB");
        let json: serde_json::Value =
            serde_json::from_str(&report("A/B/C", Duration::from_secs(10), &stats, true)).unwrap();
        assert_eq!(json["bytes_per_s"], 12_800.0);
        assert_eq!(json["size_max"], 128);
    }
}
