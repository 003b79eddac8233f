//! Delivery: how a publisher hands a chunk to the subscribers its topology
//! names.
//!
//! Before every delivery the publisher refreshes its copy of the topology if
//! the seqlock's version moved (one load otherwise) and hands the subscribers
//! that are new to it the history they asked for. Then it adds one reference
//! per subscriber and pushes the chunk into each queue by that queue's
//! full-queue policy (discard the oldest, or wait for space in slices that
//! re-check the daemon, this port's revocation and the routing). A subscriber slot that is no longer
//! the one routed (retired, or reused with another generation) gets nothing
//! and its reference is dropped again. After all pushes one `SeqCst` fence,
//! then only the subscribers that sleep are woken ([`crate::wait`]).

use zerocp_core::port::{
    FullPolicy, MAX_HISTORY, MAX_SUBSCRIBERS_PER_PUBLISHER, PortState, SubscriberPort,
    TOPOLOGY_WORDS,
};
use zerocp_core::sync::Ordering;
use zerocp_core::wire::RevokeReason;
use zerocp_os_linux::error::FutexError;

use super::PublisherCore;
use crate::registration::Gone;
use crate::topology::{Peer, TopologyCache};
use crate::wait::{BLOCKED_SLICE, fence_after_pushes, push_or_sleep, wake_if_sleeping};

/// Why a delivery stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeliveryError {
    /// The daemon is gone, or dropped this process.
    Gone(Gone),
    /// The daemon revoked this publisher's port.
    Revoked(RevokeReason),
    /// A futex wait (blocked publisher) or wake failed.
    Futex(FutexError),
}

/// A publisher's delivery state: its topology snapshot and the buffer it is
/// read into.
pub(super) struct Delivery {
    cache: TopologyCache,
    words: Box<[u32; TOPOLOGY_WORDS]>,
}

impl Delivery {
    /// No snapshot read yet: the first delivery reads the topology.
    pub(super) fn new() -> Self {
        Self {
            cache: TopologyCache::new(),
            words: Box::new([0; TOPOLOGY_WORDS]),
        }
    }
}

impl PublisherCore {
    /// Hands history to subscribers that joined since the last publish,
    /// without publishing anything new.
    pub(crate) fn update_connections(&self) -> Result<(), DeliveryError> {
        if let Some(gone) = self.gone() {
            return Err(DeliveryError::Gone(gone));
        }
        if let Some(reason) = self.revoked() {
            return Err(DeliveryError::Revoked(reason));
        }
        let mut delivery = self.delivery.borrow_mut();
        let mut woken = Wakes::default();
        let result = self.refresh(&mut delivery, &mut woken);
        woken.wake(self)?;
        result
    }

    /// Delivers `chunk` (the publisher keeps its own reference) to every
    /// routed subscriber.
    pub(super) fn deliver_sample(&self, chunk: u32) -> Result<(), DeliveryError> {
        let mut delivery = self.delivery.borrow_mut();
        let mut woken = Wakes::default();
        let mut result = self.refresh(&mut delivery, &mut woken);
        let peers = delivery.cache.peers();
        let pools = self.pools();
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
    fn refresh<'p>(
        &'p self,
        delivery: &mut Delivery,
        woken: &mut Wakes<'p>,
    ) -> Result<(), DeliveryError> {
        let version = self.port().topology.version();
        if delivery.cache.is_current(version) {
            return Ok(());
        }
        let Ok(snapshot) = self.port().topology.read(&mut delivery.words) else {
            // A write in progress (or a daemon that died mid-write): keep the
            // previous snapshot and try again at the next publish.
            return Ok(());
        };
        let pairs = delivery.words[..snapshot.len]
            .chunks_exact(2)
            .map(|w| Peer {
                index: w[0],
                generation: w[1],
            });
        let fresh = delivery.cache.replace(snapshot.version, pairs);
        for peer in fresh {
            if let Some(port) = self.deliver_history(peer)? {
                woken.add(port);
            }
        }
        Ok(())
    }

    fn deliver_history(&self, peer: Peer) -> Result<Option<&SubscriberPort>, DeliveryError> {
        let Some(port) = self.routed_port(peer) else {
            return Ok(None);
        };
        let wanted = port.control.settings().history.min(port.queue.capacity());
        if wanted == 0 {
            return Ok(None);
        }
        let mut chunks = [0u32; MAX_HISTORY];
        let n = self.port().history.newest(&mut chunks, wanted);
        let pools = self.pools();
        let mut delivered = false;
        for &chunk in &chunks[..n] {
            // The ring holds a reference to every entry it got from this
            // publisher, so adding one is safe for those.
            if !self.is_history_entry(chunk) || pools.acquire(chunk, 1).is_err() {
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
    fn deliver_to(&self, peer: Peer, chunk: u32) -> Result<Option<&SubscriberPort>, DeliveryError> {
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

    fn push_blocking<'p>(
        &'p self,
        peer: Peer,
        port: &'p SubscriberPort,
        chunk: u32,
    ) -> Result<Option<&'p SubscriberPort>, DeliveryError> {
        if port.queue.push(chunk).is_ok() {
            return Ok(Some(port));
        }
        // The subscriber may sleep with a full queue we have not woken yet.
        wake_if_sleeping(port).map_err(DeliveryError::Futex)?;
        loop {
            if let Some(gone) = self.gone() {
                return Err(DeliveryError::Gone(gone));
            }
            if let Some(reason) = self.revoked() {
                return Err(DeliveryError::Revoked(reason));
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
    fn routed_port(&self, peer: Peer) -> Option<&SubscriberPort> {
        let port = self.group().control().subscriber(peer.index)?;
        (port.control.state() == Some(PortState::Active)
            && port.control.generation() == peer.generation)
            .then_some(port)
    }
}

/// Subscriber ports that received something in one operation; woken after
/// a single fence.
#[derive(Default)]
struct Wakes<'p> {
    ports: heapless::Vec<&'p SubscriberPort, MAX_SUBSCRIBERS_PER_PUBLISHER>,
}

impl<'p> Wakes<'p> {
    fn add(&mut self, port: &'p SubscriberPort) {
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
