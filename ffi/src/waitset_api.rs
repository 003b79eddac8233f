//! Wait sets: `zerocp_waitset_create`, `_wait`, `_wait_events`, `_fd`,
//! `_destroy`, over the runtime's [`WaitSet`]: one thread waits for
//! whichever of several subscribers, listeners, intervals, deadlines and
//! the application's own descriptors is ready first and learns which, by
//! attachment id (and why, with `_wait_events`). Attaching and detaching
//! are in `waitset_attach_api`.
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
//! (the SAFETY notes in `waitset_attach_api::attach_view`).

use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zerocp::{Attachable, Attachment, Readiness, WaitSet};

use crate::boundary::{call, destroy};
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::handles::Registry;
use crate::text::put;
use crate::watched_fd::WatchedFd;
use crate::watched_port::{HasPort, WatchedPort};

/// `zerocp_waitset_event_t::reason`: the attachment's subscriber has a
/// sample queued, its listener an event id raised, or its descriptor is
/// readable.
pub const ZEROCP_READY_DATA: u32 = 0;
/// `zerocp_waitset_event_t::reason`: the attachment's interval elapsed.
pub const ZEROCP_READY_TICK: u32 = 1;
/// `zerocp_waitset_event_t::reason`: the attachment's subscriber (or
/// listener) had nothing for its deadline's period.
pub const ZEROCP_READY_MISSED: u32 = 2;

/// One ready attachment and why it is ready (`zerocp_waitset_wait_events`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_waitset_event_t {
    /// The attachment's id.
    pub attachment: u64,
    /// `ZEROCP_READY_DATA`, `ZEROCP_READY_TICK` or `ZEROCP_READY_MISSED`.
    pub reason: u32,
}

/// What a C wait set attaches: a subscriber, a listener or a descriptor of
/// the application, each with its own gone-check.
pub(crate) trait Watched: Attachable + Send + Sync {
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

impl SetState {
    /// The set with the lifetimes its attachments are stored with.
    ///
    /// # Safety
    ///
    /// The 'static lifetimes are a promise the caller keeps by storing
    /// every attachment made through it with [`SetState::keep`]: the set is
    /// boxed (it never moves) and outlives every attachment, which borrows
    /// it (`entries` drop before `set`).
    pub(crate) unsafe fn set_for_attachments(&self) -> &'static WaitSet<'static> {
        // SAFETY: the function's contract.
        unsafe { &*std::ptr::from_ref(&*self.set) }
    }

    /// Keeps `attachment` and the view it watches (none for an interval);
    /// returns its id.
    pub(crate) fn keep(
        &mut self,
        attachment: Attachment<'static, 'static>,
        view: Option<Arc<dyn Watched>>,
    ) -> u64 {
        let id = attachment.id().value();
        self.entries.push(Entry {
            id,
            attachment: Some(attachment),
            view,
        });
        id
    }

    /// Removes and drops the attachment `id`; `false` when the set has
    /// none of that id. The drop happens here, under the set's lock: an
    /// attachment detaches itself from the runtime's set as it drops,
    /// which must not overlap a wait on another thread.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let Some(at) = self.entries.iter().position(|e| e.id == id) else {
            return false;
        };
        drop(self.entries.remove(at));
        true
    }

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

/// Waits until an attachment is ready (`ZEROCP_OK`) or `timeout_ms`
/// milliseconds pass (`ZEROCP_TIMEOUT`, `*count` 0; a negative timeout
/// waits without limit, 0 only looks): a subscriber with a sample queued,
/// a listener with an event id raised, a readable descriptor, an elapsed
/// interval or a missed deadline. Writes the ids of the ready attachments,
/// in attachment order, to `ids[0..*count]`, at most `capacity` of them:
/// the others stay ready and the next wait reports them (pass room for
/// every attachment to see all at once). Take from each reported
/// subscriber until `ZEROCP_EMPTY`, then wait again: an attachment is
/// reported as long as its queue holds a sample. To learn why each is
/// ready, use `zerocp_waitset_wait_events`.
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
    let out = Out {
        what: "ids",
        at: ids,
        capacity,
        count,
    };
    // SAFETY: the caller's contract on the pointers.
    unsafe { wait_into(waitset, timeout_ms, out, |id, _| id, error) }
}

