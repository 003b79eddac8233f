//! Subscribers: `zerocp_subscriber_create`, `_take`, `_release`, `_wait`,
//! `_fd`, `_destroy`, over the runtime's [`UntypedSubscriber`].
//!
//! A subscriber handle owns its port and the samples C holds: a sample is
//! named by its payload pointer, so releasing a pointer that is not a
//! sample held now (twice, or a foreign one) is `ZEROCP_ERR_NOT_HELD`.

use std::ffi::c_void;
use std::os::fd::AsRawFd;
use std::time::Duration;

use zerocp::{FullPolicy, UntypedSample, UntypedSubscriber};

use crate::boundary::{call, destroy};
use crate::error::{Failure, zerocp_error_t, zerocp_result_t};
use crate::handles::Registry;
use crate::payload_type::{ZEROCP_SHAPE_SIZED, service_type, zerocp_type_t};
use crate::runtime_api::{RUNTIMES, zerocp_runtime_t};
use crate::service_api::{SERVICES, zerocp_service_t};
use crate::text::{put, read_or};
use crate::watched_port::HasPort;

/// `zerocp_subscriber_options_t::full_policy`: a full queue drops its
/// oldest sample (the default; a publisher never waits).
pub const ZEROCP_FULL_POLICY_DISCARD_OLDEST: u32 = 0;
/// `zerocp_subscriber_options_t::full_policy`: a publisher waits for room
/// (at most its publish timeout).
pub const ZEROCP_FULL_POLICY_BLOCK_PUBLISHER: u32 = 1;

/// A subscriber. Zero is never a valid handle.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct zerocp_subscriber_t {
    /// The handle's id (opaque).
    pub id: u64,
}

/// A subscriber's options; `zerocp_subscriber_options_default` fills the
/// defaults (NULL options mean them too).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zerocp_subscriber_options_t {
    /// Samples queued and not yet taken: 1..=256, default 16.
    pub queue_capacity: u32,
    /// `ZEROCP_FULL_POLICY_DISCARD_OLDEST` (default) or `_BLOCK_PUBLISHER`.
    pub full_policy: u32,
    /// Each publisher's latest samples received on connecting: 0..=32,
    /// default 0.
    pub history: u32,
    /// Samples taken and not released, at once: 1..=32, default 8.
    pub max_held: u32,
    /// Checks of the queue before `zerocp_subscriber_wait` sleeps (0:
    /// sleep at once).
    pub wait_spins: u32,
    /// `ZEROCP_SHAPE_SIZED` (default: one `type` per sample) or
    /// `ZEROCP_SHAPE_SLICE` (a slice of them; `zerocp_sample_t::len` says
    /// how many).
    pub shape: u32,
    /// The type of the user header beside every payload, or NULL
    /// (default) for none; read during the call.
    pub user_header: *const zerocp_type_t,
}

impl Default for zerocp_subscriber_options_t {
    fn default() -> Self {
        Self {
            queue_capacity: zerocp::DEFAULT_QUEUE_CAPACITY,
            full_policy: ZEROCP_FULL_POLICY_DISCARD_OLDEST,
            history: 0,
            max_held: zerocp::DEFAULT_MAX_HELD,
            wait_spins: zerocp::DEFAULT_WAIT_SPINS,
            shape: ZEROCP_SHAPE_SIZED,
            user_header: std::ptr::null(),
        }
    }
}

/// A sample taken by `zerocp_subscriber_take`: its payload (read-only, in
/// shared memory, valid until released) and metadata. Filled by
/// `zerocp_subscriber_take_copy`, it describes a copy: `payload` is the
/// caller's buffer (never released) and `user_header` NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct zerocp_sample_t {
    /// The payload's first byte, aligned for the type.
    pub payload: *const c_void,
    /// The payload's size in bytes (the type's size; for a slice, `len`
    /// times it).
    pub size: usize,
    /// The publisher's sequence number of this sample (from 0).
    pub sequence: u64,
    /// The publisher's `CLOCK_MONOTONIC` when it published, in nanoseconds.
    pub publish_time_ns: u64,
    /// The publisher's port index in the daemon's registry.
    pub publisher_port: u32,
    /// The publisher port's generation (with the index: which publisher).
    pub publisher_generation: u32,
    /// Elements of a slice payload (1 for a sized type; a slice may be
    /// empty: then `size` is 0).
    pub len: usize,
    /// The user header's first byte (read-only, valid as the payload is),
    /// or NULL when the service type has none.
    pub user_header: *const c_void,
    /// The user header's size in bytes (0 without one).
    pub user_header_size: usize,
}

