//! An application's own descriptor in a C wait set: [`WatchedFd`], the
//! runtime's [`Attachable`] over a duplicate of it.
//!
//! A socket, pipe, timerfd or eventfd of the application is reported
//! while it is readable (or hung up, or in error), level-triggered as
//! `poll` says: the application reads it (or detaches it), the set only
//! looks. The set keeps its own duplicate, so the application may close
//! its copy; the descriptor leaves the set when detached. It has no
//! `pending` word to clear and nothing to drain: the looks are one `poll`
//! with a zero timeout each.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use zerocp::{Attachable, AttachmentId, WaitSetWaitError, WakeFdError};

/// A descriptor attached to a C wait set (module docs).
pub(crate) struct WatchedFd {
    fd: OwnedFd,
}

impl WatchedFd {
    /// Watches `fd` (the set's own duplicate).
    pub(crate) fn new(fd: OwnedFd) -> Self {
        Self { fd }
    }
}

impl Attachable for WatchedFd {
    fn wake_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        Ok(self.fd.as_fd())
    }

    fn has_data(&self) -> bool {
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // A failed poll (ENOMEM) reports it: the next look asks again.
        poll(&mut fds, Some(&now)).map_or(true, |n| n > 0)
    }

    fn clear_pending(&self) {}

    fn drain_wake_fd(&self) {}

    fn take_sender_gone(&self) -> bool {
        false
    }

    fn stopped(&self, _attachment: AttachmentId) -> Option<WaitSetWaitError> {
        None
    }
}
