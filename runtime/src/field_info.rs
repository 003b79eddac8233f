//! [`FieldInfo`]: one field of a payload type, as
//! [`ZeroCopySafe::FIELDS`](crate::ZeroCopySafe::FIELDS) lists it.
//!
//! A sample in shared memory is bytes; a tool that prints one (an
//! inspection command, a recorder) needs to know where each field lies and
//! what it is. `#[derive(ZeroCopySafe)]` fills the list from the struct's
//! declaration; a hand-written impl leaves it empty unless it fills it
//! itself. The offsets and sizes are those of the process that compiled the
//! type, in bytes, as `u32` like every size the daemon compares.

/// One field of a `ZeroCopySafe` struct: its name, its type as written in
/// the declaration, and where its bytes lie in a sample.
///
/// ```
/// use zerocp::{FieldInfo, ZeroCopySafe};
///
/// #[derive(ZeroCopySafe)]
/// #[repr(C)]
/// struct Stamped {
///     stamp: u64,
///     value: [u16; 4],
/// }
///
/// assert_eq!(
///     Stamped::FIELDS,
///     &[
///         FieldInfo { name: "stamp", type_name: "u64", offset: 0, size: 8 },
///         FieldInfo { name: "value", type_name: "[u16; 4]", offset: 8, size: 8 },
///     ]
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldInfo {
    /// The field's name; a tuple struct's fields are `"0"`, `"1"`, ...
    pub name: &'static str,
    /// The field's type as written in the declaration, e.g. `"[f32; 9]"`.
    pub type_name: &'static str,
    /// `core::mem::offset_of!` the field, in bytes.
    pub offset: u32,
    /// `size_of` the field's type, in bytes.
    pub size: u32,
}
