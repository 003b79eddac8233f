//! The futex sleep/wake protocol on a subscriber port's [`WakeWord`]:
//! sleepers never miss a wake-up, and a waker makes at most one wake-up
//! system call per sleep, however often it publishes meanwhile.
//!
//! A listener port ([`crate::listener_port`]) holds a [`WakeWord`] too and
//! runs this very code on its data channel: listener threads sleep with
//! "an id is pending" as their readiness check, notifiers wake after
//! raising an id and their fence. It is the one copy of the protocol.
//!
//! A [`WakeWord`] carries two channels of the same shape
//! ([`WakeChannel`]): "data arrived" (subscriber threads sleep, publishers
//! wake: [`WakeWord::data`]) and "space freed" (publishers blocked on a full
//! queue sleep, the subscriber wakes: [`WakeWord::space`]). Each channel is
//! three words: `seq` (the futex word), `sleepers` (threads about to sleep
//! or sleeping) and `pending` (a wake-up was made since the last sleeper
//! cleared it). The system calls come in through the [`Futex`] trait: the
//! runtime passes Linux futexes, the loom models a mutex and condition
//! variables, so the models check this very code.
//!
//! | sleeper ([`WakeChannel::sleep`]) | waker (after its change and a `SeqCst` fence: [`WakeChannel::wake`]) |
//! |---|---|
//! | read `seq`; `pending.swap(0)`; `sleepers += 1`; `SeqCst` fence; not ready → futex-wait on `seq`; `sleepers -= 1` | `sleepers != 0` and `pending` flips 0 → 1 → `seq += 1`, futex-wake all |
//!
//! **No lost wake-up.** The sleeper's clear of `pending` and its
//! registration come before its fence, the waker's change (a push, a pop)
//! before its own; in the single order of `SeqCst` fences one comes first:
//! - the waker's fence first: the sleeper's readiness check after its fence
//!   sees the change, and it does not sleep;
//! - the sleeper's fence first: the waker reads `sleepers != 0` and a
//!   `pending` no older than the sleeper's clear. Either it flips `pending`
//!   itself, or it reads 1 from another waker's flip, made after that clear;
//!   every write of `pending` is a read-modify-write, so both flips read
//!   (Acquire) the release sequence of the clear, which the sleeper made
//!   after reading `seq`: the flipper's `seq += 1` comes after that read,
//!   and the futex wait returns at once or is woken (futex-wake *all*:
//!   several threads may sleep on one word).
//!
//! **At most one wake-up per sleep.** A waker wakes only when it flips
//! `pending` from 0, and only a sleeper writes 0, once per sleep
//! ([`WakeChannel::sleep`] clears it before it registers): the number of
//! wake-up calls of all wakers together is at most the number of sleeps.
//! The waker reads `sleepers` with Acquire, so a registration it sees
//! brings the clear before it, and it cannot flip a `pending` from before
//! that clear (which would let a second flip follow it within one sleep).
//! While a woken subscriber is on its way back (scheduled, taking what
//! arrived), publishers find `pending == 1` and make no system call: the
//! fan-out to many sleeping subscribers costs one futex wake-up per
//! subscriber and sleep, not one per publish.
//!
//! **Unconditional wake-ups** ([`WakeChannel::wake_always`]: daemon loss,
//! revocation, the daemon reclaiming a port) bump `seq` whatever `pending`
//! says and leave `pending` alone: the sleeper reads `seq` before it checks
//! its stop condition, so it cannot miss both the stop and the bump.
//!
//! **Hostile words.** Every process of the group can write these words.
//! A `pending` held at 1 makes wakers skip the wake-up of that port's
//! sleepers only: they sleep until their timeout (a blocked publisher's
//! slice) or an unconditional wake-up; a `pending` held at 0 costs wakers
//! one wake-up per publish, as without the flag. Neither costs a waker
//! more than a load and a swap, and the daemon never reads `pending`; all
//! zeros is the idle state, so a fresh or reused port needs no reset (every
//! sleeper clears `pending` before it sleeps anyway).

use core::time::Duration;

use crate::port::WakeWord;
use crate::sync::{AtomicU32, Ordering, fence};

/// The futex operations the protocol needs.
///
/// Implemented by the runtime with Linux futexes (shared, not private: the
/// words live in shared memory) and by the loom models with loom's mutex and
/// condition variables.
///
/// ```
/// use core::time::Duration;
/// use zerocp_core::sync::AtomicU32;
/// use zerocp_core::wake_protocol::Futex;
///
/// /// Never sleeps: every wait returns at once, which the protocol allows
/// /// (a futex wait may return spuriously).
/// struct Spin;
/// impl Futex for Spin {
///     type Error = core::convert::Infallible;
///     fn wait(&self, _: &AtomicU32, _: u32, _: Option<Duration>) -> Result<(), Self::Error> {
///         Ok(())
///     }
///     fn wake_all(&self, _: &AtomicU32) -> Result<(), Self::Error> {
///         Ok(())
///     }
/// }
/// ```
pub trait Futex {
    /// Why a system call failed.
    type Error;

