//! [`PortOwner`]: what a port belongs to: the runtime ([`Lifecycle`], which
//! keeps the process registered) and the registration the port was created
//! on, which it works through on every call without taking the
//! connection's lock ([`crate::connection`]). After a daemon restart the
//! registration is the old one (gone): it keeps the old mappings alive for
//! what the port still holds.

use std::sync::Arc;

use crate::lifecycle::Lifecycle;
use crate::registration::Registration;

/// A port's runtime and registration (module docs).
#[derive(Clone)]
pub(crate) struct PortOwner {
    /// Keeps the process registered while the port lives.
    _lifecycle: Arc<Lifecycle>,
    registration: Arc<Registration>,
}

impl PortOwner {
    /// `lifecycle` and its current registration.
    pub(crate) fn current(lifecycle: &Arc<Lifecycle>) -> Self {
        Self {
            registration: lifecycle.registration(),
            _lifecycle: Arc::clone(lifecycle),
        }
    }

    /// The registration the port was created on.
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }
}
