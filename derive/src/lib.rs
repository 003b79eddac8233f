//! `#[derive(ZeroCopySafe)]`: the checked way to make a struct a ZeroCP
//! payload. Use it through the `zerocp` crate (feature `derive`, on by
//! default), which re-exports it beside the trait of the same name:
//!
//! ```
//! use zerocp::ZeroCopySafe;
//!
//! #[derive(ZeroCopySafe, Clone, Copy)]
//! #[repr(C)]
//! #[zerocp(type_name = "robot::Pose")]
//! struct Pose {
//!     x: f64,
//!     y: f64,
//!     theta: f32,
//!     frame: u32,
//! }
//!
//! assert_eq!(Pose::TYPE_NAME, "robot::Pose");
//! assert_eq!(Pose::FIELDS[2].name, "theta");
//! assert_eq!(Pose::FIELDS[2].offset, 16);
//! ```
//!
//! The derive accepts a struct (named fields, tuple or unit) and refuses,
//! with a compile error that names the cause:
//!
//! - an enum or a union;
//! - a type without `#[repr(C)]` or `#[repr(transparent)]` (the error says
//!   which repr it found);
//! - a field whose type is not `ZeroCopySafe` (the error points at the field;
//!   the bound it misses is `field_<name>_must_be_zero_copy_safe`);
//! - padding between fields or at the end (the error names the field the
//!   padding follows): padding bytes carry whatever memory held before,
//!   to every subscriber;
//! - a `Drop` impl on the type: no process may run code on memory others
//!   read;
//! - generic parameters: the padding check needs each field's concrete
//!   size, so derive it for the concrete type (or write the `unsafe impl`).
//!
//! The generated code names the trait `::zerocp::ZeroCopySafe`, so the
//! application's dependency on the runtime must keep its name `zerocp`.
//!
//! It sets `TYPE_NAME` to the type's own name without its module path
//! (`Pose`), or to `#[zerocp(type_name = "...")]`: the daemon compares
//! size, alignment and this name between processes, and a name that does not
//! depend on where the type is declared lets two programs share a type each
//! declares in its own crate. It sets `FIELDS` to each field's name, type as
//! written, offset and size, and `DESCRIPTION` to each field's name, offset,
//! size and its type's own description (a primitive's kind, an array's
//! element, a nested derived struct's fields). The runtime flattens the
//! description into a layout (`pose.x`, `ranges: f32 x 4`) that it sends
//! with every port of the type, so that `zerocpctl info` shows the fields
//! and `zerocpctl echo` prints samples field by field; nothing more to do.

mod expand;
mod repr;
mod type_name;
mod type_text;

use proc_macro::TokenStream;

/// Implements `zerocp::ZeroCopySafe` for a `#[repr(C)]` or
/// `#[repr(transparent)]` struct whose fields are all `ZeroCopySafe`, after
/// checking at compile time that it has no padding. See the
/// [crate documentation](crate) for what it refuses and why.
///
/// ```
/// use zerocp::ZeroCopySafe;
///
/// #[derive(ZeroCopySafe)]
/// #[repr(C)]
/// struct Scan {
///     stamp: u64,
///     ranges: [f32; 4],
/// }
///
/// assert_eq!(Scan::TYPE_NAME, "Scan");
/// assert_eq!(Scan::FIELDS[1].type_name, "[f32; 4]");
/// ```
#[proc_macro_derive(ZeroCopySafe, attributes(zerocp))]
pub fn derive_zero_copy_safe(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
