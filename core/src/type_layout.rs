//! [`TypeLayout`]: a payload type describing itself, field by field, so
//! that tools can print its samples (`zerocpctl echo`, `zerocpctl info`)
//! without being compiled for it.
//!
//! A layout is a bounded list of [`LayoutField`]s: a name (dotted for the
//! fields of nested structs, `pose.x`; indexed for arrays of structs,
//! `points[1].y`), a byte offset in the sample, a primitive
//! [`FieldKind`] and a count (1 for a scalar, `N` for an array of `N`
//! primitives). Bytes no primitive describes (`u128`, a hand-written type
//! without a description) are one [`FieldKind::Bytes`] field of their size.
//!
//! The bounds are fixed so the layout fits a control-plane frame beside a
//! port request: at most [`MAX_LAYOUT_FIELDS`] fields, each name at most
//! [`MAX_FIELD_NAME_LEN`] bytes. A type with more fields is described by
//! its first ones, with [`LayoutState::Truncated`]; a longer name is cut at
//! a character boundary. A type that does not describe itself has
//! [`LayoutState::Unknown`] and no fields: tools print its samples in hex.
//! Going over a bound is never an error for the user.
//!
//! A layout travels in the create requests (protocol version 10) and the
//! daemon keeps it in its heap, per service; it is never placed in shared
//! memory. It is built from the static [`TypeDescription`] a type's
//! `ZeroCopySafe` impl gives ([`TypeLayout::describe`]); whoever receives
//! one treats it as hostile input and checks it with [`TypeLayout::check`]
//! against the type's size before any offset in it is used.

mod build;
mod check;
mod description;

pub use check::LayoutError;
pub use description::{FieldDescription, TypeDescription};

use crate::fixed_string::FixedString;
use crate::wire::codec::{wire_enum, wire_struct};

/// Most fields a [`TypeLayout`] holds.
pub const MAX_LAYOUT_FIELDS: usize = 32;
/// Longest field name in a [`TypeLayout`], in bytes.
pub const MAX_FIELD_NAME_LEN: usize = 32;

wire_enum! {
    /// The primitive type of a [`LayoutField`]'s elements.
    pub enum FieldKind: u8 {
        /// `u8`.
        U8 = 0,
        /// `u16`.
        U16 = 1,
        /// `u32`.
        U32 = 2,
        /// `u64`.
        U64 = 3,
        /// `i8`.
        I8 = 4,
        /// `i16`.
        I16 = 5,
        /// `i32`.
        I32 = 6,
        /// `i64`.
        I64 = 7,
        /// `f32`.
        F32 = 8,
        /// `f64`.
        F64 = 9,
        /// `bool`, one byte (a hand-written description may use it).
        Bool = 10,
        /// Bytes no primitive describes, shown as they are; the field's
        /// `len` is its size in bytes.
        Bytes = 11,
    }
}

impl FieldKind {
    /// Bytes of one element of this kind.
    ///
    /// ```
    /// use zerocp_core::type_layout::FieldKind;
    /// assert_eq!(FieldKind::F64.size(), 8);
    /// assert_eq!(FieldKind::Bytes.size(), 1);
    /// ```
    pub const fn size(self) -> u32 {
        match self {
            Self::U8 | Self::I8 | Self::Bool | Self::Bytes => 1,
            Self::U16 | Self::I16 => 2,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 => 8,
        }
    }

    /// The kind's name as tools print it: `u8` ... `f64`, `bool`, `bytes`.
    ///
    /// ```
    /// use zerocp_core::type_layout::FieldKind;
    /// assert_eq!(FieldKind::I16.name(), "i16");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Self::U8 => "u8",
            Self::U16 => "u16",
            Self::U32 => "u32",
            Self::U64 => "u64",
            Self::I8 => "i8",
            Self::I16 => "i16",
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::Bool => "bool",
            Self::Bytes => "bytes",
        }
    }
}

wire_enum! {
    /// Whether a [`TypeLayout`] describes its type, and wholly.
    pub enum LayoutState: u8 {
        /// The type does not describe itself: no fields; print hex.
        Unknown = 0,
        /// The fields describe every byte the type's description names.
        Complete = 1,
        /// The type had more fields than [`MAX_LAYOUT_FIELDS`]: these are
        /// its first ones.
        Truncated = 2,
    }
}

wire_struct! {
    /// One field of a [`TypeLayout`]: `len` elements of `kind` at `offset`.
    pub struct LayoutField {
        /// The field's name, dotted for nested fields (`pose.x`).
        pub name: FixedString<MAX_FIELD_NAME_LEN>,
        /// Its first byte in the sample (in the element, for a slice).
        pub offset: u32,
        /// The primitive type of its elements.
        pub kind: FieldKind,
        /// Elements: 1 for a scalar, `N` for `[T; N]`, the byte count for
        /// [`FieldKind::Bytes`].
        pub len: u32,
    }
}

wire_struct! {
    /// A payload type's fields, for tools that print its samples (see the
    /// [module docs](self)).
    pub struct TypeLayout {
        /// Whether the fields describe the type, and wholly.
        pub state: LayoutState,
        /// The fields, in offset order of the declaration.
        pub fields: heapless::Vec<LayoutField, MAX_LAYOUT_FIELDS>,
    }
}

impl TypeLayout {
    /// The layout of a type that does not describe itself.
    ///
    /// ```
    /// use zerocp_core::type_layout::{LayoutState, TypeLayout};
    /// let none = TypeLayout::unknown();
    /// assert_eq!(none.state, LayoutState::Unknown);
    /// assert!(none.fields.is_empty());
    /// ```
    pub const fn unknown() -> Self {
        Self {
            state: LayoutState::Unknown,
            fields: heapless::Vec::new(),
        }
    }

    /// Whether the layout describes its type (possibly truncated).
    pub fn is_known(&self) -> bool {
        self.state != LayoutState::Unknown
    }
}

impl LayoutField {
    /// Bytes the field covers: `len` elements of `kind`, or `None` when
    /// that overflows a `u32` (a hostile layout).
    ///
    /// ```
    /// use zerocp_core::fixed_string::FixedString;
    /// use zerocp_core::type_layout::{FieldKind, LayoutField};
    /// let f = LayoutField {
    ///     name: FixedString::from_str_truncated("ranges"),
    ///     offset: 8,
    ///     kind: FieldKind::F32,
    ///     len: 4,
    /// };
    /// assert_eq!(f.size(), Some(16));
    /// assert_eq!(f.end(), Some(24));
    /// ```
    pub fn size(&self) -> Option<u32> {
        self.kind.size().checked_mul(self.len)
    }

    /// The offset just past the field, or `None` on overflow.
    pub fn end(&self) -> Option<u32> {
        self.offset.checked_add(self.size()?)
    }
}
