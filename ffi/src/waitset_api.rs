//! Wait sets: `zerocp_waitset_create`, `_attach_subscriber`,
//! `_attach_listener`, `_attach_fd`, `_detach`, `_wait`, `_fd`, `_destroy`,
//! over the runtime's [`WaitSet`]: one thread waits for whichever of
//! several subscribers, listeners and the application's own descriptors is
//! ready first and learns which, by attachment id.
//!
//! **Locks.** A wait set handle is a runtime [`WaitSet`] behind a lock:
//! calls on one set are serialised (an attach from another thread waits
//! until a running wait returns). Its subscribers and listeners are
//! attached as [`WatchedPort`]s, which take a handle's lock only for each
//! look, never while the set sleeps (`watched_port`).
//!
//! **A destroyed subscriber or listener is detached implicitly**: the next wait (or
//! the running one) removes its attachment from the epoll set and never
//! reports it; its id stays known until `zerocp_waitset_detach`, which
//! accepts it (so an application's clean-up works in either order).
//!
//! **Ownership.** The runtime's `WaitSet<'a>` borrows what it waits on and
//! its `Attachment`s borrow the set; here both live in one [`SetState`],
//! whose fields are dropped in the order that keeps every borrow valid
//! (the SAFETY notes in `attach`).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::io::Errno;
use zerocp::{AttachError, Attachable, Attachment, Readiness, WaitSet};
use zerocp_os_linux::error::PollError;

use crate::boundary::{call, destroy};
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::event_api::{ListenerPort, zerocp_listener_t};
use crate::handles::Registry;
use crate::subscriber_api::{SubscriberPort, zerocp_subscriber_t};
use crate::text::put;
use crate::watched_fd::WatchedFd;
use crate::watched_port::{HasPort, WatchedPort};

/// What a C wait set attaches: a subscriber, a listener or a descriptor of
/// the application, each with its own gone-check.
trait Watched: Attachable + Send + Sync {
    /// Whether what it watches is gone (then it is detached implicitly).
    fn is_gone(&self) -> bool;
}

impl<T: HasPort> Watched for WatchedPort<T> {
    fn is_gone(&self) -> bool {
        WatchedPort::is_gone(self)
    }
}

impl Watched for WatchedFd {
    fn is_gone(&self) -> bool {
        false
    }
}

/// A wait set. Zero is never a valid handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_waitset_t {
    /// The handle's id (opaque).
    pub id: u64,
}

/// One attachment of a set. Field order is drop order: the attachment
/// (which detaches from the set, and through which the set borrows the
/// view) goes before the view.
struct Entry {
    /// The attachment id C holds (the runtime's, `AttachmentId::value`).
    id: u64,
    /// `None` once its subscriber is gone (detached implicitly).
    attachment: Option<Attachment<'static, 'static>>,
    view: Option<Arc<dyn Watched>>,
}

/// A C wait set (module docs). Field order is drop order: the entries
/// borrow `set`, which borrows their views.
pub(crate) struct SetState {
    entries: Vec<Entry>,
    set: Box<WaitSet<'static>>,
}

// SAFETY: the runtime's WaitSet and its Attachments are !Send for their
// Cells and shared references to the set; all of them live in this struct
// and are reached only under its registry slot's lock, one thread at a
// time. What the
// set borrows, the views, are Send + Sync (`Watched`).
unsafe impl Send for SetState {}

/// Attaches `view` to `state`'s set and keeps it; returns the id.
fn attach_view<V: Watched + 'static>(
    state: &mut SetState,
    view: Arc<V>,
) -> Result<u64, AttachError> {
    // SAFETY: the 'static lifetime is a promise kept by SetState's drop
    // order: the set is boxed (it never moves) and lives until every
    // attachment, which borrows it, is dropped (`entries` before `set`).
    let runtime_set: &'static WaitSet<'static> = unsafe { &*std::ptr::from_ref(&*state.set) };
    // SAFETY: as above: the view is in an Arc kept in the same entry as its
    // attachment and dropped after it (Entry's field order); the set's
    // reference to the view goes when the attachment drops.
    let watched: &'static V = unsafe { &*Arc::as_ptr(&view) };
    let attached = runtime_set.attach(watched)?;
    let id = attached.id().value();
    state.entries.push(Entry {
        id,
        attachment: Some(attached),
        view: Some(view),
    });
    Ok(id)
}

impl SetState {
    /// Detaches the attachments whose subscriber is gone (module docs).
    fn detach_gone(&mut self) {
        for entry in &mut self.entries {
            if entry.view.as_ref().is_some_and(|view| view.is_gone()) {
                entry.attachment = None;
                entry.view = None;
            }
        }
    }

    /// Whether `id` is attached and its subscriber not gone.
    fn is_live(&self, id: u64) -> bool {
        self.entries
            .iter()
            .any(|e| e.id == id && e.attachment.is_some())
    }
}

pub(crate) static WAITSETS: Registry<SetState> = Registry::new(5, "wait set");

/// Creates an empty wait set (one epoll descriptor) and stores its handle
/// in `*out`.
///
/// # Safety
///
/// `out` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_create(
    out: *mut zerocp_waitset_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let state = SetState {
            entries: Vec::new(),
            set: Box::new(WaitSet::new()?),
        };
        let id = WAITSETS.insert(state)?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(out, "out", zerocp_waitset_t { id }) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
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
    unsafe { attach_port::<SubscriberPort>(waitset, subscriber.id, attachment, error) }
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
    unsafe { attach_port::<ListenerPort>(waitset, listener.id, attachment, error) }
}

