//! [`ZeroCopySafe`]: the promise a payload type makes so that its bytes can be
//! shared, in place, between processes.
//!
//! A sample's payload is written by one process into shared memory and read,
//! at the same address in the data segment, by others. That is sound only for
//! types whose value *is* their bytes: no pointers or references (an address is
//! meaningless in another process), no heap ownership or other drop glue (no
//! process may free what another reads), and a layout that every process
//! agrees on (`#[repr(C)]` or `#[repr(transparent)]`, never the unspecified
//! `repr(Rust)` layout that may differ between builds).
//!
//! # Deriving it
//!
//! `#[derive(ZeroCopySafe)]` (feature `derive`, on by default; the macro
//! shares the trait's name, as serde's do) writes the impl after checking,
//! at compile time, what makes it sound:
//!
//! - the type is a struct (named fields, tuple or unit) with `#[repr(C)]` or
//!   `#[repr(transparent)]`: enums, unions and other reprs are refused;
//! - every field is itself `ZeroCopySafe`; the error points at the field;
//! - there is no padding between the fields or after the last one; the error
//!   names the field the padding follows. Padding bytes hold whatever the
//!   memory held before, and would reach every subscriber;
//! - the type has no `Drop` impl;
//! - the type is not generic (the padding check needs concrete sizes).
//!
//! It sets [`ZeroCopySafe::TYPE_NAME`] to the type's own name without its
//! module path, or to the name given with `#[zerocp(type_name = "...")]`,
//! [`ZeroCopySafe::FIELDS`] to each field's name, type, offset and size
//! ([`FieldInfo`]), and [`ZeroCopySafe::DESCRIPTION`] to the fields' kinds
//! and offsets, which the runtime sends with every port of the type so
//! that `zerocpctl info` and `zerocpctl echo` can show its samples field
//! by field (nested derived structs flattened, `pose.x`).
//!
//! ```
//! use zerocp::ZeroCopySafe;
//!
//! #[repr(C)]
//! #[derive(Debug, Clone, Copy, Default, ZeroCopySafe)]
//! #[zerocp(type_name = "robot::Pose")] // optional; the default is "Pose"
//! pub struct Pose {
//!     pub x: f64,
//!     pub y: f64,
//!     pub theta: f32,
//!     pub frame: u32,
//!     pub covariance: [f32; 10],
//! }
//!
//! assert_eq!(Pose::TYPE_NAME, "robot::Pose");
//! assert_eq!(Pose::FIELDS.len(), 5);
//! ```
//!
//! Why the name without the module path: the daemon compares size,
//! alignment and the name between every publisher and subscriber of a
//! service, and cooperating programs usually each declare the message type
//! in their own crate. `core::any::type_name` (`planner::msg::Pose` in one,
//! `driver::Pose` in the other) would refuse them; the bare name, or an
//! explicit one, lets them meet, while size and alignment still catch most
//! real mismatches.
//!
//! # Implementing it by hand
//!
//! Without the derive (feature off, or a generic type), write the
//! `unsafe impl` after checking the list:
//!
//! 1. the type is `#[repr(C)]` (or `#[repr(transparent)]` over such a type);
//! 2. every field is itself `ZeroCopySafe` (integers, floats, arrays of them,
//!    other structs that follow this list);
//! 3. it has no `Drop` implementation and no field with one;
//! 4. it has no padding (add explicit `_pad: [u8; N]` fields);
//! 5. every bit pattern is a valid value, or at least every pattern a
//!    publisher can write: a subscriber trusts the bytes it maps. Prefer `u8`
//!    flags over `bool` and integer codes over `enum`s.
//!
//! ```
//! use zerocp::ZeroCopySafe;
//!
//! #[repr(C)]
//! pub struct Stamped<T> {
//!     pub stamp: u64,
//!     pub value: T,
//! }
//!
//! // SAFETY: repr(C); a u64 and a u64-sized float: no pointers, no drop
//! // glue, no padding; every bit pattern is a valid value.
//! unsafe impl ZeroCopySafe for Stamped<f64> {
//!     // Optional: a name that is the same in every program linking the type,
//!     // whatever module it is declared in (the default is `type_name`).
//!     const TYPE_NAME: &'static str = "Stamped<f64>";
//! }
//! ```
//!
//! Publishers and subscribers of one service must use the same type: the
//! daemon compares size, alignment and [`ZeroCopySafe::TYPE_NAME`] when a port
//! is created and refuses a mismatch.

use zerocp_core::type_layout::{FieldKind, TypeDescription};

use crate::FieldInfo;

