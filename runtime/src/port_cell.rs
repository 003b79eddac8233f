//! [`PortCell`]: a publisher's or subscriber's port core, swapped for a new
//! one when the port re-attaches after a daemon restart.
//!
//! A port works through the registration it was created on
//! ([`crate::port_owner`]) and checks on every call whether that
//! registration is gone, as it always did. Only in that slow branch, when
//! the call would fail with the retryable `Disconnected`, the cell looks at
//! the runtime's connection: if the runtime registered again since (its
//! current registration is another one, not gone), it creates the port
//! again on the current registration with the options it was created with
//! ([`PortCore::recreate`]), swaps the new core in and makes the call once
//! more. Nothing on the hot path looks at the connection, so re-attaching
//! costs nothing while connected: the cell's borrow flag is the one
//! addition (see below).
//!
//! What re-attaching does not do: re-create a port the daemon revoked (it
//! is out of service: `Revoked`, as before), or ask the daemon again for a
//! port it refused at this registration (the [`PortNotRecreated`] failure
//! is remembered and returned by every call until the next reconnection).
//!
//! **Cores of old registrations.** The cell holds its core as `Rc<C>`, and
//! every sample or loan made from it holds a clone ([`crate::Sample`],
//! [`crate::LoanedSample`]): swapping the cell leaves old samples and loans
//! with the core (and so the registration and mappings) they came from.
//! They stay readable and writable, and dropping one releases its chunk
//! into the old memory (the old registration is gone, so no request goes
//! to a daemon); the last one unmaps that memory. A loan of an old core is
//! never published into a new one's queues ([`crate::loaned_sample`]).
//!
//! **Why `RefCell` and `Rc`.** A call borrows the cell (a flag check and
//! two non-atomic writes) and clones the `Rc` only for a sample or loan it
//! hands out (a non-atomic increment); the swap takes it mutably, after the
//! call's borrow ended. An `UnsafeCell` would save the flag, at the price of
//! an argument that no borrow lives across a swap; the flag turns a mistake
//! there into a panic instead of a dangling core. `Rc` rather than `Arc`:
//! the clones never leave the port's thread (see the `Send` impl).

use std::cell::{Ref, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Weak};

use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{PortKind, RevokeReason};

use crate::error::{
    CreatePortReason, LoanError, PortNotRecreated, PortRequestError, TakeError,
    UpdateConnectionsError, WaitError,
};
use crate::port_owner::PortOwner;
use crate::registration::{Gone, Registration};

/// A port's core as the cell needs it: where it belongs, and how to make
/// it again.
pub(crate) trait PortCore: Sized {
    /// Publisher or subscriber.
    const KIND: PortKind;
    /// The runtime and the registration the core was created on.
    fn owner(&self) -> &PortOwner;
    /// Why the daemon revoked the port, if it did.
    fn revoked(&self) -> Option<RevokeReason>;
    /// The port's service.
    fn service(&self) -> ServiceDescription;
    /// The port's index on its daemon.
    fn index(&self) -> u32;
    /// The same port (same options) on the runtime's current registration,
    /// with what lasts across registrations carried over.
    fn recreate(&self) -> Result<Self, CreatePortReason>;
}

/// An error of a call that re-attaches its port: which one is the
/// retryable `Disconnected`.
pub(crate) trait Reattaching:
    From<Gone> + From<RevokeReason> + From<PortNotRecreated>
{
    /// Whether this is the retryable `Disconnected`.
    fn is_disconnected(&self) -> bool;
}

macro_rules! reattaching {
    ($($error:ty),*) => {$(
        impl Reattaching for $error {
            fn is_disconnected(&self) -> bool {
                matches!(self, Self::Disconnected)
            }
        }
    )*};
}

reattaching!(LoanError, UpdateConnectionsError, TakeError, WaitError);

/// A port's current core (module docs).
pub(crate) struct PortCell<C> {
    core: RefCell<Rc<C>>,
    /// The registration on which creating the port again failed, and why.
    failed: RefCell<Option<(Weak<Registration>, PortNotRecreated)>>,
}

// SAFETY: the `Rc` clones of a cell's cores live in the cell, in the
// samples and loans made from it, and in locals of a call on it. Samples and
// loans borrow the port that owns the cell (their lifetime) and a call
// borrows the cell, and the port is not `Sync`: so every clone is used on
// the thread that has the port, and none exists outside the cell while the
// port (with the cell) is moved to another thread. Moving the cell then
// moves every clone, which is sound when the cores are `Send`. The other
// field holds `Arc`s (`Send` when their contents are `Send + Sync`).
unsafe impl<C: Send> Send for PortCell<C> where PortNotRecreated: Send + Sync {}

impl<C: PortCore> PortCell<C> {
    /// A cell holding `core`.
    pub(crate) fn new(core: C) -> Self {
        Self {
            core: RefCell::new(Rc::new(core)),
            failed: RefCell::new(None),
        }
    }

    /// The current core, for a call that does not re-attach.
    pub(crate) fn get(&self) -> Ref<'_, Rc<C>> {
        self.core.borrow()
    }

    /// Runs `op` on the current core; if it fails with `Disconnected` and
    /// the runtime registered again since the core was made, re-attaches
    /// the port and runs `op` once more on the new core.
    #[inline]
    pub(crate) fn call<R, E: Reattaching>(
        &self,
        op: impl Fn(&Rc<C>) -> Result<R, E>,
    ) -> Result<R, E> {
        let result = op(&self.core.borrow());
        match result {
            Err(e) if e.is_disconnected() => {
                self.reattach(e)?;
                op(&self.core.borrow())
            }
            other => other,
        }
    }

    /// Swaps in a core made on the current registration, or says why not:
    /// `disconnected` while the runtime has not registered again.
    #[cold]
    fn reattach<E: Reattaching>(&self, disconnected: E) -> Result<(), E> {
        let old = Rc::clone(&self.core.borrow());
        let current = old.owner().lifecycle().registration();
        if old.owner().is_on(&current) {
            return Err(disconnected);
        }
        if let Some(gone) = current.gone() {
            return Err(gone.into());
        }
        if let Some(reason) = old.revoked() {
            return Err(reason.into());
        }
        if let Some(failure) = self.failure_on(&current) {
            return Err(failure.into());
        }
        match old.recreate() {
            Ok(new) => {
                log::info!(
                    "{} on {} re-attached to the restarted daemon (port {} -> {})",
                    C::KIND.noun(),
                    old.service(),
                    old.index(),
                    new.index()
                );
                *self.core.borrow_mut() = Rc::new(new);
                Ok(())
            }
            Err(CreatePortReason::Request(
                PortRequestError::Disconnected
                | PortRequestError::DaemonGone
                | PortRequestError::Unresponsive { .. },
            )) => Err(current.gone().map_or(disconnected, Into::into)),
            Err(reason) => {
                let failure = PortNotRecreated::new(C::KIND, old.service(), old.index(), reason);
                log::warn!("{failure}");
                *self.failed.borrow_mut() = Some((Arc::downgrade(&current), failure.clone()));
                Err(failure.into())
            }
        }
    }

    /// The failure remembered for `registration`, if creating the port on
    /// it failed already.
    fn failure_on(&self, registration: &Arc<Registration>) -> Option<PortNotRecreated> {
        let failed = self.failed.borrow();
        let (on, failure) = failed.as_ref()?;
        // A registration that can no longer be upgraded is not the current
        // one (that is held by the connection).
        let same = on
            .upgrade()
            .is_some_and(|on| Arc::ptr_eq(&on, registration));
        same.then(|| failure.clone())
    }
}
