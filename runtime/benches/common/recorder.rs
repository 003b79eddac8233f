//! Round-trip counts, timing and the result line, with the same method and
//! format as the peer benchmark's `Recorder` (the iceoryx2 benchmark ZeroCP
//! is compared with, see `docs/performance.md`), so both outputs can be
//! compared and plotted together:
//!
//! - each round trip is timed with `Instant` (vDSO `clock_gettime`);
//! - latencies are one-way = RTT / 2; the percentile of `n` sorted samples is
//!   the one at index `ceil(p * n) - 1`;
//! - `msgs_per_s` = 2 × round trips / wall time of the timed loop;
//! - warm-up is 10 % of the timed count, at least 500.

use std::time::{Duration, Instant};

use crate::common::stats::size_label;

/// Fewest timed round trips of a case, whatever the scale.
const MIN_ITERS: usize = 100;

/// The header line printed before the result lines.
pub const HEADER: &str = "case payload median_ns p99_ns max_ns msgs_per_s";

/// Timed round trips for a payload of `size` bytes: `base` up to 4 KiB,
/// `base / 4` up to 64 KiB, `base / 40` above, times `scale`, at least 100.
pub fn iters_for(size: usize, base: usize, scale: f64) -> usize {
    let n = if size <= 4096 {
        base
    } else if size <= 64 * 1024 {
        base / 4
    } else {
        base / 40
    };
    ((n as f64 * scale) as usize).max(MIN_ITERS)
}

/// Warm-up round trips before `iters` timed ones.
pub fn warmup_for(iters: usize) -> usize {
    (iters / 10).max(500)
}

/// Runs `warmup` untimed round trips, then `iters` timed ones; each call of
/// `one` gets the next sequence number after `seq`.
pub fn record<E>(
    seq: u64,
    warmup: usize,
    iters: usize,
    mut one: impl FnMut(u64) -> Result<(), E>,
) -> Result<Recorder, E> {
    let mut seq = seq;
    for _ in 0..warmup {
        seq += 1;
        one(seq)?;
    }
    let mut rec = Recorder::new(iters);
    rec.begin();
    for _ in 0..iters {
        seq += 1;
        rec.timed(|| one(seq))?;
    }
    rec.end();
    Ok(rec)
}

/// The round-trip times of one case.
pub struct Recorder {
    rtts: Vec<u64>,
    start: Option<Instant>,
    total: Duration,
}

impl Recorder {
    /// Room for `n` round trips (allocated up front, not in the timed loop).
    pub fn new(n: usize) -> Self {
        Self {
            rtts: Vec::with_capacity(n),
            start: None,
            total: Duration::ZERO,
        }
    }

    /// Starts the wall clock of the timed loop.
    pub fn begin(&mut self) {
        self.start = Some(Instant::now());
    }

    /// Times one round trip.
    #[inline(always)]
    pub fn timed<E>(&mut self, round_trip: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
        let t0 = Instant::now();
        round_trip()?;
        let dt = t0.elapsed().as_nanos();
        self.rtts.push(u64::try_from(dt).unwrap_or(u64::MAX));
        Ok(())
    }

    /// Stops the wall clock.
    pub fn end(&mut self) {
        if let Some(start) = self.start.take() {
            self.total = start.elapsed();
        }
    }

    /// The one-way median in ns (0 without samples).
    pub fn median(&self) -> u64 {
        let mut sorted = self.rtts.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        let idx = n.div_ceil(2).saturating_sub(1);
        sorted.get(idx).map_or(0, |rtt| rtt / 2)
    }

    /// The result line `case payload median_ns p99_ns max_ns msgs_per_s`,
    /// formatted exactly like the peer's.
    pub fn line(mut self, case: &str, size: usize) -> String {
        let n = self.rtts.len();
        if n == 0 {
            return na_line(case, size);
        }
        self.rtts.sort_unstable();
        let pct = |p: f64| {
            let idx = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            self.rtts[idx]
        };
        let secs = self.total.as_secs_f64();
        let msgs = if secs > 0.0 {
            2.0 * n as f64 / secs
        } else {
            0.0
        };
        format!(
            "{:<16} {:>7} {:>10} {:>10} {:>10} {:>12.0}",
            case,
            size_label(size),
            pct(0.5) / 2,
            pct(0.99) / 2,
            self.rtts[n - 1] / 2,
            msgs
        )
    }
}

/// The line of a case that cannot run at this size (as the peer prints it).
pub fn na_line(case: &str, size: usize) -> String {
    format!(
        "{:<16} {:>7} {:>10} {:>10} {:>10} {:>12}",
        case,
        size_label(size),
        "n/a",
        "n/a",
        "n/a",
        "n/a"
    )
}
