//! Which service a live command observes, and with which type: the
//! service's [`ServiceType`] as the daemon's `services` answer reports it.
//!
//! A live command subscribes with exactly the service's registered type
//! (the daemon checks it, as for any port), and it learns that type from
//! the daemon, not from a compiled-in Rust type: the ports query lists each
//! port's payload [`TypeInfo`], a slice's element type shown as `[name]`
//! (`zerocp_daemon::port_type::PortType::shown`). This module reads the
//! shape back from that name: a name in brackets without a `;` at the top
//! level is a slice of the name inside (`[u8]`), an array is `[u8; 4]`.
//!
//! What the answer does not report yet is the user header: a service whose
//! ports declare one is asked for without, and the daemon refuses it with
//! its user header mismatch, which the command shows. Once introspection
//! reports a port's shape and user header (a protocol change of its own),
//! [`service_type`] takes them from there instead.
//!
//! A service not known to the daemon (no port yet) is an error rather than
//! a wait: without a port there is no type to subscribe with.
//!
//! The service's fields come from the daemon's service layout query
//! (protocol 10): the layout of its first port whose type describes itself.

use zerocp::{ServiceType, TypeInfo};
use zerocp_core::fixed_string::FixedString;
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
        service_type: service_type(&port.type_info),
        layout: TypeLayout::unknown(),
    })
}

/// The service type a port's reported type info stands for (module docs).
pub fn service_type(reported: &TypeInfo) -> ServiceType {
    match slice_element(reported.name.as_str()) {
        Some(element) => ServiceType::slice(TypeInfo {
            name: FixedString::from_str_truncated(element),
            ..*reported
        }),
        None => ServiceType::sized(*reported),
    }
}

/// The element type's name if `name` shows a slice: `[T]` with no `;` at
/// bracket depth 1 (which would make it an array `[T; N]`).
fn slice_element(name: &str) -> Option<&str> {
    let inner = name.strip_prefix('[')?.strip_suffix(']')?;
    let mut depth = 0usize;
    for c in inner.chars() {
        match c {
            '[' | '(' | '<' => depth += 1,
            ']' | ')' | '>' => depth = depth.checked_sub(1)?,
            ';' if depth == 0 => return None,
            _ => {}
        }
    }
    (depth == 0 && !inner.is_empty()).then_some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp::PayloadShape;

    fn info(name: &str, size: u32) -> TypeInfo {
        TypeInfo {
            size,
            align: size.min(8),
            name: FixedString::from_str_truncated(name),
        }
    }

    #[test]
    fn slices_are_told_from_arrays_by_the_top_level_semicolon() {
        assert_eq!(slice_element("[u8]"), Some("u8"));
        assert_eq!(slice_element("[[u8; 4]]"), Some("[u8; 4]"));
        assert_eq!(slice_element("[(u8, [u16; 2])]"), Some("(u8, [u16; 2])"));
        assert_eq!(slice_element("[u8; 4]"), None);
        assert_eq!(slice_element("[[u8]; 4]"), None);
        assert_eq!(slice_element("u64"), None);
        assert_eq!(slice_element("[]"), None);
        assert_eq!(slice_element("[u8]]"), None);
    }

    #[test]
    fn a_reported_slice_becomes_a_slice_of_its_element() {
        let slice = service_type(&info("[u16]", 2));
        assert_eq!(slice.shape, PayloadShape::Slice);
        assert_eq!(slice.payload.name.as_str(), "u16");
        assert_eq!(slice.payload.size, 2);
        let sized = service_type(&info("[u32; 4]", 16));
        assert_eq!(sized, ServiceType::sized(info("[u32; 4]", 16)));
    }
}
