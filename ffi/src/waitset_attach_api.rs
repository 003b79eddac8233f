//! Attaching to a C wait set: subscribers and listeners (while they have
//! data, or with a deadline), the application's descriptors, intervals;
//! and detaching. The set itself, its wait and its ownership rules are in
//! `waitset_api`.

use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::Duration;

use rustix::io::Errno;
use zerocp::{AttachError, Attachable};
use zerocp_os_linux::error::PollError;

use crate::boundary::call;
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::event_api::{ListenerPort, zerocp_listener_t};
use crate::subscriber_api::{SubscriberPort, zerocp_subscriber_t};
use crate::text::put;
use crate::waitset_api::{SetState, WAITSETS, Watched, zerocp_waitset_t};
use crate::watched_fd::WatchedFd;
use crate::watched_port::{HasPort, WatchedPort};

/// How a port is attached: reported while it has data, or also when it
/// had none for a deadline's period.
#[derive(Clone, Copy)]
enum How {
    Ready,
    Deadline(Duration),
}

/// Attaches `view` to `state`'s set as `how` says and keeps it; returns
/// the id.
fn attach_view<V: Watched + 'static>(
    state: &mut SetState,
    view: Arc<V>,
    how: How,
) -> Result<u64, AttachError> {
    // SAFETY: the 'static lifetime is a promise kept by SetState's drop
    // order: the set is boxed (it never moves) and lives until every
    // attachment, which borrows it, is dropped (`entries` before `set`).
    let runtime_set = unsafe { state.set_for_attachments() };
    // SAFETY: as above: the view is in an Arc kept in the same entry as its
    // attachment and dropped after it (Entry's field order); the set's
    // reference to the view goes when the attachment drops.
    let watched: &'static V = unsafe { &*Arc::as_ptr(&view) };
    let attached = match how {
        How::Ready => runtime_set.attach(watched)?,
        How::Deadline(period) => runtime_set.attach_deadline(watched, period)?,
    };
    Ok(state.keep(attached, Some(view)))
}

/// Attaches `subscriber` to `waitset` and stores the attachment's id in
/// `*attachment` (from 1, never reused within a set): `zerocp_waitset_wait`
/// reports that id while the subscriber has a sample queued. One
/// subscriber may be attached to several sets, and to one set twice.
/// Arms the subscriber's wake descriptor (as `zerocp_subscriber_fd`).
///
/// Destroying the subscriber detaches it implicitly: no wait reports it
/// again; `zerocp_waitset_detach` still accepts its id.
///
/// # Safety
///
/// `attachment` is NULL or writable; `error` is NULL or points to a
/// writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_attach_subscriber(
    waitset: zerocp_waitset_t,
    subscriber: zerocp_subscriber_t,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on the pointers.
    unsafe { attach_port::<SubscriberPort>(waitset, subscriber.id, How::Ready, attachment, error) }
}

/// Attaches `listener` to `waitset` as `zerocp_waitset_attach_subscriber`
/// attaches a subscriber: `zerocp_waitset_wait` reports the attachment's id
/// while an event id is raised in the listener (take them with
/// `zerocp_listener_try_wait`). Destroying the listener detaches it
/// implicitly.
///
/// # Safety
///
/// `attachment` is NULL or writable; `error` is NULL or points to a
/// writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_attach_listener(
    waitset: zerocp_waitset_t,
    listener: zerocp_listener_t,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on the pointers.
    unsafe { attach_port::<ListenerPort>(waitset, listener.id, How::Ready, attachment, error) }
}

/// Attaches the port of handle `handle` (of kind `T`) to `waitset` as
/// `how` says.
///
/// # Safety
///
/// As `zerocp_waitset_attach_subscriber`.
unsafe fn attach_port<T: HasPort>(
    waitset: zerocp_waitset_t,
    handle: u64,
    how: How,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let attach = || {
        let wake = T::registry().with(handle, |object| {
            let fd = object.port().wake_fd()?;
            fd.try_clone_to_owned().map_err(|e| {
                Failure::new(
                    zerocp_result_t::ZEROCP_ERR_INTERNAL,
                    format!("cannot duplicate the port's wake descriptor: {e}"),
                )
            })
        })?;
        let view = Arc::new(WatchedPort::<T>::new(handle, wake));
        WAITSETS.with(waitset.id, |state| Ok(attach_view(state, view, how)?))
    };
    // SAFETY: the caller's contract on the pointers.
    unsafe { attach_with(attach, attachment, error) }
}

