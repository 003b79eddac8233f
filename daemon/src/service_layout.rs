//! Self-describing types on the daemon's side: the [`TypeLayout`] a port
//! request carries is checked, kept per service, and given to tools by the
//! `QueryServiceLayout` query (protocol version 10).
//!
//! A layout comes from a client, so it is hostile input: the decoder has
//! already checked its counts against the bounds, its kinds and its names'
//! UTF-8; here [`TypeLayout::check`] checks that every field lies inside
//! the payload type (one element of a slice). A request whose layout does
//! not fit is refused with `InvalidArgument` naming the field, rather than
//! its layout dropped: the runtime only sends layouts it checked itself, so
//! a bad one means a broken or hostile client, and saying so beats
//! silently showing hex.
//!
//! A service keeps the layout of its first port that came with one
//! ([`crate::route_table::RouteTable::offer_layout`]); later ports' layouts
//! are not compared. The type check (name, size, alignment, shape) already
//! decided that the ports agree, and the layout is only for display: a
//! subscriber declared by hand without a description, or a tool's untyped
//! subscriber, must still be able to join. The layout lives as long as the
//! service has ports, in the daemon's heap, never in shared memory.

use zerocp_core::service::ServiceDescription;
use zerocp_core::type_layout::TypeLayout;
use zerocp_core::wire::{ErrorCode, ServiceLayout};

use crate::control_plane::ControlPlane;
use crate::request_error::{RequestError, error};

/// Refuses, as `InvalidArgument`, a port request whose `layout` does not
/// fit its payload type of `type_size` bytes.
///
/// ```
/// use zerocp_core::type_layout::{FieldKind, TypeDescription, TypeLayout};
/// use zerocp_core::wire::ErrorCode;
/// use zerocp_daemon::service_layout::checked;
///
/// let layout = TypeLayout::describe(&TypeDescription::Primitive(FieldKind::U64), 8);
/// assert!(checked(&layout, 8).is_ok());
/// let refused = checked(&layout, 4).unwrap_err();
/// assert_eq!(refused.code, ErrorCode::InvalidArgument);
/// assert!(refused.detail.contains("field 0 (`value`)"), "{}", refused.detail);
/// ```
pub fn checked(layout: &TypeLayout, type_size: u32) -> Result<(), RequestError> {
    layout.check(type_size).map_err(|e| {
        log::warn!("refused a port whose type layout does not fit its type: {e}");
        error(ErrorCode::InvalidArgument, e.to_string())
    })
}

impl ControlPlane<'_> {
    /// The reply to `QueryServiceLayout`: the layout kept for `service`
    /// (unknown when no port of it described its type), or `NoSuchPort`
    /// when the service has no port.
    pub fn service_layout(
        &self,
        service: &ServiceDescription,
    ) -> Result<ServiceLayout, RequestError> {
        let routes = self.routes.get(service).ok_or_else(|| {
            error(
                ErrorCode::NoSuchPort,
                format!("no port of service {service}"),
            )
        })?;
        Ok(ServiceLayout {
            service: *service,
            layout: routes.layout.clone(),
        })
    }
}
