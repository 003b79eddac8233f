//! Publishers: `zerocp_publisher_create`, `_loan`, `_loan_slice`, `_publish`,
//! `_destroy`, over the runtime's [`UntypedPublisher`].
//!
//! A publisher handle owns its port and the loans C holds: a loan is
//! named by its payload pointer, so publishing or releasing a pointer that
//! is not a current loan of this publisher (twice, or a foreign one) is
//! `ZEROCP_ERR_NOT_HELD`, never a double free.

use std::ffi::c_void;
use std::time::Duration;

use zerocp::{PublishTimeout, UntypedLoan, UntypedPublisher};

use crate::boundary::{call, destroy};
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::handles::Registry;
use crate::payload_type::{ZEROCP_SHAPE_SIZED, service_type, zerocp_type_t};
use crate::runtime_api::{RUNTIMES, zerocp_runtime_t};
use crate::service_api::{SERVICES, zerocp_service_t};
use crate::text::{put, read_or};

/// `zerocp_publisher_options_t::on_publish_timeout`: drop the sample for
/// the full subscriber only and succeed (the default).
pub const ZEROCP_ON_PUBLISH_TIMEOUT_DROP: u32 = 0;
/// `zerocp_publisher_options_t::on_publish_timeout`: drop it for that
/// subscriber and fail with `ZEROCP_ERR_PUBLISH_TIMEOUT`.
pub const ZEROCP_ON_PUBLISH_TIMEOUT_FAIL: u32 = 1;
/// `zerocp_publisher_options_t::publish_timeout_ms`: wait without limit.
pub const ZEROCP_NO_TIMEOUT: u64 = u64::MAX;

/// A publisher. Zero is never a valid handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_publisher_t {
    /// The handle's id (opaque).
    pub id: u64,
}

/// A publisher's options; `zerocp_publisher_options_default` fills the
/// defaults (NULL options mean them too).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zerocp_publisher_options_t {
    /// Latest samples kept for subscribers that join later: 0..=32, default 0.
    pub history: u32,
    /// Samples loaned at once: 1..=32, default 4.
    pub max_loans: u32,
    /// Longest wait of one publish for full block-publisher subscribers, in
    /// milliseconds (`ZEROCP_NO_TIMEOUT`: no limit).
    pub publish_timeout_ms: u64,
    /// `ZEROCP_ON_PUBLISH_TIMEOUT_DROP` (default) or `_FAIL`.
    pub on_publish_timeout: u32,
    /// `ZEROCP_SHAPE_SIZED` (default: one `type` per sample) or
    /// `ZEROCP_SHAPE_SLICE` (up to `max_slice_len` of them, loaned with
    /// `zerocp_publisher_loan_slice`).
    pub shape: u32,
    /// The longest slice in elements, at least 1 for `ZEROCP_SHAPE_SLICE`
    /// (ignored for a sized type); default 0.
    pub max_slice_len: u32,
    /// The type of the user header beside every payload (metadata such as
    /// a frame id), or NULL (default) for none; read during the call.
    pub user_header: *const zerocp_type_t,
}

impl Default for zerocp_publisher_options_t {
    fn default() -> Self {
        Self {
            history: 0,
            max_loans: zerocp::DEFAULT_MAX_LOANS,
            publish_timeout_ms: zerocp::DEFAULT_PUBLISH_TIMEOUT.as_millis() as u64,
            on_publish_timeout: ZEROCP_ON_PUBLISH_TIMEOUT_DROP,
            shape: ZEROCP_SHAPE_SIZED,
            max_slice_len: 0,
            user_header: std::ptr::null(),
        }
    }
}

/// A publisher and the loans C holds (field order: loans drop first).
pub(crate) struct PublisherPort {
    loans: Vec<UntypedLoan<'static>>,
    pub(crate) publisher: UntypedPublisher,
}

// SAFETY: the publisher and its loans share a reference-counted core that
// is not thread-safe (`Rc`); every such reference lives inside this one
// struct, which is only reached under its registry slot's lock, or in a
// local of a call made under that lock and dropped before the lock is
// (crate::copy_api's loans, also on unwinding). So two threads never touch
// the counts at once, and moving the struct moves them all together (as
// moving a `Send` `UntypedPublisher` does).
unsafe impl Send for PublisherPort {}

pub(crate) static PUBLISHERS: Registry<PublisherPort> = Registry::new(3, "publisher");