    /// Sleeps while `word` holds `expected`, at most `timeout` (`None`: no
    /// limit). The check and the sleep are atomic with respect to
    /// [`wake_all`](Self::wake_all); the call may return early for any
    /// reason (the caller re-checks).
    fn wait(
        &self,
        word: &AtomicU32,
        expected: u32,
        timeout: Option<Duration>,
    ) -> Result<(), Self::Error>;

    /// Wakes every thread sleeping on `word`.
    fn wake_all(&self, word: &AtomicU32) -> Result<(), Self::Error>;
}

/// One direction of a [`WakeWord`]: its futex word, its sleeper count and
/// its wake-pending flag (see the module docs for the protocol).
#[derive(Clone, Copy)]
pub struct WakeChannel<'w> {
    seq: &'w AtomicU32,
    sleepers: &'w AtomicU32,
    pending: &'w AtomicU32,
}

impl WakeWord {
    /// "Data arrived": subscriber threads sleep, publishers wake
    /// (`data_seq`, `sleepers`, `wake_pending`).
    pub fn data(&self) -> WakeChannel<'_> {
        WakeChannel {
            seq: &self.data_seq,
            sleepers: &self.sleepers,
            pending: &self.wake_pending,
        }
    }

    /// "Space freed": publishers blocked on a full queue sleep, the
    /// subscriber wakes (`space_seq`, `blocked`, `space_pending`).
    pub fn space(&self) -> WakeChannel<'_> {
        WakeChannel {
            seq: &self.space_seq,
            sleepers: &self.blocked,
            pending: &self.space_pending,
        }
    }
}

