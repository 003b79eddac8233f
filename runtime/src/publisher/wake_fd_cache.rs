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
//!
//! The background thread that hands history to late subscribers
//! ([`crate::history_on_connect`]) uses the same cache, but must not hold
//! up the heartbeats it also beats: it asks the daemon only if no request
//! holds the connection, and waits at most [`BACKGROUND_QUERY_TIMEOUT`]
//! (well below the daemon's heartbeat timeout). When it gets no answer it
//! neither caches a refusal nor marks the port `pending`: the subscriber
//! stays to be signalled, and the background thread tries again.

use std::time::Duration;

use zerocp_core::notify_word::NotifyWord;
use zerocp_core::port::SubscriberPort;
use zerocp_core::wire::{PortKind, WakeFdPort};
use zerocp_os_linux::wake_socket::WakeSender;

use super::shared_port::SharedPort;
use crate::registration::Registration;
use crate::topology::Peer;
use crate::wake_fd_request::{QueryFailed, query_wake_fd, try_query_wake_fd};

/// The longest the background thread waits for the daemon's answer to a
/// `QueryWakeFd` (module docs).
pub(crate) const BACKGROUND_QUERY_TIMEOUT: Duration = Duration::from_millis(250);

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

    /// Whether `peer` has an entry (a descriptor or a refusal).
    fn knows(&self, peer: Peer) -> bool {
        self.entries.iter().any(|(p, _)| *p == peer)
    }
}

impl SharedPort {
    /// After a delivery to `port` (of `peer`) and the fence that follows
    /// it: signals its wake descriptor, from `cache`, if it is armed and no
    /// signal is pending (module docs).
    #[inline]
    pub(super) fn signal_armed(&self, peer: Peer, port: &SubscriberPort, cache: &mut WakeFdCache) {
        let word: &NotifyWord = &port.notify;
        // One load on every delivery; the signalling is out of line.
        if word.is_armed() && word.mark_pending() {
            self.signal_pending(peer, cache);
        }
    }

    /// Signals `peer`'s wake descriptor, which `signal_armed` marked pending.
    #[cold]
    #[inline(never)]
    fn signal_pending(&self, peer: Peer, cache: &mut WakeFdCache) {
        let registration = self.runtime().registration();
        let fd = cache.get_or_query(peer, || {
            self.checked(peer, query_wake_fd(registration, self.wake_fd_port(peer)))
        });
        self.notify(peer, fd);
    }

    /// As [`SharedPort::signal_armed`], from the background thread, on
    /// `registration`: `false` when the descriptor is not at hand and the
    /// connection is busy or slow (nothing marked: try again later).
    pub(super) fn signal_armed_in_background(
        &self,
        registration: &Registration,
        peer: Peer,
        port: &SubscriberPort,
        cache: &mut WakeFdCache,
    ) -> bool {
        let word: &NotifyWord = &port.notify;
        if !word.is_armed() {
            return true;
        }
        if !cache.knows(peer) {
            let port = self.wake_fd_port(peer);
            match try_query_wake_fd(registration, port, BACKGROUND_QUERY_TIMEOUT) {
                Err(QueryFailed::Busy) => return false,
                Err(QueryFailed::Timeout(why)) => {
                    log::debug!("publisher port {}: {why}; tried again later", self.index);
                    return false;
                }
                answer => {
                    let fd = self.checked(peer, answer.map_err(QueryFailed::into_reason));
                    cache.get_or_query(peer, || fd);
                }
            }
        }
        if word.mark_pending() {
            self.notify(peer, cache.get_or_query(peer, || None));
        }
        true
    }

    /// The name of subscriber `peer`'s wake descriptor for the daemon.
    fn wake_fd_port(&self, peer: Peer) -> WakeFdPort {
        WakeFdPort {
            kind: PortKind::Subscriber,
            group: self.status.key().group,
            port_index: peer.index,
            generation: peer.generation,
        }
    }

    /// Sends one wake byte on `fd`, if there is one.
    fn notify(&self, peer: Peer, fd: Option<&WakeSender>) {
        if let Some(fd) = fd
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

    /// The daemon's answer for `peer`: the descriptor, or `None` (logged)
    /// when it refused or the request failed.
    fn checked(&self, peer: Peer, answer: Result<WakeSender, String>) -> Option<WakeSender> {
        let why = match answer {
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
