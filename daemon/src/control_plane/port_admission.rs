//! The checks a port request passes before anything changes: the owner's
//! segment group admits it ([`ControlPlane::admitted_group`]), the route
//! table agrees with its type ([`ControlPlane::check_route`]) and a pool of
//! the group holds its chunks ([`ControlPlane::checked_type`]). Each refusal
//! is logged and answered with the error code that names it.

use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{ErrorCode, PortKind};

use super::{ControlPlane, RequestError};
use crate::port_type::PortType;
use crate::process_manager::Process;
use crate::request_error::error;
use crate::route_table::RouteError;

impl ControlPlane<'_> {
    /// Checks the port type's alignments and picks the smallest pool of
    /// `group` whose chunks hold its user header and a payload of at most
    /// `max_slice_len` elements (0: a sized payload).
    pub(super) fn checked_type(
        &self,
        port_type: &PortType,
        max_slice_len: u32,
        group: u32,
    ) -> Result<u32, RequestError> {
        let type_info = &port_type.payload;
        let bytes = port_type
            .chunk_bytes(max_slice_len)
            .map_err(|e| error(ErrorCode::InvalidArgument, e.to_string()))?;
        self.part(group)?
            .layout()
            .pool_for(group, bytes, type_info.align)
            .map(|pool| pool as u32)
            .map_err(|e| {
                let largest = match e {
                    zerocp_core::mempool::PoolSelectError::TooLarge { largest, .. } => largest,
                    zerocp_core::mempool::PoolSelectError::Align(_) => 0,
                };
                error(
                    ErrorCode::PayloadTooLarge,
                    format!(
                        "type `{}` needs {bytes} bytes, more than the largest chunk size {largest} \
                         of group \"{}\"",
                        type_info.name.as_str(),
                        self.groups.name(group)
                    ),
                )
            })
    }

    /// The segment group of `service` if the process in `slot` may create a
    /// `kind` port in it; a refusal is logged (once, here) and answered
    /// `AccessDenied`.
    pub(super) fn admitted_group(
        &self,
        owner: &Process,
        service: &ServiceDescription,
        kind: PortKind,
    ) -> Result<u32, RequestError> {
        self.groups
            .admit(
                kind,
                service,
                owner.creds.uid,
                owner.creds.gid,
                self.identity.uid,
            )
            .map_err(|e| {
                log::warn!("{owner}: refused a {}: {e}", kind.noun());
                error(ErrorCode::AccessDenied, e.to_string())
            })
    }

    /// Whether the route table takes a `kind` port of `port_type` on
    /// `service`; a refusal is logged and answered with its code.
    pub(super) fn check_route(
        &self,
        service: &ServiceDescription,
        port_type: &PortType,
        kind: PortKind,
    ) -> Result<(), RequestError> {
        self.routes
            .check(service, port_type, Some(kind))
            .map_err(|e| {
                let code = match e {
                    RouteError::TypeMismatch { .. }
                    | RouteError::UserHeaderMismatch { .. }
                    | RouteError::PatternMismatch { .. } => ErrorCode::TypeMismatch,
                    RouteError::TooManySubscribers { .. } => ErrorCode::LimitReached,
                };
                log::warn!("refused a {}: {e}", kind.noun());
                error(code, e.to_string())
            })
    }
}
