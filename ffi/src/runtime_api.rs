//! Runtimes: `zerocp_runtime_create`/`_destroy`.

use std::ffi::c_char;

use zerocp::Runtime;

use crate::boundary::{call, destroy};
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::handles::Registry;
use crate::text::{optional_text, put, text};

/// A process's registration with the daemon of its domain. Zero is never a
/// valid handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_runtime_t {
    /// The handle's id (opaque).
    pub id: u64,
}

pub(crate) static RUNTIMES: Registry<Runtime> = Registry::new(1, "runtime");

/// Registers this process as `name` (1 to 32 bytes, no control characters)
/// with the daemon of `domain`, or of `ZEROCP_DOMAIN` (default `default`)
/// when `domain` is NULL, and stores the runtime's handle in `*out`.
///
/// The runtime re-registers by itself when the daemon restarts. Fails with
/// `ZEROCP_ERR_DAEMON` when no daemon serves the domain.
///
/// # Safety
///
/// `name` and `domain` are NULL or NUL-terminated strings; `out` is NULL or
/// writable; `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_runtime_create(
    name: *const c_char,
    domain: *const c_char,
    out: *mut zerocp_runtime_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        // SAFETY: the caller's contract on this pointer (function docs).
        let name = unsafe { text(name, "name") }?;
        // SAFETY: the caller's contract on this pointer (function docs).
        let domain = unsafe { optional_text(domain, "domain") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let mut builder = Runtime::builder(name);
        if let Some(domain) = domain {
            builder = builder.domain(domain);
        }
        let id = RUNTIMES.insert(builder.init()?)?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(out, "out", zerocp_runtime_t { id }) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Destroys a runtime handle. Its publishers and subscribers keep working
/// (they keep the registration alive); the process unregisters when the
/// last of them is destroyed too.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_runtime_destroy(
    runtime: zerocp_runtime_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on `error`.
    unsafe { destroy(&RUNTIMES, runtime.id, error) }
}
