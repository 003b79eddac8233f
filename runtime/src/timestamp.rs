//! [`Timestamp`]: a reading of `CLOCK_MONOTONIC`, the clock publishers stamp
//! every sample with ([`Sample::publish_time`](crate::Sample::publish_time)).
//!
//! The monotonic clock is system-wide, so a reading taken in one process is
//! comparable with one taken in another: a subscriber subtracts a sample's
//! publish time from [`Timestamp::now`] to get its age. A timestamp is plain
//! nanoseconds (a `u64`, what the chunk header stores), not a
//! `std::time::Instant`, which cannot be built from a number. Readings go
//! through the vDSO (`clock_gettime`, no system call).

use std::fmt;
use std::time::Duration;

/// `CLOCK_MONOTONIC` in nanoseconds: time since an arbitrary, system-wide
/// fixed point (usually boot), not counting suspend; never goes backwards.
///
/// ```
/// use std::time::Duration;
/// use zerocp::Timestamp;
///
/// let start = Timestamp::now();
/// std::thread::sleep(Duration::from_millis(1));
/// let later = Timestamp::now();
/// assert!(later > start);
/// assert!(later.saturating_duration_since(start) >= Duration::from_millis(1));
/// assert_eq!(Timestamp::from_nanos(later.as_nanos()), later);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    nanos: u64,
}

impl Timestamp {
    /// The monotonic clock now (the reading publishers store at publish).
    pub fn now() -> Self {
        Self::from_nanos(zerocp_os_linux::clock::monotonic_ns())
    }

    /// The timestamp `nanos` nanoseconds after the clock's zero.
    pub const fn from_nanos(nanos: u64) -> Self {
        Self { nanos }
    }

    /// Nanoseconds since the clock's zero.
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later
    /// (e.g. a publish time a hostile publisher wrote in the future).
    ///
    /// ```
    /// use std::time::Duration;
    /// use zerocp::Timestamp;
    ///
    /// let (a, b) = (Timestamp::from_nanos(1_000), Timestamp::from_nanos(4_000));
    /// assert_eq!(b.saturating_duration_since(a), Duration::from_micros(3));
    /// assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// The time from `self` until now (zero if `self` lies in the future).
    ///
    /// ```
    /// use zerocp::Timestamp;
    /// let start = Timestamp::now();
    /// let _ = start.elapsed(); // e.g. the age of a sample: sample.publish_time().elapsed()
    /// ```
    pub fn elapsed(self) -> Duration {
        Self::now().saturating_duration_since(self)
    }
}

impl fmt::Display for Timestamp {
    /// Seconds with nanoseconds, e.g. `12.000000345s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.nanos / 1_000_000_000;
        let nanos = self.nanos % 1_000_000_000;
        write!(f, "{secs}.{nanos:09}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_ordering() {
        let t = Timestamp::from_nanos(12_000_000_345);
        assert_eq!(t.to_string(), "12.000000345s");
        assert!(Timestamp::from_nanos(1) < t);
        assert_eq!(Timestamp::default().as_nanos(), 0);
    }

    /// `std::time::Instant` reads the same clock on Linux, so a timestamp
    /// taken between two instants spans no more than they do.
    #[test]
    fn agrees_with_instant() {
        let outer = std::time::Instant::now();
        let a = Timestamp::now();
        std::thread::sleep(Duration::from_millis(2));
        let b = Timestamp::now();
        let span = outer.elapsed();
        let ours = b.saturating_duration_since(a);
        assert!(
            ours >= Duration::from_millis(2) && ours <= span,
            "{ours:?} vs {span:?}"
        );
    }
}
