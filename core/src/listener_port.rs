//! Notifier and listener ports: the shared-memory records of an event
//! service ([`crate::event`]), beside the publisher and subscriber ports of
//! the same group control part.
//!
//! A group's control part holds `max_notifiers` [`NotifierPort`]s and
//! `max_listeners` [`ListenerPort`]s after its subscriber ports
//! ([`crate::group_control`]). As with publishers and subscribers, the daemon
//! allocates and describes a port ([`PortControl`]) and writes a notifier's
//! topology (the listeners it notifies); the owners work the rest lock-free.
//!
//! ```text
//! NotifierPort (640 B)                      ListenerPort (192 B)
//! offset   0  PortControl (64 B)            offset   0  PortControl (64 B)
//! offset  64  topology: SeqLock of          offset  64  ListenerWake (64 B):
//!             TOPOLOGY_WORDS u32, padded               seq, sleepers, wake_pending
//!             to 576 B: (listener index,    offset 128  events: EventBits (32 B)
//!             generation) pairs             offset 160  notify: NotifyWord (8 B)
//!                                                       padding to 192
//! ```
//!
//! | port part | written by | read by |
//! |---|---|---|
//! | [`PortControl`] | daemon | owner, notifiers (the listener's state) |
//! | notifier `topology` | daemon | notifier, on every `notify` |
//! | listener `events` | notifiers raise, listener takes | listener |
//! | listener [`ListenerWake`] | both (futex protocol below) | both; the daemon bumps `seq` to wake |
//! | listener `notify` ([`NotifyWord`]) | reserved for the eventfd path | — |
//!
//! # Waking without storms
//!
//! A listener that finds nothing pending sleeps on `seq`; a notifier wakes
//! it at most once per sleep, whatever the number of notifiers and ids:
//!
//! | listener ([`ListenerWake::prepare_sleep`]) | notifier ([`ListenerWake::should_wake`]) |
//! |---|---|
//! | read `seq`; `sleepers += 1`; `wake_pending = 0`; fence; ids pending? → take them, else futex-wait on `seq` | raise the id; fence; `sleepers != 0` and `wake_pending` swapped 0 → 1? → `seq += 1`, futex-wake |
//!
//! Either the listener's check sees the raised bit, or the notifier's load
//! (after its fence) sees `sleepers != 0`, and the first notifier to swap
//! `wake_pending` after the listener's clear bumps `seq`, which the
//! listener read before the clear: its futex wait returns at once or is
//! woken. Every later notifier finds `wake_pending == 1` and makes no
//! system call until the listener clears it again.
//!
//! Every index read from shared memory (a topology's listener index) is
//! bounds-checked by whoever uses it ([`crate::group_control::GroupControl::listener`]).

use crate::cache_padded::CachePadded;
use crate::event::EventBits;
use crate::port::{NotifyWord, PortControl, TOPOLOGY_WORDS};
use crate::seqlock::SeqLock;
use crate::sync::{AtomicU32, Ordering, fence};

/// Largest number of listeners one notifier notifies (the topology holds
/// one (index, generation) pair each, as a publisher's holds subscribers).
pub const MAX_LISTENERS_PER_NOTIFIER: usize = TOPOLOGY_WORDS / 2;

/// A notifier's port.
///
/// Layout: [`PortControl`] (64 B), then the topology [`SeqLock`] of
/// [`TOPOLOGY_WORDS`] words (cache-padded): (listener port index,
/// generation) pairs.
#[repr(C, align(64))]
pub struct NotifierPort {
    /// Daemon-written description.
    pub control: PortControl,
    /// Which listener ports are notified: (index, generation) pairs.
    pub topology: CachePadded<SeqLock<TOPOLOGY_WORDS>>,
}

/// Futex words of a listener.
///
/// Layout: `seq, sleepers, wake_pending: u32`, padded to 64 bytes.
#[repr(C, align(64))]
pub struct ListenerWake {
    /// Futex word: bumped to wake the listener.
    pub seq: AtomicU32,
    /// Listener threads about to sleep or sleeping on `seq`.
    pub sleepers: AtomicU32,
    /// 1 once a notifier has bumped `seq` since the listener last cleared it.
    pub wake_pending: AtomicU32,
}

/// A listener's port.
///
/// Layout: [`PortControl`] (64 B), [`ListenerWake`] (64 B), `events`
/// ([`EventBits`], 32 B), `notify` ([`NotifyWord`], 8 B), padded to 192 B.
#[repr(C, align(64))]
pub struct ListenerPort {
    /// Daemon-written description.
    pub control: PortControl,
    /// Sleep/wake protocol words.
    pub wake: ListenerWake,
    /// Pending event ids.
    pub events: EventBits,
    /// The eventfd path's words (armed by a waiter on many ports).
    pub notify: NotifyWord,
}

