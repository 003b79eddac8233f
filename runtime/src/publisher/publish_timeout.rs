//! The bounded wait of a publisher on block-publisher subscribers: how long
//! one publish may wait for room, what happens then, and which subscribers
//! it no longer waits for.
//!
//! A subscriber with [`FullPolicy::BlockPublisher`](crate::FullPolicy)
//! makes its publishers wait while its queue is full (or holds its port
//! quota, `crate::quota`). Each publish (and each
//! [`update_connections`](crate::Publisher::update_connections)) may wait
//! for such subscribers at most the publisher's
//! [`publish_timeout`](crate::PublisherBuilder::publish_timeout) in all
//! ([`WaitBudget`]; the clock starts at the first wait, so a publish that
//! never waits reads no clock). When it runs out, the subscriber it waits
//! for does not get the sample: the publisher drops its reference for it,
//! counts it in both ports' statistics (`timed_out`, shown by `zerocpctl
//! services`), and, by the publisher's [`PublishTimeout`], either goes on
//! ([`PublishTimeout::DropForSubscriber`], the default) or makes the call
//! return [`PublishError::Timeout`](crate::PublishError::Timeout) after
//! delivering to every other subscriber ([`PublishTimeout::Fail`]).
//!
//! A subscriber timed out on is *stalled* ([`Stalled`]): later publishes
//! try its queue once and, while it stays full, drop the sample for it at
//! once instead of waiting the timeout again, so a subscriber that stopped
//! taking costs its publishers one timeout, not one per sample. It is
//! waited for again once a push into its queue succeeds. A publisher blocked
//! on a subscriber also returns as soon as that subscriber leaves its
//! topology (its process died, removed the port, or was unrouted for
//! missing heartbeats: the daemon then bumps the subscriber's wake word,
//! which wakes the waiting publisher) or the daemon goes.
//!
//! The default timeout is [`DEFAULT_PUBLISH_TIMEOUT`] (one second): long
//! enough for a healthy subscriber that is briefly busy, short enough that a
//! subscriber that stopped taking cannot hold its publishers, and through
//! them every other subscriber of the service, for long. Waiting without a
//! limit, as before this option existed, is the application's choice:
//! `publish_timeout(Duration::MAX)`.

use std::time::{Duration, Instant};

use zerocp_core::port::MAX_SUBSCRIBERS_PER_PUBLISHER;

use crate::error::PublishTimedOut;
use crate::topology::Peer;

/// Default of [`PublisherBuilder::publish_timeout`](crate::PublisherBuilder::publish_timeout).
pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(1);

/// What a publisher does when a block-publisher subscriber keeps its queue
/// full past the publish timeout (see
/// [`PublisherBuilder::on_publish_timeout`](crate::PublisherBuilder::on_publish_timeout)).
///
/// Either way that subscriber does not get the sample, every other
/// subscriber does, and the drop is counted in both ports' statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublishTimeout {
    /// `publish` returns `Ok`: the sample is dropped for that subscriber
    /// only (the default).
    #[default]
    DropForSubscriber,
    /// `publish` returns [`PublishError::Timeout`](crate::PublishError::Timeout),
    /// naming the subscriber and the wait.
    Fail,
}

/// How much of the publish timeout is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Left {
    /// No limit (`Duration::MAX`, or a deadline past what a clock holds).
    Unlimited,
    /// This long.
    For(Duration),
    /// None.
    Exhausted,
}

/// One publish's allowance of waiting for room.
#[derive(Debug)]
pub(super) struct WaitBudget {
    timeout: Duration,
    started: Option<Instant>,
}

impl WaitBudget {
    /// An allowance of `timeout`, its clock not started.
    pub(super) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            started: None,
        }
    }

    /// What is left; the first call starts the clock.
    pub(super) fn left(&mut self) -> Left {
        let started = *self.started.get_or_insert_with(Instant::now);
        let Some(deadline) = started.checked_add(self.timeout) else {
            return Left::Unlimited;
        };
        match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Left::For(left),
            _ => Left::Exhausted,
        }
    }

    /// How long this publish has waited so far.
    pub(super) fn waited(&self) -> Duration {
        self.started.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// The publish timeout.
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// The subscribers a publish timed out on that have not had room since.
#[derive(Debug, Default)]
pub(super) struct Stalled {
    peers: heapless::Vec<Peer, MAX_SUBSCRIBERS_PER_PUBLISHER>,
}

impl Stalled {
    /// Whether `peer` is stalled.
    pub(super) fn contains(&self, peer: Peer) -> bool {
        self.peers.contains(&peer)
    }

    /// Marks `peer` stalled; returns whether it was not already.
    pub(super) fn insert(&mut self, peer: Peer) -> bool {
        // Full only if a snapshot had more peers than a topology holds,
        // which `TopologyCache` prevents; then it is simply waited for again.
        !self.contains(peer) && self.peers.push(peer).is_ok()
    }

    /// `peer` had room again.
    pub(super) fn remove(&mut self, peer: Peer) {
        self.peers.retain(|p| *p != peer);
    }

    /// Forgets the peers that are no longer in `current` (unrouted, or the
    /// slot reused with another generation).
    pub(super) fn keep_only(&mut self, current: &[Peer]) {
        self.peers.retain(|p| current.contains(p));
    }
}

/// What one delivery (a publish, or an update of the connections) keeps
/// about waiting: its budget, the publisher's stalled subscribers and the
/// first subscriber it timed out on.
#[derive(Debug)]
pub(super) struct Round<'s> {
    pub(super) budget: WaitBudget,
    pub(super) stalled: &'s mut Stalled,
    pub(super) timed_out: Option<PublishTimedOut>,
    /// Whether a full block-publisher queue is waited for at all.
    may_wait: bool,
}

