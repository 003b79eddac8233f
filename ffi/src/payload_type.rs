//! [`zerocp_type_t`]: a payload type as C declares it (its name, size and
//! alignment; C has no derive), checked into the runtime's [`ServiceType`]
//! together with the port options' `shape` (one value or a slice of them
//! per sample) and `user_header` (a second `zerocp_type_t`, or none).
//! C and Rust ports interoperate when the three equal the Rust type's
//! (`type_name` of `#[zerocp(type_name = "...")]`, `sizeof`, `_Alignof`),
//! the shapes agree (`[T]` in Rust is `ZEROCP_SHAPE_SLICE`) and so do the
//! user headers.

use std::ffi::c_char;

use zerocp::{ServiceType, TypeInfo};
use zerocp_core::fixed_string::FixedString;
use zerocp_core::service::MAX_TYPE_NAME_LEN;

use crate::error::Failure;
use crate::text::text;

/// A payload type: `name` (1 to 128 bytes, e.g. `"zerocp_examples::Counter"`),
/// `size` (`sizeof`, at least 1) and `align` (`_Alignof`, a power of two).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zerocp_type_t {
    /// The type's name, NUL-terminated, as every port of the service names it.
    pub name: *const c_char,
    /// Its size in bytes.
    pub size: usize,
    /// Its alignment in bytes.
    pub align: usize,
}

/// `shape` of the publisher's and subscriber's options: one value of the
/// type per sample (the default).
pub const ZEROCP_SHAPE_SIZED: u32 = 0;
/// `shape` of the publisher's and subscriber's options: a slice of the
/// type's values per sample, its length chosen at each loan (Rust `[T]`).
pub const ZEROCP_SHAPE_SLICE: u32 = 1;

/// The service type of a port: `*ty` (a slice of them when `shape` is
/// `ZEROCP_SHAPE_SLICE`), with the user header `*header` beside every
/// payload (none for NULL).
///
/// # Safety
///
/// `ty` and `header` are NULL or point to readable `zerocp_type_t`s whose
/// names are NULL or NUL-terminated.
pub(crate) unsafe fn service_type(
    ty: *const zerocp_type_t,
    shape: u32,
    header: *const zerocp_type_t,
) -> Result<ServiceType, Failure> {
    if ty.is_null() {
        return Err(Failure::null("type"));
    }
    // SAFETY: not NULL; readable by the caller's contract.
    let payload = unsafe { type_info(ty, "type") }?;
    let service_type = match shape {
        ZEROCP_SHAPE_SIZED => ServiceType::sized(payload),
        ZEROCP_SHAPE_SLICE => ServiceType::slice(payload),
        other => {
            return Err(Failure::invalid(format!(
                "options.shape {other} is neither SIZED (0) nor SLICE (1)"
            )));
        }
    };
    if header.is_null() {
        return Ok(service_type);
    }
    // SAFETY: not NULL; readable by the caller's contract.
    let header = unsafe { type_info(header, "options.user_header") }?;
    Ok(service_type.with_user_header(header))
}

/// The type `*ty` describes, checked; `what` names it in errors.
///
/// # Safety
///
/// `ty` points to a readable `zerocp_type_t` whose name is NULL or
/// NUL-terminated.
unsafe fn type_info(ty: *const zerocp_type_t, what: &str) -> Result<TypeInfo, Failure> {
    // SAFETY: the caller's contract.
    let ty = unsafe { ty.read_unaligned() };
    let field = |name: &str| format!("{what}.{name}");
    // SAFETY: the caller's contract on the name.
    let name = unsafe { text(ty.name, &field("name")) }?;
    if name.is_empty() || name.len() > MAX_TYPE_NAME_LEN {
        return Err(Failure::invalid(format!(
            "{} must be 1 to {MAX_TYPE_NAME_LEN} bytes, not {}",
            field("name"),
            name.len()
        )));
    }
    let size = u32::try_from(ty.size)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| {
            Failure::invalid(format!("{} {} is not 1..=u32::MAX", field("size"), ty.size))
        })?;
    let align = u32::try_from(ty.align)
        .ok()
        .filter(|a| a.is_power_of_two())
        .ok_or_else(|| {
            Failure::invalid(format!(
                "{} {} is not a power of two",
                field("align"),
                ty.align
            ))
        })?;
    if size % align != 0 {
        return Err(Failure::invalid(format!(
            "{} {size} is not a multiple of {} {align}",
            field("size"),
            field("align")
        )));
    }
    let name = FixedString::try_from_str(name)
        .map_err(|e| Failure::invalid(format!("{}: {e}", field("name"))))?;
    Ok(TypeInfo { name, size, align })
}
