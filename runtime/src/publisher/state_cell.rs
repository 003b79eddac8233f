//! [`StateCell`]: where a publisher keeps its delivery state — behind a
//! lock when the runtime's background thread may use it too, in a plain
//! cell when only the application's thread ever does.
//!
//! Only a publisher that keeps history is served by the background thread
//! (a late subscriber's history, [`crate::history_on_connect`]); only such
//! a port's [`SharedPort`](super::SharedPort) is handed to the history
//! table, which that thread reads. Every other port's `SharedPort` has one
//! strong reference, its `PublisherCore`'s, which is not `Sync`: the state
//! is reached by one thread at a time, and an uncontended lock per publish
//! (two locked instructions) would buy nothing. The choice is made once,
//! when the port is created.

use std::cell::{RefCell, RefMut};
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, TryLockError};

use super::shared_port::DeliveryState;
use crate::registration::lock;

/// A publisher's delivery state and how it is reached (module docs).
pub(super) enum StateCell {
    /// The background thread may serve history from the port.
    Locked(Mutex<DeliveryState>),
    /// Only the thread holding the port's `PublisherCore` reaches it.
    Owned(RefCell<DeliveryState>),
}

/// The delivery state, borrowed for one delivery.
pub(crate) enum StateGuard<'a> {
    Locked(MutexGuard<'a, DeliveryState>),
    Owned(RefMut<'a, DeliveryState>),
}

impl StateCell {
    /// A cell for a port that keeps history (`shared`: the background
    /// thread may use it) or not.
    pub(super) fn new(state: DeliveryState, shared: bool) -> Self {
        if shared {
            Self::Locked(Mutex::new(state))
        } else {
            Self::Owned(RefCell::new(state))
        }
    }

    /// Whether the state has a lock (the port keeps history, so the
    /// background thread may serve from it).
    pub(super) fn is_locked(&self) -> bool {
        matches!(self, Self::Locked(_))
    }

    /// The state, for the application's thread (waits for the background
    /// thread, which holds a lock only while serving a newcomer).
    pub(super) fn lock(&self) -> StateGuard<'_> {
        match self {
            Self::Locked(mutex) => StateGuard::Locked(lock(mutex)),
            Self::Owned(cell) => StateGuard::Owned(cell.borrow_mut()),
        }
    }

    /// The state, unless someone holds it (the background thread's way: it
    /// never waits for the application). Never an owned cell: the
    /// background thread has no business there.
    pub(super) fn try_lock(&self) -> Option<StateGuard<'_>> {
        let Self::Locked(mutex) = self else {
            return None;
        };
        match mutex.try_lock() {
            Ok(guard) => Some(StateGuard::Locked(guard)),
            Err(TryLockError::Poisoned(p)) => Some(StateGuard::Locked(p.into_inner())),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

impl Deref for StateGuard<'_> {
    type Target = DeliveryState;

    fn deref(&self) -> &DeliveryState {
        match self {
            Self::Locked(guard) => guard,
            Self::Owned(guard) => guard,
        }
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut DeliveryState {
        match self {
            Self::Locked(guard) => guard,
            Self::Owned(guard) => guard,
        }
    }
}
