//! The panic boundary: every `extern "C"` function runs its body through
//! [`call`], so that a Rust panic never unwinds into C (which would be
//! undefined behaviour) but becomes `ZEROCP_ERR_PANIC`, and every
//! [`Failure`] becomes its code plus the caller's `zerocp_error_t`.
//!
//! This needs the library built with `panic = "unwind"` (the default of
//! Cargo's dev and release profiles, and of the workspace's `ffi`
//! profile); under `panic = "abort"` a panic aborts the process as any
//! Rust program's.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Failure, fill, zerocp_error_t, zerocp_result_t};
use crate::handles::Registry;

/// Runs `body`, catching a panic; fills `*error` (when not NULL) and
/// returns the code: `body`'s `Ok` status, or its failure's code.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
pub(crate) unsafe fn call(
    error: *mut zerocp_error_t,
    body: impl FnOnce() -> Result<zerocp_result_t, Failure>,
) -> zerocp_result_t {
    // AssertUnwindSafe: after a panic the handle's lock is poisoned and
    // refuses further use (crate::handles), so no broken state is observed.
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(panicked(payload.as_ref())));
    match outcome {
        Ok(status) => {
            // SAFETY: the caller's contract on `error`.
            unsafe { fill(error, status, "") };
            status
        }
        Err(failure) => {
            // SAFETY: as above.
            unsafe { fill(error, failure.code, &failure.message) };
            failure.code
        }
    }
}

/// The body of every `zerocp_*_destroy`: removes the object `id` names
/// from `registry` and drops it (outside the slot's lock), through
/// [`call`].
///
/// # Safety
///
/// As [`call`].
pub(crate) unsafe fn destroy<T>(
    registry: &Registry<T>,
    id: u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        drop(registry.remove(id)?);
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

fn panicked(payload: &(dyn Any + Send)) -> Failure {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    Failure::new(
        zerocp_result_t::ZEROCP_ERR_PANIC,
        format!("zerocp panicked (a bug, please report it): {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ZEROCP_ERROR_MESSAGE_LEN;

    fn error() -> zerocp_error_t {
        zerocp_error_t {
            code: 7,
            message: [b'x' as _; ZEROCP_ERROR_MESSAGE_LEN],
        }
    }

    #[test]
    fn a_panic_becomes_the_panic_code_and_its_message() {
        let mut e = error();
        // SAFETY: a valid, writable zerocp_error_t.
        let code = unsafe { call(&mut e, || panic!("boom {}", 42)) };
        assert_eq!(code, zerocp_result_t::ZEROCP_ERR_PANIC);
        assert_eq!(e.code, zerocp_result_t::ZEROCP_ERR_PANIC as i32);
        assert!(e.text().ends_with("boom 42"), "{}", e.text());
    }

    #[test]
    fn a_failure_fills_the_error_and_success_clears_it() {
        let mut e = error();
        // SAFETY: as above.
        let code = unsafe { call(&mut e, || Err(Failure::null("out"))) };
        assert_eq!(code, zerocp_result_t::ZEROCP_ERR_NULL_ARGUMENT);
        assert_eq!(
            e.message[..12].iter().map(|&c| c as u8).collect::<Vec<_>>(),
            b"out is NULL\0"
        );
        // SAFETY: as above.
        let code = unsafe { call(&mut e, || Ok(zerocp_result_t::ZEROCP_EMPTY)) };
        assert_eq!(code, zerocp_result_t::ZEROCP_EMPTY);
        assert_eq!((e.code, e.message[0]), (2, 0));
    }
}
