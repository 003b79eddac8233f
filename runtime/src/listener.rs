//! [`Listener`]: the receiving end of an event service, and
//! [`ListenerCore`], its data path.
//!
//! A listener's port holds a bitmap of pending event ids and a
//! [`WakeWord`](zerocp_core::port::WakeWord) ([`zerocp_core::listener_port`]).
//! `try_wait` takes the pending ids (one load per bitmap word, a swap for
//! each non-empty one); `wait` sleeps until an id is raised, the timeout
//! passes, or the daemon goes, drops this process or revokes the port. It
//! runs the subscriber's futex protocol ([`zerocp_core::wake_protocol`],
//! the word's data channel) with "an id is pending, or a stop condition
//! holds" as its readiness check: notifiers wake a sleep at most once
//! whatever their number, and the heartbeat thread (daemon gone), the
//! daemon (its stop, this port's removal) and a revocation notice wake it
//! unconditionally after setting what it checks, so it wakes with
//! `DaemonGone`, `Disconnected`, `Unresponsive` or `Revoked`.
//!
//! A listener can also be waited on through a descriptor
//! ([`Listener::as_fd`], `wake_fd`), in a [`WaitSet`](crate::WaitSet) and,
//! with the `tokio` feature, with `async fn receive` (`async_receive`).
//!
//! Ids coalesce (see [`zerocp_core::event`]): `wait` returns which ids
//! were raised since the last take, each once.

#[cfg(feature = "tokio")]
mod async_receive;
mod wake_fd;

use std::cell::OnceCell;
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zerocp_core::event::EventSet;
use zerocp_core::listener_port::ListenerPort;
use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{PortKind, RevokeReason};
use zerocp_os_linux::error::FutexError;
use zerocp_os_linux::wake_socket::WakeSocket;

use crate::error::{CreatePortError, CreatePortReason, WaitError, WakeFdError};
use crate::event_port;
use crate::lifecycle::Lifecycle;
use crate::mapped::Mapped;
use crate::port_cell::{PortCell, PortCore};
use crate::port_owner::PortOwner;
use crate::port_status::PortStatus;
use crate::wait::LinuxFutex;

/// Options of a new listener; made by [`Runtime::listener`](crate::Runtime::listener).
///
/// ```no_run
/// # let rt = zerocp::Runtime::init("doc")?;
/// let svc = zerocp::ServiceDescription::new("Robot", "Map", "Updated")?;
/// let listener = rt.listener(&svc).create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct ListenerBuilder<'r> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
}

impl<'r> ListenerBuilder<'r> {
    pub(crate) fn new(rt: &'r Arc<Lifecycle>, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
        }
    }

    /// Creates the listener (one request to the daemon). The service's
    /// segment group must admit this process by its `subscribe` rule.
    pub fn create(self) -> Result<Listener, CreatePortError> {
        let core =
            ListenerCore::create(self.rt, self.service).map_err(|reason| CreatePortError {
                kind: PortKind::Listener,
                reason,
            })?;
        Ok(Listener {
            cell: PortCell::new(core),
            service: self.service,
            wake_fd: OnceCell::new(),
        })
    }
}

/// The receiving end of an event service: takes the event ids notifiers
/// raised, or sleeps until one is.
///
/// `Send`, not `Sync`. Dropping it removes the port. After a daemon restart
/// the same listener goes on: its next call creates the port again (ids
/// raised in the old port and not taken are gone with it).
///
/// ```no_run
/// use std::time::Duration;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Map", "Updated")?;
/// let listener = rt.listener(&svc).create()?;
/// loop {
///     for id in listener.wait(Some(Duration::from_millis(100)))? {
///         println!("event {}", id.value());
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Listener {
    cell: PortCell<ListenerCore>,
    service: ServiceDescription,
    /// The wake descriptor, made by the first `as_fd` (`wake_fd`).
    wake_fd: OnceCell<Arc<WakeSocket>>,
}

