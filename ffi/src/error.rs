//! The error model of the C API: every call returns a [`zerocp_result_t`]
//! and, on failure, fills the caller's optional [`zerocp_error_t`] with the
//! same code and a message.
//!
//! The message lives in the caller's own struct, one per call if the caller
//! wants: there is no global or thread-local "last error", so two threads
//! never see each other's failures. [`Failure`] is what the Rust side of a
//! call fails with; the crate's panic boundary turns it into the result and fills
//! the struct.

use std::ffi::c_char;

/// What a call returns: `ZEROCP_OK` (0), a positive status that is not a
/// failure (`ZEROCP_TIMEOUT`, `ZEROCP_EMPTY`), or a negative error code
/// naming the class of failure; the `zerocp_error_t` message names the
/// details.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum zerocp_result_t {
    /// The call did what it was asked.
    ZEROCP_OK = 0,
    /// `zerocp_subscriber_wait`, `zerocp_waitset_wait`: the timeout passed
    /// with no sample queued.
    ZEROCP_TIMEOUT = 1,
    /// `zerocp_subscriber_take`: no sample is queued.
    ZEROCP_EMPTY = 2,
    /// A pointer argument that must not be NULL was NULL.
    ZEROCP_ERR_NULL_ARGUMENT = -1,
    /// An argument is invalid: a string not UTF-8 or too long, a name the
    /// runtime refuses, a size or option out of range.
    ZEROCP_ERR_INVALID_ARGUMENT = -2,
    /// The handle is not a live handle of this kind: never created,
    /// already destroyed, or of another kind.
    ZEROCP_ERR_INVALID_HANDLE = -3,
    /// The pointer is not a loan (or a sample) of this port now: already
    /// published or released, or never loaned (taken) here.
    ZEROCP_ERR_NOT_HELD = -4,
    /// No daemon serves the domain, it is gone or restarting, or it
    /// dropped this process.
    ZEROCP_ERR_DAEMON = -5,
    /// The daemon refused the request: another type on the service, no
    /// access, a payload too large for its pools.
    ZEROCP_ERR_REFUSED = -6,
    /// A limit was reached: loans or held samples, chunks in the pool, a
    /// quota.
    ZEROCP_ERR_LIMIT = -7,
    /// The daemon revoked the port.
    ZEROCP_ERR_REVOKED = -8,
    /// A publish waited for a full block-publisher subscriber past the
    /// publish timeout (with `ZEROCP_ON_PUBLISH_TIMEOUT_FAIL`).
    ZEROCP_ERR_PUBLISH_TIMEOUT = -9,
    /// A bug in ZeroCP: a Rust panic, caught at the C boundary. The handle
    /// it happened on may refuse further calls; destroying it works.
    ZEROCP_ERR_PANIC = -10,
    /// Any other failure (a corrupt chunk, a failed system call); the
    /// message says which.
    ZEROCP_ERR_INTERNAL = -11,
}

/// Bytes of `zerocp_error_t::message`, its terminating NUL included.
pub const ZEROCP_ERROR_MESSAGE_LEN: usize = 256;

/// A failure's details, filled by the call it is passed to (when not NULL):
/// `code` is the call's result, `message` a NUL-terminated UTF-8 text
/// (cut at a character boundary to fit). A successful call sets `code` to
/// `ZEROCP_OK` and `message` to the empty string.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zerocp_error_t {
    /// The call's result (a `zerocp_result_t` value).
    pub code: i32,
    /// What failed, NUL-terminated.
    pub message: [c_char; ZEROCP_ERROR_MESSAGE_LEN],
}

