//! Publisher and subscriber ports: the per-endpoint records of the port registry.
//!
//! Each segment group's control part holds two arrays of fixed-size ports
//! (their counts come from the group's configuration); a port is named by
//! its group and its index there, and every chunk index it stores is one of
//! its group's. The daemon allocates a port when an
//! application creates a publisher or subscriber, initialises it, and is the
//! only writer of its [`PortControl`] and of a publisher's topology; the owning
//! application then works the data-path parts with lock-free operations only:
//!
//! | port part | written by | read by |
//! |---|---|---|
//! | [`PortControl`] | daemon | owner, publishers (subscriber's policy, history request) |
//! | publisher `topology` ([`SeqLock`]) | daemon | publisher, on every publish (one load when unchanged) |
//! | publisher `loans`, `history` | publisher | daemon, after the publisher died |
//! | subscriber `queue` ([`ChunkQueue`]) | publishers push, subscriber pops | daemon drains on death |
//! | subscriber `held` | subscriber | daemon, after the subscriber died |
//! | subscriber [`WakeWord`] | both ([`crate::wake_protocol`]) | both |
//! | subscriber `notify` ([`NotifyWord`]) | both (wake-descriptor protocol) | both |
//! | subscriber [`SubscriberStats`] | publishers (drops, timeouts), subscriber (`received`, `held`) | publishers (`held`, for the port quota), daemon (display) |
//! | publisher [`PublisherStats`] | publisher (published, failed loans, time blocked, timeouts) | daemon (display) |
//!
//! The statistics are numbers the applications write: the daemon and
//! `zerocpctl` only display and export them, never use one as an index
//! or a size.
//!
//! A port the daemon revokes ([`PortState::Revoked`]) is unrouted like a
//! retiring one; its owner is told over its control socket, which only the
//! daemon writes (`docs/protocol.md`, "Revocation and group reset").
//!
//! A topology entry is two words: the subscriber port index and that port's
//! generation, so a publisher can tell a new subscriber from one it has
//! already served history to, even when a port slot is reused.

use crate::cache_padded::CachePadded;
use crate::chunk_queue::ChunkQueue;
use crate::history_ring::HistoryRing;
pub use crate::notify_word::NotifyWord;
use crate::seqlock::SeqLock;
use crate::sync::{AtomicU32, AtomicU64, Ordering};
use crate::used_chunk_list::UsedChunkList;
use crate::word_repair::WordRepair;

/// Largest subscriber queue capacity a port can be configured with.
pub const MAX_QUEUE_CAPACITY: usize = 256;
/// Largest number of subscribers one publisher delivers to.
pub const MAX_SUBSCRIBERS_PER_PUBLISHER: usize = 64;
/// Words of a publisher's topology: (subscriber port index, generation) pairs.
pub const TOPOLOGY_WORDS: usize = 2 * MAX_SUBSCRIBERS_PER_PUBLISHER;
/// Largest number of samples a publisher can have loaned at once.
pub const MAX_LOANS: usize = 32;
/// Largest history depth of a publisher.
pub const MAX_HISTORY: usize = 32;
/// Largest number of samples a subscriber can hold (taken, not yet dropped) at once.
pub const MAX_HELD: usize = 32;

/// Life-cycle state of a port slot, stored in [`PortControl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum PortState {
    /// Not allocated.
    Free = 0,
    /// Owned by a live process and routed.
    Active = 1,
    /// Being torn down by the daemon; publishers stop delivering to it.
    Retiring = 2,
    /// Revoked by the daemon while its owner lives (its queue, its record
    /// or its group's memory was found corrupt, or an operator asked):
    /// unrouted, publishers stop delivering to it; the slot stays the
    /// owner's until it removes the port or exits. The owner learns it,
    /// and why, from the daemon over its control socket, not from this word
    /// (which any process of the group can write).
    Revoked = 3,
}

