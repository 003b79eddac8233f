//! [`TypeDescription`]: what a type's `ZeroCopySafe` impl says about its
//! bytes, as a constant tree of `'static` references that the compiler
//! builds (the derive writes one per struct, primitives and arrays have
//! theirs). [`TypeLayout::describe`](super::TypeLayout::describe) flattens
//! it into the bounded list that travels to the daemon.

use super::FieldKind;

/// How a type's bytes are made, as its `ZeroCopySafe` impl describes them.
///
/// ```
/// use zerocp_core::type_layout::{FieldDescription, FieldKind, TypeDescription};
///
/// const F32: TypeDescription = TypeDescription::Primitive(FieldKind::F32);
/// const XY: TypeDescription = TypeDescription::Struct(&[
///     FieldDescription { name: "x", offset: 0, size: 4, description: &F32 },
///     FieldDescription { name: "y", offset: 4, size: 4, description: &F32 },
/// ]);
/// assert!(matches!(XY, TypeDescription::Struct(fields) if fields.len() == 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeDescription {
    /// Bytes the type does not describe (the default of a hand-written
    /// impl; `u128`, `i128`, `()`).
    Opaque,
    /// One primitive value.
    Primitive(FieldKind),
    /// `len` consecutive elements of `element_size` bytes each.
    Array {
        /// One element's description.
        element: &'static TypeDescription,
        /// `size_of` one element.
        element_size: u32,
        /// Number of elements.
        len: u32,
    },
    /// A `#[repr(C)]` struct's fields, in declaration order.
    Struct(&'static [FieldDescription]),
}

/// One field of a [`TypeDescription::Struct`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDescription {
    /// The field's name (`"0"`, `"1"`, ... in a tuple struct).
    pub name: &'static str,
    /// `offset_of!` the field in its struct.
    pub offset: u32,
    /// `size_of` the field's type.
    pub size: u32,
    /// The field type's own description.
    pub description: &'static TypeDescription,
}
