//! A publisher's copies of the wake descriptors of the subscribers it
//! delivers to, and the signalling of them after a delivery.
//!
//! After its pushes and their fence (and the futex wakes), a publisher
//! looks at each receiving port's [`NotifyWord`]: not armed costs that one
//! load; armed and `pending` already set costs one swap; otherwise it
//! sends one byte on the port's wake socket, once until the waiter looks
//! again ([`zerocp_core::notify_word`]). The send never blocks and never
//! raises `SIGPIPE`, whatever the waiter does to its socket
//! ([`zerocp_os_linux::wake_socket`]): a full buffer (a wake is queued
//! already) and a waiter gone are not errors.
//!
//! The descriptor comes from the daemon (`QueryWakeFd`) on first use for a
//! (port index, generation): the daemon hands it over only if a port of
//! this process is routed to that port. A refusal (`NotRouted`,
//! `NotArmed`: a subscriber that sets `armed` without having handed the
//! daemon a descriptor) or a failed request is cached as "none" like a
//! descriptor, so a lying `armed` word costs one request, not one per
//! publish. Entries go when the topology no longer names their port; a
//! port's descriptor never changes while it lives, so an entry never goes
//! stale. The request is made from the publishing thread (once per
//! subscriber), which then waits for the daemon's answer.

use zerocp_core::notify_word::NotifyWord;
use zerocp_core::port::SubscriberPort;
use zerocp_core::wire::{PortKind, WakeFdPort};
use zerocp_os_linux::wake_socket::WakeSender;

use super::PublisherCore;
use crate::topology::Peer;

/// The wake descriptors (or refusals) a publisher got, by subscriber.
#[derive(Debug, Default)]
pub(crate) struct WakeFdCache {
    entries: Vec<(Peer, Option<WakeSender>)>,
}

impl WakeFdCache {
    /// Forgets the entries of subscribers not in `peers` (closing their
    /// descriptors).
    pub(crate) fn keep_only(&mut self, peers: &[Peer]) {
        self.entries.retain(|(peer, _)| peers.contains(peer));
    }

    /// `peer`'s descriptor, from `query` on a miss (a `None` answer is
    /// kept too: a refusal costs one request per route, not one per send).
    pub(crate) fn get_or_query(
        &mut self,
        peer: Peer,
        query: impl FnOnce() -> Option<WakeSender>,
    ) -> Option<&WakeSender> {
        let pos = match self.entries.iter().position(|(p, _)| *p == peer) {
            Some(pos) => pos,
            None => {
                self.entries.push((peer, query()));
                self.entries.len() - 1
            }
        };
        self.entries[pos].1.as_ref()
    }
}

impl PublisherCore {
    /// After a delivery to `port` (of `peer`) and the fence that follows
    /// it: signals its wake descriptor if it is armed and no signal is
    /// pending (module docs).
    pub(super) fn signal_armed(&self, peer: Peer, port: &SubscriberPort) {
        let word: &NotifyWord = &port.notify;
        if !word.is_armed() || !word.mark_pending() {
            return;
        }
        let mut cache = self.wake_fds.borrow_mut();
        if let Some(fd) = cache.get_or_query(peer, || self.query_wake_fd(peer))
            && let Err(e) = fd.notify()
        {
            // Not a full buffer nor a waiter gone: those are outcomes.
            log::warn!(
                "publisher port {}: cannot signal subscriber port {}: {e}",
                self.index,
                peer.index
            );
        }
    }

    /// Asks the daemon for `peer`'s wake descriptor; `None` (logged) when
    /// it refuses or the request fails.
    fn query_wake_fd(&self, peer: Peer) -> Option<WakeSender> {
        let port = WakeFdPort {
            kind: PortKind::Subscriber,
            group: self.status.key().group,
            port_index: peer.index,
            generation: peer.generation,
        };
        let registration = self.runtime().registration();
        let why = match crate::wake_fd_request::query_wake_fd(registration, port) {
            Ok(fd) => return Some(fd),
            Err(why) => why,
        };
        log::warn!(
            "publisher port {}: subscriber port {} says it is armed, but has no wake descriptor \
             for this publisher ({why}); not signalled until it is routed anew",
            self.index,
            peer.index
        );
        None
    }
}
