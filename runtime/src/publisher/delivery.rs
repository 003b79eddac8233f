//! Delivery: how a publisher hands a chunk to the subscribers its topology
//! names.
//!
//! Before every delivery the publisher refreshes its copy of the topology if
//! the seqlock's version moved (one load otherwise) and hands the subscribers
//! that are new to it the history they asked for. Then it adds one reference
//! per subscriber (one fewer when it hands its own over, below) and pushes the chunk into each queue by that queue's
//! full-queue policy (discard the oldest, or wait for space in slices that
//! re-check the daemon, this port's revocation and the routing, bounded by the publish timeout:
//! [`publish_timeout`](super::publish_timeout)). A subscriber slot that is
//! no longer the one routed (retired, or reused with another generation)
//! gets nothing and its reference is dropped again. After all pushes one
//! `SeqCst` fence, then only the subscribers that sleep and were not woken
//! since they went to sleep are woken (the wake-pending flag,
//! [`crate::wait`]).
//!
//! **The publisher's own reference.** A publisher that keeps no history
//! hands the reference its loan holds to its last subscriber when that one
//! discards the oldest: it adds one reference fewer than there are
//! subscribers and does not drop its own afterwards (two read-modify-writes
//! of the refcount word less per sample). The loan is unlisted from the
//! port's used-chunk list just *before* that push: a crash between the two
//! leaks the one chunk (the list's guarantee), whereas unlisting after the
//! push could let the daemon release a chunk a queue holds. Only a push
//! that never waits gets the reference: while a publisher waits for room
//! (block publisher) its loan stays listed, which is how the daemon's audit
//! tells a publish in progress from a leaked reference. A refused push drops
//! one reference as before, so with every push refused the chunk is freed.
//! With no subscriber, a last subscriber that blocks the publisher, or a
//! publisher that keeps history (the ring adds its own reference after the
//! delivery, which needs the chunk alive), the publisher drops its
//! reference as before.
//!
//! **Port quota of a subscriber's queue.** A subscriber may hold at most
//! its pool's port quota of chunks, queued and taken together
//! ([`crate::quota`]). When its queue capacity and `max_held` together
//! could exceed that quota (both words of its port's control line, which
//! the delivery reads anyway), the publisher also reads its queue length
//! and held count, and a subscriber at its quota counts as full: discard
//! oldest evicts the oldest queued sample before pushing (or, with nothing
//! queued because it holds its whole quota, drops the new sample for it),
//! block publisher waits. Otherwise delivery costs nothing more than
//! before. Concurrent publishers can each push one sample past the bound.
//!
//! **The same code from the background thread.** The topology refresh and
//! the history hand-out are methods of the [`SharedPort`], so the
//! runtime's background thread runs exactly this code when the daemon says
//! a late subscriber wants history ([`crate::history_on_connect`]), with a
//! round that may not wait ([`Round::without_waiting`]): a block-publisher
//! subscriber whose queue is full (a new subscriber's queue is empty, so
//! only at its port quota) is skipped for that entry, neither waited for
//! nor counted as timed out.

use zerocp_core::port::{
    FullPolicy, MAX_HISTORY, MAX_SUBSCRIBERS_PER_PUBLISHER, SubscriberPort, TOPOLOGY_WORDS,
};
use zerocp_core::sync::Ordering;
use zerocp_core::wire::RevokeReason;
use zerocp_os_linux::error::FutexError;

use super::publish_timeout::{Left, Round};
use super::shared_port::{DeliveryState, SharedPort};
use super::targeted::{Handed, Target};
use super::wake_fd_cache::WakeFdCache;
use super::{Loan, PublisherCore};
use crate::error::PublishTimedOut;
use crate::registration::Gone;
use crate::topology::{Peer, TopologyCache};
use crate::wait::{BLOCKED_SLICE, fence_after_pushes, push_or_sleep, wake_if_sleeping};

