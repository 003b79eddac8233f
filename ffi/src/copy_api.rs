//! Copies in one call: `zerocp_publisher_publish_copy` and
//! `zerocp_subscriber_take_copy`, for payloads small enough that copying
//! them costs less than tracking a loan or a held sample.
//!
//! A zero-copy send is two C calls (loan, publish) and a receive two more
//! (take, release), each with its handle check, slot lock and bookkeeping
//! of the pointers C holds. For a small payload the copy is cheaper than
//! that (measured at 64 B; at 4 KiB the zero-copy calls are much faster,
//! docs/performance.md): each function here does its whole exchange under
//! one lock, and nothing outlives the call, so there is nothing to track
//! or to forget to release. The chunk in shared memory is the same; only
//! the caller's side of it is a copy.

use std::ffi::c_void;

use zerocp::PayloadShape;

use crate::boundary::call;
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::publisher_api::{PUBLISHERS, zerocp_publisher_t};
use crate::subscriber_api::{
    SUBSCRIBERS, SubscriberPort, describe, zerocp_sample_t, zerocp_subscriber_t,
};

/// Publishes a copy of the `size` bytes at `data` in one call: loans a
/// sample, copies them into it and publishes it, as `zerocp_publisher_loan`
/// (or `_loan_slice`) and `zerocp_publisher_publish` would, without a loan
/// for the caller to track. `size` is the type's size, or for a slice type
/// a whole number of elements up to `max_slice_len`; the user header, if
/// the publisher has one, is published zero-filled (loan the sample to
/// write it). Fails as the loan and the publish do, and with
/// `ZEROCP_ERR_INVALID_ARGUMENT` (nothing published) for a `size` that is
/// not a payload of this publisher's type.
///
/// # Safety
///
/// `data` is NULL (refused) or points to `size` readable bytes: any
/// memory of the caller's, a loan or a held sample included, but not one
/// already published or released; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_publisher_publish_copy(
    publisher: zerocp_publisher_t,
    data: *const c_void,
    size: usize,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if data.is_null() {
            return Err(Failure::null("data"));
        }
        PUBLISHERS.with(publisher.id, |port| {
            // The loan (with its reference to the port's core) lives only
            // in this call, under the port's lock: see `PublisherPort`.
            let mut loan = port.publisher.loan_bytes(size)?;
            let payload = loan.payload_mut();
            if payload.len() != size {
                return Err(Failure::new(
                    zerocp_result_t::ZEROCP_ERR_INTERNAL,
                    format!(
                        "a loan of {size} bytes came back with {}; it was given back",
                        payload.len()
                    ),
                ));
            }
            // SAFETY: the caller's contract: `size` readable bytes at
            // `data`, not in memory already published or released. The
            // destination is the `size` bytes of a chunk that was free
            // until this loan, so only such memory could overlap it.
            unsafe { std::ptr::copy_nonoverlapping(data.cast(), payload.as_mut_ptr(), size) };
            loan.publish()?;
            Ok(zerocp_result_t::ZEROCP_OK)
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Takes the oldest queued sample as a copy in one call: copies its
/// payload into the `capacity` bytes at `buffer`, fills `*sample` (when not
/// NULL) with its metadata, `payload` pointing at `buffer`, and releases
/// it, as `zerocp_subscriber_take` and `zerocp_subscriber_release` would;
/// `ZEROCP_EMPTY` (not an error) when none is queued.
///
/// For sized types without a user header: a slice or a user header is
/// `ZEROCP_ERR_INVALID_ARGUMENT` (take such samples with
/// `zerocp_subscriber_take`), and so is a `capacity` below the type's size;
/// in either case nothing is taken. The sample counts as held during the
/// call: `ZEROCP_ERR_LIMIT` when `max_held` samples are held already.
///
/// # Safety
///
/// `buffer` is NULL (refused) or points to `capacity` writable bytes: any
/// memory of the caller's, a loan included, but not one already published
/// or released; `sample` is NULL or writable; `error` is NULL or points to
/// a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_subscriber_take_copy(
    subscriber: zerocp_subscriber_t,
    buffer: *mut c_void,
    capacity: usize,
    sample: *mut zerocp_sample_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if buffer.is_null() {
            return Err(Failure::null("buffer"));
        }
        SUBSCRIBERS.with(subscriber.id, |port| {
            copyable(port, capacity)?;
            // The sample (with its reference to the port's core) lives only
            // in this call, under the port's lock: see `SubscriberPort`.
            let Some(taken) = port.subscriber.take()? else {
                return Ok(zerocp_result_t::ZEROCP_EMPTY);
            };
            let bytes = taken.payload();
            if bytes.len() > capacity {
                let size = bytes.len();
                return Err(Failure::new(
                    zerocp_result_t::ZEROCP_ERR_INTERNAL,
                    format!(
                        "a sample of {size} bytes does not fit the {capacity}-byte buffer; it \
                         was released unread"
                    ),
                ));
            }
            // SAFETY: `bytes.len()` fits the buffer (checked), which the
            // caller's contract makes writable and not memory already
            // published or released. The source is the chunk just taken:
            // mapped read-only in subscribers, so no writable buffer lies
            // in it, and not a loan (a loan is never queued).
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.cast(), bytes.len()) };
            if !sample.is_null() {
                let copied = zerocp_sample_t {
                    payload: buffer.cast_const(),
                    ..describe(&taken)
                };
                // SAFETY: not NULL, and writable by the caller's contract.
                unsafe { sample.write(copied) };
            }
            Ok(zerocp_result_t::ZEROCP_OK)
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Whether the subscriber's samples can be taken as a copy into
/// `capacity` bytes: a sized type without a user header that fits.
fn copyable(port: &SubscriberPort, capacity: usize) -> Result<(), Failure> {
    let ty = port.subscriber.service_type();
    if ty.shape == PayloadShape::Slice {
        return Err(Failure::invalid(
            "the subscriber's type is a slice, whose samples are taken in place: use \
             zerocp_subscriber_take",
        ));
    }
    if ty.user_header.size > 0 {
        return Err(Failure::invalid(format!(
            "the subscriber's type has a user header ({} bytes), which a copy would drop: \
             use zerocp_subscriber_take",
            ty.user_header.size
        )));
    }
    let size = ty.payload.size as usize;
    if capacity < size {
        return Err(Failure::invalid(format!(
            "capacity {capacity} is below the subscriber's type size {size}"
        )));
    }
    Ok(())
}
