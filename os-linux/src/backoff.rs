//! [`Backoff`]: the waits between attempts to connect again after the
//! daemon turned a connection away for lack of room (`LimitReached`: it
//! evicted the connection for a newcomer, see
//! [`ControlError::is_refused_for_room`](crate::control_client::ControlError::is_refused_for_room)).
//!
//! The waits grow exponentially up to a cap, and each is jittered (drawn
//! between half and all of the current step), so that clients evicted
//! together, e.g. sixteen processes of one user starting at once, do not
//! come back together and evict each other again. The jitter needs no
//! quality: a xorshift generator seeded from the clock and the pid.
//! How many attempts, or until which deadline, is the caller's choice.

use std::time::Duration;

/// Exponential, capped, jittered waits (module docs).
///
/// ```
/// use std::time::Duration;
/// use zerocp_os_linux::backoff::Backoff;
///
/// let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
/// let first = backoff.next_wait();
/// assert!(first >= Duration::from_millis(5) && first <= Duration::from_millis(10));
/// for _ in 0..10 {
///     assert!(backoff.next_wait() <= Duration::from_millis(100));
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    step: Duration,
    cap: Duration,
    state: u64,
}

impl Backoff {
    /// Waits starting at `first` (jittered), doubling up to `cap`.
    pub fn new(first: Duration, cap: Duration) -> Self {
        let seed = crate::clock::monotonic_ns() ^ (u64::from(std::process::id()) << 32);
        Self::with_seed(first, cap, seed)
    }

    /// As [`Backoff::new`] with the jitter's seed given (tests).
    pub fn with_seed(first: Duration, cap: Duration, seed: u64) -> Self {
        Self {
            step: first.min(cap),
            cap,
            // Xorshift never leaves zero.
            state: seed | 1,
        }
    }

    /// The next wait: between half and all of the current step, which then
    /// doubles (up to the cap).
    pub fn next_wait(&mut self) -> Duration {
        let half = self.step / 2;
        let spread = u64::try_from((self.step - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = Duration::from_nanos(self.next_random() % spread.saturating_add(1));
        self.step = self.step.saturating_mul(2).min(self.cap);
        half + jitter
    }

    /// Xorshift64.
    fn next_random(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn waits_double_up_to_the_cap_each_between_half_and_all_of_its_step() {
        let mut backoff = Backoff::with_seed(10 * MS, 80 * MS, 7);
        for step in [10, 20, 40, 80, 80, 80] {
            let wait = backoff.next_wait();
            assert!(
                wait >= step * MS / 2 && wait <= step * MS,
                "{wait:?} for {step} ms"
            );
        }
    }

    #[test]
    fn clients_with_different_seeds_spread_out() {
        let waits: Vec<Duration> = (0..16)
            .map(|seed| Backoff::with_seed(100 * MS, 100 * MS, seed * 7919).next_wait())
            .collect();
        let mut distinct = waits.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() > 8, "{waits:?}");
    }

    #[test]
    fn a_zero_step_waits_nothing() {
        let mut backoff = Backoff::with_seed(Duration::ZERO, Duration::ZERO, 0);
        assert_eq!(backoff.next_wait(), Duration::ZERO);
    }
}