impl zerocp_error_t {
    /// The message up to its NUL, for Rust callers (the library writes
    /// UTF-8; anything else is replaced, never a panic).
    ///
    /// ```
    /// use zerocp_c::error::{ZEROCP_ERROR_MESSAGE_LEN, zerocp_error_t};
    /// let mut error = zerocp_error_t { code: 0, message: [0; ZEROCP_ERROR_MESSAGE_LEN] };
    /// error.message[0] = b'x' as _;
    /// assert_eq!(error.text(), "x");
    /// ```
    pub fn text(&self) -> String {
        let bytes: Vec<u8> = self
            .message
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Why a call failed: its code and message (the Rust side of a call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The class, a negative code.
    pub code: zerocp_result_t,
    /// The details.
    pub message: String,
}

impl Failure {
    /// A failure of class `code` saying `message`.
    pub fn new(code: zerocp_result_t, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `ZEROCP_ERR_NULL_ARGUMENT` naming the argument.
    pub fn null(argument: &str) -> Self {
        Self::new(
            zerocp_result_t::ZEROCP_ERR_NULL_ARGUMENT,
            format!("{argument} is NULL"),
        )
    }

    /// `ZEROCP_ERR_INVALID_ARGUMENT` with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(zerocp_result_t::ZEROCP_ERR_INVALID_ARGUMENT, message)
    }
}

/// Writes `code` and `message` into `*error` when `error` is not NULL.
///
/// # Safety
///
/// `error` is NULL or points to writable memory for a `zerocp_error_t`.
pub(crate) unsafe fn fill(error: *mut zerocp_error_t, code: zerocp_result_t, message: &str) {
    if error.is_null() {
        return;
    }
    let mut end = message.len().min(ZEROCP_ERROR_MESSAGE_LEN - 1);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    // Only the code, the message's `end` bytes and its NUL are written, so
    // a success, the common case, writes five bytes rather than the whole
    // struct; what was there may be uninitialised and is never read.
    let field = |offset: usize| error.cast::<u8>().wrapping_add(offset);
    let code_at = field(std::mem::offset_of!(zerocp_error_t, code)).cast::<i32>();
    let text = field(std::mem::offset_of!(zerocp_error_t, message)).cast::<c_char>();
    // SAFETY: `error` is not NULL (checked) and writable by the caller's
    // contract; `code_at` is its `code` field, aligned as the struct is.
    unsafe { code_at.write(code as i32) };
    // SAFETY: `text` is the message array, writable; `end` is below its
    // length; the source is `message`'s own bytes, which cannot overlap
    // the caller's struct borrowed mutably through a raw pointer.
    unsafe { std::ptr::copy_nonoverlapping(message.as_ptr().cast::<c_char>(), text, end) };
    // SAFETY: `end` < ZEROCP_ERROR_MESSAGE_LEN, inside the array.
    unsafe { text.wrapping_add(end).write(0) };
}

/// The name of the result code `code` (`"ZEROCP_ERR_DAEMON"`), or
/// `"unknown"`: a static string, never freed.
#[unsafe(no_mangle)]
pub extern "C" fn zerocp_result_name(code: i32) -> *const c_char {
    name(code).as_ptr()
}

/// The name of a result code (`"ZEROCP_ERR_DAEMON"`), or `"unknown"`.
fn name(code: i32) -> &'static std::ffi::CStr {
    use zerocp_result_t::*;
    let all = [
        (ZEROCP_OK, c"ZEROCP_OK"),
        (ZEROCP_TIMEOUT, c"ZEROCP_TIMEOUT"),
        (ZEROCP_EMPTY, c"ZEROCP_EMPTY"),
        (ZEROCP_ERR_NULL_ARGUMENT, c"ZEROCP_ERR_NULL_ARGUMENT"),
        (ZEROCP_ERR_INVALID_ARGUMENT, c"ZEROCP_ERR_INVALID_ARGUMENT"),
        (ZEROCP_ERR_INVALID_HANDLE, c"ZEROCP_ERR_INVALID_HANDLE"),
        (ZEROCP_ERR_NOT_HELD, c"ZEROCP_ERR_NOT_HELD"),
        (ZEROCP_ERR_DAEMON, c"ZEROCP_ERR_DAEMON"),
        (ZEROCP_ERR_REFUSED, c"ZEROCP_ERR_REFUSED"),
        (ZEROCP_ERR_LIMIT, c"ZEROCP_ERR_LIMIT"),
        (ZEROCP_ERR_REVOKED, c"ZEROCP_ERR_REVOKED"),
        (ZEROCP_ERR_PUBLISH_TIMEOUT, c"ZEROCP_ERR_PUBLISH_TIMEOUT"),
        (ZEROCP_ERR_PANIC, c"ZEROCP_ERR_PANIC"),
        (ZEROCP_ERR_INTERNAL, c"ZEROCP_ERR_INTERNAL"),
    ];
    all.iter()
        .find(|(c, _)| *c as i32 == code)
        .map_or(c"unknown", |(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary_and_terminated() {
        let mut error = zerocp_error_t {
            code: 0,
            message: [1; ZEROCP_ERROR_MESSAGE_LEN],
        };
        let long = "é".repeat(200);
        // SAFETY: a valid, writable zerocp_error_t.
        unsafe { fill(&mut error, zerocp_result_t::ZEROCP_ERR_DAEMON, &long) };
        assert_eq!(error.code, -5);
        let got = error.text();
        assert_eq!(got.len(), 254);
        assert!(long.starts_with(&got));
    }

    #[test]
    fn a_null_error_pointer_is_ignored() {
        // SAFETY: NULL is allowed.
        unsafe { fill(std::ptr::null_mut(), zerocp_result_t::ZEROCP_ERR_LIMIT, "x") };
    }

    #[test]
    fn every_code_has_its_name() {
        assert_eq!(name(-4), c"ZEROCP_ERR_NOT_HELD");
        assert_eq!(name(0), c"ZEROCP_OK");
        assert_eq!(name(-99), c"unknown");
    }
}