impl WakeChannel<'_> {
    /// Sleeper: one sleep. Registers, then calls `ready` (after the fence
    /// that pairs with the wakers'); returns `Ok(true)` at once when it
    /// holds, else sleeps until woken, `timeout` passes or the futex returns
    /// early, and returns `Ok(false)` (the caller loops, re-checking).
    ///
    /// ```
    /// # use core::time::Duration;
    /// # use zerocp_core::sync::AtomicU32;
    /// # use zerocp_core::wake_protocol::Futex;
    /// # struct Spin;
    /// # impl Futex for Spin {
    /// #     type Error = core::convert::Infallible;
    /// #     fn wait(&self, _: &AtomicU32, _: u32, _: Option<Duration>) -> Result<(), Self::Error> { Ok(()) }
    /// #     fn wake_all(&self, _: &AtomicU32) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    /// # // SAFETY: a port is atomics only, for which all zeros is valid.
    /// # let port: zerocp_core::port::SubscriberPort = unsafe { core::mem::zeroed() };
    /// let wake = &port.wake;
    /// assert_eq!(wake.data().sleep(&Spin, None, || true), Ok(true));
    /// assert_eq!(wake.data().sleep(&Spin, None, || false), Ok(false));
    /// assert_eq!(wake.data().sleepers(), 0);
    /// ```
    pub fn sleep<F: Futex>(
        &self,
        futex: &F,
        timeout: Option<Duration>,
        ready: impl FnOnce() -> bool,
    ) -> Result<bool, F::Error> {
        // SeqCst: read before the clear and the readiness check, so that a
        // wake-up after either changes the word we sleep on.
        let seq = self.seq.load(Ordering::SeqCst);
        // Release: a waker that reads this clear (or a later flip, all of
        // them read-modify-writes in its release sequence) with Acquire
        // bumps `seq` after our read above. A read-modify-write, not a
        // store, so that it continues the release sequences of the flips.
        self.pending.swap(0, Ordering::Release);
        // SeqCst (Release): a waker that reads this registration with
        // Acquire also sees the clear above.
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        // SeqCst fence: pairs with the waker's fence after its change
        // (Dekker): we see its change, or it sees our registration and clear.
        fence(Ordering::SeqCst);
        let ready = ready();
        let result = if ready {
            Ok(())
        } else {
            futex.wait(self.seq, seq, timeout)
        };
        // SeqCst: the registration ends after the sleep.
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        result.map(|()| ready)
    }

    /// Waker, after its change (push, pop) and a `SeqCst` fence (one fence
    /// may cover several channels): wakes the sleepers unless none sleeps or
    /// a wake-up is already pending. Returns whether it made the futex
    /// wake-up call.
    pub fn wake<F: Futex>(&self, futex: &F) -> Result<bool, F::Error> {
        // Acquire: a registration we see brings the sleeper's clear of
        // `pending` before it (see the module docs); ordered after our
        // change by the caller's SeqCst fence.
        if self.sleepers.load(Ordering::Acquire) == 0 {
            return Ok(false);
        }
        // Relaxed test first: while a wake-up is pending (the common case
        // under load) no write dirties the line the sleeper reads; a 1 read
        // here is from a flip after the sleeper's clear (the fence above),
        // whose maker bumps `seq`.
        if self.pending.load(Ordering::Relaxed) != 0 {
            return Ok(false);
        }
        // Acquire: synchronises with the clear we flip (or its release
        // sequence), so our bump follows the sleeper's read of `seq`.
        if self.pending.swap(1, Ordering::Acquire) != 0 {
            return Ok(false);
        }
        self.wake_always(futex).map(|()| true)
    }

    /// Wakes every sleeper whatever `pending` says (daemon loss, revocation):
    /// bumps `seq` and futex-wakes. Call after writing the state the
    /// sleepers' readiness check looks at.
    pub fn wake_always<F: Futex>(&self, futex: &F) -> Result<(), F::Error> {
        // SeqCst: a sleeper that read the old value either sees the new one
        // in the futex's check or is woken; it also orders the bump after
        // the caller's store of the state the sleeper checks ("gone").
        self.seq.fetch_add(1, Ordering::SeqCst);
        futex.wake_all(self.seq)
    }

    /// Threads registered as sleeping (or about to) now.
    pub fn sleepers(&self) -> u32 {
        // Relaxed: a snapshot, for tests and display.
        self.sleepers.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::SubscriberPort;
    use core::cell::Cell;

    /// Runs `during` inside every wait (as a waker on another thread would,
    /// while the sleeper sleeps) and counts the wake-up calls.
    struct Scripted<'a> {
        during: &'a dyn Fn(),
        wakes: Cell<u32>,
    }

    impl Futex for Scripted<'_> {
        type Error = ();
        fn wait(&self, word: &AtomicU32, expected: u32, _: Option<Duration>) -> Result<(), ()> {
            (self.during)();
            // The wait must end by a change of the word it sleeps on.
            assert_ne!(word.load(Ordering::SeqCst), expected, "a lost wake-up");
            Ok(())
        }
        fn wake_all(&self, _: &AtomicU32) -> Result<(), ()> {
            self.wakes.set(self.wakes.get() + 1);
            Ok(())
        }
    }

    fn port() -> std::boxed::Box<SubscriberPort> {
        // SAFETY: a port is atomics only, for which all zeros is valid.
        unsafe { std::boxed::Box::new_zeroed().assume_init() }
    }

    #[test]
    fn nobody_sleeps_nobody_is_woken() {
        let port = port();
        let futex = Scripted {
            during: &|| {},
            wakes: Cell::new(0),
        };
        assert_eq!(port.wake.data().wake(&futex), Ok(false));
        assert_eq!(futex.wakes.get(), 0);
    }

    #[test]
    fn publishes_during_one_sleep_wake_it_once() {
        let port = port();
        let wakes = Cell::new(0);
        let publish_three = || {
            for _ in 0..3 {
                fence(Ordering::SeqCst);
                let futex = Scripted {
                    during: &|| {},
                    wakes: Cell::new(0),
                };
                port.wake.data().wake(&futex).unwrap();
                wakes.set(wakes.get() + futex.wakes.get());
            }
        };
        let futex = Scripted {
            during: &publish_three,
            wakes: Cell::new(0),
        };
        for sleep in 1..=2 {
            assert_eq!(port.wake.data().sleep(&futex, None, || false), Ok(false));
            assert_eq!(wakes.get(), sleep, "one wake-up per sleep");
        }
        assert_eq!(port.wake.data().sleepers(), 0);
    }

    #[test]
    fn a_pending_flag_left_set_does_not_hide_the_next_wake_up() {
        let port = port();
        // Left by a wake-up whose sleeper timed out, or by anyone.
        port.wake.wake_pending.store(1, Ordering::Relaxed);
        let wake = || {
            fence(Ordering::SeqCst);
            let futex = Scripted {
                during: &|| {},
                wakes: Cell::new(0),
            };
            assert_eq!(port.wake.data().wake(&futex), Ok(true));
        };
        let futex = Scripted {
            during: &wake,
            wakes: Cell::new(0),
        };
        assert_eq!(port.wake.data().sleep(&futex, None, || false), Ok(false));
    }

    #[test]
    fn wake_always_ignores_the_flag() {
        let port = port();
        port.wake.space_pending.store(1, Ordering::Relaxed);
        let futex = Scripted {
            during: &|| {},
            wakes: Cell::new(0),
        };
        let before = port.wake.space_seq.load(Ordering::Relaxed);
        port.wake.space().wake_always(&futex).unwrap();
        assert_eq!(futex.wakes.get(), 1);
        assert_eq!(port.wake.space_seq.load(Ordering::Relaxed), before + 1);
    }
}
