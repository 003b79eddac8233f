//! Which service a live command observes, and with which type: the
//! service's [`ServiceType`] as the daemon's `services` answer reports it.
//!
//! A live command subscribes with exactly the service's registered type
//! (the daemon checks it, as for any port), and it learns that type from
//! the daemon, not from a compiled-in Rust type: the ports query lists each
//! port's payload [`TypeInfo`](zerocp::TypeInfo), a slice's element type shown as `[name]`
//! (`zerocp_daemon::port_type::PortType::shown`), and
//! [`ServiceType::from_reported`] reads the shape back from that name.
//!
//! What the answer does not report yet is the user header: a service whose
//! ports declare one is asked for without, and the daemon refuses it with
//! its user header mismatch, which the command shows. Once introspection
//! reports a port's shape and user header (a protocol change of its own),
//! the type is taken from there instead.
//!
//! A service not known to the daemon (no port yet) is an error rather than
//! a wait: without a port there is no type to subscribe with.
//!
//! The service's fields come from the daemon's service layout query
//! (protocol 10): the layout of its first port whose type describes itself.

use zerocp::ServiceType;
use zerocp_core::service::{REQUEST_TYPE_TAG, RESPONSE_TYPE_TAG, ServiceDescription};
use zerocp_core::type_layout::TypeLayout;
use zerocp_core::wire::{PortInfo, PortKind};

use super::LiveError;
use crate::ctl::{CtlClient, CtlError};

/// A service to observe, the type to subscribe with, and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The service.
    pub service: ServiceDescription,
    /// Its type, as the daemon reported it.
    pub service_type: ServiceType,
    /// Its payload type's fields (one element's, for a slice), as the
    /// daemon keeps them; unknown for a type that does not describe
    /// itself.
    pub layout: TypeLayout,
}

/// Finds `given` among the daemon's ports (by its `Service/Instance/Event`
/// text) and the type to subscribe to it with.
pub fn find(client: &mut CtlClient, given: &str) -> Result<Target, LiveError> {
    let ports = client.service_ports(given)?;
    // `service_ports` returns at least one port.
    let port = ports.first().ok_or_else(|| CtlError::NoSuchService {
        service: given.to_owned(),
        domain: client.domain().to_owned(),
    })?;
    let mut target = target_of(port)?;
    target.layout = client.service_layout(&target.service)?;
    Ok(target)
}

/// The target a port of the service describes.
fn target_of(port: &PortInfo) -> Result<Target, LiveError> {
    let service = port.service.to_string();
    if matches!(port.kind, PortKind::Notifier | PortKind::Listener) {
        return Err(LiveError::EventService { service });
    }
    let name = port.type_info.name.as_str();
    if name.starts_with(REQUEST_TYPE_TAG) || name.starts_with(RESPONSE_TYPE_TAG) {
        return Err(LiveError::Channel { service });
    }
    Ok(Target {
        service: port.service,
        service_type: ServiceType::from_reported(&port.type_info),
        layout: TypeLayout::unknown(),
    })
}
