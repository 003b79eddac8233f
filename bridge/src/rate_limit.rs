//! [`RateLimit`]: a route's `max_rate`, samples per second at most, kept by
//! forwarding a sample only when its interval since the last forwarded one
//! has passed (a token bucket of one token: no burst after a quiet spell).
//! A 1 kHz source under `max_rate = 10` is forwarded every 100 ms on the
//! dot, every 100th sample.

use std::time::{Duration, Instant};

/// One route's limit (module docs).
#[derive(Debug)]
pub(crate) struct RateLimit {
    interval: Duration,
    next: Option<Instant>,
}

impl RateLimit {
    /// At most `per_second` samples a second (`> 0`, checked by the
    /// configuration).
    pub(crate) fn new(per_second: f64) -> Self {
        Self {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: None,
        }
    }

    /// Whether a sample arriving `now` may go; if so, it is counted.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        if self.next.is_some_and(|next| now < next) {
            return false;
        }
        let on_time = self
            .next
            .is_some_and(|next| now.duration_since(next) < self.interval);
        let from = match self.next {
            Some(next) if on_time => next,
            _ => now,
        };
        self.next = Some(from + self.interval);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_source_is_thinned_to_the_rate_on_its_cadence() {
        let start = Instant::now();
        let mut limit = RateLimit::new(10.0);
        let admitted: Vec<u64> = (0..1000u64)
            .filter(|ms| limit.admit(start + Duration::from_millis(*ms)))
            .collect();
        assert_eq!(admitted, (0..10).map(|i| i * 100).collect::<Vec<_>>());
    }

    #[test]
    fn a_quiet_spell_earns_no_burst() {
        let start = Instant::now();
        let mut limit = RateLimit::new(10.0);
        assert!(limit.admit(start));
        let later = start + Duration::from_secs(5);
        assert!(limit.admit(later));
        assert!(!limit.admit(later + Duration::from_millis(1)));
        assert!(limit.admit(later + Duration::from_millis(100)));
    }
}