impl<'s> Round<'s> {
    /// A round that may wait `timeout` in all, with the publisher's stalled
    /// subscribers.
    pub(super) fn new(timeout: Duration, stalled: &'s mut Stalled) -> Self {
        Self {
            budget: WaitBudget::new(timeout),
            stalled,
            timed_out: None,
            may_wait: true,
        }
    }

    /// A round of the background thread, which never waits: a full
    /// block-publisher queue is skipped, not waited for nor timed out on.
    pub(super) fn without_waiting(stalled: &'s mut Stalled) -> Self {
        Self {
            may_wait: false,
            ..Self::new(Duration::ZERO, stalled)
        }
    }

    /// Whether a full block-publisher queue is waited for.
    pub(super) fn may_wait(&self) -> bool {
        self.may_wait
    }

    /// `Err` with the first timeout when there was one and the publisher
    /// asked for errors.
    pub(super) fn outcome(self, on_timeout: PublishTimeout) -> Result<(), PublishTimedOut> {
        match (on_timeout, self.timed_out) {
            (PublishTimeout::Fail, Some(e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Records a timeout on subscriber `subscriber` of `group` after
    /// waiting `waited` (only the first is reported).
    pub(super) fn record(&mut self, group: u32, subscriber: u32, waited: Duration) {
        let timeout = self.budget.timeout();
        self.timed_out.get_or_insert(PublishTimedOut {
            group,
            subscriber,
            waited,
            timeout,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(index: u32) -> Peer {
        Peer {
            index,
            generation: 1,
        }
    }

    #[test]
    fn a_budget_starts_at_its_first_use_and_runs_out() {
        let mut budget = WaitBudget::new(Duration::from_millis(20));
        assert_eq!(budget.waited(), Duration::ZERO);
        assert!(matches!(budget.left(), Left::For(d) if d <= Duration::from_millis(20)));
        let deadline = Instant::now() + Duration::from_secs(30);
        while budget.left() != Left::Exhausted {
            assert!(Instant::now() < deadline, "the budget never ran out");
            std::thread::yield_now();
        }
        assert!(budget.waited() >= Duration::from_millis(20));
        assert_eq!(WaitBudget::new(Duration::ZERO).left(), Left::Exhausted);
        assert_eq!(WaitBudget::new(Duration::MAX).left(), Left::Unlimited);
    }

    #[test]
    fn stalled_peers_are_kept_once_and_forgotten_when_gone() {
        let mut stalled = Stalled::default();
        assert!(stalled.insert(peer(1)));
        assert!(!stalled.insert(peer(1)));
        assert!(stalled.insert(peer(2)));
        stalled.keep_only(&[peer(2), peer(3)]);
        assert!(!stalled.contains(peer(1)) && stalled.contains(peer(2)));
        stalled.remove(peer(2));
        assert!(!stalled.contains(peer(2)));
    }

    #[test]
    fn a_round_reports_its_first_timeout_when_asked_to() {
        let mut stalled = Stalled::default();
        let mut round = Round::new(Duration::from_millis(5), &mut stalled);
        round.record(0, 4, Duration::from_millis(5));
        round.record(0, 7, Duration::ZERO);
        let first = round.outcome(PublishTimeout::Fail).unwrap_err();
        assert_eq!(
            (first.subscriber, first.timeout),
            (4, Duration::from_millis(5))
        );
        let mut round = Round::new(Duration::from_millis(5), &mut stalled);
        round.record(0, 4, Duration::ZERO);
        assert_eq!(round.outcome(PublishTimeout::DropForSubscriber), Ok(()));
        assert_eq!(
            Round::new(Duration::ZERO, &mut stalled).outcome(PublishTimeout::Fail),
            Ok(())
        );
    }
}
