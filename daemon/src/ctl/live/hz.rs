//! `zerocpctl hz SERVICE [--window SECONDS] [--count N] [--json]`: the
//! rate at which a service's samples are published, and the spread of the
//! period ([`super::rate_window`] says how both are measured).
//!
//! Every second (of the tool's clock), and once more when `--count`
//! samples were seen, it prints what the window holds, as
//! `ros2 topic hz` does:
//!
//! ```text
//! average rate: 100.002
//!     min: 0.010s max: 0.011s std dev: 0.00021s window: 1001
//! ```
//!
//! (the second line starts with a tab). `window` is the number of samples in the window (the last `--window`
//! seconds of publish time, default [`DEFAULT_WINDOW`]). A second without
//! a new sample prints `no new samples`. With `--json` each report is one
//! line `{"schema", "service", "rate_hz", "min_period_s", "max_period_s",
//! "std_dev_s", "window", "window_s"}` and a second without samples prints
//! nothing.

use std::time::Duration;

use serde::Serialize;

use super::rate_window::Stats;
use crate::ctl::render::to_json;

/// The window when `--window` is not given.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10);

#[derive(Serialize)]
struct HzJson<'a> {
    service: &'a str,
    rate_hz: f64,
    min_period_s: f64,
    max_period_s: f64,
    std_dev_s: f64,
    window: usize,
    window_s: f64,
}

/// One report (module docs), with its newline.
pub fn report(service: &str, window: Duration, stats: &Stats, json: bool) -> String {
    if json {
        let line = HzJson {
            service,
            rate_hz: stats.rate_hz,
            min_period_s: stats.min_period_s,
            max_period_s: stats.max_period_s,
            std_dev_s: stats.std_dev_s,
            window: stats.window,
            window_s: window.as_secs_f64(),
        };
        return to_json(&line) + "\n";
    }
    format!(
        "average rate: {:.3}\n\tmin: {:.3}s max: {:.3}s std dev: {:.5}s window: {}\n",
        stats.rate_hz, stats.min_period_s, stats.max_period_s, stats.std_dev_s, stats.window
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_read_like_ros2_topic_hz() {
        let stats = Stats {
            rate_hz: 100.0021,
            min_period_s: 0.0099,
            max_period_s: 0.0106,
            std_dev_s: 0.000_213,
            window: 1001,
            bytes_per_s: 0.0,
            size_mean: 0.0,
            size_min: 0,
            size_max: 0,
        };
        assert_eq!(
            report("A/B/C", DEFAULT_WINDOW, &stats, false),
            "average rate: 100.002\n\tmin: 0.010s max: 0.011s std dev: 0.00021s window: 1001\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&report("A/B/C", DEFAULT_WINDOW, &stats, true)).unwrap();
        assert_eq!(json["service"], "A/B/C");
        assert_eq!(json["rate_hz"], 100.0021);
        assert_eq!(json["window"], 1001);
        assert_eq!(json["window_s"], 10.0);
    }
}
