//! [`RateWindow`]: the samples of the last `--window` seconds and what
//! `hz` and `bw` compute from them.
//!
//! **Publish times, not arrival times.** Every period is the difference of
//! two samples' publish times, the `CLOCK_MONOTONIC` the publisher stamped
//! into the chunk header: the measurement says how the publisher publishes,
//! whatever the tool's own scheduling (a tool woken late sees two samples
//! at once, their publish times are still 10 ms apart). The window is the
//! span of publish times up to the newest sample's.
//!
//! **Per publisher, with sequence numbers.** A service may have several
//! publishers, and the tool's small queue may drop samples when it falls
//! behind (it never blocks a publisher). So each publisher's samples are
//! kept apart: its rate is the sequence numbers it advanced over the publish
//! time it took (`(last.seq - first.seq) / (last.time - first.time)`), which
//! counts samples the tool dropped too; the service's rate is the sum over
//! its publishers. A period is measured only between consecutive sequence
//! numbers of one publisher, so a dropped sample never shows as a long
//! period. Min, max and standard deviation (of the population, as
//! `ros2 topic hz` prints it) are over those periods.
//!
//! **Bandwidth** is the rate times the mean payload size of the samples in
//! the window: the bytes the publishers publish per second, again not
//! lowered by what the tool dropped.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// One sample as the window keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// The publisher: its port index and generation.
    pub publisher: (u32, u32),
    /// Its sequence number.
    pub sequence: u64,
    /// Its publish time, in nanoseconds of `CLOCK_MONOTONIC`.
    pub time_ns: u64,
    /// Its payload's bytes.
    pub bytes: usize,
}

/// What a window says (module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Samples per second, over every publisher.
    pub rate_hz: f64,
    /// Shortest period, in seconds (0 when no two consecutive samples of
    /// one publisher were seen).
    pub min_period_s: f64,
    /// Longest period, in seconds.
    pub max_period_s: f64,
    /// Standard deviation of the periods, in seconds.
    pub std_dev_s: f64,
    /// Samples in the window.
    pub window: usize,
    /// Payload bytes per second, over every publisher.
    pub bytes_per_s: f64,
    /// Mean payload size in the window, in bytes.
    pub size_mean: f64,
    /// Smallest payload in the window, in bytes.
    pub size_min: usize,
    /// Largest payload in the window, in bytes.
    pub size_max: usize,
}

/// The samples of the last `span` of publish time (module docs).
#[derive(Debug)]
pub struct RateWindow {
    span_ns: u64,
    samples: VecDeque<Arrival>,
    newest_ns: u64,
    /// Samples recorded since [`take_new`](Self::take_new) last looked.
    new: u64,
}

impl RateWindow {
    /// An empty window of `span`.
    pub fn new(span: Duration) -> Self {
        Self {
            span_ns: u64::try_from(span.as_nanos()).unwrap_or(u64::MAX),
            samples: VecDeque::new(),
            newest_ns: 0,
            new: 0,
        }
    }

    /// Adds a sample and forgets those published more than the span before
    /// the newest.
    pub fn record(&mut self, arrival: Arrival) {
        self.newest_ns = self.newest_ns.max(arrival.time_ns);
        self.samples.push_back(arrival);
        self.new += 1;
        let oldest = self.newest_ns.saturating_sub(self.span_ns);
        while self.samples.front().is_some_and(|a| a.time_ns < oldest) {
            self.samples.pop_front();
        }
    }

    /// Samples recorded since the last call.
    pub fn take_new(&mut self) -> u64 {
        std::mem::take(&mut self.new)
    }

    /// What the window says, or `None` before some publisher has two
    /// samples in it (no rate yet).
    pub fn stats(&self) -> Option<Stats> {
        let mut by_publisher: BTreeMap<(u32, u32), Vec<&Arrival>> = BTreeMap::new();
        for a in &self.samples {
            by_publisher.entry(a.publisher).or_default().push(a);
        }
        let mut rate_hz = 0.0;
        let mut periods = Vec::new();
        for samples in by_publisher.values() {
            rate_hz += publisher_rate(samples).unwrap_or(0.0);
            periods.extend(
                samples
                    .windows(2)
                    .filter_map(|pair| period(pair[0], pair[1])),
            );
        }
        if rate_hz <= 0.0 {
            return None;
        }
        let sizes = self.samples.iter().map(|a| a.bytes);
        let size_mean = sizes.clone().sum::<usize>() as f64 / self.samples.len() as f64;
        let (min_period_s, max_period_s, std_dev_s) = spread(&periods);
        Some(Stats {
            rate_hz,
            min_period_s,
            max_period_s,
            std_dev_s,
            window: self.samples.len(),
            bytes_per_s: rate_hz * size_mean,
            size_mean,
            size_min: sizes.clone().min().unwrap_or(0),
            size_max: sizes.max().unwrap_or(0),
        })
    }
}

