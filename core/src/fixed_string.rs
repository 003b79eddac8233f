//! `FixedString<N>`: a UTF-8 string of at most `N` bytes stored inline, with a
//! layout fixed by `#[repr(C)]`, for shared memory and the wire format.
//!
//! Why not `heapless::String`? Its layout is not specified (it is a plain Rust
//! struct whose field order and length type the compiler and the crate are free
//! to change, and its default length type is `usize`, 4 bytes on armv7 and 8 on
//! aarch64). A type that two processes (or two builds for different targets)
//! map from the same bytes needs a layout written down: here a `u32` length
//! followed by `N` bytes, the same everywhere.
//!
//! Strings built through the constructors are valid by construction: the length
//! is at most `N`, the bytes up to the length are UTF-8 and the bytes after it
//! are zero. Bytes that come from shared memory or the network may be anything,
//! so [`FixedString::from_raw`] and [`FixedString::from_bytes`] check them and
//! return a typed [`FixedStringError`].

use core::fmt;
use core::hash::{Hash, Hasher};

/// A UTF-8 string of at most `N` bytes, stored inline (`#[repr(C)]`: a `u32`
/// length, then `N` bytes, the bytes past the length zero).
///
/// ```
/// use zerocp_core::fixed_string::FixedString;
///
/// let name = FixedString::<16>::try_from_str("planner")?;
/// assert_eq!(name.as_str(), "planner");
/// assert_eq!(name.len(), 7);
/// assert!(FixedString::<4>::try_from_str("too long").is_err());
/// # Ok::<(), zerocp_core::fixed_string::CapacityError>(())
/// ```
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FixedString<const N: usize> {
    len: u32,
    bytes: [u8; N],
}

const _: () = assert!(size_of::<FixedString<32>>() == 36);
const _: () = assert!(size_of::<FixedString<64>>() == 68);
const _: () = assert!(size_of::<FixedString<128>>() == 132);
const _: () = assert!(align_of::<FixedString<64>>() == 4);

/// An input was longer than the capacity of a fixed-capacity container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CapacityError {
    /// Length of the input (bytes for strings, items for vectors).
    pub len: usize,
    /// Capacity of the container.
    pub capacity: usize,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "input of length {} exceeds the capacity of {}",
            self.len, self.capacity
        )
    }
}

impl core::error::Error for CapacityError {}

/// Bytes read from shared memory or the wire do not form a valid `FixedString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FixedStringError {
    /// The stored length is larger than the capacity.
    TooLong {
        /// The length found.
        len: usize,
        /// The capacity `N`.
        capacity: usize,
    },
    /// The bytes up to the length are not UTF-8.
    InvalidUtf8 {
        /// Number of leading bytes that are valid UTF-8.
        valid_up_to: usize,
    },
}

impl fmt::Display for FixedStringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len, capacity } => {
                write!(f, "string length {len} exceeds the capacity of {capacity}")
            }
            Self::InvalidUtf8 { valid_up_to } => {
                write!(f, "string is not UTF-8 after byte {valid_up_to}")
            }
        }
    }
}

impl core::error::Error for FixedStringError {}

impl<const N: usize> FixedString<N> {
    const CAPACITY_FITS_U32: () = assert!(N <= u32::MAX as usize, "capacity must fit in a u32");

    /// The empty string.
    ///
    /// ```
    /// use zerocp_core::fixed_string::FixedString;
    /// assert!(FixedString::<8>::new().is_empty());
    /// ```
    pub const fn new() -> Self {
        let () = Self::CAPACITY_FITS_U32;
        Self {
            len: 0,
            bytes: [0; N],
        }
    }

    /// Copies `s`, or fails if it is longer than `N` bytes.
    pub fn try_from_str(s: &str) -> Result<Self, CapacityError> {
        if s.len() > N {
            return Err(CapacityError {
                len: s.len(),
                capacity: N,
            });
        }
        Ok(Self::copy_valid(s.as_bytes()))
    }

    /// Copies the longest prefix of `s` that fits in `N` bytes and ends on a
    /// character boundary (used for type names, which may be long).
    ///
    /// ```
    /// use zerocp_core::fixed_string::FixedString;
    /// // "é" is two bytes: cutting after 2 bytes would split it.
    /// assert_eq!(FixedString::<2>::from_str_truncated("aé").as_str(), "a");
    /// ```
    pub fn from_str_truncated(s: &str) -> Self {
        let mut end = s.len().min(N);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Self::copy_valid(&s.as_bytes()[..end])
    }

