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
//! offset  64  topology: SeqLock of          offset  64  wake: WakeWord (64 B)
//!             TOPOLOGY_WORDS u32, padded    offset 128  events: EventBits (32 B)
//!             to 576 B: (listener index,    offset 160  notify: NotifyWord (8 B)
//!             generation) pairs                         padding to 192
//! ```
//!
//! | port part | written by | read by |
//! |---|---|---|
//! | [`PortControl`] | daemon | owner, notifiers (the listener's state) |
//! | notifier `topology` | daemon | notifier, on every `notify` |
//! | listener `events` | notifiers raise, listener takes | listener |
//! | listener [`WakeWord`] | both ([`crate::wake_protocol`], its data channel) | both; the daemon bumps it to wake |
//! | listener `notify` ([`NotifyWord`]) | both (wake-descriptor protocol, [`crate::notify_word`]) | both |
//!
//! # Waking
//!
//! A listener sleeps and is woken by the subscriber's protocol, the same
//! code ([`crate::wake_protocol`]): the listener sleeps on its
//! [`WakeWord::data`] channel with "an id is pending" as its readiness
//! check, a notifier raises its id, fences (`SeqCst`) and calls
//! [`WakeChannel::wake`](crate::wake_protocol::WakeChannel::wake), so a
//! sleep is never missed and costs the notifiers at most one futex wake-up
//! whatever their number. The space channel of the word is unused (a
//! notifier never blocks). A listener armed with a wake descriptor is
//! signalled through its [`NotifyWord`] as a subscriber is.
//!
//! Every index read from shared memory (a topology's listener index) is
//! bounds-checked by whoever uses it ([`crate::group_control::GroupControl::listener`]).

use crate::cache_padded::CachePadded;
use crate::event::EventBits;
use crate::port::{NotifyWord, PortControl, TOPOLOGY_WORDS, WakeWord};
use crate::seqlock::SeqLock;
use crate::sync::Ordering;

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

/// A listener's port.
///
/// Layout: [`PortControl`] (64 B), [`WakeWord`] (64 B), `events`
/// ([`EventBits`], 32 B), `notify` ([`NotifyWord`], 8 B), padded to 192 B.
#[repr(C, align(64))]
pub struct ListenerPort {
    /// Daemon-written description.
    pub control: PortControl,
    /// Futex words ([`crate::wake_protocol`]; the data channel).
    pub wake: WakeWord,
    /// Pending event ids.
    pub events: EventBits,
    /// The wake-descriptor path's words (armed by a waiter on many ports).
    pub notify: NotifyWord,
}

// One layout on every target (checked by the armv7 and thumbv7em builds too).
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<NotifierPort>() == 640);
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<ListenerPort>() == 192);

impl ListenerPort {
    /// Daemon: prepares a slot for a new listener (no ids pending, nobody
    /// asleep, not armed) before activating its [`PortControl`].
    pub fn reset(&self) {
        self.events.clear();
        // Relaxed: published by the Release store of the port's state.
        self.wake.sleepers.store(0, Ordering::Relaxed);
        self.wake.wake_pending.store(0, Ordering::Relaxed);
        self.wake.blocked.store(0, Ordering::Relaxed);
        self.wake.space_pending.store(0, Ordering::Relaxed);
        self.notify.armed.store(0, Ordering::Relaxed);
        self.notify.pending.store(0, Ordering::Relaxed);
    }
}