/// One publisher's rate: sequence numbers advanced per second of publish
/// time, between its first and last sample in the window.
fn publisher_rate(samples: &[&Arrival]) -> Option<f64> {
    let (first, last) = (samples.first()?, samples.last()?);
    let advanced = last.sequence.checked_sub(first.sequence)?;
    let elapsed = last.time_ns.checked_sub(first.time_ns)?;
    (advanced > 0 && elapsed > 0).then(|| advanced as f64 * 1e9 / elapsed as f64)
}

/// The period between two samples of one publisher, in seconds, if they
/// are consecutive.
fn period(a: &Arrival, b: &Arrival) -> Option<f64> {
    (a.sequence.checked_add(1) == Some(b.sequence))
        .then(|| b.time_ns.saturating_sub(a.time_ns) as f64 / 1e9)
}

/// Min, max and population standard deviation of `periods` (zeros for none).
fn spread(periods: &[f64]) -> (f64, f64, f64) {
    if periods.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let n = periods.len() as f64;
    let mean = periods.iter().sum::<f64>() / n;
    let variance = periods.iter().map(|p| (p - mean) * (p - mean)).sum::<f64>() / n;
    let min = periods.iter().copied().fold(f64::INFINITY, f64::min);
    let max = periods.iter().copied().fold(0.0, f64::max);
    (min, max, variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn arrival(publisher: u32, sequence: u64, time_ns: u64, bytes: usize) -> Arrival {
        Arrival {
            publisher: (publisher, 1),
            sequence,
            time_ns,
            bytes,
        }
    }

    #[test]
    fn the_rate_counts_samples_the_tool_dropped() {
        let mut window = RateWindow::new(Duration::from_secs(10));
        assert_eq!(window.stats(), None);
        // 100 Hz, but only every third sample reached the tool.
        for seq in (0..30).step_by(3) {
            window.record(arrival(0, seq, seq * 10 * MS, 8));
        }
        let stats = window.stats().expect("a rate");
        assert!((stats.rate_hz - 100.0).abs() < 1e-9, "{stats:?}");
        // No two consecutive sequence numbers: no period.
        assert_eq!((stats.min_period_s, stats.max_period_s), (0.0, 0.0));
        assert!((stats.bytes_per_s - 800.0).abs() < 1e-9, "{stats:?}");
        assert_eq!(window.take_new(), 10);
        assert_eq!(window.take_new(), 0);
    }

    #[test]
    fn periods_are_per_publisher_and_rates_add_up() {
        let mut window = RateWindow::new(Duration::from_secs(10));
        for seq in 0..5 {
            // Publisher 0 at 100 Hz, publisher 1 at 50 Hz, interleaved.
            window.record(arrival(0, seq, seq * 10 * MS, 4));
            window.record(arrival(1, seq, seq * 20 * MS + MS, 12));
        }
        let stats = window.stats().expect("a rate");
        assert!((stats.rate_hz - 150.0).abs() < 1e-9, "{stats:?}");
        assert!((stats.min_period_s - 0.010).abs() < 1e-12, "{stats:?}");
        assert!((stats.max_period_s - 0.020).abs() < 1e-12, "{stats:?}");
        assert!((stats.std_dev_s - 0.005).abs() < 1e-12, "{stats:?}");
        assert_eq!((stats.size_min, stats.size_max, stats.window), (4, 12, 10));
        assert!((stats.size_mean - 8.0).abs() < 1e-12, "{stats:?}");
    }

    #[test]
    fn old_samples_leave_the_window() {
        let mut window = RateWindow::new(Duration::from_millis(50));
        for seq in 0..20 {
            window.record(arrival(0, seq, seq * 10 * MS, 1));
        }
        // Newest at 190 ms: 140..=190 ms are kept.
        assert_eq!(window.stats().expect("a rate").window, 6);
    }

    #[test]
    fn a_sequence_going_back_gives_no_rate() {
        let mut window = RateWindow::new(Duration::from_secs(1));
        window.record(arrival(0, 5, 10 * MS, 1));
        window.record(arrival(0, 2, 20 * MS, 1));
        assert_eq!(window.stats(), None);
    }
}
