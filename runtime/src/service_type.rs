//! [`ServiceType`]: a publish/subscribe service's type as the daemon
//! compares it — the payload's [`TypeInfo`] (a slice's element's), its
//! [`PayloadShape`] and the user header's `TypeInfo` — held as a value, for
//! ports whose type is known at run time only
//! ([`UntypedSubscriber`](crate::UntypedSubscriber)).
//!
//! A typed port derives it from its Rust types ([`ServiceType::of`]); a
//! tool that observes a service it was not compiled for builds it from what
//! the daemon reports about the service's ports. Either way the daemon
//! checks it against the service's registered type exactly as for any
//! port: a `ServiceType` opens no way around the type check.

use zerocp_core::service::TypeInfo;
use zerocp_core::wire::PayloadShape;

use crate::ZeroCopySafe;
use crate::payload::Payload;
use crate::port_request;

/// A service's type as the daemon checks it (module docs).
///
/// ```
/// use zerocp::{PayloadShape, ServiceType, TypeInfo};
///
/// let scans = ServiceType::of::<[f32], ()>();
/// assert_eq!(scans.shape, PayloadShape::Slice);
/// assert_eq!(scans.payload.size, 4); // one element
/// assert_eq!(scans, ServiceType::slice(scans.payload));
/// assert!(!scans.has_user_header());
/// let framed = ServiceType::sized(TypeInfo::of::<u64>())
///     .with_user_header(TypeInfo::of::<u32>());
/// assert!(framed.has_user_header());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceType {
    /// The payload type; for a slice, its element type.
    pub payload: TypeInfo,
    /// One value of `payload`, or a slice of them.
    pub shape: PayloadShape,
    /// The user header type beside every payload; that of `()` (size 0)
    /// for none.
    pub user_header: TypeInfo,
}

impl ServiceType {
    /// The type of ports of payload `P` with user header `H` (`()` for none).
    pub fn of<P: ?Sized + Payload, H: ZeroCopySafe>() -> Self {
        Self {
            payload: P::type_info(),
            shape: P::SHAPE,
            user_header: port_request::type_info::<H>(),
        }
    }

    /// One value of `payload` per sample, no user header.
    pub fn sized(payload: TypeInfo) -> Self {
        Self {
            payload,
            shape: PayloadShape::Sized,
            user_header: no_user_header(),
        }
    }

    /// A slice of `element`s per sample, no user header.
    pub fn slice(element: TypeInfo) -> Self {
        Self {
            shape: PayloadShape::Slice,
            ..Self::sized(element)
        }
    }

    /// The same payload with a user header of type `header`.
    pub fn with_user_header(self, header: TypeInfo) -> Self {
        Self {
            user_header: header,
            ..self
        }
    }

    /// Whether samples carry a user header.
    pub fn has_user_header(&self) -> bool {
        self.user_header != no_user_header()
    }
}

/// The user header of a port without one: `()`, as typed ports declare it.
fn no_user_header() -> TypeInfo {
    port_request::type_info::<()>()
}