// One layout on every target (checked by the armv7 and thumbv7em builds too).
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<NotifierPort>() == 640);
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<ListenerWake>() == 64);
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<ListenerPort>() == 192);

impl ListenerWake {
    /// Listener, before it re-checks its events and sleeps: clears
    /// `wake_pending`, registers as a sleeper and fences. Returns the `seq` value to
    /// futex-wait on (read before the clear). Call [`done_sleeping`](Self::done_sleeping)
    /// afterwards, whether it slept or not.
    ///
    /// ```
    /// use zerocp_core::listener_port::ListenerPort;
    /// use zerocp_core::event::EventId;
    /// # // SAFETY: atomics only, all zeros is valid.
    /// # let port: ListenerPort = unsafe { core::mem::zeroed() };
    /// let seq = port.wake.prepare_sleep();
    /// port.events.raise(EventId::new(1)?);
    /// assert!(port.wake.should_wake()); // first notifier: bump and wake
    /// port.wake.bump();
    /// port.events.raise(EventId::new(2)?);
    /// assert!(!port.wake.should_wake()); // already pending: no system call
    /// assert_ne!(port.wake.seq.load(core::sync::atomic::Ordering::Relaxed), seq);
    /// port.wake.done_sleeping();
    /// # Ok::<(), zerocp_core::event::EventIdError>(())
    /// ```
    pub fn prepare_sleep(&self) -> u32 {
        // Acquire: a bump seen here is ordered before the checks below (and
        // keeps the clear below after this read).
        let seq = self.seq.load(Ordering::Acquire);
        // The clear comes before the registration, which publishes it
        // (Release): a notifier that sees the registration (Acquire) swaps
        // `wake_pending` after the clear, so the first such notifier is the
        // one that wakes (at most one wake per sleep, the loom model checks).
        self.wake_pending.store(0, Ordering::Relaxed);
        self.sleepers.fetch_add(1, Ordering::Release);
        // SeqCst fence: orders the registration before the listener's check
        // of its events, pairing with the notifier's fence.
        fence(Ordering::SeqCst);
        seq
    }

    /// Listener, after its check (and sleep, if it slept).
    pub fn done_sleeping(&self) {
        // Relaxed: a stale non-zero count costs a notifier one needless
        // swap at most, never a lost wake.
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
    }

    /// Notifier, after raising its id: whether it must bump `seq` and
    /// futex-wake (someone sleeps and no other notifier has woken it since
    /// it last cleared `wake_pending`). Makes the fence itself.
    pub fn should_wake(&self) -> bool {
        // SeqCst fence: pairs with the listener's fence in `prepare_sleep`
        // (the raise before it, the `sleepers` load after it).
        fence(Ordering::SeqCst);
        // Acquire: pairs with the registration's Release in `prepare_sleep`.
        if self.sleepers.load(Ordering::Acquire) == 0 {
            return false;
        }
        // AcqRel: exactly one notifier flips it per clear by the listener.
        self.wake_pending.swap(1, Ordering::AcqRel) == 0
    }

    /// Bumps `seq` (the caller then futex-wakes every sleeper on it): a
    /// notifier after [`should_wake`](Self::should_wake), the daemon or the
    /// runtime's heartbeat thread to wake the listener with an error.
    pub fn bump(&self) {
        // SeqCst: ordered after whatever state the waker set first (a
        // "gone" flag, a port's status) for a sleeper that checks it.
        self.seq.fetch_add(1, Ordering::SeqCst);
    }
}

impl ListenerPort {
    /// Daemon: prepares a slot for a new listener (no ids pending, nobody
    /// asleep, not armed) before activating its [`PortControl`].
    pub fn reset(&self) {
        self.events.clear();
        // Relaxed: published by the Release store of the port's state.
        self.wake.sleepers.store(0, Ordering::Relaxed);
        self.wake.wake_pending.store(0, Ordering::Relaxed);
        self.notify.armed.store(0, Ordering::Relaxed);
        self.notify.pending.store(0, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::event::EventId;

    fn port() -> ListenerPort {
        // SAFETY: atomics only; all zeros is valid.
        unsafe { core::mem::zeroed() }
    }

    #[test]
    fn no_sleeper_no_wake() {
        let p = port();
        p.events.raise(EventId::new(3).unwrap());
        assert!(!p.wake.should_wake());
    }

    #[test]
    fn one_wake_per_sleep() {
        let p = port();
        for _ in 0..3 {
            p.wake.prepare_sleep();
            assert!(p.wake.should_wake());
            assert!(!p.wake.should_wake());
            p.wake.done_sleeping();
        }
        assert_eq!(p.wake.sleepers.load(Ordering::Relaxed), 0);
    }
}
