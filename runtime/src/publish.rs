//! A publisher's data path: loan, deliver, keep history, release.
//!
//! [`PublisherCore`] is the type-erased part of a `Publisher<T>` (it knows the
//! payload's size, not its type). It follows the data-path protocol of
//! `docs/protocol.md` step by step:
//!
//! - **loan**: a free loan slot (process-local mask, the `max_loans` limit),
//!   a chunk from the port's mempool (refcount 1), its header, and the chunk
//!   recorded in the port's `loans` list before the application sees it;
//! - **publish**: refresh the topology if its seqlock version moved (one load
//!   otherwise) and hand new subscribers their history; add one reference
//!   per subscriber, push into each queue by its full-queue policy; one
//!   `SeqCst` fence, then wake only the subscribers that sleep; keep one
//!   reference in the history ring; unlist the loan and drop the
//!   publisher's own reference.
//!
//! No lock, no allocation, no clock read and no system call unless a
//! subscriber sleeps or a block-publisher queue is full.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::Arc;

use zerocp_core::mempool_manager::{self, PayloadSpec};
use zerocp_core::port::{
    FullPolicy, MAX_HISTORY, PortState, PublisherPort, SubscriberPort, TOPOLOGY_WORDS,
};
use zerocp_core::sync::Ordering;
use zerocp_os_linux::error::FutexError;

use crate::error::LoanError;
use crate::runtime::RuntimeInner;
use crate::slots::SlotMask;
use crate::topology::{Peer, TopologyCache};
use crate::wait::{BLOCKED_SLICE, fence_after_pushes, push_or_sleep, wake_if_sleeping};

/// Why a delivery stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeliveryError {
    /// The daemon is gone.
    Gone,
    /// A futex wait (blocked publisher) or wake failed.
    Futex(FutexError),
}

/// A loaned chunk: its used-slot, global index and payload address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loan {
    pub(crate) slot: u32,
    pub(crate) chunk: u32,
    pub(crate) payload: NonNull<u8>,
}

/// The type-erased state of a publisher port.
pub(crate) struct PublisherCore {
    rt: Arc<RuntimeInner>,
    /// Valid while `rt` is (it keeps the mapping alive).
    port: &'static PublisherPort,
    index: u32,
    pool: u32,
    spec: PayloadSpec,
    loans: SlotMask,
    sequence: Cell<u64>,
    topology: RefCell<Topology>,
}

struct Topology {
    cache: TopologyCache,
    words: Box<[u32; TOPOLOGY_WORDS]>,
}

impl PublisherCore {
    /// Wraps publisher port `index` (checked by the caller: active, owned by
    /// this process) whose payloads (`spec`) come from mempool `pool`.
    pub(crate) fn new(
        rt: Arc<RuntimeInner>,
        port: &'static PublisherPort,
        index: u32,
        pool: u32,
        spec: PayloadSpec,
        max_loans: u32,
    ) -> Self {
        Self {
            rt,
            port,
            index,
            pool,
            spec,
            loans: SlotMask::new(max_loans),
            sequence: Cell::new(0),
            topology: RefCell::new(Topology {
                cache: TopologyCache::new(),
                words: Box::new([0; TOPOLOGY_WORDS]),
            }),
        }
    }

    /// The runtime this port belongs to.
    pub(crate) fn runtime(&self) -> &Arc<RuntimeInner> {
        &self.rt
    }

    /// The port index.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// Whether the daemon is gone.
    pub(crate) fn is_gone(&self) -> bool {
        self.rt.shared().is_gone()
    }

    /// Loans a chunk and records it in the port's `loans` list.
    pub(crate) fn loan(&self) -> Result<Loan, LoanError> {
        if self.is_gone() {
            return Err(LoanError::DaemonGone);
        }
        let slot = self.loans.take().ok_or(LoanError::TooManyLoans {
            max: self.loans.limit(),
        })?;
        let result = self.loan_into(slot);
        if result.is_err() {
            self.loans.give(slot);
        }
        result
    }

