//! Service descriptions: `zerocp_service_create`/`_destroy`, checked once
//! when made, so ports are created from a valid description.

use std::ffi::c_char;

use zerocp::ServiceDescription;

use crate::boundary::{call, destroy};
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::handles::Registry;
use crate::text::{put, text};

/// A service description (`service/instance/event`). Zero is never a valid
/// handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_service_t {
    /// The handle's id (opaque).
    pub id: u64,
}

pub(crate) static SERVICES: Registry<ServiceDescription> = Registry::new(2, "service");

/// Makes the service description `service/instance/event` (each part 1 to
/// 64 bytes of ASCII letters, digits and `_-.:/`) and stores its handle in
/// `*out`; a bad part is `ZEROCP_ERR_INVALID_ARGUMENT` naming it.
///
/// # Safety
///
/// The three strings are NULL or NUL-terminated; `out` is NULL or
/// writable; `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_service_create(
    service: *const c_char,
    instance: *const c_char,
    event: *const c_char,
    out: *mut zerocp_service_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        // SAFETY: the caller's contract on the strings (function docs).
        let service = unsafe { text(service, "service") }?;
        // SAFETY: as above.
        let instance = unsafe { text(instance, "instance") }?;
        // SAFETY: as above.
        let event = unsafe { text(event, "event") }?;
        let description = ServiceDescription::new(service, instance, event)
            .map_err(|e| Failure::invalid(e.to_string()))?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let id = SERVICES.insert(description)?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(out, "out", zerocp_service_t { id }) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Destroys a service description handle (ports made with it keep working).
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_service_destroy(
    service: zerocp_service_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on `error`.
    unsafe { destroy(&SERVICES, service.id, error) }
}
