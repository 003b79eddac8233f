//! [`SharedPort`]: the part of a publisher that the runtime's background
//! thread may use too, to hand history to a late subscriber while the
//! application does not publish ([`crate::history_on_connect`]).
//!
//! [`PublisherCore`](super::PublisherCore) is not `Sync` (its loans and
//! counters are `Cell`s, its samples hold it through an `Rc`). What serving
//! history needs is here instead, behind an `Arc`: the port's records in
//! shared memory (its port, its mempool, its pool's count) and its
//! [`DeliveryState`]: the topology snapshot, which tells which subscribers
//! were served their history already, the stalled subscribers and the wake
//! descriptors. For a port that keeps history the state is behind one
//! `Mutex`: the application's thread locks it for every publish
//! (uncontended but for the moment the background thread serves a
//! newcomer); the background thread only ever `try_lock`s it. A port that
//! keeps none is never seen by the background thread, and its state needs
//! no lock ([`super::state_cell`]). A publish
//! keeps the lock from its delivery to the history ring's update, so the
//! background thread never reads a ring entry that a concurrent publish
//! evicts (and releases) meanwhile.

use std::sync::Arc;

use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::port::{PortState, PublisherPort, SubscriberPort, TOPOLOGY_WORDS};

use super::publish_timeout::Stalled;
use super::state_cell::{StateCell, StateGuard};
use super::wake_fd_cache::WakeFdCache;
use crate::mapped::Mapped;
use crate::port_owner::PortOwner;
use crate::port_status::PortStatus;
use crate::quota::PoolCount;
use crate::segment_mappings::{GroupMappings, Pools};
use crate::topology::{Peer, TopologyCache};

/// What a delivery reads and updates: the topology snapshot and the buffer
/// it is read into, the subscribers timed out on, the wake descriptors, and
/// the subscribers the background thread handed history to but could not
/// signal yet (no wake descriptor at hand).
pub(crate) struct DeliveryState {
    pub(super) cache: TopologyCache,
    pub(super) words: Box<[u32; TOPOLOGY_WORDS]>,
    pub(super) stalled: Stalled,
    pub(super) wake_fds: WakeFdCache,
    pub(super) unsignalled: Vec<Peer>,
}

/// The records of one publisher port and its delivery state (module docs).
pub(crate) struct SharedPort {
    /// The port's record in its group's control part (and the group's
    /// mappings and the runtime owning them).
    port: Mapped<PublisherPort>,
    /// The chunk manager over the writable mapping of the group's payload part.
    pools: Mapped<Pools>,
    /// The port's name, and whether the daemon revoked it.
    pub(super) status: Arc<PortStatus>,
    /// The pool's quotas and this process's count of its chunks.
    count: Mapped<PoolCount>,
    pub(super) index: u32,
    pub(super) pool: u32,
    state: StateCell,
}

// SAFETY: every field but `state` is `Sync`. A `StateCell::Locked` is a
// `Mutex`. A `StateCell::Owned` (a `RefCell`, not `Sync`) is only ever
// reached by one thread: `new` makes it only for a port that keeps no
// history, and only ports that keep history are handed to the history
// table (`creation.rs`), the one way another thread (the background
// thread) reaches a `SharedPort`; such a port's only strong reference is
// its `PublisherCore`'s, which is not `Sync` (moving it to another thread
// moves the access with it).
unsafe impl Sync for SharedPort {}

impl SharedPort {
    /// The port `port` (of mempool `pool`), its chunk manager and its
    /// pool's count; no topology read yet. `keeps_history`: the background
    /// thread may serve from it (its delivery state gets a lock).
    pub(super) fn new(
        port: Mapped<PublisherPort>,
        pools: Mapped<Pools>,
        status: Arc<PortStatus>,
        count: Mapped<PoolCount>,
        pool: u32,
        keeps_history: bool,
    ) -> Self {
        Self {
            port,
            pools,
            index: status.key().index,
            status,
            count,
            pool,
            state: StateCell::new(
                DeliveryState {
                    cache: TopologyCache::new(),
                    words: Box::new([0; TOPOLOGY_WORDS]),
                    stalled: Stalled::default(),
                    wake_fds: WakeFdCache::default(),
                    unsignalled: Vec::new(),
                },
                keeps_history,
            ),
        }
    }

    /// Whether the port keeps history, as its options said at creation (a
    /// local fact: never the depth word in shared memory, which others can
    /// write).
    pub(crate) fn keeps_history(&self) -> bool {
        self.state.is_locked()
    }

    /// The delivery state, for the application's thread (waits for the
    /// background thread, which holds it only while serving a newcomer).
    pub(super) fn lock(&self) -> StateGuard<'_> {
        self.state.lock()
    }

    /// The delivery state, unless someone holds it (the background thread's
    /// way: it never waits for the application).
    pub(super) fn try_lock(&self) -> Option<StateGuard<'_>> {
        self.state.try_lock()
    }

    /// The runtime this port belongs to.
    pub(crate) fn runtime(&self) -> &PortOwner {
        self.port.owner()
    }

    /// The port in shared memory.
    pub(crate) fn port(&self) -> &PublisherPort {
        self.port.get()
    }

    /// The segment group's mappings (control part, payload mappings).
    pub(crate) fn group(&self) -> &GroupMappings {
        self.port.group()
    }

    /// The chunk manager over the writable mapping of the group's payload part.
    pub(crate) fn pools(&self) -> &MemPoolManager<'_> {
        self.pools.get().manager()
    }

    /// The pool's quotas and this process's count of its chunks.
    pub(crate) fn count(&self) -> &PoolCount {
        self.count.get()
    }

    /// Whether `chunk`, read from this port's history ring in shared memory,
    /// can be an entry this publisher put there: a chunk of its own mempool.
    /// Anything else is logged and skipped (neither handed out nor
    /// released: it holds no reference of this publisher's).
    pub(super) fn is_history_entry(&self, chunk: u32) -> bool {
        let own = self
            .pools()
            .layout()
            .pools()
            .get(self.pool as usize)
            .is_some_and(|pool| pool.contains(chunk));
        if !own {
            log::warn!(
                "publisher port {}: history entry {chunk} is not a chunk of mempool {}: skipped",
                self.index,
                self.pool
            );
        }
        own
    }

    /// Drops one reference to `chunk` (logging what cannot happen with a
    /// consistent segment).
    pub(super) fn release(&self, chunk: u32) {
        if let Err(e) = self.pools().release(chunk) {
            log::error!("publisher port {}: {e}", self.index);
        }
    }

    /// The subscriber port of `peer` if it still is the one routed: in
    /// range, active, and of the same generation.
    pub(crate) fn routed_port(&self, peer: Peer) -> Option<&SubscriberPort> {
        let port = self.group().control().subscriber(peer.index)?;
        (port.control.state() == Some(PortState::Active)
            && port.control.generation() == peer.generation)
            .then_some(port)
    }
}
