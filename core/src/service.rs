//! Service descriptions (`service/instance/event`, e.g. `Robot/Base/Pose`),
//! their validation and stable hash, and [`TypeInfo`], the payload type a port
//! declares.
//!
//! Names are checked when created and again when they arrive from the wire or
//! shared memory: each part is 1 to [`MAX_NAME_LEN`] bytes of ASCII letters,
//! digits and `_-.:/`. Both types are `#[repr(C)]` of fixed-width fields, so
//! the daemon can store them in shared memory unchanged.

use core::fmt;

use crate::fixed_string::FixedString;

/// Largest length of each part of a service description, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Largest length of a [`TypeInfo`] name, in bytes.
pub const MAX_TYPE_NAME_LEN: usize = 128;
/// How the ports of a request/response service's request channel
/// (`S/I/E:request`) prefix their request type's name: `request:<Req>`, so
/// that no plain port of `Req` joins the channel.
pub const REQUEST_TYPE_TAG: &str = "request:";
/// How the ports of its response channel (`S/I/E:response`) prefix their
/// response type's name: `response:<Resp>`.
pub const RESPONSE_TYPE_TAG: &str = "response:";

/// A service: what publishers offer and subscribers ask for.
///
/// ```
/// use zerocp_core::service::ServiceDescription;
///
/// let svc = ServiceDescription::new("Robot", "Base", "Pose")?;
/// assert_eq!(svc.to_string(), "Robot/Base/Pose");
/// assert_eq!(svc.event(), "Pose");
/// assert!(ServiceDescription::new("Robot", "", "Pose").is_err());
/// # Ok::<(), zerocp_core::service::ServiceNameError>(())
/// ```
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceDescription {
    service: FixedString<MAX_NAME_LEN>,
    instance: FixedString<MAX_NAME_LEN>,
    event: FixedString<MAX_NAME_LEN>,
}

const _: () = assert!(size_of::<ServiceDescription>() == 204);
const _: () = assert!(align_of::<ServiceDescription>() == 4);

/// Which part of a service description an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServiceField {
    /// The service part.
    Service,
    /// The instance part.
    Instance,
    /// The event part.
    Event,
}

impl fmt::Display for ServiceField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Service => "service",
            Self::Instance => "instance",
            Self::Event => "event",
        })
    }
}

/// A service, instance or event name that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServiceNameError {
    /// The part is empty.
    Empty {
        /// The part.
        field: ServiceField,
    },
    /// The part is longer than [`MAX_NAME_LEN`] bytes.
    TooLong {
        /// The part.
        field: ServiceField,
        /// Its length in bytes.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The part contains a character outside ASCII letters, digits and `_-.:/`.
    InvalidChar {
        /// The part.
        field: ServiceField,
        /// The character.
        ch: char,
        /// Its byte position in the part.
        position: usize,
    },
}

impl fmt::Display for ServiceNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { field } => write!(f, "{field} name is empty"),
            Self::TooLong { field, len, max } => {
                write!(
                    f,
                    "{field} name is {len} bytes long, at most {max} are allowed"
                )
            }
            Self::InvalidChar {
                field,
                ch,
                position,
            } => write!(
                f,
                "{field} name has {ch:?} at byte {position}; allowed are ASCII letters, digits and _-.:/"
            ),
        }
    }
}

impl core::error::Error for ServiceNameError {}

/// Whether `c` may appear in a service, instance or event name.
pub const fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')
}

fn check_part(field: ServiceField, s: &str) -> Result<FixedString<MAX_NAME_LEN>, ServiceNameError> {
    if s.is_empty() {
        return Err(ServiceNameError::Empty { field });
    }
    if let Some((position, ch)) = s.char_indices().find(|&(_, c)| !is_name_char(c)) {
        return Err(ServiceNameError::InvalidChar {
            field,
            ch,
            position,
        });
    }
    FixedString::try_from_str(s).map_err(|e| ServiceNameError::TooLong {
        field,
        len: e.len,
        max: e.capacity,
    })
}

/// FNV-1a, 64 bit: offset basis and prime from the published algorithm.
const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of `bytes`, continuing from `hash`.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

impl ServiceDescription {
    /// Checks and copies the three parts.
    pub fn new(service: &str, instance: &str, event: &str) -> Result<Self, ServiceNameError> {
        Ok(Self {
            service: check_part(ServiceField::Service, service)?,
            instance: check_part(ServiceField::Instance, instance)?,
            event: check_part(ServiceField::Event, event)?,
        })
    }

    /// Builds a description from parts that arrived from the wire or shared
    /// memory, applying the same checks as [`new`](Self::new).
    pub fn from_parts(
        service: &FixedString<MAX_NAME_LEN>,
        instance: &FixedString<MAX_NAME_LEN>,
        event: &FixedString<MAX_NAME_LEN>,
    ) -> Result<Self, ServiceNameError> {
        Self::new(service.as_str(), instance.as_str(), event.as_str())
    }

    /// Re-checks a value read as a whole from shared memory.
    pub fn validate(&self) -> Result<(), ServiceNameError> {
        Self::from_parts(&self.service, &self.instance, &self.event).map(|_| ())
    }

    /// The service part.
    pub fn service(&self) -> &str {
        self.service.as_str()
    }

