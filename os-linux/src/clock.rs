//! `CLOCK_MONOTONIC` readings as plain integers.
//!
//! `std::time::Instant` cannot be stored in shared memory or compared with
//! another process's reading. The monotonic clock itself is system-wide, so
//! a millisecond count written by one process (a heartbeat, an epoch) means
//! the same in the daemon that reads it. That is what this module is for.

use std::time::Duration;

use rustix::time::{ClockId, Timespec};

/// Time since an arbitrary, system-wide fixed point (usually boot), not
/// counting suspend; never goes backwards.
///
/// ```
/// let a = zerocp_os_linux::clock::monotonic();
/// let b = zerocp_os_linux::clock::monotonic();
/// assert!(b >= a);
/// ```
pub fn monotonic() -> Duration {
    let ts = rustix::time::clock_gettime(ClockId::Monotonic);
    // CLOCK_MONOTONIC is never negative and tv_nsec is below 10^9.
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// [`monotonic`] in whole milliseconds, for heartbeats in shared memory.
///
/// ```
/// let before = zerocp_os_linux::clock::monotonic_ms();
/// std::thread::sleep(std::time::Duration::from_millis(2));
/// assert!(zerocp_os_linux::clock::monotonic_ms() >= before + 2);
/// ```
pub fn monotonic_ms() -> u64 {
    u64::try_from(monotonic().as_millis()).unwrap_or(u64::MAX)
}

/// [`monotonic`] in nanoseconds (overflows after 584 years of uptime, so it
/// saturates instead).
pub fn monotonic_ns() -> u64 {
    u64::try_from(monotonic().as_nanos()).unwrap_or(u64::MAX)
}

/// The longest timeout handed to the kernel: 68 years, so it also fits the
/// 32-bit `time_t` of the older syscalls 32-bit targets fall back to.
const MAX_TIMEOUT_SECS: u64 = i32::MAX as u64;

/// `d` as a kernel timespec, saturating at [`MAX_TIMEOUT_SECS`], which is
/// practically forever.
pub(crate) fn timespec(d: Duration) -> Timespec {
    let d = d.min(Duration::from_secs(MAX_TIMEOUT_SECS));
    Timespec {
        // Cannot truncate: at most i32::MAX seconds and below 10^9 ns.
        tv_sec: d.as_secs() as i64,
        tv_nsec: d.subsec_nanos().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// `std::time::Instant` reads `CLOCK_MONOTONIC` too (on Linux), so
    /// readings taken one after the other are ordered, whatever the
    /// scheduler does between them: the span our clock measures lies
    /// between the `Instant` spans measured just inside and just outside it.
    #[test]
    fn monotonic_agrees_with_std_instant_and_advances() {
        let outer_start = Instant::now();
        let start_ns = monotonic_ns();
        let inner_start = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let inner_end = Instant::now();
        let end_ns = monotonic_ns();
        let outer_end = Instant::now();
        let elapsed = Duration::from_nanos(end_ns - start_ns);
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        let (inner, outer) = (inner_end - inner_start, outer_end - outer_start);
        assert!(
            inner <= elapsed && elapsed <= outer,
            "{elapsed:?} not within {inner:?}..={outer:?}"
        );
        // Milliseconds are the nanoseconds truncated: a reading in between
        // two nanosecond readings lies between them, in whole milliseconds.
        let before_ms = monotonic_ns() / 1_000_000;
        let ms = monotonic_ms();
        let after_ms = monotonic_ns() / 1_000_000;
        assert!(
            before_ms <= ms && ms <= after_ms,
            "{before_ms} <= {ms} <= {after_ms}"
        );
    }

    #[test]
    fn timespec_saturates() {
        assert_eq!(timespec(Duration::from_millis(1500)).tv_sec, 1);
        assert_eq!(timespec(Duration::from_millis(1500)).tv_nsec, 500_000_000);
        assert_eq!(timespec(Duration::MAX).tv_sec, i64::from(i32::MAX));
        assert_eq!(timespec(Duration::MAX).tv_nsec, 0);
    }
}