/// Why a delivery stopped early, or failed as the publisher asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeliveryError {
    /// The daemon is gone, or dropped this process.
    Gone(Gone),
    /// The daemon revoked this publisher's port.
    Revoked(RevokeReason),
    /// A futex wait (blocked publisher) or wake failed.
    Futex(FutexError),
    /// A block-publisher subscriber kept its queue full past the publish
    /// timeout, and the publisher asked for an error
    /// ([`PublishTimeout::Fail`](super::publish_timeout::PublishTimeout::Fail)).
    Timeout(PublishTimedOut),
}

impl PublisherCore {
    /// Hands history to subscribers that joined since the last publish,
    /// without publishing anything new.
    pub(crate) fn update_connections(&self) -> Result<(), DeliveryError> {
        self.usable()?;
        let mut state = self.shared.lock();
        self.round(&mut state, |_, _, _, _| Ok(()))
    }

    /// Delivers `loan`'s chunk to every routed subscriber, with the
    /// delivery state `state` locked. The publisher keeps its own reference,
    /// unless `hand_over` is given and the last subscriber discards the
    /// oldest: then the reference is that subscriber's, the loan is unlisted
    /// just before that push, and `*hand_over` says so (module docs).
    pub(super) fn deliver_sample(
        &self,
        state: &mut DeliveryState,
        loan: &Loan,
        hand_over: Option<&mut bool>,
    ) -> Result<(), DeliveryError> {
        let chunk = loan.chunk;
        let mut hand_over = hand_over;
        self.round(state, |shared, peers, round, woken| {
            let hand = hand_over.is_some() && peers.last().is_some_and(|&p| shared.discards(p));
            let more = peers.len() - usize::from(hand);
            if peers.is_empty() || (more > 0 && shared.pools().acquire(chunk, more as u32).is_err())
            {
                return Ok(());
            }
            for (at, &peer) in peers.iter().enumerate() {
                let outcome = if hand && at + 1 == peers.len() {
                    self.port().loans.unlist(loan.slot);
                    if let Some(handed) = hand_over.as_deref_mut() {
                        *handed = true;
                    }
                    Ok(shared.deliver_discarding(peer, chunk))
                } else {
                    shared.deliver_to(peer, chunk, round)
                };
                match outcome {
                    Ok(Some(port)) => woken.add(peer, port),
                    Ok(None) => shared.release(chunk),
                    Err(e) => {
                        // This and every later subscriber: give their
                        // references back (not the publisher's own).
                        for _ in at..more {
                            shared.release(chunk);
                        }
                        return Err(e);
                    }
                }
            }
            Ok(())
        })
    }

    /// Delivers `chunk` (the publisher keeps its own reference) to the one
    /// routed subscriber `target` names (request/response,
    /// [`super::targeted`]): the oldest routed one, or a given one if it is
    /// in the topology (a peer read from shared memory is only compared
    /// with the topology, never trusted).
    pub(super) fn deliver_one(&self, chunk: u32, target: Target) -> Result<Handed, DeliveryError> {
        let mut state = self.shared.lock();
        self.round(&mut state, |shared, peers, round, woken| {
            let peer = match target {
                Target::Oldest => peers
                    .iter()
                    .copied()
                    .find(|&p| shared.routed_port(p).is_some()),
                Target::Peer(p) => peers.contains(&p).then_some(p),
            };
            let Some(peer) = peer else {
                return Ok(Handed::NoPeer);
            };
            if shared.pools().acquire(chunk, 1).is_err() {
                return Ok(Handed::Full(peer));
            }
            match shared.deliver_to(peer, chunk, round) {
                Ok(Some(port)) => {
                    woken.add(peer, port);
                    Ok(Handed::To(peer))
                }
                Ok(None) => {
                    shared.release(chunk);
                    Ok(Handed::Full(peer))
                }
                Err(e) => {
                    shared.release(chunk);
                    Err(e)
                }
            }
        })
    }

