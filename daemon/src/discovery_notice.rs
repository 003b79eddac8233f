//! The discovery event ([`zerocp_core::discovery`]): the daemon raises
//! [`SERVICES_CHANGED`] in every listener of the discovery service whenever
//! the routes of another service change, and keeps every other kind of
//! port off that name.
//!
//! The hook is where the route table changes: a port routed
//! ([`ControlPlane::add_port`](crate::control_plane::ControlPlane)) and a
//! port unrouted (`unroute_port`, which removal, a process's death, an
//! unresponsive process, a revocation and a group reset all go through).
//! Those are exactly the changes the ports query (`QueryServices`, built
//! from the route table) can show, so a watcher that re-queries after the
//! event sees the change. Changes of the discovery service's own listeners
//! raise nothing: a watcher starting or stopping would otherwise wake every
//! other watcher for a change none of them lists.
//!
//! Raising is what a notifier does, from the daemon's own mapping of the
//! listener's group: the id's bit (one `fetch_or`), then the listener's
//! wake word bumped and futex-woken ([`reclaim::wake_all`]: the bump is a
//! Release after the raise, so a sleeper that reads the new word also sees
//! the id, and one that read the old word fails its futex wait), then, if
//! the port is armed, its wake descriptor signalled once per look of its
//! waiter ([`NotifyWord`](zerocp_core::notify_word::NotifyWord): a `SeqCst`
//! fence after the raise, then `pending` swapped, Dekker with the waiter's
//! clear). It costs the daemon two futex calls and at most one send per
//! watcher and change, on the control plane only.

use zerocp_core::discovery::{SERVICES_CHANGED, discovery_service, is_discovery_service};
use zerocp_core::service::ServiceDescription;
use zerocp_core::sync::{Ordering, fence};
use zerocp_core::wire::{ErrorCode, PortKind};

use crate::control_plane::{ControlPlane, RequestError};
use crate::group_memory::GroupMemory;
use crate::reclaim;
use crate::request_error::error;

impl ControlPlane<'_> {
    /// Refuses a `kind` port of the discovery service unless it is a
    /// listener: only the daemon raises its event.
    pub(crate) fn check_not_reserved(
        service: &ServiceDescription,
        kind: PortKind,
    ) -> Result<(), RequestError> {
        if kind == PortKind::Listener || !is_discovery_service(service) {
            return Ok(());
        }
        Err(error(
            ErrorCode::AccessDenied,
            format!(
                "{service} is the daemon's discovery event: only listeners may join it, \
                 not a {}",
                kind.noun()
            ),
        ))
    }

    /// After the routes of `service` changed: raises the discovery event in
    /// every listener of it (module docs).
    pub(crate) fn announce_service_change(&self, service: &ServiceDescription) {
        if is_discovery_service(service) {
            return;
        }
        let Some(routes) = self.routes.get(&discovery_service()) else {
            return;
        };
        for id in &routes.subscribers {
            let Some(control) = self.parts.get(id.group as usize).map(GroupMemory::manager) else {
                continue;
            };
            let Some(port) = control.control().listener(id.index) else {
                continue;
            };
            port.events.raise(SERVICES_CHANGED);
            reclaim::wake_all(&port.wake);
            // SeqCst: the raise before `pending` is read, against the
            // waiter's clear before its look at the ids (module docs).
            fence(Ordering::SeqCst);
            if port.notify.is_armed() && port.notify.mark_pending() {
                self.wake_fds.signal(*id);
            }
        }
    }
}