impl PortState {
    /// Decodes a state word read from shared memory (unknown values are `None`).
    pub fn from_word(word: u32) -> Option<Self> {
        match word {
            0 => Some(Self::Free),
            1 => Some(Self::Active),
            2 => Some(Self::Retiring),
            3 => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// What a publisher does when a subscriber's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u32)]
pub enum FullPolicy {
    /// Push anyway; the oldest queued sample is released and counted as dropped.
    #[default]
    DiscardOldest = 0,
    /// The publisher waits until the subscriber takes a sample (or goes away).
    BlockPublisher = 1,
}

impl FullPolicy {
    /// Every policy, in code order.
    pub const ALL: &'static [Self] = &[Self::DiscardOldest, Self::BlockPublisher];

    /// Decodes a policy word read from shared memory (unknown values are `None`).
    pub fn from_word(word: u32) -> Option<Self> {
        match word {
            0 => Some(Self::DiscardOldest),
            1 => Some(Self::BlockPublisher),
            _ => None,
        }
    }
}

/// Daemon-written description of a port (one cache line).
///
/// Layout: `state, generation, owner_slot, owner_pid, payload_size,
/// payload_align, mempool, policy, capacity, history, max_held, senders:
/// u32`, `service_hash: u64`, `senders_gone: u32`, then padding to 64
/// bytes.
///
/// `senders` and `senders_gone` (a receiving port's routes: how many
/// publishers, or notifiers, are routed to it now, and how many ever left
/// it) are the only words the daemon rewrites while the port lives: on
/// every route change of its service; when a sender left (removed, or its
/// process dead) it then wakes the port's sleepers and its wake
/// descriptor, so a waiter learns that its publisher is gone.
#[repr(C, align(64))]
pub struct PortControl {
    state: AtomicU32,
    generation: AtomicU32,
    owner_slot: AtomicU32,
    owner_pid: AtomicU32,
    payload_size: AtomicU32,
    payload_align: AtomicU32,
    mempool: AtomicU32,
    policy: AtomicU32,
    capacity: AtomicU32,
    history: AtomicU32,
    max_held: AtomicU32,
    senders: AtomicU32,
    service_hash: AtomicU64,
    senders_gone: AtomicU32,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<PortControl>() == 64);

/// The values the daemon writes into a [`PortControl`] when it hands out a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortSettings {
    /// Heartbeat slot of the owning process.
    pub owner_slot: u32,
    /// Pid of the owning process (from its peer credentials).
    pub owner_pid: u32,
    /// `size_of` the payload type.
    pub payload_size: u32,
    /// `align_of` the payload type.
    pub payload_align: u32,
    /// Mempool the payload's chunks come from.
    pub mempool: u32,
    /// Subscriber: full-queue policy.
    pub policy: FullPolicy,
    /// Subscriber: queue capacity; publisher: max loans.
    pub capacity: u32,
    /// Subscriber: history requested; publisher: history depth.
    pub history: u32,
    /// Subscriber: most samples taken at once (`max_held`); publisher: 0.
    pub max_held: u32,
    /// The service's stable hash.
    pub service_hash: u64,
    /// Subscriber, listener: publishers (notifiers) routed to it now.
    pub senders: u32,
    /// Subscriber, listener: how many senders left it so far (wraps).
    pub senders_gone: u32,
}

impl PortControl {
    /// Daemon: writes `settings` and marks the port active with `generation`.
    pub fn activate(&self, generation: u32, s: &PortSettings) {
        // Relaxed stores, then a Release store of the state: anyone who reads
        // `Active` with Acquire sees the settings.
        self.generation.store(generation, Ordering::Relaxed);
        self.owner_slot.store(s.owner_slot, Ordering::Relaxed);
        self.owner_pid.store(s.owner_pid, Ordering::Relaxed);
        self.payload_size.store(s.payload_size, Ordering::Relaxed);
        self.payload_align.store(s.payload_align, Ordering::Relaxed);
        self.mempool.store(s.mempool, Ordering::Relaxed);
        self.policy.store(s.policy as u32, Ordering::Relaxed);
        self.capacity.store(s.capacity, Ordering::Relaxed);
        self.history.store(s.history, Ordering::Relaxed);
        self.max_held.store(s.max_held, Ordering::Relaxed);
        self.service_hash.store(s.service_hash, Ordering::Relaxed);
        self.senders.store(s.senders, Ordering::Relaxed);
        self.senders_gone.store(s.senders_gone, Ordering::Relaxed);
        self.state
            .store(PortState::Active as u32, Ordering::Release);
    }

    /// Daemon: sets the state word.
    pub fn set_state(&self, state: PortState) {
        // Release: a reader that sees Retiring/Free also sees what came before.
        self.state.store(state as u32, Ordering::Release);
    }

    /// The state (`None` if the word is corrupt).
    pub fn state(&self) -> Option<PortState> {
        // Acquire: pairs with the Release in `activate`/`set_state`.
        PortState::from_word(self.state.load(Ordering::Acquire))
    }

    /// Generation of the current allocation.
    pub fn generation(&self) -> u32 {
        self.generation.load(Ordering::Relaxed)
    }

    /// The settings as last written by the daemon (policy falls back to the
    /// default when the word is corrupt).
    pub fn settings(&self) -> PortSettings {
        // Relaxed: callers read `state()` (Acquire) first when it matters.
        PortSettings {
            owner_slot: self.owner_slot.load(Ordering::Relaxed),
            owner_pid: self.owner_pid.load(Ordering::Relaxed),
            payload_size: self.payload_size.load(Ordering::Relaxed),
            payload_align: self.payload_align.load(Ordering::Relaxed),
            mempool: self.mempool.load(Ordering::Relaxed),
            policy: FullPolicy::from_word(self.policy.load(Ordering::Relaxed)).unwrap_or_default(),
            capacity: self.capacity.load(Ordering::Relaxed),
            history: self.history.load(Ordering::Relaxed),
            max_held: self.max_held.load(Ordering::Relaxed),
            service_hash: self.service_hash.load(Ordering::Relaxed),
            senders: self.senders.load(Ordering::Relaxed),
            senders_gone: self.senders_gone.load(Ordering::Relaxed),
        }
    }

    /// Daemon: the routes of this receiving port changed: `senders` are
    /// routed to it now, and `gone` senders left it so far. When `gone`
    /// grew, the caller then wakes the port's sleepers (bumping their futex
    /// word) and signals its wake descriptor. Both words belong to the
    /// port's settings, so the daemon's audit compares and restores them.
    ///
    /// ```
    /// use zerocp_core::port::{PortControl, PortSettings, PortState};
    /// # // SAFETY: a port is atomics only, for which all zeros is valid.
    /// # let block: zerocp_core::port::SubscriberPort = unsafe { core::mem::zeroed() };
    /// # let control: &PortControl = &block.control;
    /// let mut settings = PortSettings { capacity: 8, ..PortSettings::default() };
    /// control.activate(3, &settings);
    /// control.set_senders(1, 1);
    /// assert_eq!((control.senders(), control.senders_gone()), (1, 1));
    /// // The daemon remembers what it wrote; a scribbled count is put back.
    /// (settings.senders, settings.senders_gone) = (1, 1);
    /// control.set_senders(7, 1);
    /// let repair = control.restore(PortState::Active, Some((3, &settings)));
    /// assert_eq!((repair.words(), repair.first()), (1, Some("senders")));
    /// assert_eq!(control.senders(), 1);
    /// ```
    pub fn set_senders(&self, senders: u32, gone: u32) {
        // Relaxed, then SeqCst: a reader that sees the new count of gone
        // senders (SeqCst) sees the count of senders; and it is stored before the
        // futex word is bumped, which a sleeper reads before it compares
        // `senders_gone` (as a revocation, see the runtime's `wait`).
        self.senders.store(senders, Ordering::Relaxed);
        self.senders_gone.store(gone, Ordering::SeqCst);
    }

    /// Publishers (notifiers) routed to this receiving port now, as the
    /// daemon last wrote it (a hint: any process of the group can write
    /// the word, and the daemon's audit puts it back).
    pub fn senders(&self) -> u32 {
        // Acquire: read after `senders_gone` (SeqCst), see `set_senders`.
        self.senders.load(Ordering::Acquire)
    }

    /// How many senders left this port so far (compare with an earlier
    /// value; it wraps).
    pub fn senders_gone(&self) -> u32 {
        // SeqCst: pairs with `set_senders`; a waiter reads it after its
        // futex word (see `set_senders`).
        self.senders_gone.load(Ordering::SeqCst)
    }

    /// Daemon (audit): puts back every word the daemon wrote where it
    /// differs: `state`, and for a port in use (`Some((generation,
    /// settings))`) its generation, its settings and the reserved word (0).
    /// A free slot's other words are left alone: nobody reads them while
    /// its state says `Free`. When anything was off, the state is stored
    /// once more with `Release`, as [`activate`](Self::activate) publishes it.
    ///
    /// ```
    /// use zerocp_core::port::{PortControl, PortSettings, PortState};
    /// # // SAFETY: a port is atomics only, for which all zeros is valid.
    /// # let block: zerocp_core::port::SubscriberPort = unsafe { core::mem::zeroed() };
    /// # let control: &PortControl = &block.control;
    /// let settings = PortSettings { capacity: 8, ..PortSettings::default() };
    /// control.activate(3, &settings);
    /// assert!(control.restore(PortState::Active, Some((3, &settings))).is_clean());
    /// let repair = control.restore(PortState::Retiring, Some((3, &settings)));
    /// assert_eq!((repair.words(), repair.first()), (1, Some("state")));
    /// ```
    pub fn restore(&self, state: PortState, in_use: Option<(u32, &PortSettings)>) -> WordRepair {
        let mut repair = WordRepair::new();
        if let Some((generation, s)) = in_use {
            repair.u32("generation", &self.generation, generation);
            repair.u32("owner_slot", &self.owner_slot, s.owner_slot);
            repair.u32("owner_pid", &self.owner_pid, s.owner_pid);
            repair.u32("payload_size", &self.payload_size, s.payload_size);
            repair.u32("payload_align", &self.payload_align, s.payload_align);
            repair.u32("mempool", &self.mempool, s.mempool);
            repair.u32("policy", &self.policy, s.policy as u32);
            repair.u32("capacity", &self.capacity, s.capacity);
            repair.u32("history", &self.history, s.history);
            repair.u32("max_held", &self.max_held, s.max_held);
            repair.u64("service_hash", &self.service_hash, s.service_hash);
            repair.u32("senders", &self.senders, s.senders);
            repair.u32("senders_gone", &self.senders_gone, s.senders_gone);
        }
        repair.u32("state", &self.state, state as u32);
        if !repair.is_clean() {
            self.set_state(state);
        }
        repair
    }

    /// Full-queue policy of a subscriber port (a hot-path read for publishers).
    pub fn policy(&self) -> FullPolicy {
        FullPolicy::from_word(self.policy.load(Ordering::Relaxed)).unwrap_or_default()
    }

    /// A subscriber's `max_held` (a hot-path read for publishers, on the
    /// line of [`policy`](Self::policy)).
    pub fn max_held(&self) -> u32 {
        self.max_held.load(Ordering::Relaxed)
    }

    /// A subscriber's queue capacity, as the daemon set it (a publisher's:
    /// its `max_loans`); on the line of [`policy`](Self::policy).
    pub fn capacity(&self) -> u32 {
        self.capacity.load(Ordering::Relaxed)
    }
}

/// A publisher's port.
///
/// Layout: [`PortControl`] (64 B), topology [`SeqLock`] of
/// [`TOPOLOGY_WORDS`] words (cache-padded), `loans` ([`UsedChunkList`] of
/// [`MAX_LOANS`]), `history` ([`HistoryRing`] of [`MAX_HISTORY`]),
/// [`PublisherStats`] (32 B at offset 912, in what was the tail padding:
/// the other parts keep their offsets), padded to a multiple of 64 bytes.
#[repr(C, align(64))]
pub struct PublisherPort {
    /// Daemon-written description.
    pub control: PortControl,
    /// Which subscriber ports receive: (index, generation) pairs.
    pub topology: CachePadded<SeqLock<TOPOLOGY_WORDS>>,
    /// Chunks loaned and not yet published or dropped.
    pub loans: UsedChunkList<MAX_LOANS>,
    /// Recently published chunks kept for late joiners.
    pub history: HistoryRing<MAX_HISTORY>,
    /// Counters (samples published, failed loans, time blocked, timeouts).
    pub stats: PublisherStats,
}

/// Futex words of a subscriber: how publishers wake a sleeping subscriber and
/// how a subscriber wakes publishers blocked on its full queue.
///
/// Two channels of the same protocol ([`crate::wake_protocol`]: Dekker
/// style, each side a SeqCst fence between its write and its read, and a
/// wake-pending flag so that a waker makes at most one wake-up call per
/// sleep):
/// - subscriber: read `data_seq`; `wake_pending = 0`; `sleepers += 1`;
///   fence; queue empty? → futex-wait on `data_seq`;
/// - publisher: push; fence; `sleepers != 0` and `wake_pending` flips
///   0 → 1? → `data_seq += 1`, futex-wake.
///
/// `space_seq`/`blocked`/`space_pending` mirror it for the block-publisher
/// policy. A listener port holds one too (listener and notifiers in the
/// roles of subscriber and publisher, the space channel unused).
///
/// Layout: `data_seq, sleepers, space_seq, blocked, wake_pending,
/// space_pending: u32`, padded to 64 bytes (the two flags came with group
/// control layout version 6, in what was padding).
#[repr(C, align(64))]
pub struct WakeWord {
    /// Futex word for "data arrived".
    pub data_seq: AtomicU32,
    /// Number of subscriber threads about to sleep or sleeping on `data_seq`.
    pub sleepers: AtomicU32,
    /// Futex word for "space freed".
    pub space_seq: AtomicU32,
    /// Number of publishers waiting for space.
    pub blocked: AtomicU32,
    /// 1 when a publisher woke the subscriber's sleepers since one of them
    /// last cleared it (before sleeping): later publishers skip the wake-up.
    pub wake_pending: AtomicU32,
    /// 1 when the subscriber woke blocked publishers since one of them last
    /// cleared it (before sleeping): later pops skip the wake-up.
    pub space_pending: AtomicU32,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<WakeWord>() == 64);

/// Publisher statistics: counters only the port's owner writes (its
/// background thread adds timeouts too) and the daemon only displays.
///
/// Layout: `timed_out, published, loans_failed, blocked_ns: u64` (32 B
/// at offset 912 of the [`PublisherPort`], in what was its tail padding).
///
/// `published` is on the publish path: it has one writer, the thread that
/// publishes (a publisher is not `Sync`), so
/// [`count_published`](Self::count_published) is a relaxed load and a
/// relaxed store, no read-modify-write, on a line only the publisher writes. The others
/// are counted off the fast path (a failed loan, a wait that happened).
#[repr(C)]
pub struct PublisherStats {
    /// Deliveries given up after the publish timeout: a block-publisher
    /// subscriber's queue stayed full (one per sample and subscriber).
    pub timed_out: AtomicU64,
    /// Samples published (each counted once, however many subscribers got it).
    pub published: AtomicU64,
    /// Loans that failed (too many loans, a quota, no free chunk, a corrupt chunk).
    pub loans_failed: AtomicU64,
    /// Nanoseconds publishes spent waiting for room in block-publisher
    /// subscribers' queues.
    pub blocked_ns: AtomicU64,
}

impl PublisherStats {
    /// Publisher, on every publish: one more sample published.
    ///
    /// ```
    /// # // SAFETY: a port is atomics only, for which all zeros is valid.
    /// # let port: zerocp_core::port::PublisherPort = unsafe { core::mem::zeroed() };
    /// port.stats.count_published();
    /// port.stats.count_published();
    /// assert_eq!(port.stats.published.load(core::sync::atomic::Ordering::Relaxed), 2);
    /// ```
    pub fn count_published(&self) {
        // Relaxed load and store: the publishing thread is the only writer
        // (a publisher is not Sync); readers only display the value.
        let published = self.published.load(Ordering::Relaxed);
        self.published
            .store(published.wrapping_add(1), Ordering::Relaxed);
    }

    /// Daemon, before handing out the port: zeroes every counter.
    pub fn reset(&self) {
        // Relaxed: the reply on the control socket orders these before the owner's use.
        for counter in [
            &self.timed_out,
            &self.published,
            &self.loans_failed,
            &self.blocked_ns,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// Subscriber statistics (own cache line so counting never bounces the queue's lines).
///
/// Layout: `dropped, timed_out, received: u64`, `held: u32`, padded to
/// 64 bytes (`received` came with group control layout version 7, which
/// moved `held` from offset 16 to 24).
///
/// `received` is counted by the subscriber on every take, a relaxed load
/// and a relaxed store (the taking thread is its only writer: a subscriber
/// is not `Sync`), on the line whose `held` it writes on every take anyway
/// when publishers bound it by its quota; publishers write the line only
/// when they drop or time out.
#[repr(C, align(64))]
pub struct SubscriberStats {
    /// Samples released because the queue was full or at the port quota
    /// (discard-oldest policy).
    pub dropped: AtomicU64,
    /// Samples a publisher gave up on after its publish timeout
    /// (block-publisher policy).
    pub timed_out: AtomicU64,
    /// Samples taken by the subscriber.
    pub received: AtomicU64,
    /// Samples the subscriber holds (taken, not dropped) now, written by the
    /// subscriber when its queue capacity and `max_held` exceed its port
    /// quota (`zerocp_core::mgmt::quota`): then its publishers read it to
    /// bound its queued and taken chunks by that quota. Otherwise 0.
    pub held: AtomicU32,
}

impl SubscriberStats {
    /// Subscriber, on every take: one more sample received.
    ///
    /// ```
    /// # // SAFETY: a port is atomics only, for which all zeros is valid.
    /// # let port: zerocp_core::port::SubscriberPort = unsafe { core::mem::zeroed() };
    /// port.stats.count_received();
    /// assert_eq!(port.stats.received.load(core::sync::atomic::Ordering::Relaxed), 1);
    /// ```
    pub fn count_received(&self) {
        // Relaxed load and store: the taking thread is the only writer (a
        // subscriber is not Sync); readers only display the value.
        let received = self.received.load(Ordering::Relaxed);
        self.received
            .store(received.wrapping_add(1), Ordering::Relaxed);
    }

    /// Daemon, before handing out the port: zeroes every counter and the held count.
    pub fn reset(&self) {
        // Relaxed: the reply on the control socket orders these before the owner's use.
        self.dropped.store(0, Ordering::Relaxed);
        self.timed_out.store(0, Ordering::Relaxed);
        self.received.store(0, Ordering::Relaxed);
        self.held.store(0, Ordering::Relaxed);
    }
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<PublisherStats>() == 32);
    assert!(core::mem::offset_of!(PublisherPort, stats) == 912);
    assert!(core::mem::offset_of!(SubscriberStats, received) == 16);
    assert!(core::mem::offset_of!(SubscriberStats, held) == 24);
    assert!(core::mem::size_of::<SubscriberStats>() == 64);
};

/// A subscriber's port.
///
/// Layout: [`PortControl`], [`WakeWord`], [`NotifyWord`] (cache-padded),
/// [`SubscriberStats`] (64 B each),
/// the receive [`ChunkQueue`] of [`MAX_QUEUE_CAPACITY`], and `held`
/// ([`UsedChunkList`] of [`MAX_HELD`]), padded to a multiple of 64 bytes.
#[repr(C, align(64))]
pub struct SubscriberPort {
    /// Daemon-written description.
    pub control: PortControl,
    /// Sleep/wake protocol words.
    pub wake: WakeWord,
    /// Wake-descriptor notification words (for WaitSets and pollable descriptors).
    pub notify: CachePadded<NotifyWord>,
    /// Counters.
    pub stats: SubscriberStats,
    /// Chunks delivered and not yet taken.
    pub queue: ChunkQueue<MAX_QUEUE_CAPACITY>,
    /// Chunks taken and not yet dropped.
    pub held: UsedChunkList<MAX_HELD>,
}

// One layout on every target (checked by the armv7 and thumbv7em builds too).
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<PublisherPort>() == 960);
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<SubscriberPort>() == 2624);