/// A subscriber and the samples C holds (field order: samples drop first).
pub(crate) struct SubscriberPort {
    held: Vec<UntypedSample<'static>>,
    pub(crate) subscriber: UntypedSubscriber,
}

// SAFETY: as for crate::publisher_api::PublisherPort: the subscriber and
// its samples share a non-thread-safe `Rc` core, all of whose references
// live in this struct, reached only under its registry slot's lock, or in
// a local of a call under that lock that is dropped before it is
// (crate::copy_api's samples).
unsafe impl Send for SubscriberPort {}

pub(crate) static SUBSCRIBERS: Registry<SubscriberPort> = Registry::new(4, "subscriber");

impl HasPort for SubscriberPort {
    type Port = UntypedSubscriber;
    fn registry() -> &'static Registry<Self> {
        &SUBSCRIBERS
    }
    fn port(&self) -> &UntypedSubscriber {
        &self.subscriber
    }
}

/// Fills `*out` with the default subscriber options.
///
/// # Safety
///
/// `out` is NULL (then nothing happens) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_subscriber_options_default(out: *mut zerocp_subscriber_options_t) {
    // SAFETY: the caller's contract; NULL is refused (and ignored here).
    let _ = unsafe { put(out, "out", zerocp_subscriber_options_t::default()) };
}