    /// One delivery round with the delivery state `state` locked: refreshes
    /// the topology (history to the subscribers new to it), then, unless
    /// that failed, `deliver`s to the routed peers; wakes the subscribers
    /// pushed to, and turns the ones that stayed full into the publisher's
    /// outcome ([`PublishTimeout`](super::publish_timeout::PublishTimeout)).
    fn round<'p, R>(
        &'p self,
        state: &mut DeliveryState,
        deliver: impl FnOnce(
            &'p SharedPort,
            &[Peer],
            &mut Round<'_>,
            &mut Wakes<'p>,
        ) -> Result<R, DeliveryError>,
    ) -> Result<R, DeliveryError> {
        let shared = &*self.shared;
        let DeliveryState {
            cache,
            words,
            stalled,
            wake_fds,
            ..
        } = state;
        let mut round = Round::new(self.publish_timeout, stalled);
        let mut woken = Wakes::new();
        let result = shared
            .refresh(cache, words, wake_fds, &mut woken, &mut round)
            .and_then(|()| deliver(shared, cache.peers(), &mut round, &mut woken));
        woken.wake(shared, |peer, port| {
            shared.signal_armed(peer, port, wake_fds)
        })?;
        // No clock read unless the round waited for room.
        let waited = round.budget.waited();
        if !waited.is_zero() {
            let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
            // Relaxed: a statistic, displayed only.
            self.port()
                .stats
                .blocked_ns
                .fetch_add(nanos, Ordering::Relaxed);
        }
        let value = result?;
        round
            .outcome(self.on_publish_timeout)
            .map_err(DeliveryError::Timeout)?;
        Ok(value)
    }
}

