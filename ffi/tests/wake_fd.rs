//! End to end: a C subscriber's wake descriptor (`zerocp_subscriber_fd`),
//! for an application's own poll loop, through the exported functions
//! against a real daemon: not readable while the queue is empty, readable
//! once a sample is published, quiet again after taking until
//! `ZEROCP_EMPTY`, and the same descriptor on every call.

mod support;

use support::Daemon;
use zerocp_os_linux::testing::role::spawn_child;

#[test]
fn the_wake_descriptor_turns_readable_when_a_sample_is_queued() {
    let daemon = Daemon::start("roles::daemon");
    let mut child = spawn_child("roles::poller", &[], &daemon.envs());
    child.expect_success(support::STEP);
    daemon.stop();
}

mod roles {
    use std::ffi::c_void;
    use std::os::fd::BorrowedFd;

    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use zerocp_c::error::zerocp_result_t::{self, *};
    use zerocp_c::payload_type::zerocp_type_t;
    use zerocp_c::publisher_api::*;
    use zerocp_c::runtime_api::*;
    use zerocp_c::service_api::*;
    use zerocp_c::subscriber_api::*;
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn daemon() {
        let Some(args) = role_args("roles::daemon") else {
            return;
        };
        crate::support::run_daemon_role(&args);
    }

    fn ok(code: zerocp_result_t, what: &str) {
        assert_eq!(code, ZEROCP_OK, "{what}");
    }

    /// Whether `fd` is readable within `ms` milliseconds.
    fn readable(fd: i32, ms: i64) -> bool {
        // SAFETY: the subscriber owns the descriptor and outlives this call.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        let timeout = Timespec {
            tv_sec: ms / 1000,
            tv_nsec: (ms % 1000) * 1_000_000,
        };
        poll(&mut fds, Some(&timeout)).expect("poll") == 1
    }

    fn subscriber_fd(sub: zerocp_subscriber_t) -> i32 {
        let mut fd = -1;
        // SAFETY: a writable out; NULL error.
        ok(
            unsafe { zerocp_subscriber_fd(sub, &mut fd, std::ptr::null_mut()) },
            "fd",
        );
        fd
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn poller() {
        if role_args("roles::poller").is_none() {
            return;
        }
        let none = std::ptr::null_mut();
        let mut rt = zerocp_runtime_t::default();
        let mut svc = zerocp_service_t::default();
        // SAFETY: NUL-terminated strings, writable outs (every call below alike).
        ok(
            unsafe {
                zerocp_runtime_create(c"ffi-poller".as_ptr(), std::ptr::null(), &mut rt, none)
            },
            "rt",
        );
        // SAFETY: as above.
        ok(
            unsafe {
                zerocp_service_create(
                    c"FFI".as_ptr(),
                    c"Poll".as_ptr(),
                    c"U64".as_ptr(),
                    &mut svc,
                    none,
                )
            },
            "svc",
        );
        let ty = zerocp_type_t {
            name: c"u64".as_ptr(),
            size: 8,
            align: 8,
        };
        let mut sub = zerocp_subscriber_t::default();
        // SAFETY: as above.
        ok(
            unsafe { zerocp_subscriber_create(rt, svc, &ty, std::ptr::null(), &mut sub, none) },
            "sub",
        );
        let mut publisher = zerocp_publisher_t::default();
        // SAFETY: as above.
        ok(
            unsafe {
                zerocp_publisher_create(rt, svc, &ty, std::ptr::null(), &mut publisher, none)
            },
            "pub",
        );
        // SAFETY: NULL fd is refused, not written.
        let null_fd = unsafe { zerocp_subscriber_fd(sub, std::ptr::null_mut(), none) };
        assert_eq!(null_fd, ZEROCP_ERR_NULL_ARGUMENT);

        let fd = subscriber_fd(sub);
        assert!(fd >= 0);
        assert!(!readable(fd, 0), "nothing queued yet");

        let mut payload: *mut c_void = std::ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: writable outs.
        ok(
            unsafe { zerocp_publisher_loan(publisher, &mut payload, &mut size, none) },
            "loan",
        );
        // SAFETY: the loan is 8 bytes, aligned for u64, ours until published.
        unsafe { payload.cast::<u64>().write(42) };
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_publisher_publish(publisher, payload, none) },
            "publish",
        );
        assert!(readable(fd, 10_000), "a queued sample makes it readable");

        let mut sample = std::mem::MaybeUninit::<zerocp_sample_t>::uninit();
        // SAFETY: a writable sample.
        ok(
            unsafe { zerocp_subscriber_take(sub, sample.as_mut_ptr(), none) },
            "take",
        );
        // SAFETY: take filled it.
        let sample = unsafe { sample.assume_init() };
        // SAFETY: the payload is 8 bytes, aligned, held until released.
        assert_eq!(unsafe { sample.payload.cast::<u64>().read() }, 42);
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_subscriber_release(sub, sample.payload, none) },
            "release",
        );
        let mut again = std::mem::MaybeUninit::<zerocp_sample_t>::uninit();
        // SAFETY: a writable sample.
        let empty = unsafe { zerocp_subscriber_take(sub, again.as_mut_ptr(), none) };
        assert_eq!(empty, ZEROCP_EMPTY);
        assert!(!readable(fd, 0), "the empty take re-armed it");
        assert_eq!(subscriber_fd(sub), fd, "the same descriptor");

        // SAFETY: NULL error (every destroy).
        ok(
            unsafe { zerocp_subscriber_destroy(sub, none) },
            "destroy sub",
        );
        // SAFETY: as above.
        ok(
            unsafe { zerocp_publisher_destroy(publisher, none) },
            "destroy pub",
        );
        // SAFETY: as above.
        ok(unsafe { zerocp_service_destroy(svc, none) }, "destroy svc");
        // SAFETY: as above.
        ok(unsafe { zerocp_runtime_destroy(rt, none) }, "destroy rt");
    }
}
