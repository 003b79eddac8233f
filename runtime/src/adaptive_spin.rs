//! The adaptive spin a subscriber does in `wait` before it sleeps.
//!
//! Sleeping on the futex and being woken costs about 20 µs on a desktop CPU
//! (two system calls, a context switch, often an idle-state exit). When data
//! arrives within a few microseconds — request/response, control loops
//! running in lock-step — polling the queue briefly first answers in the
//! time of one cache-line transfer instead.
//!
//! The spin is *adaptive*: a wait that found data while spinning doubles the
//! budget (up to the configured maximum); a wait that had to sleep anyway
//! halves it (down to [`MIN_SPINS`]). A subscriber whose data comes rarely
//! therefore spins only a few iterations per wait, and one in a tight
//! exchange spins up to the maximum. Spins are counted in queue checks, not
//! timed: there is no clock read on this path.
//!
//! CPU cost: at most the configured number of checks per `wait` that ends in
//! a sleep — with the default [`DEFAULT_WAIT_SPINS`] about 10–30 µs of one
//! core on current x86_64 and aarch64 cores (each check is one load and a
//! `spin_loop` hint) — shrinking by half after every wait the spin did not
//! help. `SubscriberBuilder::wait_spins(0)` turns it off.

use core::cell::Cell;

/// Default maximum number of queue checks a `Subscriber::wait` makes before
/// it sleeps on the futex (see `SubscriberBuilder::wait_spins`).
///
/// The spin adapts (halving after a wait it did not help, doubling after one
/// it did, never below 16 checks); its CPU cost is at most this many
/// checks — about 10–30 µs of one core on current x86_64 and aarch64 cores —
/// per `wait` that ends in a sleep, and much less once the budget has shrunk.
pub const DEFAULT_WAIT_SPINS: u32 = 1000;
/// The budget never shrinks below this, so it can grow again.
pub(crate) const MIN_SPINS: u32 = 16;

/// Spin budget of one subscriber (process-local; ports are `Send`, not `Sync`).
#[derive(Debug)]
pub(crate) struct AdaptiveSpin {
    budget: Cell<u32>,
    max: u32,
}

impl AdaptiveSpin {
    /// A budget that starts at, and never exceeds, `max` checks (0: never spin).
    pub(crate) fn new(max: u32) -> Self {
        Self {
            budget: Cell::new(max),
            max,
        }
    }

    /// Checks `ready` up to the current budget; returns whether it became
    /// true, and adapts the budget to the outcome.
    pub(crate) fn spin_until(&self, ready: impl Fn() -> bool) -> bool {
        if self.max == 0 {
            return false;
        }
        let budget = self.budget.get();
        for _ in 0..budget {
            if ready() {
                self.budget
                    .set(budget.saturating_mul(2).clamp(MIN_SPINS, self.max));
                return true;
            }
            core::hint::spin_loop();
        }
        self.budget.set((budget / 2).max(MIN_SPINS.min(self.max)));
        false
    }

    /// The current budget (for tests).
    #[cfg(test)]
    pub(crate) fn budget(&self) -> u32 {
        self.budget.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_when_spinning_does_not_pay_and_grows_when_it_does() {
        let spin = AdaptiveSpin::new(1000);
        assert!(!spin.spin_until(|| false));
        assert_eq!(spin.budget(), 500);
        for _ in 0..20 {
            spin.spin_until(|| false);
        }
        assert_eq!(spin.budget(), MIN_SPINS);
        let calls = Cell::new(0);
        assert!(spin.spin_until(|| {
            calls.set(calls.get() + 1);
            calls.get() == 3
        }));
        assert_eq!(calls.get(), 3);
        assert_eq!(spin.budget(), 2 * MIN_SPINS);
        for _ in 0..20 {
            spin.spin_until(|| true);
        }
        assert_eq!(spin.budget(), 1000);
    }

    #[test]
    fn zero_disables_spinning() {
        let spin = AdaptiveSpin::new(0);
        let calls = Cell::new(0);
        assert!(!spin.spin_until(|| {
            calls.set(calls.get() + 1);
            true
        }));
        assert_eq!(calls.get(), 0);
    }

    #[test]
    fn a_budget_below_the_minimum_is_kept() {
        let spin = AdaptiveSpin::new(4);
        spin.spin_until(|| false);
        assert_eq!(spin.budget(), 4);
    }
}
