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
//! # Implementing it for your type
//!
//! There is no derive; write the `unsafe impl` after checking the list:
//!
//! 1. the type is `#[repr(C)]` (or `#[repr(transparent)]` over such a type);
//! 2. every field is itself `ZeroCopySafe` (integers, floats, arrays of them,
//!    other structs that follow this list);
//! 3. it has no `Drop` implementation and no field with one;
//! 4. every bit pattern is a valid value, or at least every pattern a
//!    publisher can write: a subscriber trusts the bytes it maps. Prefer `u8`
//!    flags over `bool` and integer codes over `enum`s.
//!
//! ```
//! use zerocp::ZeroCopySafe;
//!
//! #[repr(C)]
//! #[derive(Debug, Clone, Copy, Default)]
//! pub struct Pose {
//!     pub x: f64,
//!     pub y: f64,
//!     pub theta: f32,
//!     pub frame: u32,
//!     pub covariance: [f32; 9],
//! }
//!
//! // SAFETY: repr(C); every field is a float, an integer or an array of
//! // floats; no pointers, no drop glue; every bit pattern is a valid Pose.
//! unsafe impl ZeroCopySafe for Pose {
//!     // Optional: a name that is the same in every program linking the type,
//!     // whatever module it is declared in (the default is `type_name`).
//!     const TYPE_NAME: &'static str = "robot::Pose";
//! }
//! ```
//!
//! Publishers and subscribers of one service must use the same type: the
//! daemon compares size, alignment and [`ZeroCopySafe::TYPE_NAME`] when a port
//! is created and refuses a mismatch.

/// A type whose values can be shared between processes as plain bytes.
///
/// # Safety
///
/// Implement it only for types that are `#[repr(C)]` (or transparent over
/// such a type), contain no pointers or references, have no drop glue, and for
/// which every bit pattern another process may write is a valid value. See the
/// [module documentation](self) for a guide and an example.
pub unsafe trait ZeroCopySafe: Sized + 'static {
    /// The name the daemon compares, with size and alignment, between all
    /// publishers and subscribers of a service.
    ///
    /// Defaults to [`core::any::type_name`], which includes the module path;
    /// override it when the same type is declared in different crates or
    /// modules of cooperating programs.
    const TYPE_NAME: &'static str = "";

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
    ($($t:ty),* $(,)?) => {
        $(
            // SAFETY: a primitive number has no pointers and no drop glue, its
            // layout is fixed by the language, and every bit pattern is valid.
            unsafe impl ZeroCopySafe for $t {}
        )*
    };
}

impl_primitives!(
    u8,
    u16,
    u32,
    u64,
    u128,
    i8,
    i16,
    i32,
    i64,
    i128,
    f32,
    f64,
    ()
);

// SAFETY: an array is laid out as `N` consecutive `T`s with no padding between
// them; it inherits every property listed in the trait from `T`.
unsafe impl<T: ZeroCopySafe, const N: usize> ZeroCopySafe for [T; N] {}

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

    #[test]
    fn type_name_prefers_the_override() {
        assert_eq!(Named::type_name(), "test::Named");
        assert!(Unnamed::type_name().ends_with("tests::Unnamed"));
        assert_eq!(u64::type_name(), "u64");
        assert_eq!(<[u8; 4]>::type_name(), "[u8; 4]");
    }
}
