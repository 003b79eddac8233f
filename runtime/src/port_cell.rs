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
//! more. Nothing on the hot path looks at the connection: while connected,
//! re-attaching costs the load of the cell and the `Rc` count of each sample
//! or loan (see below, and docs/performance.md).
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
//! **Why `UnsafeCell` and `Rc`.** A call reads the cell's `Rc` in place and
//! clones it only for a sample or loan it hands out (a non-atomic
//! increment); the swap writes the cell. A `RefCell` would add its borrow
//! flag (a check and two writes) to every call, where the only borrow there
//! is is [`PortCell::call`]'s own, which ends before the slow path swaps:
//! the argument is short enough to make (see the `SAFETY` comments).
//! [`PortCell::get`] hands out a clone, so nothing else borrows the cell.
//! `Rc` rather than `Arc`: the clones never leave the port's thread (see the
//! `Send` impl).

use std::cell::{RefCell, UnsafeCell};
use std::rc::Rc;
use std::sync::{Arc, Weak};

use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{PortKind, RevokeReason};

use crate::error::{
    CreatePortReason, LoanError, NotifyError, PortNotRecreated, PortRequestError, TakeError,
    UpdateConnectionsError, WaitError, WakeFdError,
};
use crate::port_owner::PortOwner;
use crate::registration::{Gone, Registration};

/// A port's core as the cell needs it: where it belongs, and how to make
/// it again.
pub(crate) trait PortCore: Sized {
    /// Publisher, subscriber, notifier or listener.
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

reattaching!(
    LoanError,
    UpdateConnectionsError,
    TakeError,
    WaitError,
    NotifyError,
    WakeFdError
);

/// A port's current core (module docs).
pub(crate) struct PortCell<C> {
    /// Borrowed only within [`PortCell::call`], written only by
    /// [`PortCell::reattach`] (module docs).
    core: UnsafeCell<Rc<C>>,
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
            core: UnsafeCell::new(Rc::new(core)),
            failed: RefCell::new(None),
        }
    }

    /// The current core, for a query that does not re-attach.
    pub(crate) fn get(&self) -> Rc<C> {
        // SAFETY: see `current`; the reference ends with this statement.
        Rc::clone(unsafe { self.current() })
    }

    /// The current core, borrowed.
    ///
    /// # Safety
    ///
    /// The reference must not live across a call of `reattach` (the one
    /// writer, which may drop the core it replaces): only `call`, `get` and
    /// `reattach` itself use it, each for one expression before it swaps
    /// or returns. The cell is not `Sync`, so no other thread writes it.
    unsafe fn current(&self) -> &Rc<C> {
        // SAFETY: as the caller promises, no write of the cell happens
        // while this reference lives.
        unsafe { &*self.core.get() }
    }

    /// Runs `op` on the current core and hands its value with the core to
    /// `wrap`; if `op` fails with `Disconnected` and the runtime registered
    /// again since the core was made, re-attaches the port and does it once
    /// more on the new core. Inlined into the port's call, so that the
    /// wrapped value is built in place: the hot path adds nothing but the
    /// cell's load.
    ///
    /// `op` and `wrap` must not re-enter the cell (they call the core's
    /// methods, which know nothing of the cell).
    #[inline(always)]
    pub(crate) fn call<V, R, E: Reattaching>(
        &self,
        op: impl Fn(&C) -> Result<V, E>,
        wrap: impl Fn(&Rc<C>, V) -> R,
    ) -> Result<R, E> {
        // SAFETY: the reference is used by `op` and `wrap` only, which do
        // not reach `reattach` (above); `call_again` borrows the cell anew.
        let core = unsafe { self.current() };
        match op(core) {
            Ok(value) => Ok(wrap(core, value)),
            Err(e) => self.call_again(e, |core| op(core).map(|value| wrap(core, value))),
        }
    }

    /// `call`'s error path: re-attaches if `first`, the first error, is
    /// `Disconnected`, and runs `op` again.
    #[cold]
    #[inline(never)]
    fn call_again<R, E: Reattaching>(
        &self,
        first: E,
        op: impl Fn(&Rc<C>) -> Result<R, E>,
    ) -> Result<R, E> {
        if !first.is_disconnected() {
            return Err(first);
        }
        self.reattach(first)?;
        // SAFETY: as in `call`: `reattach` has returned.
        op(unsafe { self.current() })
    }

    /// Swaps in a core made on the current registration, or says why not:
    /// `disconnected` while the runtime has not registered again.
    #[cold]
    fn reattach<E: Reattaching>(&self, disconnected: E) -> Result<(), E> {
        let old = self.get();
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
                let new = Rc::new(new);
                // SAFETY: no reference from `current` lives now (its
                // contract); the old core lives on in `old` (and in its
                // samples and loans) until this function returns.
                unsafe { *self.core.get() = new };
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