    fn loan_into(&self, slot: u32) -> Result<Loan, LoanError> {
        let pools = self.rt.shared().segments().pools();
        let chunk = pools.loan(self.pool, self.spec).map_err(|e| match e {
            mempool_manager::LoanChunkError::OutOfChunks {
                pool, chunk_size, ..
            } => LoanError::OutOfChunks { pool, chunk_size },
            other => LoanError::Mempool(other),
        })?;
        let corrupt = |reason| {
            self.release(chunk);
            LoanError::CorruptChunk {
                index: chunk,
                reason,
            }
        };
        let Some(payload) = pools.payload(chunk) else {
            return Err(corrupt("the payload lies outside the data segment"));
        };
        if self.port.loans.record(slot, chunk).is_err() {
            return Err(corrupt("the loan slot is outside the port's list"));
        }
        Ok(Loan {
            slot,
            chunk,
            payload,
        })
    }

    /// Gives up a loan without publishing it: unlists it, then drops the
    /// publisher's reference.
    pub(crate) fn drop_loan(&self, loan: &Loan) {
        self.port.loans.clear(loan.slot);
        self.loans.give(loan.slot);
        self.release(loan.chunk);
    }

    /// Publishes a loaned chunk to every routed subscriber and consumes the loan.
    pub(crate) fn publish(&self, loan: &Loan) -> Result<(), DeliveryError> {
        if self.is_gone() {
            self.drop_loan(loan);
            return Err(DeliveryError::Gone);
        }
        let pools = self.rt.shared().segments().pools();
        let sequence = self.sequence.get();
        self.sequence.set(sequence.wrapping_add(1));
        if let Some(header) = pools.chunk(loan.chunk) {
            header.set_sequence(sequence);
        }
        let result = self.deliver_sample(loan.chunk);
        self.keep_in_history(loan.chunk);
        self.drop_loan(loan);
        result
    }

    /// Hands history to subscribers that joined since the last publish,
    /// without publishing anything new.
    pub(crate) fn update_connections(&self) -> Result<(), DeliveryError> {
        if self.is_gone() {
            return Err(DeliveryError::Gone);
        }
        let mut topology = self.topology.borrow_mut();
        let mut woken = Wakes::default();
        let result = self.refresh(&mut topology, &mut woken);
        woken.wake(self)?;
        result
    }

