//! Field encoding: a bounds-checked reader and writer, and the [`Wire`] trait
//! every field type implements.
//!
//! Integers are little-endian of their width. A string is a `u16` byte length
//! then the UTF-8 bytes. A list is a `u16` entry count then the entries. A
//! struct is its fields in declaration order, with no padding. An enum is its
//! code (`u8`, or `u16` for [`ErrorCode`](super::ErrorCode)).

use super::error::DecodeError;
use super::frame::MessageKind;
use crate::fixed_string::FixedString;
use crate::port::FullPolicy;
use crate::service::{MAX_NAME_LEN, ServiceDescription, TypeInfo};

/// Reads fields from a frame body; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    kind: MessageKind,
}

impl<'a> Reader<'a> {
    /// Reads the body of a `kind` message.
    pub(crate) fn new(bytes: &'a [u8], kind: MessageKind) -> Self {
        Self { bytes, kind }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let Some((head, rest)) = self.bytes.split_at_checked(n) else {
            return Err(DecodeError::BodyTruncated {
                kind: self.kind,
                needed: n,
                available: self.bytes.len(),
            });
        };
        self.bytes = rest;
        Ok(head)
    }

    /// The next `M` bytes as an array.
    fn array<const M: usize>(&mut self) -> Result<[u8; M], DecodeError> {
        let kind = self.kind;
        let available = self.bytes.len();
        let Some((head, rest)) = self.bytes.split_first_chunk::<M>() else {
            return Err(DecodeError::BodyTruncated {
                kind,
                needed: M,
                available,
            });
        };
        self.bytes = rest;
        Ok(*head)
    }

    /// Fails if bytes are left.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                kind: self.kind,
                count: self.bytes.len(),
            })
        }
    }
}

/// Writes fields into a caller's buffer. Writing past the end is not an
/// error here: the writer keeps counting, so the caller learns the size the
/// frame needs ([`Writer::len`]) and reports it.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// Writes from the start of `buf`.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Appends `bytes` (or only counts them when the buffer is full).
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.pos.saturating_add(bytes.len());
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
        }
        self.pos = end;
    }

    /// Bytes written (or that would have been written).
    pub(crate) fn len(&self) -> usize {
        self.pos
    }

    /// The buffer (to patch the header after the body is written).
    pub(crate) fn buf(&mut self) -> &mut [u8] {
        self.buf
    }
}

/// A value with a wire encoding.
pub(crate) trait Wire: Sized {
    /// Largest encoded size in bytes.
    const MAX_LEN: usize;
    /// Appends the encoding.
    fn put(&self, w: &mut Writer<'_>);
    /// Reads a value; `field` names it in errors (`Type.field`).
    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError>;
}

macro_rules! wire_int {
    ($($ty:ty),*) => {$(
        impl Wire for $ty {
            const MAX_LEN: usize = size_of::<$ty>();
            fn put(&self, w: &mut Writer<'_>) {
                w.put(&self.to_le_bytes());
            }
            fn get(r: &mut Reader<'_>, _field: &'static str) -> Result<Self, DecodeError> {
                r.array().map(<$ty>::from_le_bytes)
            }
        }
    )*};
}

wire_int!(u8, u16, u32, u64);

/// Appends a length-prefixed string (callers guarantee `s.len() <= u16::MAX`:
/// every string is a `FixedString` of at most 128 bytes).
fn put_str(w: &mut Writer<'_>, s: &str) {
    (s.len() as u16).put(w);
    w.put(s.as_bytes());
}

impl<const N: usize> Wire for FixedString<N> {
    const MAX_LEN: usize = 2 + N;

    fn put(&self, w: &mut Writer<'_>) {
        put_str(w, self.as_str());
    }

    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        let len = u16::get(r, field)?;
        let bytes = r.take(usize::from(len))?;
        FixedString::from_bytes(bytes).map_err(|error| DecodeError::InvalidString { field, error })
    }
}

impl Wire for ServiceDescription {
    const MAX_LEN: usize = 3 * FixedString::<MAX_NAME_LEN>::MAX_LEN;

