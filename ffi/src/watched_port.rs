//! A C subscriber or listener as a wait set sees it: [`WatchedPort`], the
//! runtime's [`Attachable`] over a handle's port.
//!
//! **No lock while the set sleeps.** The runtime's wait set sleeps on its
//! own duplicates of the attached ports' wake descriptors and touches a
//! port only for its looks (is a sample or event pending, clear `pending`,
//! drain the descriptor, did the daemon go). Each look here takes the
//! handle's lock for that one check and lets it go, so a thread may take
//! from (or destroy) a subscriber or listener while another thread's wait
//! set sleeps on it.
//!
//! **A destroyed port.** The view holds the handle's id, not the port:
//! destroying the handle ends the port as it always does, and the id no
//! longer names it. From then on the view is *gone*: it reports data at
//! every look, so a wait sleeping on it returns (its socket may be
//! readable for good once the port's senders closed theirs) and the C wait
//! set detaches it (`waitset_api`). A port broken by a panic under its
//! lock counts as gone too.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use zerocp::{Attachable, AttachmentId, WaitSetWaitError, WakeFdError};

use crate::handles::Registry;

/// A handle's object that holds a port a wait set can watch.
pub(crate) trait HasPort: Sized + Send + 'static {
    /// The port.
    type Port: Attachable;
    /// Its registry, where a view finds it by id.
    fn registry() -> &'static Registry<Self>;
    /// The port it holds.
    fn port(&self) -> &Self::Port;
}

/// A subscriber or listener attached to a C wait set (module docs).
pub(crate) struct WatchedPort<T: HasPort> {
    /// The handle's id.
    handle: u64,
    /// A duplicate of the port's wake descriptor: what the set registers
    /// (it duplicates it once more for its epoll set).
    wake: OwnedFd,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T: HasPort> WatchedPort<T> {
    /// A view of the port of handle `handle`, whose wake descriptor
    /// (armed) `wake` duplicates.
    pub(crate) fn new(handle: u64, wake: OwnedFd) -> Self {
        Self {
            handle,
            wake,
            kind: std::marker::PhantomData,
        }
    }

    /// Runs `check` on the port under its handle's lock; `None` when it is
    /// gone (destroyed, or broken by a panic).
    fn look<R>(&self, check: impl FnOnce(&T::Port) -> R) -> Option<R> {
        T::registry()
            .with(self.handle, |object| Ok(check(object.port())))
            .ok()
    }

    /// Whether its port is gone (module docs).
    pub(crate) fn is_gone(&self) -> bool {
        !T::registry().is_usable(self.handle)
    }
}

impl<T: HasPort> Attachable for WatchedPort<T> {
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
        self.look(|port| port.stopped(attachment)).flatten()
    }
}