    /// Checks bytes that arrived from outside (wire, file): at most `N` of
    /// them, and UTF-8.
    ///
    /// ```
    /// use zerocp_core::fixed_string::{FixedString, FixedStringError};
    /// assert_eq!(FixedString::<8>::from_bytes(b"ok").unwrap().as_str(), "ok");
    /// assert_eq!(
    ///     FixedString::<8>::from_bytes(&[0xff]),
    ///     Err(FixedStringError::InvalidUtf8 { valid_up_to: 0 })
    /// );
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FixedStringError> {
        if bytes.len() > N {
            return Err(FixedStringError::TooLong {
                len: bytes.len(),
                capacity: N,
            });
        }
        match core::str::from_utf8(bytes) {
            Ok(_) => Ok(Self::copy_valid(bytes)),
            Err(e) => Err(FixedStringError::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            }),
        }
    }

    /// Checks a raw `(len, bytes)` pair as found in shared memory. Bytes past
    /// `len` are ignored (and zeroed in the result).
    pub fn from_raw(len: u32, bytes: &[u8; N]) -> Result<Self, FixedStringError> {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        match bytes.get(..len) {
            Some(valid) => Self::from_bytes(valid),
            None => Err(FixedStringError::TooLong { len, capacity: N }),
        }
    }

    /// Re-checks the invariants of a value that may have been read from
    /// shared memory as a whole (e.g. through a reference into a segment).
    pub fn validate(&self) -> Result<(), FixedStringError> {
        Self::from_raw(self.len, &self.bytes).map(|_| ())
    }

    fn copy_valid(src: &[u8]) -> Self {
        let mut out = Self::new();
        out.bytes[..src.len()].copy_from_slice(src);
        // `src.len() <= N <= u32::MAX` (checked by every caller and by
        // `CAPACITY_FITS_U32`), so the conversion is exact.
        out.len = src.len() as u32;
        out
    }

    /// The string. For a value read as a whole from shared memory that was not
    /// validated, a length past `N` is clamped and invalid UTF-8 is cut at the
    /// last valid character: this never panics and never reads out of bounds.
    pub fn as_str(&self) -> &str {
        let bytes = self.as_bytes();
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        }
    }

    /// The bytes up to the length (clamped to `N`).
    pub fn as_bytes(&self) -> &[u8] {
        let len = usize::try_from(self.len).map_or(N, |l| l.min(N));
        &self.bytes[..len]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity `N` in bytes.
    pub const fn capacity(&self) -> usize {
        N
    }
}

impl<const N: usize> Default for FixedString<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> PartialEq for FixedString<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> Eq for FixedString<N> {}

impl<const N: usize> PartialEq<str> for FixedString<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialEq<&str> for FixedString<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> PartialOrd for FixedString<N> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> Ord for FixedString<N> {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl<const N: usize> Hash for FixedString<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// With the feature `serde`: serialised as the string it holds (so a wire
/// answer with a name, e.g. a mempool's group, serialises as JSON text).
#[cfg(feature = "serde")]
impl<const N: usize> serde::Serialize for FixedString<N> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for FixedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for FixedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for FixedString<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str());
    }
}

impl<const N: usize> TryFrom<&str> for FixedString<N> {
    type Error = CapacityError;

    fn try_from(s: &str) -> Result<Self, CapacityError> {
        Self::try_from_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_too_long() {
        let s = FixedString::<5>::try_from_str("hello").unwrap();
        assert_eq!(s.as_str(), "hello");
        assert_eq!(s.capacity(), 5);
        assert_eq!(
            FixedString::<5>::try_from_str("hello!"),
            Err(CapacityError {
                len: 6,
                capacity: 5
            })
        );
        assert!(FixedString::<0>::try_from_str("").unwrap().is_empty());
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(FixedString::<3>::from_str_truncated("a€").as_str(), "a");
        assert_eq!(FixedString::<4>::from_str_truncated("a€b").as_str(), "a€");
        assert_eq!(
            FixedString::<9>::from_str_truncated("short").as_str(),
            "short"
        );
    }

    #[test]
    fn from_raw_rejects_garbage() {
        let mut bytes = [0u8; 4];
        bytes[..2].copy_from_slice(b"ok");
        bytes[3] = 0xAA;
        let s = FixedString::from_raw(2, &bytes).unwrap();
        assert_eq!(s, "ok");
        // Bytes past the length are zeroed, so equal strings are equal bytes.
        assert_eq!(s.bytes, [b'o', b'k', 0, 0]);
        assert_eq!(
            FixedString::from_raw(5, &bytes),
            Err(FixedStringError::TooLong {
                len: 5,
                capacity: 4
            })
        );
        assert_eq!(
            FixedString::from_raw(u32::MAX, &bytes),
            Err(FixedStringError::TooLong {
                len: u32::MAX as usize,
                capacity: 4
            })
        );
        assert_eq!(
            FixedString::from_raw(4, &[b'a', 0xC3, b'b', b'c']),
            Err(FixedStringError::InvalidUtf8 { valid_up_to: 1 })
        );
    }

    #[test]
    fn corrupted_in_place_values_never_panic() {
        let bad = FixedString::<4> {
            len: 900,
            bytes: [b'a', b'b', 0xFF, b'c'],
        };
        assert_eq!(bad.as_str(), "ab");
        assert_eq!(bad.len(), 4);
        assert!(bad.validate().is_err());
        assert!(
            FixedString::<4>::try_from_str("ab")
                .unwrap()
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn eq_ord_display() {
        let a = FixedString::<8>::try_from_str("abc").unwrap();
        let b = FixedString::<8>::try_from_str("abd").unwrap();
        assert!(a < b);
        assert_ne!(a, b);
        assert_eq!(std::format!("{a}"), "abc");
        assert_eq!(std::format!("{a:?}"), "\"abc\"");
    }
}