    fn put(&self, w: &mut Writer<'_>) {
        put_str(w, self.service());
        put_str(w, self.instance());
        put_str(w, self.event());
    }

    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        let service = FixedString::<MAX_NAME_LEN>::get(r, field)?;
        let instance = FixedString::get(r, field)?;
        let event = FixedString::get(r, field)?;
        ServiceDescription::from_parts(&service, &instance, &event)
            .map_err(|error| DecodeError::InvalidServiceName { field, error })
    }
}

impl Wire for TypeInfo {
    const MAX_LEN: usize = 4 + 4 + FixedString::<{ crate::service::MAX_TYPE_NAME_LEN }>::MAX_LEN;

    fn put(&self, w: &mut Writer<'_>) {
        self.size.put(w);
        self.align.put(w);
        self.name.put(w);
    }

    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        Ok(Self {
            size: u32::get(r, field)?,
            align: u32::get(r, field)?,
            name: FixedString::get(r, field)?,
        })
    }
}

/// The shared-memory policy word's value as a `u8` code.
impl Wire for FullPolicy {
    const MAX_LEN: usize = 1;

    fn put(&self, w: &mut Writer<'_>) {
        (*self as u8).put(w);
    }

    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        let code = u8::get(r, field)?;
        FullPolicy::from_word(u32::from(code)).ok_or(DecodeError::InvalidEnum {
            field,
            value: u16::from(code),
        })
    }
}

impl<T: Wire, const K: usize> Wire for heapless::Vec<T, K> {
    const MAX_LEN: usize = 2 + K * T::MAX_LEN;

    fn put(&self, w: &mut Writer<'_>) {
        // Every list fits a frame (asserted in `wire`), so its count fits a u16.
        (self.len() as u16).put(w);
        for item in self {
            item.put(w);
        }
    }

    fn get(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        let count = u16::get(r, field)?;
        let too_many = DecodeError::TooManyEntries {
            field,
            count,
            max: K,
        };
        if usize::from(count) > K {
            return Err(too_many);
        }
        let mut out = heapless::Vec::new();
        for _ in 0..count {
            out.push(T::get(r, field)?).map_err(|_| too_many)?;
        }
        Ok(out)
    }
}

/// Declares a message payload struct (public fields, documented) and its
/// [`Wire`] encoding: the fields in order; errors name `Struct.field`.
/// Attributes on the struct and its fields are passed through (docs, and
/// e.g. `#[cfg_attr(feature = "serde", derive(serde::Serialize))]`).
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::wire::codec::Wire for $name {
            const MAX_LEN: usize = 0 $( + <$ty as $crate::wire::codec::Wire>::MAX_LEN )*;

            fn put(&self, _w: &mut $crate::wire::codec::Writer<'_>) {
                $( <$ty as $crate::wire::codec::Wire>::put(&self.$field, _w); )*
            }

            fn get(
                _r: &mut $crate::wire::codec::Reader<'_>,
                _field: &'static str,
            ) -> Result<Self, $crate::wire::DecodeError> {
                Ok(Self {
                    $( $field: <$ty as $crate::wire::codec::Wire>::get(
                        _r,
                        concat!(stringify!($name), ".", stringify!($field)),
                    )?, )*
                })
            }
        }
    };
}

/// Declares a fieldless enum with explicit codes of type `$repr` and its
/// [`Wire`] encoding; unknown codes are [`DecodeError::InvalidEnum`].
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident : $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[repr($repr)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )*
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$( Self::$variant, )*];

            /// The value with code `code`, if any.
            pub const fn from_code(code: $repr) -> Option<Self> {
                match code {
                    $( $value => Some(Self::$variant), )*
                    _ => None,
                }
            }

            /// The name of the value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => stringify!($variant), )*
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::wire::codec::Wire for $name {
            const MAX_LEN: usize = size_of::<$repr>();

            fn put(&self, w: &mut $crate::wire::codec::Writer<'_>) {
                (*self as $repr).put(w);
            }

            fn get(
                r: &mut $crate::wire::codec::Reader<'_>,
                field: &'static str,
            ) -> Result<Self, $crate::wire::DecodeError> {
                let code = <$repr>::get(r, field)?;
                Self::from_code(code).ok_or($crate::wire::DecodeError::InvalidEnum {
                    field,
                    value: u16::from(code),
                })
            }
        }
    };
}

pub(crate) use {wire_enum, wire_struct};
