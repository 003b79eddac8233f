//! Events: `zerocp_notifier_*` and `zerocp_listener_*`, over the runtime's
//! [`Notifier`] and [`Listener`].
//!
//! An event service carries no payload: a notifier raises an event id
//! (`0..=ZEROCP_MAX_EVENT_ID`) in every listener of the service, and a
//! listener takes the ids raised since it last looked as a
//! [`zerocp_event_set_t`], a bitmap (ids raised twice before a take count
//! once). A listener waits alone (`zerocp_listener_wait`), through its
//! descriptor, or in a wait set (`zerocp_waitset_attach_listener`).

use std::os::fd::AsRawFd;
use std::time::Duration;

use zerocp::{EventId, EventSet, Listener, Notifier};

use crate::boundary::{call, destroy};
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::handles::Registry;
use crate::runtime_api::{RUNTIMES, zerocp_runtime_t};
use crate::service_api::{SERVICES, zerocp_service_t};
use crate::text::put;
use crate::watched_port::HasPort;

/// The largest event id (ids are `0..=ZEROCP_MAX_EVENT_ID`).
pub const ZEROCP_MAX_EVENT_ID: u32 = 255;
/// Words of `zerocp_event_set_t::words`.
pub const ZEROCP_EVENT_WORDS: usize = 8;
const _: () = assert!(ZEROCP_MAX_EVENT_ID == zerocp::MAX_EVENT_ID);
const _: () = assert!(ZEROCP_EVENT_WORDS * 32 == ZEROCP_MAX_EVENT_ID as usize + 1);

/// A notifier. Zero is never a valid handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_notifier_t {
    /// The handle's id (opaque).
    pub id: u64,
}

/// A listener. Zero is never a valid handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_listener_t {
    /// The handle's id (opaque).
    pub id: u64,
}

/// The event ids a listener took: id `n` is in the set when bit `n % 32`
/// of `words[n / 32]` is set (`zerocp_event_set_contains` tests it).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_event_set_t {
    /// The bitmap.
    pub words: [u32; ZEROCP_EVENT_WORDS],
}

impl From<EventSet> for zerocp_event_set_t {
    fn from(set: EventSet) -> Self {
        let mut out = Self::default();
        for id in set {
            let n = id.value() as usize;
            out.words[n / 32] |= 1 << (n % 32);
        }
        out
    }
}

/// A notifier's port. The runtime's `Notifier` is `Send`; it is reached
/// only under its registry slot's lock.
pub(crate) struct NotifierPort {
    notifier: Notifier,
}

/// A listener's port (as [`NotifierPort`]).
pub(crate) struct ListenerPort {
    listener: Listener,
}

pub(crate) static NOTIFIERS: Registry<NotifierPort> = Registry::new(6, "notifier");
pub(crate) static LISTENERS: Registry<ListenerPort> = Registry::new(7, "listener");

impl HasPort for ListenerPort {
    type Port = Listener;
    fn registry() -> &'static Registry<Self> {
        &LISTENERS
    }
    fn port(&self) -> &Listener {
        &self.listener
    }
}

/// Creates a notifier on the event service `service` and stores its handle
/// in `*out`. The service's segment group must admit the process by its
/// `publish` rule (else `ZEROCP_ERR_REFUSED`); a service with publishers or
/// subscribers is not an event service (`ZEROCP_ERR_REFUSED`).
///
/// # Safety
///
/// `out` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_notifier_create(
    runtime: zerocp_runtime_t,
    service: zerocp_service_t,
    out: *mut zerocp_notifier_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let notifier = RUNTIMES.with(runtime.id, |rt| {
            SERVICES.with(service.id, |svc| Ok(rt.notifier(svc).create()?))
        })?;
        let id = NOTIFIERS.insert(NotifierPort { notifier })?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(out, "out", zerocp_notifier_t { id }) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Raises `event_id` in every listener of the service and wakes those
/// asleep; stores how many listeners it reached in `*reached` (NULL: not
/// wanted). An id above `ZEROCP_MAX_EVENT_ID` is
/// `ZEROCP_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `reached` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_notifier_notify(
    notifier: zerocp_notifier_t,
    event_id: u32,
    reached: *mut usize,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        let id = EventId::new(event_id)?;
        let n = NOTIFIERS.with(notifier.id, |port| Ok(port.notifier.notify(id)?))?;
        if !reached.is_null() {
            // SAFETY: not NULL, and writable by the caller's contract.
            unsafe { put(reached, "reached", n) }?;
        }
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Destroys a notifier: its port is removed. The handle is invalid
/// afterwards.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_notifier_destroy(
    notifier: zerocp_notifier_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on `error`.
    unsafe { destroy(&NOTIFIERS, notifier.id, error) }
}

/// Creates a listener on the event service `service` and stores its
/// handle in `*out`. The service's segment group must admit the process by
/// its `subscribe` rule (else `ZEROCP_ERR_REFUSED`).
///
/// # Safety
///
/// `out` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_listener_create(
    runtime: zerocp_runtime_t,
    service: zerocp_service_t,
    out: *mut zerocp_listener_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let listener = RUNTIMES.with(runtime.id, |rt| {
            SERVICES.with(service.id, |svc| Ok(rt.listener(svc).create()?))
        })?;
        let id = LISTENERS.insert(ListenerPort { listener })?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(out, "out", zerocp_listener_t { id }) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Takes the ids raised since the last take into `*events`, without