impl SharedPort {
    /// Re-reads the topology into `cache` (through `words`) if it changed
    /// and delivers history to the new subscribers (their ports are added to
    /// `woken`); forgets what `wake_fds` and the round's stalled list hold
    /// for subscribers no longer routed. The check is one load, inline on
    /// every delivery; the re-reading is out of line.
    #[inline]
    pub(super) fn refresh<'p>(
        &'p self,
        cache: &mut TopologyCache,
        words: &mut [u32; TOPOLOGY_WORDS],
        wake_fds: &mut WakeFdCache,
        woken: &mut Wakes<'p>,
        round: &mut Round<'_>,
    ) -> Result<(), DeliveryError> {
        if cache.is_current(self.port().topology.version()) {
            return Ok(());
        }
        self.reread_topology(cache, words, (wake_fds, woken, round))
    }

    /// [`refresh`](Self::refresh) once the topology's version moved.
    #[cold]
    #[inline(never)]
    fn reread_topology<'p>(
        &'p self,
        cache: &mut TopologyCache,
        words: &mut [u32; TOPOLOGY_WORDS],
        (wake_fds, woken, round): (&mut WakeFdCache, &mut Wakes<'p>, &mut Round<'_>),
    ) -> Result<(), DeliveryError> {
        let Ok(snapshot) = self.port().topology.read(words) else {
            // A write in progress (or a daemon that died mid-write): keep the
            // previous snapshot and try again at the next publish.
            return Ok(());
        };
        let pairs = words[..snapshot.len].chunks_exact(2).map(|w| Peer {
            index: w[0],
            generation: w[1],
        });
        let fresh = cache.replace(snapshot.version, pairs);
        round.stalled.keep_only(cache.peers());
        wake_fds.keep_only(cache.peers());
        for peer in fresh {
            if let Some(port) = self.deliver_history(peer, round)? {
                woken.add(peer, port);
            }
        }
        Ok(())
    }

    /// Hands `peer` the newest entries of the history ring, as many as it
    /// asked for (at most its queue capacity): one reference taken per
    /// entry and push, as a publish takes one per subscriber.
    fn deliver_history(
        &self,
        peer: Peer,
        round: &mut Round<'_>,
    ) -> Result<Option<&SubscriberPort>, DeliveryError> {
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
            match self.deliver_to(peer, chunk, round) {
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
    /// queue. `Ok(None)` when the subscriber does not get it (no longer
    /// routed, at its quota with nothing to evict, or timed out): the caller
    /// then drops that reference.
    pub(super) fn deliver_to(
        &self,
        peer: Peer,
        chunk: u32,
        round: &mut Round<'_>,
    ) -> Result<Option<&SubscriberPort>, DeliveryError> {
        let Some(port) = self.routed_port(peer) else {
            return Ok(None);
        };
        let limit = self.queue_limit(port);
        match port.control.policy() {
            FullPolicy::DiscardOldest => Ok(self.push_discarding(port, chunk, limit)),
            FullPolicy::BlockPublisher => self.push_blocking(peer, port, chunk, limit, round),
        }
    }

    /// Whether `peer` is routed and discards its oldest sample when full
    /// (a push to it never waits).
    fn discards(&self, peer: Peer) -> bool {
        self.routed_port(peer)
            .is_some_and(|port| port.control.policy() == FullPolicy::DiscardOldest)
    }

    /// [`deliver_to`](Self::deliver_to) for a peer whose policy
    /// [`discards`](Self::discards) read: the word is not read again, so a
    /// push that hands the publisher's reference over never waits.
    fn deliver_discarding(&self, peer: Peer, chunk: u32) -> Option<&SubscriberPort> {
        let port = self.routed_port(peer)?;
        self.push_discarding(port, chunk, self.queue_limit(port))
    }

    /// The port quota `port`'s queued and taken samples are held to, when
    /// its queue capacity and `max_held` could exceed it (else `None`:
    /// nothing to check). Both are words the daemon wrote into the port's
    /// control line, which the delivery reads for the policy anyway.
    fn queue_limit(&self, port: &SubscriberPort) -> Option<u32> {
        let quota = self.count().port_limit()?;
        let control = &port.control;
        let most = control.capacity().saturating_add(control.max_held());
        (most > quota).then_some(quota)
    }

    /// Discard-oldest push: `Some(port)` when `chunk` is in its queue.
    fn push_discarding<'p>(
        &self,
        port: &'p SubscriberPort,
        chunk: u32,
        limit: Option<u32>,
    ) -> Option<&'p SubscriberPort> {
        if limit.is_some_and(|quota| at_quota(port, quota)) {
            // Relaxed: a statistic, read for display only.
            port.stats.dropped.fetch_add(1, Ordering::Relaxed);
            // Evict the oldest so the queue never grows past the quota;
            // with nothing queued it holds its whole quota: drop this one.
            self.release(port.queue.pop()?);
        }
        if let Some(dropped) = port.queue.push_discard_oldest(chunk) {
            // Relaxed: a statistic, read for display only.
            port.stats.dropped.fetch_add(1, Ordering::Relaxed);
            self.release(dropped);
        }
        Some(port)
    }

    fn push_blocking<'p>(
        &'p self,
        peer: Peer,
        port: &'p SubscriberPort,
        chunk: u32,
        limit: Option<u32>,
        round: &mut Round<'_>,
    ) -> Result<Option<&'p SubscriberPort>, DeliveryError> {
        let try_push =
            || !limit.is_some_and(|quota| at_quota(port, quota)) && port.queue.push(chunk).is_ok();
        if try_push() {
            round.stalled.remove(peer);
            return Ok(Some(port));
        }
        if !round.may_wait() {
            // The background thread: no waiting, and a queue full only at
            // the subscriber's quota is no stall of it (module docs).
            return Ok(None);
        }
        if round.stalled.contains(peer) {
            self.time_out(peer, port, std::time::Duration::ZERO, round);
            return Ok(None);
        }
        // The subscriber may sleep with a full queue we have not woken yet.
        wake_if_sleeping(port).map_err(DeliveryError::Futex)?;
        loop {
            if let Some(gone) = self.runtime().registration().gone() {
                return Err(DeliveryError::Gone(gone));
            }
            if let Some(reason) = self.status.revoked() {
                return Err(DeliveryError::Revoked(reason));
            }
            if self.routed_port(peer).is_none() {
                return Ok(None);
            }
            let slice = match round.budget.left() {
                Left::Unlimited => BLOCKED_SLICE,
                Left::For(left) => left.min(BLOCKED_SLICE),
                Left::Exhausted => {
                    let waited = round.budget.waited();
                    self.time_out(peer, port, waited, round);
                    return Ok(None);
                }
            };
            if push_or_sleep(port, slice, try_push).map_err(DeliveryError::Futex)? {
                return Ok(Some(port));
            }
        }
    }

    /// Gives up on `peer` after waiting `waited`: counts the drop in both
    /// ports, marks it stalled (logged once per stall) and records it in
    /// the round. The caller then drops its reference for the subscriber.
    fn time_out(
        &self,
        peer: Peer,
        port: &SubscriberPort,
        waited: std::time::Duration,
        round: &mut Round<'_>,
    ) {
        // Relaxed: statistics, read for display only.
        port.stats.timed_out.fetch_add(1, Ordering::Relaxed);
        self.port().stats.timed_out.fetch_add(1, Ordering::Relaxed);
        let group = self.status.key().group;
        if round.stalled.insert(peer) {
            log::warn!(
                "publisher port {} of group {group}: block-publisher subscriber port {} kept its \
                 queue full for {waited:?} (publish_timeout {:?}): it misses samples until it \
                 takes one",
                self.index,
                peer.index,
                round.budget.timeout()
            );
        }
        round.record(group, peer.index, waited);
    }
}

