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

use zerocp_core::fixed_string::FixedString;
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

    /// The type a port's payload type stands for as the daemon's ports
    /// query reports it (`zerocpctl services`, [`Runtime::services`](crate::Runtime::services)):
    /// a slice's element type is shown as `[T]`, so a name in brackets
    /// without a `;` at the top level is a slice of the name inside
    /// (`[u8]`), while `[u8; 4]` is an array. The report carries no user
    /// header, so the result has none.
    ///
    /// ```
    /// use zerocp::{PayloadShape, ServiceType, TypeInfo};
    ///
    /// use zerocp_core::fixed_string::FixedString;
    ///
    /// let name = FixedString::from_str_truncated("[u16]");
    /// let scans = ServiceType::from_reported(&TypeInfo { name, ..TypeInfo::of::<u16>() });
    /// assert_eq!(scans.shape, PayloadShape::Slice);
    /// assert_eq!(scans.payload.name.as_str(), "u16");
    /// ```
    pub fn from_reported(reported: &TypeInfo) -> Self {
        match slice_element(reported.name.as_str()) {
            Some(element) => Self::slice(TypeInfo {
                name: FixedString::from_str_truncated(element),
                ..*reported
            }),
            None => Self::sized(*reported),
        }
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

/// The user header of a port without one: `()`, as typed ports declare it.
fn no_user_header() -> TypeInfo {
    port_request::type_info::<()>()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let slice = ServiceType::from_reported(&info("[u16]", 2));
        assert_eq!(slice.shape, PayloadShape::Slice);
        assert_eq!(slice.payload.name.as_str(), "u16");
        assert_eq!(slice.payload.size, 2);
        let sized = ServiceType::from_reported(&info("[u32; 4]", 16));
        assert_eq!(sized, ServiceType::sized(info("[u32; 4]", 16)));
    }
}