/// Fills `*out` with the default publisher options.
///
/// # Safety
///
/// `out` is NULL (then nothing happens) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_publisher_options_default(out: *mut zerocp_publisher_options_t) {
    // SAFETY: the caller's contract; NULL is refused (and ignored here).
    let _ = unsafe { put(out, "out", zerocp_publisher_options_t::default()) };
}

/// Creates a publisher of one `*type` per sample (or a slice of them, and
/// a user header, as `*options` say) on `service` with `*options` (NULL:
/// the defaults) and stores its handle in `*out`. The daemon refuses
/// (`ZEROCP_ERR_REFUSED`) a type other than the one the service's ports
/// have; a Rust port's type is its `type_name`, size and alignment, its
/// shape (`[T]` is a slice) and its user header type.
///
/// # Safety
///
/// `type` and `options->user_header` each point to a readable
/// `zerocp_type_t` (its name NUL-terminated) or are NULL; `options` is
/// NULL or readable; `out` is NULL or writable; `error` is NULL or points
/// to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_publisher_create(
    runtime: zerocp_runtime_t,
    service: zerocp_service_t,
    r#type: *const zerocp_type_t,
    options: *const zerocp_publisher_options_t,
    out: *mut zerocp_publisher_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        // SAFETY: the caller's contract on this pointer (function docs).
        let o = unsafe { read_or(options, zerocp_publisher_options_t::default()) };
        // SAFETY: the caller's contract on these pointers (function docs).
        let ty = unsafe { service_type(r#type, o.shape, o.user_header) }?;
        let on_timeout = match o.on_publish_timeout {
            ZEROCP_ON_PUBLISH_TIMEOUT_DROP => PublishTimeout::DropForSubscriber,
            ZEROCP_ON_PUBLISH_TIMEOUT_FAIL => PublishTimeout::Fail,
            other => {
                return Err(Failure::invalid(format!(
                    "options.on_publish_timeout {other} is neither DROP (0) nor FAIL (1)"
                )));
            }
        };
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let publisher = RUNTIMES.with(runtime.id, |rt| {
            SERVICES.with(service.id, |svc| {
                let mut builder = rt.untyped_publisher(svc, ty);
                if o.max_slice_len > 0 {
                    builder = builder.max_slice_len(o.max_slice_len);
                }
                let created = builder
                    .history(o.history)
                    .max_loans(o.max_loans)
                    .publish_timeout(timeout(o.publish_timeout_ms))
                    .on_publish_timeout(on_timeout)
                    .create()?;
                Ok(created)
            })
        })?;
        let port = PublisherPort {
            loans: Vec::new(),
            publisher,
        };
        let id = PUBLISHERS.insert(port)?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(out, "out", zerocp_publisher_t { id }) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

fn timeout(ms: u64) -> Duration {
    if ms == ZEROCP_NO_TIMEOUT {
        Duration::MAX
    } else {
        Duration::from_millis(ms)
    }
}

/// Loans a sample: stores the address of its payload in shared memory
/// (aligned for the type, holding stale bytes: write every byte) in
/// `*payload` and its size in `*size` (the type's size; for a slice
/// type, one element). Publish it with `zerocp_publisher_publish` or give
/// it back with `zerocp_publisher_release`; the memory is the caller's
/// until then. Fails with `ZEROCP_ERR_LIMIT` when `max_loans` samples are
/// loaned or the pool or a quota is exhausted.
///
/// # Safety
///
/// `payload` and `size` are NULL or writable; `error` is NULL or points to
/// a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_publisher_loan(
    publisher: zerocp_publisher_t,
    payload: *mut *mut c_void,
    size: *mut usize,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if payload.is_null() {
            return Err(Failure::null("payload"));
        }
        if size.is_null() {
            return Err(Failure::null("size"));
        }
        PUBLISHERS.with(publisher.id, |port| {
            let loaned = port.loan(1)?;
            // SAFETY: the caller's contract on this pointer (function docs).
            unsafe { put(payload, "payload", loaned.payload) }?;
            // SAFETY: the caller's contract on this pointer (function docs).
            unsafe { put(size, "size", loaned.size) }?;
            Ok(zerocp_result_t::ZEROCP_OK)
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// A loan's parts (`zerocp_publisher_loan_slice`), in shared memory and
/// the caller's until the loan is published or released.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zerocp_loan_t {
    /// The payload's first byte, aligned for the type, holding stale
    /// bytes: write every byte. It names the loan to
    /// `zerocp_publisher_publish` and `_release`.
    pub payload: *mut c_void,
    /// The payload's size in bytes: `len` times the type's size.
    pub size: usize,
    /// Elements loaned (1 for a sized type).
    pub len: usize,
    /// The user header's first byte, zero-filled, or NULL when the
    /// publisher has none.
    pub user_header: *mut c_void,
    /// The user header's size in bytes (0 without one).
    pub user_header_size: usize,
}

/// Loans a sample of `len` elements of a slice type (`len` from 0 to the
/// publisher's `max_slice_len`; exactly 1 for a sized type) with its user
/// header, and stores its parts in `*loan`. Publish or release it by
/// `loan->payload`, as a loan of `zerocp_publisher_loan`.
/// `ZEROCP_ERR_INVALID_ARGUMENT` for a longer slice, or a `len` other than 1
/// for a sized type; `ZEROCP_ERR_LIMIT` as `zerocp_publisher_loan`.
///
/// # Safety
///
/// `loan` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_publisher_loan_slice(
    publisher: zerocp_publisher_t,
    len: usize,
    loan: *mut zerocp_loan_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if loan.is_null() {
            return Err(Failure::null("loan"));
        }
        PUBLISHERS.with(publisher.id, |port| {
            let loaned = port.loan(len)?;
            // SAFETY: the caller's contract on this pointer (function docs).
            unsafe { put(loan, "loan", loaned) }?;
            Ok(zerocp_result_t::ZEROCP_OK)
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

impl PublisherPort {
    /// Loans `len` elements and keeps the loan; returns its parts.
    fn loan(&mut self, len: usize) -> Result<zerocp_loan_t, Failure> {
        let loan = self.publisher.loan_slice(len)?;
        // SAFETY: only the lifetime changes: the loan holds its own
        // reference to the publisher's core (it never borrows the
        // publisher's memory); it is stored beside the publisher and
        // dropped before it (PublisherPort's field order).
        let mut loan: UntypedLoan<'static> = unsafe { std::mem::transmute(loan) };
        let header = loan.user_header_mut();
        let (user_header, user_header_size) = if header.is_empty() {
            (std::ptr::null_mut(), 0)
        } else {
            (header.as_mut_ptr().cast(), header.len())
        };
        let parts = zerocp_loan_t {
            payload: loan.as_mut_ptr().cast(),
            size: loan.len_bytes(),
            len,
            user_header,
            user_header_size,
        };
        self.loans.push(loan);
        Ok(parts)
    }
}

/// The loan whose payload is at `payload`, taken out of the list.
fn take_loan(
    port: &mut PublisherPort,
    payload: *mut c_void,
) -> Result<UntypedLoan<'static>, Failure> {
    if payload.is_null() {
        return Err(Failure::null("payload"));
    }
    let at = port
        .loans
        .iter_mut()
        .position(|loan| loan.as_mut_ptr().cast() == payload)
        .ok_or_else(|| {
            Failure::new(
                zerocp_result_t::ZEROCP_ERR_NOT_HELD,
                format!(
                    "{payload:p} is not a loan of this publisher (already published or released?)"
                ),
            )
        })?;
    Ok(port.loans.swap_remove(at))
}

/// Publishes the loan whose payload is at `payload` to every subscriber
/// of the service; the pointer is no longer the caller's, whether it
/// succeeds or fails. `ZEROCP_ERR_NOT_HELD` when `payload` is not a loan
/// of this publisher now.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`; every byte of
/// the payload was written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_publisher_publish(
    publisher: zerocp_publisher_t,
    payload: *mut c_void,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        PUBLISHERS.with(publisher.id, |port| {
            take_loan(port, payload)?.publish()?;
            Ok(zerocp_result_t::ZEROCP_OK)
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Gives the loan whose payload is at `payload` back unpublished.
/// `ZEROCP_ERR_NOT_HELD` when it is not a loan of this publisher now.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_publisher_release(
    publisher: zerocp_publisher_t,
    payload: *mut c_void,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        PUBLISHERS.with(publisher.id, |port| {
            drop(take_loan(port, payload)?);
            Ok(zerocp_result_t::ZEROCP_OK)
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Destroys a publisher: its loans are given back, its port removed (the
/// daemon releases its history). The handle is invalid afterwards.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_publisher_destroy(
    publisher: zerocp_publisher_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on `error`.
    unsafe { destroy(&PUBLISHERS, publisher.id, error) }
}
