//! A C subscriber as a wait set sees it: [`WatchedSubscriber`], the
//! runtime's [`Attachable`] over a subscriber handle's port.
//!
//! **No lock while the set sleeps.** The runtime's wait set sleeps on its
//! own duplicates of the attached ports' wake descriptors and touches a
//! port only for its looks (is a sample queued, clear `pending`, drain the
//! descriptor, did the daemon go). Each look here takes the subscriber's
//! lock for that one check and lets it go, so a thread may take from (or
//! destroy) a subscriber while another thread's wait set sleeps on it.
//!
//! **A destroyed subscriber.** The view holds the subscriber's handle id,
//! not the port: destroying the subscriber handle ends the port as it
//! always does, and the id no longer names it. From then on the
//! view is *gone*: it reports data at every look, so a wait sleeping on it
//! returns (its socket may be readable for good once the port's senders
//! closed theirs) and the C wait set detaches it (`waitset_api`). A port
//! broken by a panic under its lock counts as gone too.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use zerocp::{Attachable, AttachmentId, UntypedSubscriber, WaitSetWaitError, WakeFdError};

use crate::subscriber_api::SUBSCRIBERS;

/// A subscriber attached to a C wait set (module docs).
pub(crate) struct WatchedSubscriber {
    /// The subscriber's handle id.
    subscriber: u64,
    /// A duplicate of the subscriber's wake descriptor: what the set
    /// registers (it duplicates it once more for its epoll set).
    wake: OwnedFd,
}

impl WatchedSubscriber {
    /// A view of the subscriber with handle id `subscriber`, whose wake
    /// descriptor (armed) `wake` duplicates.
    pub(crate) fn new(subscriber: u64, wake: OwnedFd) -> Self {
        Self { subscriber, wake }
    }

    /// Runs `check` on the subscriber under its lock; `None` when it is
    /// gone (destroyed, or broken by a panic).
    fn look<R>(&self, check: impl FnOnce(&UntypedSubscriber) -> R) -> Option<R> {
        SUBSCRIBERS
            .with(self.subscriber, |port| Ok(check(&port.subscriber)))
            .ok()
    }

    /// Whether its subscriber is gone (module docs).
    pub(crate) fn is_gone(&self) -> bool {
        !SUBSCRIBERS.is_usable(self.subscriber)
    }
}

impl Attachable for WatchedSubscriber {
    fn wake_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        Ok(self.wake.as_fd())
    }

    fn has_data(&self) -> bool {
        // Gone: reported, so the C wait set detaches it (module docs).
        self.look(Attachable::has_data).unwrap_or(true)
    }

    fn clear_pending(&self) {
        self.look(Attachable::clear_pending);
    }

    fn drain_wake_fd(&self) {
        self.look(Attachable::drain_wake_fd);
    }

    fn take_sender_gone(&self) -> bool {
        self.look(Attachable::take_sender_gone).unwrap_or(false)
    }

    fn stopped(&self, attachment: AttachmentId) -> Option<WaitSetWaitError> {
        self.look(|subscriber| subscriber.stopped(attachment))
            .flatten()
    }
}