/// Attaches the port of handle `handle` (of kind `T`) to `waitset`.
///
/// # Safety
///
/// As `zerocp_waitset_attach_subscriber`.
unsafe fn attach_port<T: HasPort>(
    waitset: zerocp_waitset_t,
    handle: u64,
    attachment: *mut u64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if attachment.is_null() {
            return Err(Failure::null("attachment"));
        }
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
        let id = WAITSETS.with(waitset.id, |state| Ok(attach_view(state, view)?))?;
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
    let body = || {
        if attachment.is_null() {
            return Err(Failure::null("attachment"));
        }
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
        let id = WAITSETS.with(waitset.id, |state| {
            attach_view(state, view).map_err(|e| match e {
                AttachError::Poll(PollError::Add { errno, .. }) if errno == Errno::PERM => {
                    Failure::invalid(format!(
                        "fd {fd} cannot be watched by epoll (a regular file or a directory?)"
                    ))
                }
                e => Failure::from(e),
            })
        })?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(attachment, "attachment", id) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
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
        let entry = WAITSETS.with(waitset.id, |state| {
            let at = state
                .entries
                .iter()
                .position(|e| e.id == attachment)
                .ok_or_else(|| {
                    Failure::invalid(format!(
                        "attachment {attachment} is not attached to this wait set (detached already?)"
                    ))
                })?;
            Ok(state.entries.remove(at))
        })?;
        drop(entry);
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Waits until an attached subscriber has a sample queued or an attached
/// descriptor is readable (`ZEROCP_OK`) or `timeout_ms` milliseconds pass (`ZEROCP_TIMEOUT`, `*count` 0; a
/// negative timeout waits without limit, 0 only looks). Writes the ids of
/// the ready attachments, in attachment order, to `ids[0..*count]`, at
/// most `capacity` of them: the others stay ready and the next wait
/// reports them (pass room for every attachment to see all at once).
/// Take from each reported subscriber until `ZEROCP_EMPTY`, then wait
/// again: an attachment is reported as long as its queue holds a sample.
///
/// Fails with `ZEROCP_ERR_DAEMON` when the daemon is gone (also while
/// sleeping) and `ZEROCP_ERR_REVOKED` when the daemon revoked an attached
/// subscriber (the message names the attachment; detach it).
///
/// # Safety
///
/// `ids` is NULL or writable for `capacity` `uint64_t`s; `count` is NULL or
/// writable; `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_wait(
    waitset: zerocp_waitset_t,
    timeout_ms: i64,
    ids: *mut u64,
    capacity: usize,
    count: *mut usize,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if ids.is_null() {
            return Err(Failure::null("ids"));
        }
        if capacity == 0 {
            return Err(Failure::invalid("capacity is 0: no room for a ready id"));
        }
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(count, "count", 0) }?;
        // No limit for a negative timeout, or one too far to count.
        let until = u64::try_from(timeout_ms)
            .ok()
            .and_then(|ms| Instant::now().checked_add(Duration::from_millis(ms)));
        let ready = WAITSETS.with(waitset.id, |state| wait_ready(state, until))?;
        if ready.is_empty() {
            return Ok(zerocp_result_t::ZEROCP_TIMEOUT);
        }
        let n = ready.len().min(capacity);
        for (i, id) in ready.iter().take(n).enumerate() {
            let slot = ids.wrapping_add(i);
            // SAFETY: i < capacity; `ids` is writable for `capacity` u64s
            // (function docs; unaligned: C may hand any address).
            unsafe { slot.write_unaligned(*id) };
        }
        // SAFETY: as above, `count` was checked and written.
        unsafe { put(count, "count", n) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// The ids with a sample queued, waiting until one has or `until` passes
/// (`None`: no limit): empty then. Detaches gone subscribers; a publisher
/// leaving (the runtime's `PublisherGone`) is not a sample, so it waits on.
fn wait_ready(state: &mut SetState, until: Option<Instant>) -> Result<Vec<u64>, Failure> {
    loop {
        state.detach_gone();
        let left = until.map(|u| u.saturating_duration_since(Instant::now()));
        let events = state.set.wait(left)?;
        state.detach_gone();
        let ready: Vec<u64> = events
            .iter()
            .filter(|(_, why)| *why == Readiness::Data)
            .map(|(id, _)| id.value())
            .filter(|id| state.is_live(*id))
            .collect();
        let timed_out = until.is_some_and(|u| Instant::now() >= u);
        if !ready.is_empty() || events.is_empty() || timed_out {
            return Ok(ready);
        }
    }
}

/// Stores the wait set's own descriptor in `*fd`, for an outer
/// `poll`/`epoll` loop: it is readable when an attached subscriber has a
/// sample queued; then call `zerocp_waitset_wait` with timeout 0 and take
/// from the reported subscribers until `ZEROCP_EMPTY`. It belongs to the
/// set (closed by `zerocp_waitset_destroy`); never read it yourself.
///
/// # Safety
///
/// `fd` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_fd(
    waitset: zerocp_waitset_t,
    fd: *mut i32,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if fd.is_null() {
            return Err(Failure::null("fd"));
        }
        let raw = WAITSETS.with(waitset.id, |state| Ok(state.set.as_fd().as_raw_fd()))?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(fd, "fd", raw) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Destroys a wait set: its attachments are detached (the subscribers stay
/// as they are) and its descriptor closed. The handle is invalid
/// afterwards; a wait running on another thread returns first (destroy
/// waits for it).
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_destroy(
    waitset: zerocp_waitset_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on `error`.
    unsafe { destroy(&WAITSETS, waitset.id, error) }
}