/// Creates a subscriber of one `*type` per sample (or a slice of them, and
/// a user header, as `*options` say) on `service` with `*options` (NULL:
/// the defaults) and stores its handle in `*out`; the daemon refuses
/// (`ZEROCP_ERR_REFUSED`) another type than the service's.
///
/// # Safety
///
/// As `zerocp_publisher_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_subscriber_create(
    runtime: zerocp_runtime_t,
    service: zerocp_service_t,
    r#type: *const zerocp_type_t,
    options: *const zerocp_subscriber_options_t,
    out: *mut zerocp_subscriber_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        // SAFETY: the caller's contract on this pointer (function docs).
        let o = unsafe { read_or(options, zerocp_subscriber_options_t::default()) };
        // SAFETY: the caller's contract on these pointers (function docs).
        let ty = unsafe { service_type(r#type, o.shape, o.user_header) }?;
        let policy = match o.full_policy {
            ZEROCP_FULL_POLICY_DISCARD_OLDEST => FullPolicy::DiscardOldest,
            ZEROCP_FULL_POLICY_BLOCK_PUBLISHER => FullPolicy::BlockPublisher,
            other => {
                return Err(Failure::invalid(format!(
                    "options.full_policy {other} is neither DISCARD_OLDEST (0) nor BLOCK_PUBLISHER (1)"
                )));
            }
        };
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let subscriber = RUNTIMES.with(runtime.id, |rt| {
            SERVICES.with(service.id, |svc| {
                let created = rt
                    .untyped_subscriber(svc, ty)
                    .queue_capacity(o.queue_capacity)
                    .full_policy(policy)
                    .history(o.history)
                    .max_held(o.max_held)
                    .wait_spins(o.wait_spins)
                    .create()?;
                Ok(created)
            })
        })?;
        let port = SubscriberPort {
            held: Vec::new(),
            subscriber,
        };
        let id = SUBSCRIBERS.insert(port)?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(out, "out", zerocp_subscriber_t { id }) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Takes the oldest queued sample into `*sample`; `ZEROCP_EMPTY` (not an
/// error) when none is queued. Release it with `zerocp_subscriber_release`;
/// `ZEROCP_ERR_LIMIT` when `max_held` samples are held already.
///
/// # Safety
///
/// `sample` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_subscriber_take(
    subscriber: zerocp_subscriber_t,
    sample: *mut zerocp_sample_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if sample.is_null() {
            return Err(Failure::null("sample"));
        }
        SUBSCRIBERS.with(subscriber.id, |port| {
            let Some(taken) = port.subscriber.take()? else {
                return Ok(zerocp_result_t::ZEROCP_EMPTY);
            };
            // SAFETY: only the lifetime changes: the sample holds its own
            // reference to the subscriber's core (it never borrows the
            // subscriber's memory); it is stored beside the subscriber and
            // dropped before it (SubscriberPort's field order).
            let taken: UntypedSample<'static> = unsafe { std::mem::transmute(taken) };
            // SAFETY: the caller's contract on `sample` (function docs).
            unsafe { put(sample, "sample", describe(&taken)) }?;
            port.held.push(taken);
            Ok(zerocp_result_t::ZEROCP_OK)
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// What C learns of a taken sample: where its payload and user header
/// are, and its metadata.
pub(crate) fn describe(taken: &UntypedSample<'_>) -> zerocp_sample_t {
    let publisher = taken.publisher();
    let bytes = taken.payload();
    let header = taken.user_header();
    zerocp_sample_t {
        payload: bytes.as_ptr().cast(),
        size: bytes.len(),
        sequence: taken.sequence(),
        publish_time_ns: taken.publish_time().as_nanos(),
        publisher_port: publisher.port_index(),
        publisher_generation: publisher.generation(),
        len: taken.len(),
        user_header: if header.is_empty() {
            std::ptr::null()
        } else {
            header.as_ptr().cast()
        },
        user_header_size: header.len(),
    }
}

/// Releases the sample whose payload is at `payload` (from
/// `zerocp_sample_t::payload`). `ZEROCP_ERR_NOT_HELD` when it is not a
/// sample this subscriber holds now.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_subscriber_release(
    subscriber: zerocp_subscriber_t,
    payload: *const c_void,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if payload.is_null() {
            return Err(Failure::null("payload"));
        }
        SUBSCRIBERS.with(subscriber.id, |port| {
            let at = port
                .held
                .iter()
                .position(|s| s.payload().as_ptr().cast() == payload)
                .ok_or_else(|| {
                    Failure::new(
                        zerocp_result_t::ZEROCP_ERR_NOT_HELD,
                        format!(
                            "{payload:p} is not a sample this subscriber holds (already released?)"
                        ),
                    )
                })?;
            drop(port.held.swap_remove(at));
            Ok(zerocp_result_t::ZEROCP_OK)
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Sleeps until a sample is queued (`ZEROCP_OK`), `timeout_ms`
/// milliseconds pass (`ZEROCP_TIMEOUT`; a negative timeout waits without
/// limit) or the daemon is gone (`ZEROCP_ERR_DAEMON`). A publisher leaving
/// wakes it too: then it returns `ZEROCP_TIMEOUT` early, as nothing is
/// queued; a caller with a deadline waits again for the rest.
///
/// Other calls on this subscriber, `zerocp_subscriber_destroy` included,
/// wait until it returns. To stop a thread that waits without limit, wait
/// on a wait set or the subscriber's descriptor together with one of your
/// own instead.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_subscriber_wait(
    subscriber: zerocp_subscriber_t,
    timeout_ms: i64,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        SUBSCRIBERS.with(subscriber.id, |port| {
            if port.subscriber.wait(timeout)? {
                Ok(zerocp_result_t::ZEROCP_OK)
            } else {
                Ok(zerocp_result_t::ZEROCP_TIMEOUT)
            }
        })
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Stores the subscriber's wake descriptor in `*fd`, for the
/// application's own `poll`/`epoll` loop (to wait for several subscribers,
/// sockets and timers in one place): it is readable when a sample is
/// queued, and also when the daemon goes or revokes the port (then the
/// next call returns the error). Protocol: when readable, take until
/// `ZEROCP_EMPTY` (that empty take re-arms it), then poll again; never read
/// it yourself. The descriptor belongs to the subscriber: it stays the same
/// (also across a daemon restart) until `zerocp_subscriber_destroy`, which
/// closes it.
///
/// # Safety
///
/// `fd` is NULL or writable; `error` is NULL or points to a writable
/// `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_subscriber_fd(
    subscriber: zerocp_subscriber_t,
    fd: *mut i32,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    let body = || {
        if fd.is_null() {
            return Err(Failure::null("fd"));
        }
        let raw = SUBSCRIBERS.with(subscriber.id, |port| {
            Ok(port.subscriber.as_fd()?.as_raw_fd())
        })?;
        // SAFETY: the caller's contract on this pointer (function docs).
        unsafe { put(fd, "fd", raw) }?;
        Ok(zerocp_result_t::ZEROCP_OK)
    };
    // SAFETY: the caller's contract on `error`.
    unsafe { call(error, body) }
}

/// Destroys a subscriber: its held samples are released, its port
/// removed. The handle is invalid afterwards.
///
/// # Safety
///
/// `error` is NULL or points to a writable `zerocp_error_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zerocp_subscriber_destroy(
    subscriber: zerocp_subscriber_t,
    error: *mut zerocp_error_t,
) -> zerocp_result_t {
    // SAFETY: the caller's contract on `error`.
    unsafe { destroy(&SUBSCRIBERS, subscriber.id, error) }
}