/// Whether `port` holds at least `quota` chunks, queued and taken (its
/// held count is the subscriber's own word: a subscriber that misstates it
/// only changes what it receives itself).
fn at_quota(port: &SubscriberPort, quota: u32) -> bool {
    // Relaxed: a bound; the queue and the count change concurrently anyway.
    let held = port.stats.held.load(Ordering::Relaxed);
    port.queue.len().saturating_add(held) >= quota
}

/// Subscriber ports that received something in one operation; woken after
/// a single fence (and their wake descriptors signalled, if armed:
/// [`super::wake_fd_cache`]).
pub(super) struct Wakes<'p> {
    entries: heapless::Vec<(Peer, &'p SubscriberPort), MAX_SUBSCRIBERS_PER_PUBLISHER>,
}

impl<'p> Wakes<'p> {
    /// No port yet. (`Vec::new` leaves the buffer uninitialised; a derived
    /// `Default` had the compiler zero all 64 entries at every publish.)
    #[inline]
    pub(super) fn new() -> Self {
        Self {
            entries: heapless::Vec::new(),
        }
    }

    pub(super) fn add(&mut self, peer: Peer, port: &'p SubscriberPort) {
        if !self.entries.iter().any(|(_, p)| core::ptr::eq(*p, port)) {
            // Cannot overflow: at most one entry per routed subscriber.
            let _ = self.entries.push((peer, port));
        }
    }

    /// After one fence, futex-wakes the ports that sleep, then hands each
    /// to `signal` (which signals its wake descriptor if it is armed).
    pub(super) fn wake(
        &self,
        shared: &SharedPort,
        mut signal: impl FnMut(Peer, &SubscriberPort),
    ) -> Result<(), DeliveryError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        fence_after_pushes();
        for (_, port) in &self.entries {
            if let Err(e) = wake_if_sleeping(port) {
                log::warn!("publisher port {}: {e}", shared.index);
                return Err(DeliveryError::Futex(e));
            }
        }
        for &(peer, port) in &self.entries {
            signal(peer, port);
        }
        Ok(())
    }
}