impl Listener {
    /// Takes the ids raised since the last take (empty when none was);
    /// never sleeps.
    ///
    /// Fails with [`WaitError::DaemonGone`] once the daemon is gone,
    /// [`WaitError::Unresponsive`] once it dropped this process,
    /// [`WaitError::Revoked`] once it revoked this port (ids already raised
    /// are taken first); [`WaitError::Disconnected`] while the daemon
    /// restarts.
    pub fn try_wait(&self) -> Result<EventSet, WaitError> {
        self.cell.call(ListenerCore::try_wait, |_, set| set)
    }

    /// Sleeps until an id is raised or `timeout` passes (`None`: no limit);
    /// returns the ids taken (empty after a timeout). No system call when an
    /// id is pending already. Fails as [`try_wait`](Self::try_wait) does,
    /// also while sleeping: it never hangs on a daemon that is gone.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<EventSet, WaitError> {
        self.cell.call(|core| core.wait(timeout), |_, set| set)
    }

    /// The listener's wake descriptor: the receiving end of a socket pair
    /// that turns readable when a notifier raises an id in it. The first call makes it and hands it
    /// to the daemon (arming the port); later calls return the same
    /// descriptor, also after a daemon restart.
    ///
    /// Protocol: when it is readable, [`try_wait`](Self::try_wait) until
    /// it returns an empty set (that empty take re-arms it); then wait
    /// again. It is readable also when the daemon goes or revokes this
    /// port: a call then returns the error (the daemon signals a moment
    /// before this process has seen it stop, so a first call may still find
    /// nothing; the process signals again once it has). Do not read it
    /// yourself.
    ///
    /// Fails when the socket pair cannot be made, or the daemon refuses it
    /// ([`WakeFdError`]).
    ///
    /// ```no_run
    /// use std::os::fd::AsRawFd;
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Map", "Updated")?;
    /// let listener = rt.listener(&svc).create()?;
    /// let fd = listener.as_fd()?;
    /// println!("add fd {} to your epoll set", fd.as_raw_fd());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        let fd = crate::wake_fd_request::wake_socket(&self.wake_fd)?;
        self.cell.call(|core| core.arm(fd), |_, ()| ())?;
        Ok(fd.as_fd())
    }

    /// The current core (for a [`WaitSet`](crate::WaitSet)'s checks).
    pub(crate) fn core(&self) -> Rc<ListenerCore> {
        self.cell.get()
    }

    /// The service this listener listens to.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// The port index in the daemon's registry (as `zerocpctl services` shows).
    pub fn port_index(&self) -> u32 {
        self.cell.get().index
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("service", &self.service)
            .field("port", &self.port_index())
            .finish()
    }
}

/// The state of a listener port.
pub(crate) struct ListenerCore {
    port: Mapped<ListenerPort>,
    status: Arc<PortStatus>,
    index: u32,
    service: ServiceDescription,
    /// The wake descriptor this core's port is armed with (`wake_fd`).
    wake_fd: OnceCell<Arc<WakeSocket>>,
}

impl ListenerCore {
    fn create(
        lifecycle: &Arc<Lifecycle>,
        service: ServiceDescription,
    ) -> Result<Self, CreatePortReason> {
        let created = event_port::create(
            lifecycle,
            &service,
            PortKind::Listener,
            |g, i| g.listener(i),
            |p| &p.control,
        )?;
        Ok(Self {
            port: created.port,
            status: created.status,
            index: created.index,
            service,
            wake_fd: OnceCell::new(),
        })
    }

    fn try_wait(&self) -> Result<EventSet, WaitError> {
        if let Some(gone) = self.port.owner().registration().gone() {
            return Err(gone.into());
        }
        let mut set = self.port.get().events.take();
        if set.is_empty() && self.is_armed() {
            set = self.take_rearming();
        }
        match self.status.revoked() {
            Some(reason) if set.is_empty() => Err(reason.into()),
            _ => Ok(set),
        }
    }

