//! The exported functions as the wait-set test calls them: [`Api`], one
//! safe method per call (each asserts success where the test needs it),
//! over `u64` payloads on services `FFI/<instance>/U64`; and the thread
//! helpers the test uses to know a waiter sleeps.

use std::ffi::{CStr, c_void};
use std::os::fd::BorrowedFd;
use std::ptr::{null, null_mut};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use zerocp_c::error::zerocp_result_t::{self, *};
use zerocp_c::event_api::*;
use zerocp_c::payload_type::zerocp_type_t;
use zerocp_c::publisher_api::*;
use zerocp_c::runtime_api::*;
use zerocp_c::service_api::*;
use zerocp_c::subscriber_api::*;
use zerocp_c::waitset_api::*;
use zerocp_c::waitset_attach_api::*;

fn ok(code: zerocp_result_t, what: &str) {
    assert_eq!(code, ZEROCP_OK, "{what}");
}

fn u64_type() -> zerocp_type_t {
    zerocp_type_t {
        name: c"u64".as_ptr(),
        size: 8,
        align: 8,
    }
}

/// A runtime and the calls of the test (module docs).
#[derive(Clone, Copy)]
pub struct Api {
    rt: zerocp_runtime_t,
}

impl Api {
    /// A runtime named `name`.
    pub fn new(name: &CStr) -> Self {
        let mut rt = zerocp_runtime_t::default();
        // SAFETY: a NUL-terminated name, a writable out, NULL error.
        let code = unsafe { zerocp_runtime_create(name.as_ptr(), null(), &mut rt, null_mut()) };
        ok(code, "runtime");
        Self { rt }
    }

    fn service(instance: &CStr) -> zerocp_service_t {
        let mut svc = zerocp_service_t::default();
        // SAFETY: NUL-terminated names, a writable out, NULL error.
        let code = unsafe {
            zerocp_service_create(
                c"FFI".as_ptr(),
                instance.as_ptr(),
                c"U64".as_ptr(),
                &mut svc,
                null_mut(),
            )
        };
        ok(code, "service");
        svc
    }

