//! Errors of [`encode`](super::encode) and [`decode`](super::decode).

use core::fmt;

use super::frame::MessageKind;
use crate::fixed_string::FixedStringError;
use crate::service::ServiceNameError;

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The buffer is smaller than the frame (a buffer of
    /// [`MAX_FRAME_SIZE`](super::MAX_FRAME_SIZE) bytes always suffices).
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed, available } => {
                write!(f, "frame needs {needed} bytes, the buffer has {available}")
            }
        }
    }
}

impl core::error::Error for EncodeError {}

/// Why bytes are not a valid frame. Each variant names what was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// Fewer bytes than a frame header.
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// More bytes than [`MAX_FRAME_SIZE`](super::MAX_FRAME_SIZE).
    TooLong {
        /// Bytes received.
        len: usize,
    },
    /// The magic number is not [`FRAME_MAGIC`](super::FRAME_MAGIC).
    BadMagic {
        /// The magic found.
        found: u16,
    },
    /// The protocol version is not [`PROTOCOL_VERSION`](super::PROTOCOL_VERSION).
    UnsupportedVersion {
        /// The version found.
        found: u8,
    },
    /// The message kind is not known.
    UnknownKind {
        /// The kind byte found.
        kind: u8,
    },
    /// The header's reserved field is not zero.
    ReservedNonZero {
        /// The value found.
        value: u16,
    },
    /// The header's body length does not match the bytes after the header.
    LengthMismatch {
        /// Body length in the header.
        header: u16,
        /// Bytes actually following the header.
        actual: usize,
    },
    /// The body ended in the middle of a field.
    BodyTruncated {
        /// The message being decoded.
        kind: MessageKind,
        /// Bytes the next field needs.
        needed: usize,
        /// Bytes left in the body.
        available: usize,
    },
    /// Bytes are left after the last field of the body.
    TrailingBytes {
        /// The message decoded.
        kind: MessageKind,
        /// Number of extra bytes.
        count: usize,
    },
    /// A string field is too long or not UTF-8.
    InvalidString {
        /// The field, as `Type.field`.
        field: &'static str,
        /// What is wrong with it.
        error: FixedStringError,
    },
    /// A service description field holds a name that is not allowed.
    InvalidServiceName {
        /// The field, as `Type.field`.
        field: &'static str,
        /// What is wrong with it.
        error: ServiceNameError,
    },
    /// An enumeration field holds a value with no meaning.
    InvalidEnum {
        /// The field, as `Type.field`.
        field: &'static str,
        /// The value found.
        value: u16,
    },
    /// A list holds more entries than it may.
    TooManyEntries {
        /// The field, as `Type.field`.
        field: &'static str,
        /// The count found.
        count: u16,
        /// The maximum.
        max: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => write!(f, "frame of {len} bytes is shorter than its header"),
            Self::TooLong { len } => write!(
                f,
                "frame of {len} bytes exceeds the maximum of {}",
                super::MAX_FRAME_SIZE
            ),
            Self::BadMagic { found } => write!(
                f,
                "bad frame magic {found:#06x}, expected {:#06x}",
                super::FRAME_MAGIC
            ),
            Self::UnsupportedVersion { found } => write!(
                f,
                "unsupported protocol version {found}, this side speaks {}",
                super::PROTOCOL_VERSION
            ),
            Self::UnknownKind { kind } => write!(f, "unknown message kind {kind:#04x}"),
            Self::ReservedNonZero { value } => {
                write!(f, "frame header reserved field is {value:#06x}, not 0")
            }
            Self::LengthMismatch { header, actual } => write!(
                f,
                "frame header announces a {header}-byte body, {actual} bytes follow"
            ),
            Self::BodyTruncated {
                kind,
                needed,
                available,
            } => write!(
                f,
                "{kind:?} body truncated: next field needs {needed} bytes, {available} left"
            ),
            Self::TrailingBytes { kind, count } => {
                write!(f, "{kind:?} body has {count} unexpected trailing bytes")
            }
            Self::InvalidString { field, error } => write!(f, "{field}: {error}"),
            Self::InvalidServiceName { field, error } => write!(f, "{field}: {error}"),
            Self::InvalidEnum { field, value } => write!(f, "{field}: invalid value {value}"),
            Self::TooManyEntries { field, count, max } => {
                write!(f, "{field}: {count} entries, at most {max} allowed")
            }
        }
    }
}

impl core::error::Error for DecodeError {}
