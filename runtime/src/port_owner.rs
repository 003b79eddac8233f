//! [`PortOwner`]: what a port belongs to: the runtime ([`Lifecycle`], which
//! keeps the process registered) and the registration the port was created
//! on, which it works through on every call without taking the
//! connection's lock ([`crate::connection`]). After a daemon restart the
//! registration is the old one (gone): it keeps the old mappings alive for
//! what the port still holds, until the port re-attaches
//! ([`crate::port_cell`]) and its last old sample or loan is dropped.

use std::sync::Arc;

use crate::lifecycle::Lifecycle;
use crate::registration::Registration;

/// A port's runtime and registration (module docs).
#[derive(Clone)]
pub(crate) struct PortOwner {
    /// Keeps the process registered while the port lives; its connection
    /// names the current registration.
    lifecycle: Arc<Lifecycle>,
    registration: Arc<Registration>,
}

impl PortOwner {
    /// `lifecycle` and its current registration.
    pub(crate) fn current(lifecycle: &Arc<Lifecycle>) -> Self {
        Self {
            registration: lifecycle.registration(),
            lifecycle: Arc::clone(lifecycle),
        }
    }

    /// The registration the port was created on.
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// The runtime the port belongs to.
    pub(crate) fn lifecycle(&self) -> &Arc<Lifecycle> {
        &self.lifecycle
    }

    /// Whether the runtime registered again since this port was created:
    /// its current registration is another one (a lock of the connection:
    /// for the slow path only).
    pub(crate) fn superseded(&self) -> bool {
        !self.is_on(&self.lifecycle.registration())
    }

    /// Whether the port was created on `registration`.
    pub(crate) fn is_on(&self, registration: &Arc<Registration>) -> bool {
        Arc::ptr_eq(registration, &self.registration)
    }
}