    fn drop_service(svc: zerocp_service_t) {
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_service_destroy(svc, null_mut()) },
            "service",
        );
    }

    /// A subscriber of `FFI/<instance>/U64` (default options).
    pub fn subscriber(&self, instance: &CStr) -> zerocp_subscriber_t {
        let svc = Self::service(instance);
        let mut sub = zerocp_subscriber_t::default();
        // SAFETY: a valid type, NULL options, a writable out, NULL error.
        let code = unsafe {
            zerocp_subscriber_create(self.rt, svc, &u64_type(), null(), &mut sub, null_mut())
        };
        ok(code, "subscriber");
        Self::drop_service(svc);
        sub
    }

    /// A publisher of `FFI/<instance>/U64` (default options).
    pub fn publisher(&self, instance: &CStr) -> zerocp_publisher_t {
        let svc = Self::service(instance);
        let mut publisher = zerocp_publisher_t::default();
        // SAFETY: as for `subscriber`.
        let code = unsafe {
            zerocp_publisher_create(
                self.rt,
                svc,
                &u64_type(),
                null(),
                &mut publisher,
                null_mut(),
            )
        };
        ok(code, "publisher");
        Self::drop_service(svc);
        publisher
    }

    /// Publishes `value` on `publisher`.
    pub fn publish(&self, publisher: zerocp_publisher_t, value: u64) {
        let mut payload: *mut c_void = null_mut();
        let mut size = 0usize;
        // SAFETY: writable outs, NULL error.
        let code = unsafe { zerocp_publisher_loan(publisher, &mut payload, &mut size, null_mut()) };
        ok(code, "loan");
        // SAFETY: the loan is 8 bytes, aligned for u64, ours until published.
        unsafe { payload.cast::<u64>().write(value) };
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_publisher_publish(publisher, payload, null_mut()) },
            "publish",
        );
    }

    /// Takes from `sub` until `ZEROCP_EMPTY`; returns the values.
    pub fn take_all(&self, sub: zerocp_subscriber_t) -> Vec<u64> {
        let mut values = Vec::new();
        loop {
            let mut sample = std::mem::MaybeUninit::<zerocp_sample_t>::uninit();
            // SAFETY: a writable sample, NULL error.
            let code = unsafe { zerocp_subscriber_take(sub, sample.as_mut_ptr(), null_mut()) };
            if code == ZEROCP_EMPTY {
                return values;
            }
            ok(code, "take");
            // SAFETY: take filled it.
            let sample = unsafe { sample.assume_init() };
            // SAFETY: the payload is 8 bytes, aligned, held until released.
            values.push(unsafe { sample.payload.cast::<u64>().read() });
            // SAFETY: NULL error.
            let code = unsafe { zerocp_subscriber_release(sub, sample.payload, null_mut()) };
            ok(code, "release");
        }
    }

    /// Destroys `sub`.
    pub fn destroy_subscriber(&self, sub: zerocp_subscriber_t) {
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_subscriber_destroy(sub, null_mut()) },
            "destroy subscriber",
        );
    }

    /// Destroys `listener`.
    pub fn destroy_listener(&self, listener: zerocp_listener_t) {
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_listener_destroy(listener, null_mut()) },
            "destroy listener",
        );
    }

    /// A new wait set.
    pub fn waitset(&self) -> zerocp_waitset_t {
        let mut set = zerocp_waitset_t::default();
        // SAFETY: a writable out, NULL error.
        ok(
            unsafe { zerocp_waitset_create(&mut set, null_mut()) },
            "waitset",
        );
        set
    }

    /// Attaches `sub` to `set`: the attachment id, or the code.
    pub fn attach(
        &self,
        set: zerocp_waitset_t,
        sub: zerocp_subscriber_t,
    ) -> Result<u64, zerocp_result_t> {
        let mut id = 0;
        // SAFETY: a writable out, NULL error.
        match unsafe { zerocp_waitset_attach_subscriber(set, sub, &mut id, null_mut()) } {
            ZEROCP_OK => Ok(id),
            code => Err(code),
        }
    }

    /// A listener of the event service `FFI/<instance>/U64`.
    pub fn listener(&self, instance: &CStr) -> zerocp_listener_t {
        let svc = Self::service(instance);
        let mut listener = zerocp_listener_t::default();
        // SAFETY: a writable out, NULL error.
        let code = unsafe { zerocp_listener_create(self.rt, svc, &mut listener, null_mut()) };
        ok(code, "listener");
        Self::drop_service(svc);
        listener
    }

    /// Attaches a deadline of `period_ms` on `sub` to `set`.
    pub fn attach_deadline(
        &self,
        set: zerocp_waitset_t,
        sub: zerocp_subscriber_t,
        period_ms: u64,
    ) -> Result<u64, zerocp_result_t> {
        let mut id = 0;
        // SAFETY: a writable out, NULL error.
        let code = unsafe {
            zerocp_waitset_attach_subscriber_deadline(set, sub, period_ms, &mut id, null_mut())
        };
        (code == ZEROCP_OK).then_some(id).ok_or(code)
    }

    /// Attaches a deadline of `period_ms` on `listener` to `set`.
    pub fn attach_listener_deadline(
        &self,
        set: zerocp_waitset_t,
        listener: zerocp_listener_t,
        period_ms: u64,
    ) -> Result<u64, zerocp_result_t> {
        let mut id = 0;
        // SAFETY: a writable out, NULL error.
        let code = unsafe {
            zerocp_waitset_attach_listener_deadline(set, listener, period_ms, &mut id, null_mut())
        };
        (code == ZEROCP_OK).then_some(id).ok_or(code)
    }

    /// Attaches an interval of `period_ms` to `set`.
    pub fn attach_interval(
        &self,
        set: zerocp_waitset_t,
        period_ms: u64,
    ) -> Result<u64, zerocp_result_t> {
        let mut id = 0;
        // SAFETY: a writable out, NULL error.
        let code = unsafe { zerocp_waitset_attach_interval(set, period_ms, &mut id, null_mut()) };
        (code == ZEROCP_OK).then_some(id).ok_or(code)
    }

    /// `zerocp_waitset_wait_events` with room for `capacity`: the code and
    /// the (attachment, reason) pairs.
    pub fn wait_events(
        &self,
        set: zerocp_waitset_t,
        timeout_ms: i64,
        capacity: usize,
    ) -> (zerocp_result_t, Vec<(u64, u32)>) {
        let mut events = vec![zerocp_waitset_event_t::default(); capacity];
        let mut count = usize::MAX;
        // SAFETY: `events` is writable for `capacity` events, `count`
        // writable, NULL error.
        let code = unsafe {
            zerocp_waitset_wait_events(
                set,
                timeout_ms,
                events.as_mut_ptr(),
                capacity,
                &mut count,
                null_mut(),
            )
        };
        if code != ZEROCP_OK && code != ZEROCP_TIMEOUT {
            return (code, Vec::new());
        }
        let ready = events[..count]
            .iter()
            .map(|e| (e.attachment, e.reason))
            .collect();
        (code, ready)
    }

    /// Attaches descriptor `fd` to `set`: the attachment id, or the code.
    pub fn attach_fd(&self, set: zerocp_waitset_t, fd: i32) -> Result<u64, zerocp_result_t> {
        let mut id = 0;
        // SAFETY: `fd` is open (or the call fails), a writable out, NULL error.
        match unsafe { zerocp_waitset_attach_fd(set, fd, &mut id, null_mut()) } {
            ZEROCP_OK => Ok(id),
            code => Err(code),
        }
    }

    /// Detaches attachment `id` of `set`: the code.
    pub fn detach(&self, set: zerocp_waitset_t, id: u64) -> zerocp_result_t {
        // SAFETY: NULL error.
        unsafe { zerocp_waitset_detach(set, id, null_mut()) }
    }

    /// Waits on `set` with room for `capacity` ids: the code and the ids.
    pub fn wait(
        &self,
        set: zerocp_waitset_t,
        timeout_ms: i64,
        capacity: usize,
    ) -> (zerocp_result_t, Vec<u64>) {
        let mut ids = vec![0u64; capacity];
        let mut count = usize::MAX;
        // SAFETY: `ids` is writable for `capacity` u64s, `count` writable,
        // NULL error.
        let code = unsafe {
            zerocp_waitset_wait(
                set,
                timeout_ms,
                ids.as_mut_ptr(),
                capacity,
                &mut count,
                null_mut(),
            )
        };
        if code != ZEROCP_OK && code != ZEROCP_TIMEOUT {
            return (code, Vec::new());
        }
        assert!(count <= capacity, "count {count} > capacity {capacity}");
        ids.truncate(count);
        (code, ids)
    }

    /// The set's descriptor.
    pub fn waitset_fd(&self, set: zerocp_waitset_t) -> i32 {
        let mut fd = -1;
        // SAFETY: a writable out, NULL error.
        ok(
            unsafe { zerocp_waitset_fd(set, &mut fd, null_mut()) },
            "waitset fd",
        );
        fd
    }

    /// Whether `fd` is readable within `ms` milliseconds.
    pub fn readable(&self, fd: i32, ms: i64) -> bool {
        // SAFETY: the wait set owns the descriptor and outlives this call.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        let timeout = Timespec {
            tv_sec: ms / 1000,
            tv_nsec: (ms % 1000) * 1_000_000,
        };
        poll(&mut fds, Some(&timeout)).expect("poll") == 1
    }

    /// Destroys `set`.
    pub fn destroy_waitset(&self, set: zerocp_waitset_t) {
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_waitset_destroy(set, null_mut()) },
            "destroy waitset",
        );
    }

    /// Destroys `publishers` and the runtime.
    pub fn close(self, publishers: impl IntoIterator<Item = zerocp_publisher_t>) {
        for publisher in publishers {
            // SAFETY: NULL error.
            ok(
                unsafe { zerocp_publisher_destroy(publisher, null_mut()) },
                "destroy publisher",
            );
        }
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_runtime_destroy(self.rt, null_mut()) },
            "destroy runtime",
        );
    }
}

/// The calling thread's id (from `/proc/thread-self`, `<pid>/task/<tid>`).
pub fn gettid() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    let tid = link.file_name().expect("a tid").to_string_lossy();
    tid.parse().expect("a numeric tid")
}

/// The scheduler state of thread `tid` of this process (`R`, `S`, `D`, …),
/// from `/proc/self/task/<tid>/stat` (the field after the command name).
pub fn thread_state(tid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).expect("stat");
    let after = stat.rsplit_once(") ").expect("a stat line").1;
    after.chars().next().expect("a state")
}
