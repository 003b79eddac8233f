//! [`PortType`]: what a publish/subscribe port declares about its samples
//! (the payload type, one value or a slice of it, the user header type),
//! which the route table compares between all ports of a service, and the
//! chunk bytes a publisher of it needs, by which the daemon picks its pool.
//!
//! A slice service (`Publisher<[T]>`) declares the element's `TypeInfo`
//! with the shape [`PayloadShape::Slice`]: it is a service distinct from
//! one of `T` and from one of `[U]`. A service without user header
//! declares `()` (size 0) as its header, so a port expecting a header and
//! one without never meet.

use std::fmt;

use zerocp_core::chunk_header::{CHUNK_HEADER_SIZE, payload_offset, payload_offset_after};
use zerocp_core::fixed_string::FixedString;
use zerocp_core::service::TypeInfo;
use zerocp_core::wire::{CreatePublisher, CreateSubscriber, PayloadShape};

/// The types a port's samples carry; equal on every port of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortType {
    /// The payload type (a slice's element type).
    pub payload: TypeInfo,
    /// One value or a slice of `payload`.
    pub shape: PayloadShape,
    /// The user header type; `()` for none.
    pub user_header: TypeInfo,
}

/// Why a port type cannot be placed in a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortTypeError {
    /// An alignment (payload or user header) that is not a power of two
    /// of at most 64.
    Align {
        /// What it is about and why, as logged and answered.
        detail: String,
    },
    /// A slice of a zero-sized element, or a publisher's slice length that
    /// does not match its shape.
    SliceLength {
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for PortTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Align { detail } | Self::SliceLength { detail } => f.write_str(detail),
        }
    }
}

impl std::error::Error for PortTypeError {}

impl PortType {
    /// A sized payload without user header (event ports, tests).
    pub fn sized(payload: TypeInfo) -> Self {
        Self {
            payload,
            shape: PayloadShape::Sized,
            user_header: TypeInfo::of::<()>(),
        }
    }

    /// What a publisher request declares.
    pub fn of_publisher(msg: &CreatePublisher) -> Self {
        Self {
            payload: msg.type_info,
            shape: msg.shape,
            user_header: msg.user_header,
        }
    }

    /// What a subscriber request declares.
    pub fn of_subscriber(msg: &CreateSubscriber) -> Self {
        Self {
            payload: msg.type_info,
            shape: msg.shape,
            user_header: msg.user_header,
        }
    }

    /// The chunk bytes after the chunk header that a sample of at most
    /// `max_slice_len` elements needs (user header, padding, payload); the
    /// daemon picks the smallest pool whose chunks hold them. A sized
    /// payload needs `max_slice_len` 0; a subscriber of a slice passes 1 (its
    /// pool only counts its quota). Saturates at `u32::MAX`, which no pool
    /// holds.
    pub fn chunk_bytes(&self, max_slice_len: u32) -> Result<u32, PortTypeError> {
        let name = self.payload.name.as_str();
        let align_error = |what: &str, e| PortTypeError::Align {
            detail: format!("{what} `{name}`: {e}"),
        };
        payload_offset(self.user_header.align).map_err(|e| PortTypeError::Align {
            detail: format!("user header `{}`: {e}", self.user_header.name.as_str()),
        })?;
        let offset = payload_offset_after(self.user_header.size, self.payload.align)
            .map_err(|e| align_error("type", e))?;
        let elements = match (self.shape, max_slice_len) {
            (PayloadShape::Sized, 0) => 1,
            (PayloadShape::Slice, 1..) if self.payload.size > 0 => max_slice_len,
            (PayloadShape::Slice, _) if self.payload.size == 0 => {
                return Err(PortTypeError::SliceLength {
                    detail: format!("a slice of the zero-sized type `{name}` carries no data"),
                });
            }
            (shape, len) => {
                return Err(PortTypeError::SliceLength {
                    detail: format!(
                        "a {shape} payload of `{name}` with maximum slice length {len}"
                    ),
                });
            }
        };
        let payload = u64::from(self.payload.size) * u64::from(elements);
        let bytes = u64::from(offset - CHUNK_HEADER_SIZE) + payload;
        Ok(u32::try_from(bytes).unwrap_or(u32::MAX))
    }

    /// The type as messages name it: `` `u64` (size 8, align 8) ``, a slice
    /// as `` `[u8]` (element size 1, align 1) ``.
    pub fn describe_payload(&self) -> String {
        let t = &self.payload;
        match self.shape {
            PayloadShape::Sized => describe(t),
            PayloadShape::Slice => format!(
                "a slice `[{}]` (element size {}, align {})",
                t.name.as_str(),
                t.size,
                t.align
            ),
        }
    }

    /// The payload type as introspection shows it: a slice's element type
    /// with its name in brackets (`[u16]`, cut to the name's capacity).
    pub fn shown(&self) -> TypeInfo {
        match self.shape {
            PayloadShape::Sized => self.payload,
            PayloadShape::Slice => TypeInfo {
                name: FixedString::from_str_truncated(&format!("[{}]", self.payload.name.as_str())),
                ..self.payload
            },
        }
    }

    /// The user header as messages name it (`no user header` for `()`).
    pub fn describe_user_header(&self) -> String {
        if self.user_header == TypeInfo::of::<()>() {
            "no user header".to_owned()
        } else {
            format!("user header {}", describe(&self.user_header))
        }
    }
}

/// A type as messages name it: `` `u64` (size 8, align 8) ``.
pub fn describe(t: &TypeInfo) -> String {
    format!("`{}` (size {}, align {})", t.name.as_str(), t.size, t.align)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_bytes_count_header_padding_and_the_longest_slice() {
        let bytes = PortType {
            payload: TypeInfo::of::<u16>(),
            shape: PayloadShape::Slice,
            user_header: TypeInfo::of::<[u8; 3]>(),
        };
        // header at 64..67, payload at 68: 4 + 2 * 100.
        assert_eq!(bytes.chunk_bytes(100), Ok(204));
        assert!(bytes.chunk_bytes(0).is_err());
        let sized = PortType::sized(TypeInfo::of::<u64>());
        assert_eq!(sized.chunk_bytes(0), Ok(8));
        assert!(sized.chunk_bytes(4).is_err());
        let huge = PortType {
            payload: TypeInfo::of::<u64>(),
            ..bytes
        };
        assert_eq!(huge.chunk_bytes(u32::MAX), Ok(u32::MAX));
        let zst = PortType {
            payload: TypeInfo::of::<()>(),
            ..bytes
        };
        assert!(
            zst.chunk_bytes(1)
                .unwrap_err()
                .to_string()
                .contains("zero-sized")
        );
    }

    #[test]
    fn descriptions_name_the_shape_and_the_header() {
        let slice = PortType {
            payload: TypeInfo::of::<u8>(),
            shape: PayloadShape::Slice,
            user_header: TypeInfo::of::<u32>(),
        };
        assert_eq!(
            slice.describe_payload(),
            "a slice `[u8]` (element size 1, align 1)"
        );
        assert_eq!(
            slice.describe_user_header(),
            "user header `u32` (size 4, align 4)"
        );
        let sized = PortType::sized(TypeInfo::of::<u8>());
        assert_eq!(sized.describe_payload(), "`u8` (size 1, align 1)");
        assert_eq!(sized.describe_user_header(), "no user header");
        assert_eq!(slice.shown().name.as_str(), "[u8]");
        assert_eq!(sized.shown(), sized.payload);
    }
}