/// Waits as `zerocp_waitset_wait` does and writes each ready attachment
/// with its reason (`ZEROCP_READY_DATA`, `_TICK` or `_MISSED`) to
/// `events[0..*count]`, at most `capacity` of them.
///
/// # Safety
///
/// `events` is NULL or writable for `capacity` `zerocp_waitset_event_t`s;
/// `count` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_waitset_wait_events(
    waitset: zerocp_waitset_t,
    timeout_ms: i64,
    events: *mut zerocp_waitset_event_t,
    capacity: usize,
    count: *mut usize,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let out = Out {
        what: "events",
        at: events,
        capacity,
        count,
    };
    let event = |attachment, reason| zerocp_waitset_event_t { attachment, reason };
    // SAFETY: the caller's contract on the pointers.
    unsafe { wait_into(waitset, timeout_ms, out, event, error) }
}

/// Where a wait writes what is ready: `capacity` `T`s at `at` and their
/// number at `count`.
struct Out<T> {
    what: &'static str,
    at: *mut T,
    capacity: usize,
    count: *mut usize,
}

/// The body of both waits: waits, then writes `make(id, reason)` for each
/// ready attachment to `out`.
///
/// # Safety
///
/// `out.at` is NULL or writable for `out.capacity` `T`s, `out.count` NULL
/// or writable, `error` NULL or writable.
unsafe fn wait_into<T>(
    waitset: zerocp_waitset_t,
    timeout_ms: i64,
    out: Out<T>,
    make: impl Fn(u64, u32) -> T,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if out.at.is_null() {
            return Err(Failure::null(out.what));
        }
        if out.capacity == 0 {
            return Err(Failure::invalid(
                "capacity is 0: no room for a ready attachment",
            ));
        }
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(out.count, "count", 0) }?;
        // No limit for a negative timeout, or one too far to count.
        let until = u64::try_from(timeout_ms)
            .ok()
            .and_then(|ms| Instant::now().checked_add(Duration::from_millis(ms)));
        let ready = WAITSETS.with(waitset.id, |state| wait_ready(state, until))?;
        if ready.is_empty() {
            return Ok(zerocp_result_t::ZEROCP_TIMEOUT);
        }
        let n = ready.len().min(out.capacity);
        for (i, &(id, reason)) in ready.iter().take(n).enumerate() {
            // SAFETY: i < capacity; `out.at` is writable for `capacity`
            // values (function docs; unaligned: C may hand any address).
            unsafe { out.at.wrapping_add(i).write_unaligned(make(id, reason)) };
        }
        // SAFETY: as above, `count` was checked and written.
        unsafe { put(out.count, "count", n) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// The ready attachments and their reasons (`ZEROCP_READY_*`), waiting
/// until one is or `until` passes (`None`: no limit): empty then. Detaches
/// gone subscribers; a publisher leaving (the runtime's `PublisherGone`)
/// is not a reason to wake the caller, so it waits on.
fn wait_ready(state: &mut SetState, until: Option<Instant>) -> Result<Vec<(u64, u32)>, Failure> {
    loop {
        state.detach_gone();
        let left = until.map(|u| u.saturating_duration_since(Instant::now()));
        let events = state.set.wait(left)?;
        state.detach_gone();
        let ready: Vec<(u64, u32)> = events
            .iter()
            .filter_map(|(id, why)| Some((id.value(), reason(why)?)))
            .filter(|(id, _)| state.is_live(*id))
            .collect();
        let timed_out = until.is_some_and(|u| Instant::now() >= u);
        if !ready.is_empty() || events.is_empty() || timed_out {
            return Ok(ready);
        }
    }
}

/// The C reason for a readiness the caller is woken for.
fn reason(why: Readiness) -> Option<u32> {
    match why {
        Readiness::Data => Some(ZEROCP_READY_DATA),
        Readiness::Tick => Some(ZEROCP_READY_TICK),
        Readiness::Missed => Some(ZEROCP_READY_MISSED),
        Readiness::PublisherGone => None,
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
