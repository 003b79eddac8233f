//! Telling receiving ports that their senders changed: when a publisher
//! (notifier) joins or leaves a service, the daemon writes the new count
//! into each subscriber's (listener's) `PortControl` (`senders`:
//! [`zerocp_core::port::PortControl::set_senders`]). When one left —
//! removed, or its process dead — it also counts it in `senders_gone`,
//! then bumps and futex-wakes the port's wake word and signals its wake
//! descriptor. So a waiter — in `Subscriber::wait`, on its descriptor, in a
//! WaitSet — wakes and learns that the sensor's publisher is gone, instead
//! of sleeping on a port nothing will ever feed. A publisher joining wakes
//! nobody: data from it does.
//!
//! Both words are remembered with the port's settings, so the audit
//! compares and restores them like every other word the daemon writes.

use zerocp_core::service::ServiceDescription;

use crate::control_plane::ControlPlane;
use crate::group_memory::GroupMemory;
use crate::reclaim;

impl ControlPlane<'_> {
    /// After the routes of `service` in group `group` changed: writes the
    /// number of its senders into every receiving port whose count
    /// differs, and wakes those that lost one.
    pub(crate) fn announce_senders(&mut self, group: u32, service: &ServiceDescription) {
        let Some(routes) = self.routes.get(service) else {
            return;
        };
        let senders = u32::try_from(routes.publishers.len()).unwrap_or(u32::MAX);
        let receivers = routes.subscribers.clone();
        let Some(part) = self.parts.get(group as usize).map(GroupMemory::manager) else {
            return;
        };
        let control = part.control();
        for id in receivers {
            if self.ports.set_senders(control, id, senders) {
                log::debug!("{id}: a sender left, {senders} routed now");
                reclaim::wake_port(control, id);
                self.wake_fds.signal(id);
            }
        }
    }
}
