//! A listener's wake descriptor: the receiving end of a socket pair
//! ([`WakeSocket`]) that becomes readable when a
//! notifier raises an id in the port, for a `poll`/`epoll` loop, tokio or
//! a [`WaitSet`](crate::WaitSet) — the subscriber's path
//! (`crate::subscriber` `wake_fd` module), on the listener's
//! [`NotifyWord`].
//!
//! **Arming.** The listener makes one socket pair (its own for its whole
//! life, also across re-attaching after a daemon restart) and hands its
//! sending end to the daemon with `SetWakeFd` (kind `Listener`); once the daemon kept it, the
//! port's [`NotifyWord`] is armed and every notifier routed to the port
//! signals it after a raise that finds `pending` clear (it asks the daemon
//! for the descriptor with `QueryWakeFd` once per route, as a publisher
//! does). Ids pending before the arming signal it at once.
//!
//! **Re-arming the edge.** An empty take on an armed port drains the
//! socket, clears `pending` and takes again (clear before check), so
//! "readable → `try_wait` until it is empty" is the whole protocol.
//!
//! **Daemon loss, revocation.** The port's status signals the descriptor
//! with the futex ([`crate::port_status`]): every waiter wakes and its next
//! call returns the typed error.

use std::sync::Arc;

use zerocp_core::event::EventSet;
use zerocp_core::notify_word::NotifyWord;
use zerocp_core::wire::RevokeReason;
use zerocp_os_linux::wake_socket::WakeSocket;

use super::ListenerCore;
use crate::error::WakeFdError;
use crate::registration::Gone;

impl ListenerCore {
    fn notify_word(&self) -> &NotifyWord {
        &self.port.get().notify
    }

    /// Whether this core's port is armed with a wake descriptor.
    pub(crate) fn is_armed(&self) -> bool {
        self.wake_fd.get().is_some()
    }

    /// Arms this core's port with `fd` (once; later calls return at once).
    pub(crate) fn arm(&self, fd: &Arc<WakeSocket>) -> Result<(), WakeFdError> {
        if self.is_armed() {
            return Ok(());
        }
        if let Some(stopped) = self.stopped() {
            return Err(stopped.map_or_else(WakeFdError::from, WakeFdError::from));
        }
        let shared = self.port.owner().registration();
        // Ids raised before the notifiers could see `armed` signal it.
        crate::wake_fd_request::arm_port(
            shared,
            &self.status,
            &self.wake_fd,
            self.notify_word(),
            fd,
            || self.has_events(),
        )
    }

    /// An empty take on an armed port: drains the descriptor, clears
    /// `pending`, takes again (module docs).
    pub(crate) fn take_rearming(&self) -> EventSet {
        self.drain_wake_fd();
        self.clear_pending();
        self.port.get().events.take()
    }

    /// Waiter: reads the wake socket's bytes away (nonblocking).
    pub(crate) fn drain_wake_fd(&self) {
        if let Some(fd) = self.wake_fd.get()
            && let Err(e) = fd.drain()
        {
            log::warn!("listener port {}: {e}", self.index);
        }
    }

    /// Waiter: the next raise signals the descriptor again (check the ids
    /// after this).
    pub(crate) fn clear_pending(&self) {
        self.notify_word().clear_pending();
    }

    /// Whether an id is pending (a snapshot; nothing taken).
    pub(crate) fn has_events(&self) -> bool {
        self.port.get().events.any()
    }

    /// Why waiting on this port is over for good (the daemon gone, the
    /// port revoked), if it is.
    pub(crate) fn stopped(&self) -> Option<Result<Gone, RevokeReason>> {
        if let Some(gone) = self.port.owner().registration().gone() {
            return Some(Ok(gone));
        }
        self.status.revoked().map(Err)
    }
}
