//! The background thread's delivery: handing history to the subscribers
//! new in a publisher's topology while the application does not publish
//! ([`crate::history_on_connect`] says when).
//!
//! It runs the publish path's own topology refresh and history hand-out
//! ([`super::delivery`]), on the [`SharedPort`], under the same lock, with
//! three differences: it only `try_lock`s (the application holding the
//! lock is inside a publish or `update_connections`: the caller tries again
//! later, and by then the topology is current, served by that call, or it
//! serves it itself); it never waits for a full block-publisher queue
//! ([`Round::without_waiting`]); and it signals wake descriptors only with
//! one at hand or quickly obtained ([`super::wake_fd_cache`]), keeping the
//! others for its next try.

use super::delivery::Wakes;
use super::publish_timeout::Round;
use super::shared_port::{DeliveryState, SharedPort};
use crate::registration::Registration;

impl SharedPort {
    /// Serves the history subscribers new in the topology asked for, on
    /// `registration` (the one the port was created on). `true` when done
    /// (or nothing is left to do: the port revoked, the daemon gone);
    /// `false` when the caller should try again soon (module docs).
    pub(crate) fn serve_wanted(&self, registration: &Registration) -> bool {
        if self.status.revoked().is_some() || registration.is_gone() {
            return true;
        }
        let Some(mut state) = self.try_lock() else {
            return false;
        };
        let DeliveryState {
            cache,
            words,
            stalled,
            wake_fds,
            unsignalled,
        } = &mut *state;
        // Those the previous try could not signal, if they are still routed.
        unsignalled.retain(|&peer| {
            cache.peers().contains(&peer)
                && self.routed_port(peer).is_some_and(|port| {
                    !self.signal_armed_in_background(registration, peer, port, wake_fds)
                })
        });
        let mut round = Round::without_waiting(stalled);
        let mut woken = Wakes::new();
        if let Err(e) = self.refresh(cache, words, wake_fds, &mut woken, &mut round) {
            log::warn!(
                "publisher port {}: handing history to a late subscriber: {e:?}",
                self.index
            );
        }
        let woke = woken.wake(self, |peer, port| {
            if !self.signal_armed_in_background(registration, peer, port, wake_fds) {
                unsignalled.push(peer);
            }
        });
        if let Err(e) = woke {
            log::warn!(
                "publisher port {}: waking a late subscriber: {e:?}",
                self.index
            );
        }
        cache.is_current(self.port().topology.version()) && unsignalled.is_empty()
    }
}