/// sleeping: `ZEROCP_OK` with at least one id, `ZEROCP_EMPTY` (and an
/// empty set) when none was raised.
///
/// # Safety
///
/// `events` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_listener_try_wait(
    listener: zerocp_listener_t,
    events: *mut zerocp_event_set_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if events.is_null() {
            return Err(Failure::null("events"));
        }
        let set = LISTENERS.with(listener.id, |port| Ok(port.listener.try_wait()?))?;
        // SAFETY: the caller's contract on `events` (checked not NULL).
        unsafe { hand_out(set, events, zerocp_result_t::ZEROCP_EMPTY) }
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Sleeps until an id is raised or `timeout_ms` milliseconds pass (a
/// negative timeout waits without limit), then takes the raised ids into
/// `*events`: `ZEROCP_OK`, or `ZEROCP_TIMEOUT` with an empty set. No
/// system call when an id is pending already; `ZEROCP_ERR_DAEMON` once the
/// daemon is gone, also while sleeping. Other calls on this listener,
/// `zerocp_listener_destroy` included, wait until it returns.
///
/// # Safety
///
/// `events` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_listener_wait(
    listener: zerocp_listener_t,
    timeout_ms: i64,
    events: *mut zerocp_event_set_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if events.is_null() {
            return Err(Failure::null("events"));
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let set = LISTENERS.with(listener.id, |port| Ok(port.listener.wait(timeout)?))?;
        // SAFETY: the caller's contract on `events` (checked not NULL).
        unsafe { hand_out(set, events, zerocp_result_t::ZEROCP_TIMEOUT) }
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Writes `set` to `*events`; `ZEROCP_OK`, or `none` for an empty set.
///
/// # Safety
///
/// `events` is not NULL and writable.
unsafe fn hand_out(
    set: EventSet,
    events: *mut zerocp_event_set_t,
    none: zerocp_result_t,
) -> Result<zerocp_result_t, Failure> {
    let status = if set.is_empty() {
        none
    } else {
        zerocp_result_t::ZEROCP_OK
    };
    // SAFETY: the caller's contract.
    unsafe { put(events, "events", set.into()) }?;
    Ok(status)
}

/// Stores the listener's wake descriptor in `*fd`, for the application's
/// own `poll`/`epoll` loop: readable when an id is raised, and also when
/// the daemon goes or revokes the port. Protocol: when readable,
/// `zerocp_listener_try_wait` until `ZEROCP_EMPTY` (that empty take
/// re-arms it), then poll again; never read it yourself. It belongs to the
/// listener (closed by `zerocp_listener_destroy`).
///
/// # Safety
///
/// `fd` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_listener_fd(
    listener: zerocp_listener_t,
    fd: *mut i32,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if fd.is_null() {
            return Err(Failure::null("fd"));
        }
        let raw = LISTENERS.with(listener.id, |port| Ok(port.listener.as_fd()?.as_raw_fd()))?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(fd, "fd", raw) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Destroys a listener: its port is removed (a wait set it is attached to
/// detaches it implicitly). The handle is invalid afterwards.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_listener_destroy(
    listener: zerocp_listener_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on `error`.
    unsafe { destroy(&LISTENERS, listener.id, error) }
}

/// Whether `event_id` is in `*events` (false for NULL or an id above
/// `ZEROCP_MAX_EVENT_ID`).
///
/// # Safety
///
/// `events` is NULL or points to a readable `zerocp_event_set_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_event_set_contains(
    events: *const zerocp_event_set_t,
    event_id: u32,
) -> bool {
    if events.is_null() || event_id > ZEROCP_MAX_EVENT_ID {
        return false;
    }
    // SAFETY: not NULL, and readable by the caller's contract.
    let set = unsafe { events.read() };
    set.words[event_id as usize / 32] & (1 << (event_id % 32)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_set_is_the_bitmap_of_its_ids() {
        let mut set = EventSet::default();
        for id in [0, 31, 32, 200, ZEROCP_MAX_EVENT_ID] {
            set.insert(EventId::new(id).unwrap());
        }
        let c: zerocp_event_set_t = set.into();
        assert_eq!(c.words[0], 1 | 1 << 31);
        assert_eq!(c.words[1], 1);
        assert_eq!(c.words[6], 1 << 8);
        assert_eq!(c.words[7], 1 << 31);
        for id in 0..=ZEROCP_MAX_EVENT_ID + 1 {
            // SAFETY: a readable set.
            let contains = unsafe { zerocp_event_set_contains(&c, id) };
            assert_eq!(
                contains,
                [0, 31, 32, 200, ZEROCP_MAX_EVENT_ID].contains(&id),
                "{id}"
            );
        }
        // SAFETY: NULL is allowed.
        assert!(!unsafe { zerocp_event_set_contains(std::ptr::null(), 0) });
    }
}