    /// The instance part.
    pub fn instance(&self) -> &str {
        self.instance.as_str()
    }

    /// The event part.
    pub fn event(&self) -> &str {
        self.event.as_str()
    }

    /// A 64-bit hash that is the same in every version, on every target and in
    /// every process: 64-bit FNV-1a over, for each of service, instance and
    /// event in that order, its byte length as a little-endian `u32` followed
    /// by its bytes. (The length prefixes keep `a/bc/d` and `ab/c/d` apart.)
    ///
    /// ```
    /// use zerocp_core::service::ServiceDescription;
    /// let svc = ServiceDescription::new("Robot", "Base", "Pose")?;
    /// assert_eq!(svc.stable_hash(), 0x97f4_50f2_a71c_952c);
    /// # Ok::<(), zerocp_core::service::ServiceNameError>(())
    /// ```
    pub fn stable_hash(&self) -> u64 {
        [&self.service, &self.instance, &self.event]
            .iter()
            .fold(FNV_OFFSET_BASIS, |hash, part| {
                let bytes = part.as_bytes();
                // Parts are at most 64 bytes: the length fits a u32.
                let hash = fnv1a(hash, &(bytes.len() as u32).to_le_bytes());
                fnv1a(hash, bytes)
            })
    }
}

impl fmt::Display for ServiceDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.service, self.instance, self.event)
    }
}

impl fmt::Debug for ServiceDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceDescription({self})")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ServiceDescription {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}/{}/{}", self.service, self.instance, self.event);
    }
}

/// The payload type of a port: size, alignment and name. Publishers and
/// subscribers of one service must declare equal `TypeInfo`s.
///
/// ```
/// use zerocp_core::service::TypeInfo;
/// let t = TypeInfo::of::<[u32; 4]>();
/// assert_eq!((t.size, t.align), (16, 4));
/// assert_eq!(t.name.as_str(), "[u32; 4]");
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TypeInfo {
    /// `size_of::<T>()`.
    pub size: u32,
    /// `align_of::<T>()`.
    pub align: u32,
    /// `core::any::type_name::<T>()`, cut at a character boundary to at most
    /// [`MAX_TYPE_NAME_LEN`] bytes.
    pub name: FixedString<MAX_TYPE_NAME_LEN>,
}

const _: () = assert!(size_of::<TypeInfo>() == 140);
const _: () = assert!(align_of::<TypeInfo>() == 4);

impl TypeInfo {
    /// The `TypeInfo` of `T`. A size above `u32::MAX` is saturated to
    /// `u32::MAX`, which no chunk can hold, so such a type is refused when a
    /// port is created rather than silently truncated.
    pub fn of<T>() -> Self {
        Self {
            size: u32::try_from(size_of::<T>()).unwrap_or(u32::MAX),
            align: u32::try_from(align_of::<T>()).unwrap_or(u32::MAX),
            name: FixedString::from_str_truncated(core::any::type_name::<T>()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn svc(a: &str, b: &str, c: &str) -> ServiceDescription {
        ServiceDescription::new(a, b, c).unwrap()
    }

    #[test]
    fn fnv1a_matches_published_vectors() {
        // Test vectors of the FNV reference (64-bit FNV-1a).
        assert_eq!(fnv1a(FNV_OFFSET_BASIS, b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(FNV_OFFSET_BASIS, b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(FNV_OFFSET_BASIS, b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn stable_hash_known_values() {
        // Computed independently (outside Rust) from the documented recipe.
        assert_eq!(
            svc("Robot", "Base", "Pose").stable_hash(),
            0x97f4_50f2_a71c_952c
        );
        assert_eq!(svc("a", "b", "c").stable_hash(), 0xa010_5c06_a5af_c712);
        // Length prefixes separate otherwise equal concatenations.
        assert_ne!(
            svc("a", "bc", "d").stable_hash(),
            svc("ab", "c", "d").stable_hash()
        );
    }

    #[test]
    fn validation_names_field_and_position() {
        use ServiceField::*;
        use ServiceNameError::*;
        assert_eq!(
            ServiceDescription::new("", "b", "c"),
            Err(Empty { field: Service })
        );
        assert_eq!(
            ServiceDescription::new("a", "b c", "d"),
            Err(InvalidChar {
                field: Instance,
                ch: ' ',
                position: 1
            })
        );
        assert_eq!(
            ServiceDescription::new("a", "b", "xé"),
            Err(InvalidChar {
                field: Event,
                ch: 'é',
                position: 1
            })
        );
        let long = "x".repeat(65);
        assert_eq!(
            ServiceDescription::new("a", "b", &long),
            Err(TooLong {
                field: Event,
                len: 65,
                max: 64
            })
        );
        let ok = svc("Robot_1", "base-2.left", "ns:/pose");
        assert_eq!(ok.to_string(), "Robot_1/base-2.left/ns:/pose");
        assert!(ok.validate().is_ok());
        assert_eq!(
            std::format!("{ok:?}"),
            "ServiceDescription(Robot_1/base-2.left/ns:/pose)"
        );
    }

    #[test]
    fn type_info_of_primitives() {
        let t = TypeInfo::of::<u64>();
        assert_eq!((t.size, t.align, t.name.as_str()), (8, 8, "u64"));
        assert_eq!(TypeInfo::of::<()>().size, 0);
    }
}