    fn deliver_sample(&self, chunk: u32) -> Result<(), DeliveryError> {
        let mut topology = self.topology.borrow_mut();
        let mut woken = Wakes::default();
        let mut result = self.refresh(&mut topology, &mut woken);
        let peers = topology.cache.peers();
        let pools = self.rt.shared().segments().pools();
        if result.is_ok() && !peers.is_empty() && pools.acquire(chunk, peers.len() as u32).is_ok() {
            let mut remaining = peers.len();
            for &peer in peers {
                remaining -= 1;
                match self.deliver_to(peer, chunk) {
                    Ok(Some(port)) => woken.add(port),
                    Ok(None) => self.release(chunk),
                    Err(e) => {
                        // This and every later subscriber: give their references back.
                        for _ in 0..=remaining {
                            self.release(chunk);
                        }
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        woken.wake(self)?;
        result
    }

    /// Re-reads the topology if it changed and delivers history to the new
    /// subscribers (their ports are added to `woken`).
    fn refresh(&self, topology: &mut Topology, woken: &mut Wakes) -> Result<(), DeliveryError> {
        let version = self.port.topology.version();
        if topology.cache.is_current(version) {
            return Ok(());
        }
        let Ok(snapshot) = self.port.topology.read(&mut topology.words) else {
            // A write in progress (or a daemon that died mid-write): keep the
            // previous snapshot and try again at the next publish.
            return Ok(());
        };
        let pairs = topology.words[..snapshot.len]
            .chunks_exact(2)
            .map(|w| Peer {
                index: w[0],
                generation: w[1],
            });
        let fresh = topology.cache.replace(snapshot.version, pairs);
        for peer in fresh {
            if let Some(port) = self.deliver_history(peer)? {
                woken.add(port);
            }
        }
        Ok(())
    }

    fn deliver_history(
        &self,
        peer: Peer,
    ) -> Result<Option<&'static SubscriberPort>, DeliveryError> {
        let Some(port) = self.routed_port(peer) else {
            return Ok(None);
        };
        let wanted = port.control.settings().history.min(port.queue.capacity());
        if wanted == 0 {
            return Ok(None);
        }
        let mut chunks = [0u32; MAX_HISTORY];
        let n = self.port.history.newest(&mut chunks, wanted);
        let pools = self.rt.shared().segments().pools();
        let mut delivered = false;
        for &chunk in &chunks[..n] {
            // The ring holds a reference to every entry, so adding one is safe.
            if pools.acquire(chunk, 1).is_err() {
                continue;
            }
            match self.deliver_to(peer, chunk) {
                Ok(Some(_)) => delivered = true,
                Ok(None) => self.release(chunk),
                Err(e) => {
                    self.release(chunk);
                    return Err(e);
                }
            }
        }
        Ok(delivered.then_some(port))
    }

    /// Pushes `chunk` (one reference already taken for it) into `peer`'s
    /// queue. `Ok(None)` when the subscriber is no longer routed: the caller
    /// then drops that reference.
    fn deliver_to(
        &self,
        peer: Peer,
        chunk: u32,
    ) -> Result<Option<&'static SubscriberPort>, DeliveryError> {
        let Some(port) = self.routed_port(peer) else {
            return Ok(None);
        };
        match port.control.policy() {
            FullPolicy::DiscardOldest => {
                if let Some(dropped) = port.queue.push_discard_oldest(chunk) {
                    // Relaxed: a statistic, read for display only.
                    port.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    self.release(dropped);
                }
                Ok(Some(port))
            }
            FullPolicy::BlockPublisher => self.push_blocking(peer, port, chunk),
        }
    }

    fn push_blocking(
        &self,
        peer: Peer,
        port: &'static SubscriberPort,
        chunk: u32,
    ) -> Result<Option<&'static SubscriberPort>, DeliveryError> {
        if port.queue.push(chunk).is_ok() {
            return Ok(Some(port));
        }
        // The subscriber may sleep with a full queue we have not woken yet.
        wake_if_sleeping(port).map_err(DeliveryError::Futex)?;
        loop {
            if self.is_gone() {
                return Err(DeliveryError::Gone);
            }
            if self.routed_port(peer).is_none() {
                return Ok(None);
            }
            let pushed = push_or_sleep(port, BLOCKED_SLICE, || port.queue.push(chunk).is_ok())
                .map_err(DeliveryError::Futex)?;
            if pushed {
                return Ok(Some(port));
            }
        }
    }

    /// The subscriber port of `peer` if it still is the one routed: in
    /// range, active, and of the same generation.
    fn routed_port(&self, peer: Peer) -> Option<&'static SubscriberPort> {
        let port = self.rt.shared().segments().mgmt().subscriber(peer.index)?;
        (port.control.state() == Some(PortState::Active)
            && port.control.generation() == peer.generation)
            .then_some(port)
    }

    fn keep_in_history(&self, chunk: u32) {
        if self.port.history.depth() == 0 {
            return;
        }
        let pools = self.rt.shared().segments().pools();
        if pools.acquire(chunk, 1).is_err() {
            return;
        }
        if let Some(evicted) = self.port.history.push(chunk) {
            self.release(evicted);
        }
    }

    /// Drops one reference to `chunk` (logging what cannot happen with a
    /// consistent segment).
    fn release(&self, chunk: u32) {
        if let Err(e) = self.rt.shared().segments().pools().release(chunk) {
            log::error!("publisher port {}: {e}", self.index);
        }
    }
}

/// Subscriber ports that received something in one operation; woken after
/// a single fence.
#[derive(Default)]
struct Wakes {
    ports: heapless::Vec<
        &'static SubscriberPort,
        { zerocp_core::port::MAX_SUBSCRIBERS_PER_PUBLISHER },
    >,
}

impl Wakes {
    fn add(&mut self, port: &'static SubscriberPort) {
        if !self.ports.iter().any(|p| core::ptr::eq(*p, port)) {
            // Cannot overflow: at most one entry per routed subscriber.
            let _ = self.ports.push(port);
        }
    }

    fn wake(&self, core: &PublisherCore) -> Result<(), DeliveryError> {
        if self.ports.is_empty() {
            return Ok(());
        }
        fence_after_pushes();
        for port in &self.ports {
            if let Err(e) = wake_if_sleeping(port) {
                log::warn!("publisher port {}: {e}", core.index);
                return Err(DeliveryError::Futex(e));
            }
        }
        Ok(())
    }
}
