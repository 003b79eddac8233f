//! A subscriber's wake descriptor: the receiving end of a socket pair
//! ([`WakeSocket`]) that becomes readable when a publisher delivers to the
//! port, for a `poll`/`epoll` loop, tokio or a [`WaitSet`](crate::WaitSet).
//!
//! **Arming.** The subscriber makes one socket pair (its own, for the
//! subscriber's whole life, also across re-attaching after a daemon
//! restart) and hands the daemon its sending end with `SetWakeFd`; once the daemon
//! kept it, the port's [`NotifyWord`] is armed. From then on every
//! publisher signals it after a push that finds `pending` clear
//! ([`zerocp_core::notify_word`], `crate::publisher::wake_fd_cache`). Data
//! queued before the arming signals it at once, so nothing is missed.
//!
//! **Re-arming the edge.** `pending` stays set until the waiter looks:
//! [`SubscriberCore::rearm`] drains the socket, clears `pending`, and
//! then reports whether the queue holds something (clear before check:
//! the Dekker half of the waiter). `take` does it when it finds the queue
//! empty on an armed port, so "readable → take until `None`" is the whole
//! protocol for a `poll` loop; one `recv` more on that empty take.
//!
//! **Daemon loss, revocation.** The port's status signals the descriptor
//! with the futex ([`crate::port_status`]): every waiter wakes and its next
//! call returns the typed error.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use crate::ZeroCopySafe;
use crate::payload::Payload;
use zerocp_core::notify_word::NotifyWord;
use zerocp_core::wire::RevokeReason;
use zerocp_os_linux::wake_socket::WakeSocket;

use super::{Subscriber, SubscriberCore};
use crate::error::WakeFdError;
use crate::registration::Gone;

impl<P: ?Sized + Payload, H: ZeroCopySafe> Subscriber<P, H> {
    /// A descriptor that becomes readable when a sample is queued, for the
    /// application's own `poll`/`epoll` loop (or mio, tokio): the first
    /// call makes a socket pair and hands its sending end to the daemon,
    /// which gives it to the publishers routed to this port (this is the
    /// receiving end); later calls return the same
    /// descriptor, also after a daemon restart.
    ///
    /// Protocol: when it is readable, [`take`](Self::take) until it returns
    /// `None` (that empty take re-arms it); then wait again. It is readable
    /// also when the daemon goes or revokes this port: a call then
    /// returns the error (the daemon signals a moment before this process
    /// has seen it stop, so a first call may still find nothing; the
    /// process signals again once it has). Do not read it yourself.
    ///
    /// Fails when the socket pair cannot be made, or the daemon refuses it
    /// ([`WakeFdError`]).
    ///
    /// ```no_run
    /// use std::os::fd::AsRawFd;
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let subscriber = rt.subscriber::<u64>(&svc).create()?;
    /// let fd = subscriber.as_fd()?;
    /// println!("add fd {} to your epoll set", fd.as_raw_fd());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        let fd = crate::wake_fd_request::wake_socket(&self.wake_fd)?;
        self.cell.call(|core| core.arm(fd), |_, ()| ())?;
        Ok(fd.as_fd())
    }
}

impl SubscriberCore {
    fn notify_word(&self) -> &NotifyWord {
        &self.port().notify
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
        // Samples queued before the publishers could see `armed` signal it.
        crate::wake_fd_request::arm_port(
            self.runtime().registration(),
            &self.status,
            &self.wake_fd,
            self.notify_word(),
            fd,
            || self.has_data(),
        )
    }

    /// Waiter: drains the wake descriptor and clears `pending`, then says
    /// whether the queue holds something (module docs).
    pub(crate) fn rearm(&self) -> bool {
        self.drain_wake_fd();
        self.clear_pending();
        self.has_data()
    }

    /// Waiter: reads the wake descriptor's count away (nonblocking).
    pub(crate) fn drain_wake_fd(&self) {
        if let Some(fd) = self.wake_fd.get()
            && let Err(e) = fd.drain()
        {
            log::warn!("subscriber port {}: {e}", self.index());
        }
    }

    /// Waiter: the next push signals the descriptor again (check the
    /// queue after this).
    pub(crate) fn clear_pending(&self) {
        self.notify_word().clear_pending();
    }

    /// Whether the queue holds a sample (a snapshot).
    pub(crate) fn has_data(&self) -> bool {
        !self.port().queue.is_empty()
    }

    /// Why waiting on this port is over for good (the daemon gone, the
    /// port revoked), if it is.
    pub(crate) fn stopped(&self) -> Option<Result<Gone, RevokeReason>> {
        if let Some(gone) = self.runtime().registration().gone() {
            return Some(Ok(gone));
        }
        self.status.revoked().map(Err)
    }
}
