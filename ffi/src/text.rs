//! Reading the C strings and raw out-pointers a call is given: NULL is an
//! error naming the argument, a string must be UTF-8.

use std::ffi::{CStr, c_char};

use crate::error::Failure;

/// The string at `ptr`, named `what` in errors.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string that stays unchanged
/// for `'a`.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: not NULL; NUL-terminated and unchanged by the caller's contract.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str()
        .map_err(|e| Failure::invalid(format!("{what} is not UTF-8 ({e})")))
}

/// The string at `ptr`, or `None` for NULL.
///
/// # Safety
///
/// As [`text`].
pub(crate) unsafe fn optional_text<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract, as `text`'s.
    unsafe { text(ptr, what) }.map(Some)
}

/// Writes `value` to the out-pointer `out`, named `what` in errors.
///
/// # Safety
///
/// `out` is NULL or points to writable memory for a `T`.
pub(crate) unsafe fn put<T>(out: *mut T, what: &str, value: T) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: not NULL and writable by the caller's contract; `write` does
    // not read (or drop) what was there.
    unsafe { out.write(value) };
    Ok(())
}

/// The caller's value at `ptr`, or `default` for NULL.
///
/// # Safety
///
/// `ptr` is NULL or points to a readable, initialised `T`.
pub(crate) unsafe fn read_or<T: Copy>(ptr: *const T, default: T) -> T {
    if ptr.is_null() {
        return default;
    }
    // SAFETY: not NULL; readable and initialised by the caller's contract
    // (`read_unaligned`: C may hand any address).
    unsafe { ptr.read_unaligned() }
}
