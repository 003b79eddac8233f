//! Creating an event service's port (a notifier's or a listener's) through
//! the daemon: the one piece of code both builders and re-attaching after a
//! daemon restart use ([`crate::port_cell`]).
//!
//! The request names the service only (events carry no payload type); the
//! daemon answers as for a subscriber, with the group's control part (and
//! its payload part read-only, which an event port never reads). The port
//! is checked (in range, active, owned by this process) before it is used.

use std::sync::Arc;

use zerocp_core::group_control::GroupControl;
use zerocp_core::port::PortControl;
use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{CreateListener, CreateNotifier, Message, PortKind};

use crate::error::{CreatePortReason, PortRequestError};
use crate::lifecycle::Lifecycle;
use crate::mapped::Mapped;
use crate::port_owner::PortOwner;
use crate::port_request;
use crate::port_status::{PortKey, PortStatus};

/// A freshly created event port: its record, its status and its index.
pub(crate) struct EventPort<T> {
    pub(crate) port: Mapped<T>,
    pub(crate) status: Arc<PortStatus>,
    pub(crate) index: u32,
}

/// Asks the daemon for a `kind` port (notifier or listener) of `service`
/// on `lifecycle`'s current registration; `find` picks its record from the
/// group's control part (bounds-checked there) and `control` its
/// [`PortControl`].
pub(crate) fn create<T>(
    lifecycle: &Arc<Lifecycle>,
    service: &ServiceDescription,
    kind: PortKind,
    find: impl for<'g> Fn(&'g GroupControl<'_>, u32) -> Option<&'g T>,
    control: impl Fn(&T) -> &PortControl,
) -> Result<EventPort<T>, CreatePortReason> {
    let owner = PortOwner::current(lifecycle);
    let shared = owner.registration();
    let request = match kind {
        PortKind::Notifier => Message::CreateNotifier(CreateNotifier { service: *service }),
        _ => Message::CreateListener(CreateListener { service: *service }),
    };
    let (created, group) = port_request::create_mapped(shared, &request, service, 0, kind)?;
    let key = PortKey::of(kind, &created);
    let index = created.port_index;
    let port = Mapped::find(&owner, &group, |g| find(g.control(), index).ok_or(()));
    port_request::check_owned(shared, key, port.as_ref().ok().map(|p| control(p.get())))?;
    let Ok(port) = port else {
        return Err(PortRequestError::InvalidPort { index }.into());
    };
    // A listener's status wakes its sleepers when the daemon goes or
    // revokes it; a notifier has none.
    let wake = (kind == PortKind::Listener).then(|| Arc::downgrade(&group));
    let status = Arc::new(PortStatus::new(key, wake));
    shared.add_port(&status);
    Ok(EventPort {
        port,
        status,
        index,
    })
}

/// Removes an event port's status and the port itself from its daemon
/// (unless that one is gone): a core's drop.
pub(crate) fn remove(owner: &PortOwner, status: &Arc<PortStatus>) {
    let shared = owner.registration();
    shared.remove_port(status);
    port_request::remove(shared, status.key());
}
