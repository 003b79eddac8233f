//! Creating an event service's ports: notifiers and listeners
//! ([`zerocp_core::event`], [`zerocp_core::listener_port`]).
//!
//! They go through the same steps as publishers and subscribers
//! ([`ControlPlane::create_publisher`]): the owner must be registered, the
//! service's segment group admits the peer by its `publish` rule (a
//! notifier) or its `subscribe` rule (a listener), the route table checks
//! the service is an event service (or new) and routes the port, and the
//! group's `max_notifiers` / `max_listeners` bound the slots. Every event
//! port declares [`event_type_info`]; its settings record no payload.

use zerocp_core::event::event_type_info;
use zerocp_core::port::PortSettings;
use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{CreateListener, CreateNotifier, PortCreated, PortKind};

use super::{ControlPlane, RequestError};
use crate::port_type::PortType;

impl ControlPlane<'_> {
    /// Creates a notifier port for the process in `slot`.
    pub fn create_notifier(
        &mut self,
        slot: u32,
        msg: &CreateNotifier,
    ) -> Result<PortCreated, RequestError> {
        self.create_event_port(slot, &msg.service, PortKind::Notifier)
    }

    /// Creates a listener port for the process in `slot`.
    pub fn create_listener(
        &mut self,
        slot: u32,
        msg: &CreateListener,
    ) -> Result<PortCreated, RequestError> {
        self.create_event_port(slot, &msg.service, PortKind::Listener)
    }

    fn create_event_port(
        &mut self,
        slot: u32,
        service: &ServiceDescription,
        kind: PortKind,
    ) -> Result<PortCreated, RequestError> {
        let port_type = PortType::sized(event_type_info());
        let (group, base) = self.base_settings(slot, service, &port_type, 0, kind)?;
        let settings = PortSettings {
            payload_size: 0,
            ..base
        };
        self.add_port(slot, group, service, &port_type, kind, &settings)
    }
}
