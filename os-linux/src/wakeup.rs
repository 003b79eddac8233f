//! An eventfd that wakes a thread blocked in [`crate::poller::Poller::wait`]
//! from another thread (a signal-handling thread asking the daemon's loop to
//! stop, for instance).
//!
//! Notifications coalesce: any number of [`Wakeup::notify`] calls before
//! the next [`Wakeup::drain`] make the descriptor readable once.
//!
//! It never leaves its process: a receiving port's wake descriptor, which
//! other processes signal, is a socket pair ([`crate::wake_socket`]), so a
//! waiter cannot make its senders block.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::{EventfdFlags, PollFd, PollFlags};

use crate::error::{Errno, WakeupError};

/// A nonblocking, close-on-exec eventfd.
///
/// ```
/// use zerocp_os_linux::wakeup::Wakeup;
/// let wakeup = Wakeup::new()?;
/// assert!(!wakeup.drain()?);
/// wakeup.notify()?;
/// wakeup.notify()?;
/// assert!(wakeup.drain()?);
/// assert!(!wakeup.drain()?);
/// # Ok::<(), zerocp_os_linux::error::WakeupError>(())
/// ```
#[derive(Debug)]
pub struct Wakeup {
    fd: OwnedFd,
}

impl Wakeup {
    /// A new eventfd with no pending notification.
    pub fn new() -> Result<Self, WakeupError> {
        let fd = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|errno| WakeupError::Create { errno })?;
        Ok(Self { fd })
    }

    /// Waits until the descriptor is readable or `timeout` passes
    /// (`None`: no limit); returns whether it is readable. Does not drain.
    pub fn wait_readable(&self, timeout: Option<Duration>) -> Result<bool, WakeupError> {
        let mut polled = [PollFd::new(&self.fd, PollFlags::IN)];
        let limit = timeout.map(crate::clock::timespec);
        match rustix::event::poll(&mut polled, limit.as_ref()) {
            Ok(n) => Ok(n > 0),
            Err(Errno::INTR) => Ok(false),
            Err(errno) => Err(WakeupError::Wait { errno }),
        }
    }

    /// Makes the descriptor readable until the next [`Wakeup::drain`].
    pub fn notify(&self) -> Result<(), WakeupError> {
        match rustix::io::retry_on_intr(|| rustix::io::write(&self.fd, &1u64.to_ne_bytes())) {
            // AGAIN: the counter is saturated, so it is readable anyway.
            Ok(_) | Err(Errno::AGAIN) => Ok(()),
            Err(errno) => Err(WakeupError::Notify { errno }),
        }
    }

    /// Consumes pending notifications; returns whether there were any.
    pub fn drain(&self) -> Result<bool, WakeupError> {
        let mut buf = [0u8; 8];
        match rustix::io::retry_on_intr(|| rustix::io::read(&self.fd, &mut buf)) {
            Ok(_) => Ok(true),
            Err(Errno::AGAIN) => Ok(false),
            Err(errno) => Err(WakeupError::Drain { errno }),
        }
    }
}

impl AsFd for Wakeup {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