/// A type whose values can be shared between processes as plain bytes.
///
/// # Safety
///
/// Implement it only for types that are `#[repr(C)]` (or transparent over
/// such a type), contain no pointers or references, have no drop glue, and for
/// which every bit pattern another process may write is a valid value. See the
/// [module documentation](self) for a guide and an example, and derive it
/// where you can: `#[derive(ZeroCopySafe)]` checks all of this at compile
/// time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `ZeroCopySafe`, so it cannot be a ZeroCP payload or a field of one",
    label = "not `ZeroCopySafe`",
    note = "derive it (`#[derive(ZeroCopySafe)]` on a `#[repr(C)]` struct) or implement it by hand: see the `zerocp::zero_copy_safe` module"
)]
pub unsafe trait ZeroCopySafe: Sized + 'static {
    /// The name the daemon compares, with size and alignment, between all
    /// publishers and subscribers of a service.
    ///
    /// Empty by default, which means [`core::any::type_name`] (with the
    /// module path); `#[derive(ZeroCopySafe)]` sets the type's own name, or
    /// the one given with `#[zerocp(type_name = "...")]`. Override it when
    /// the same type is declared in different crates or modules of
    /// cooperating programs.
    const TYPE_NAME: &'static str = "";

    /// The type's fields in declaration order, for tools that print a
    /// sample field by field. `#[derive(ZeroCopySafe)]` fills it; empty by
    /// default (a primitive, an array, or a hand-written impl that does not
    /// list its fields).
    ///
    /// ```
    /// use zerocp::ZeroCopySafe;
    ///
    /// #[derive(ZeroCopySafe)]
    /// #[repr(C)]
    /// struct Range(u32, f32);
    ///
    /// let names: Vec<_> = Range::FIELDS.iter().map(|f| (f.name, f.offset)).collect();
    /// assert_eq!(names, [("0", 0), ("1", 4)]);
    /// assert!(u32::FIELDS.is_empty());
    /// ```
    const FIELDS: &'static [FieldInfo] = &[];

    /// How the type's bytes are made, for tools that decode samples
    /// (`zerocpctl echo`, `zerocpctl info`): the runtime flattens it into
    /// the [`TypeLayout`](zerocp_core::type_layout::TypeLayout) it sends
    /// with every port of the type. Primitives describe themselves, arrays
    /// as their element repeated, `#[derive(ZeroCopySafe)]` structs field
    /// by field (nested derived structs too); the default,
    /// [`TypeDescription::Opaque`], makes tools print the type's samples
    /// in hex. A wrong hand-written description never reaches a tool: one
    /// whose fields do not fit the type is sent as no layout.
    ///
    /// ```
    /// use zerocp::ZeroCopySafe;
    /// use zerocp::type_layout::{FieldKind, TypeDescription};
    ///
    /// #[derive(ZeroCopySafe)]
    /// #[repr(C)]
    /// struct Range(u32, f32);
    ///
    /// let TypeDescription::Struct(fields) = Range::DESCRIPTION else { panic!() };
    /// assert_eq!(fields[1].description, &TypeDescription::Primitive(FieldKind::F32));
    /// assert_eq!(u16::DESCRIPTION, TypeDescription::Primitive(FieldKind::U16));
    /// assert_eq!(u128::DESCRIPTION, TypeDescription::Opaque);
    /// ```
    const DESCRIPTION: TypeDescription = TypeDescription::Opaque;

    /// The name used for type checks: [`Self::TYPE_NAME`], or
    /// [`core::any::type_name`] when that is empty.
    fn type_name() -> &'static str {
        if Self::TYPE_NAME.is_empty() {
            core::any::type_name::<Self>()
        } else {
            Self::TYPE_NAME
        }
    }
}

macro_rules! impl_primitives {
    ($($t:ty => $description:expr),* $(,)?) => {
        $(
            // SAFETY: a primitive number has no pointers and no drop glue, its
            // layout is fixed by the language, and every bit pattern is valid.
            unsafe impl ZeroCopySafe for $t {
                const DESCRIPTION: TypeDescription = $description;
            }
        )*
    };
}

impl_primitives!(
    u8 => TypeDescription::Primitive(FieldKind::U8),
    u16 => TypeDescription::Primitive(FieldKind::U16),
    u32 => TypeDescription::Primitive(FieldKind::U32),
    u64 => TypeDescription::Primitive(FieldKind::U64),
    u128 => TypeDescription::Opaque,
    i8 => TypeDescription::Primitive(FieldKind::I8),
    i16 => TypeDescription::Primitive(FieldKind::I16),
    i32 => TypeDescription::Primitive(FieldKind::I32),
    i64 => TypeDescription::Primitive(FieldKind::I64),
    i128 => TypeDescription::Opaque,
    f32 => TypeDescription::Primitive(FieldKind::F32),
    f64 => TypeDescription::Primitive(FieldKind::F64),
    () => TypeDescription::Opaque,
);

// SAFETY: an array is laid out as `N` consecutive `T`s with no padding between
// them; it inherits every property listed in the trait from `T`.
unsafe impl<T: ZeroCopySafe, const N: usize> ZeroCopySafe for [T; N] {
    const DESCRIPTION: TypeDescription = TypeDescription::Array {
        element: &T::DESCRIPTION,
        // A chunk holds at most u32::MAX bytes; larger types are refused
        // when a port is created.
        element_size: size_of::<T>() as u32,
        len: N as u32,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    struct Named(u32);
    // SAFETY: repr(C) over a u32.
    unsafe impl ZeroCopySafe for Named {
        const TYPE_NAME: &'static str = "test::Named";
    }

    #[repr(C)]
    struct Unnamed(u32);
    // SAFETY: repr(C) over a u32.
    unsafe impl ZeroCopySafe for Unnamed {}

    #[cfg(feature = "derive")]
    #[repr(C)]
    #[derive(crate::ZeroCopySafe)]
    struct Derived {
        a: u32,
        b: [u16; 2],
    }

    #[cfg(feature = "derive")]
    #[test]
    fn derived_impl_names_the_type_and_lists_its_fields() {
        assert_eq!(Derived::type_name(), "Derived");
        assert_eq!(
            Derived::FIELDS,
            &[
                FieldInfo {
                    name: "a",
                    type_name: "u32",
                    offset: 0,
                    size: 4
                },
                FieldInfo {
                    name: "b",
                    type_name: "[u16; 2]",
                    offset: 4,
                    size: 4
                },
            ]
        );
    }

    #[test]
    fn type_name_prefers_the_override() {
        assert_eq!(Named::type_name(), "test::Named");
        assert!(Unnamed::type_name().ends_with("tests::Unnamed"));
        assert_eq!(u64::type_name(), "u64");
        assert_eq!(<[u8; 4]>::type_name(), "[u8; 4]");
    }
}
