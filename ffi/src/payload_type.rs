//! [`zerocp_type_t`]: a payload type as C declares it (its name, size and
//! alignment; C has no derive), checked into the runtime's [`ServiceType`].
//! C and Rust ports interoperate when the three equal the Rust type's
//! (`type_name` of `#[zerocp(type_name = "...")]`, `sizeof`, `_Alignof`).

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

/// The service type of one value of `*ty` per sample.
///
/// # Safety
///
/// `ty` is NULL or points to a readable `zerocp_type_t` whose name is NULL
/// or NUL-terminated.
pub(crate) unsafe fn service_type(ty: *const zerocp_type_t) -> Result<ServiceType, Failure> {
    if ty.is_null() {
        return Err(Failure::null("type"));
    }
    // SAFETY: not NULL; readable by the caller's contract.
    let ty = unsafe { ty.read_unaligned() };
    // SAFETY: the caller's contract on the name.
    let name = unsafe { text(ty.name, "type.name") }?;
    if name.is_empty() || name.len() > MAX_TYPE_NAME_LEN {
        return Err(Failure::invalid(format!(
            "type.name must be 1 to {MAX_TYPE_NAME_LEN} bytes, not {}",
            name.len()
        )));
    }
    let size = u32::try_from(ty.size)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| Failure::invalid(format!("type.size {} is not 1..=u32::MAX", ty.size)))?;
    let align = u32::try_from(ty.align)
        .ok()
        .filter(|a| a.is_power_of_two())
        .ok_or_else(|| {
            Failure::invalid(format!("type.align {} is not a power of two", ty.align))
        })?;
    if size % align != 0 {
        return Err(Failure::invalid(format!(
            "type.size {size} is not a multiple of type.align {align}"
        )));
    }
    let name =
        FixedString::try_from_str(name).map_err(|e| Failure::invalid(format!("type.name: {e}")))?;
    Ok(ServiceType::sized(TypeInfo { name, size, align }))
}