    fn wait(&self, timeout: Option<Duration>) -> Result<EventSet, WaitError> {
        let deadline = timeout.map(|t| Instant::now().checked_add(t).unwrap_or_else(far_future));
        loop {
            let set = self.try_wait()?;
            if !set.is_empty() {
                return Ok(set);
            }
            let left = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(set),
                },
                None => None,
            };
            self.sleep(left).map_err(WaitError::Futex)?;
        }
    }

    /// One sleep on the port's data channel (module docs); the caller
    /// re-checks everything afterwards.
    fn sleep(&self, left: Option<Duration>) -> Result<(), FutexError> {
        let port = self.port.get();
        let shared = self.port.owner().registration();
        port.wake
            .data()
            .sleep(&LinuxFutex, left, || {
                port.events.any() || shared.is_gone() || self.status.revoked().is_some()
            })
            .map(drop)
    }
}

/// A deadline that never comes, for timeouts too long for `Instant`.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}

impl PortCore for ListenerCore {
    const KIND: PortKind = PortKind::Listener;

    fn owner(&self) -> &PortOwner {
        self.port.owner()
    }

    fn revoked(&self) -> Option<RevokeReason> {
        self.status.revoked()
    }

    fn service(&self) -> ServiceDescription {
        self.service
    }

    fn index(&self) -> u32 {
        self.index
    }

    /// The same port, armed again with this one's wake descriptor (if
    /// it was armed: a failure is logged, the port still works without).
    fn recreate(&self) -> Result<Self, CreatePortReason> {
        let new = Self::create(self.port.owner().lifecycle(), self.service)?;
        if let Some(fd) = self.wake_fd.get()
            && let Err(e) = new.arm(fd)
        {
            log::warn!("listener port {}: not armed again: {e}", new.index);
        }
        Ok(new)
    }
}

impl Drop for ListenerCore {
    fn drop(&mut self) {
        event_port::remove(self.port.owner(), &self.status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::event::EventId;
    use zerocp_core::sync::{Ordering, fence};

    fn port() -> Arc<ListenerPort> {
        // SAFETY: ListenerPort consists of atomics only, for which all-zero
        // bytes are a valid value (the state of a fresh segment).
        let port: Box<ListenerPort> = unsafe { Box::new_zeroed().assume_init() };
        Arc::from(port)
    }

    #[test]
    fn a_notify_wakes_a_sleeper_once() {
        let port = port();
        let sleeper = {
            let port = Arc::clone(&port);
            std::thread::spawn(move || {
                // A futex wait may return early: sleep again until ready,
                // counting the sleeps.
                let data = port.wake.data();
                let mut sleeps = 1;
                while !data
                    .sleep(&LinuxFutex, None, || port.events.any())
                    .expect("sleep")
                {
                    sleeps += 1;
                }
                (sleeps, port.events.take())
            })
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while port.wake.data().sleepers() == 0 {
            assert!(Instant::now() < deadline, "the sleeper never slept");
            std::thread::yield_now();
        }
        let mut wakes = 0;
        for v in [4, 9, 4] {
            port.events.raise(EventId::new(v).unwrap());
            fence(Ordering::SeqCst);
            if port.wake.data().wake(&LinuxFutex).unwrap() {
                wakes += 1;
            }
        }
        let (sleeps, taken) = sleeper.join().unwrap();
        // The raises after the first find its wake-up pending: no second
        // call unless the sleeper slept again in between (a futex wait may
        // return early). None at all when the sleeper saw the first raise in
        // its re-check before sleeping and left the sleepers count first.
        assert!(wakes <= sleeps, "{wakes} wakes for {sleeps} sleeps");
        // The sleeper may have taken before the last raises: what it did not
        // take is still pending.
        let mut all = taken;
        all.extend_from(&port.events.take());
        let ids: Vec<u32> = all.iter().map(EventId::value).collect();
        assert_eq!(ids, [4, 9]);
    }
}