/// The frame of every attach call: checks `attachment`, runs `attach` and
/// stores the id it returns in `*attachment`.
///
/// # Safety
///
/// `attachment` is NULL or writable; `error` is NULL or points to a
/// writable `zerocp_error_t`.
unsafe fn attach_with(
    attach: impl FnOnce() -> Result<u64, Failure>,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if attachment.is_null() {
            return Err(Failure::null("attachment"));
        }
        let id = attach()?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(attachment, "attachment", id) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Attaches the application's descriptor `fd` (a socket, pipe, timerfd,
/// eventfd, …) to `waitset` and stores the attachment's id in
/// `*attachment`: `zerocp_waitset_wait` reports it while `fd` is readable
/// (or hung up, or in error; level-triggered, as `poll` says): read it
/// (or detach it). The set keeps its own duplicate until the attachment
/// is detached, so closing `fd` does not detach it.
/// `ZEROCP_ERR_INVALID_ARGUMENT` for a negative or closed descriptor, or
/// one epoll cannot watch (a regular file, a directory).
///
/// # Safety
///
/// `fd` is an open descriptor or not one (never a descriptor another
/// thread closes meanwhile); `attachment` is NULL or writable; `error` is
/// NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_attach_fd(
    waitset: zerocp_waitset_t,
    fd: i32,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let attach = || {
        if fd < 0 {
            return Err(Failure::invalid(format!("fd {fd} is negative")));
        }
        // SAFETY: the caller's contract: `fd` stays as it is for this
        // call; if it is not open, the duplication (its one use) fails
        // with EBADF.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let own = rustix::io::fcntl_dupfd_cloexec(borrowed, 0).map_err(|errno| match errno {
            Errno::BADF => Failure::invalid(format!("fd {fd} is not an open descriptor")),
            errno => Failure::new(
                zerocp_result_t::ZEROCP_ERR_INTERNAL,
                format!("cannot duplicate fd {fd}: {errno}"),
            ),
        })?;
        let view = Arc::new(WatchedFd::new(own));
        WAITSETS.with(waitset.id, |state| {
            attach_view(state, view, How::Ready).map_err(|e| match e {
                AttachError::Poll(PollError::Add { errno, .. }) if errno == Errno::PERM => {
                    Failure::invalid(format!(
                        "fd {fd} cannot be watched by epoll (a regular file or a directory?)"
                    ))
                }
                e => Failure::from(e),
            })
        })
    };
    // SAFETY: the caller's contract on the pointers.
    unsafe { attach_with(attach, attachment, error) }
}

/// Attaches a deadline on `subscriber` to `waitset` and stores the
/// attachment's id in `*attachment`: `zerocp_waitset_wait_events` reports
/// it `ZEROCP_READY_DATA` while the subscriber has a sample queued and
/// `ZEROCP_READY_MISSED` when it had none at any look for `period_ms`
/// milliseconds (a watchdog for a silent sensor); either starts the period
/// again. `ZEROCP_ERR_INVALID_ARGUMENT` for a period of 0 or one longer
/// than 30 days. Destroying the subscriber detaches it implicitly.
///
/// # Safety
///
/// `attachment` is NULL or writable; `error` is NULL or points to a
/// writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_attach_subscriber_deadline(
    waitset: zerocp_waitset_t,
    subscriber: zerocp_subscriber_t,
    period_ms: u64,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let how = How::Deadline(Duration::from_millis(period_ms));
    // SAFETY: the caller's contract on the pointers.
    unsafe { attach_port::<SubscriberPort>(waitset, subscriber.id, how, attachment, error) }
}

/// Attaches a deadline on `listener` to `waitset`, as
/// `zerocp_waitset_attach_subscriber_deadline` does on a subscriber: data
/// is an event id raised in the listener.
///
/// # Safety
///
/// `attachment` is NULL or writable; `error` is NULL or points to a
/// writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_attach_listener_deadline(
    waitset: zerocp_waitset_t,
    listener: zerocp_listener_t,
    period_ms: u64,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let how = How::Deadline(Duration::from_millis(period_ms));
    // SAFETY: the caller's contract on the pointers.
    unsafe { attach_port::<ListenerPort>(waitset, listener.id, how, attachment, error) }
}

/// Attaches an interval to `waitset` and stores the attachment's id in
/// `*attachment`: the wait reports it (`ZEROCP_READY_TICK`) every
/// `period_ms` milliseconds; a tick missed while nobody waited is reported
/// once, and the next one is a period after the last due one still ahead.
/// One set serves a control loop's timer and its inputs from one thread.
/// `ZEROCP_ERR_INVALID_ARGUMENT` for a period of 0 or one longer than 30
/// days.
///
/// # Safety
///
/// `attachment` is NULL or writable; `error` is NULL or points to a
/// writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_attach_interval(
    waitset: zerocp_waitset_t,
    period_ms: u64,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let attach = || {
        WAITSETS.with(waitset.id, |state| {
            // SAFETY: as in `attach_view`: the attachment is kept in the
            // set's state, which drops it before the set.
            let runtime_set = unsafe { state.set_for_attachments() };
            let attached = runtime_set.attach_interval(Duration::from_millis(period_ms))?;
            Ok(state.keep(attached, None))
        })
    };
    // SAFETY: the caller's contract on the pointers.
    unsafe { attach_with(attach, attachment, error) }
}

/// Detaches the attachment `attachment` from `waitset`.
/// `ZEROCP_ERR_INVALID_ARGUMENT` when the set has no such attachment
/// (detached already, or never attached); an attachment whose subscriber
/// was destroyed is still accepted.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_detach(
    waitset: zerocp_waitset_t,
    attachment: u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        WAITSETS.with(waitset.id, |state| {
            if state.remove(attachment) {
                Ok(zerocp_result_t::ZEROCP_OK)
            } else {
                Err(Failure::invalid(format!(
                    "attachment {attachment} is not attached to this wait set (detached already?)"
                )))
            }
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}
