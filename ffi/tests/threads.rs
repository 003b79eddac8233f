//! The C API's thread rules, through the exported functions from Rust
//! threads against a real daemon: two threads publishing on one publisher
//! handle are serialised by its lock (every sample arrives once), and a
//! handle destroyed while another thread waits on it lets that wait finish
//! on the live object, after which the handle is refused.

mod support;

use support::Daemon;
use zerocp_os_linux::testing::role::spawn_child;

#[test]
fn handles_are_shared_between_threads_and_destroyed_under_a_waiter() {
    let daemon = Daemon::start("roles::daemon");
    let mut child = spawn_child("roles::threads", &[], &daemon.envs());
    child.expect_success(support::STEP);
    daemon.stop();
}

mod roles {
    use std::collections::HashSet;
    use std::ffi::c_void;

    use zerocp_c::error::zerocp_result_t::{self, *};
    use zerocp_c::payload_type::zerocp_type_t;
    use zerocp_c::publisher_api::*;
    use zerocp_c::runtime_api::*;
    use zerocp_c::service_api::*;
    use zerocp_c::subscriber_api::*;
    use zerocp_os_linux::testing::role::role_args;

    const PER_THREAD: u64 = 100;

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

    /// Loans, writes `value` and publishes on `publisher`.
    fn publish(publisher: zerocp_publisher_t, value: u64) {
        let mut payload: *mut c_void = std::ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: writable out-pointers; NULL error.
        let loaned = unsafe {
            zerocp_publisher_loan(publisher, &mut payload, &mut size, std::ptr::null_mut())
        };
        ok(loaned, "loan");
        assert_eq!(size, 8);
        // SAFETY: the loan is 8 bytes, aligned for u64, ours until published.
        unsafe { payload.cast::<u64>().write(value) };
        // SAFETY: NULL error.
        let published =
            unsafe { zerocp_publisher_publish(publisher, payload, std::ptr::null_mut()) };
        ok(published, "publish");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn threads() {
        if role_args("roles::threads").is_none() {
            return;
        }
        let none = std::ptr::null_mut();
        let mut rt = zerocp_runtime_t::default();
        let mut svc = zerocp_service_t::default();
        // SAFETY: NUL-terminated strings, writable outs (every call below alike).
        ok(
            unsafe {
                zerocp_runtime_create(c"ffi-threads".as_ptr(), std::ptr::null(), &mut rt, none)
            },
            "rt",
        );
        // SAFETY: as above.
        ok(
            unsafe {
                zerocp_service_create(
                    c"FFI".as_ptr(),
                    c"Threads".as_ptr(),
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
        let sub_options = zerocp_subscriber_options_t {
            queue_capacity: 256,
            full_policy: ZEROCP_FULL_POLICY_BLOCK_PUBLISHER,
            ..Default::default()
        };
        // SAFETY: as above.
        ok(
            unsafe { zerocp_subscriber_create(rt, svc, &ty, &sub_options, &mut sub, none) },
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

        // Two threads publish on the same handle at once.
        std::thread::scope(|s| {
            for t in 0..2u64 {
                s.spawn(move || {
                    for i in 0..PER_THREAD {
                        publish(publisher, t * 1000 + i);
                    }
                });
            }
        });
        let mut seen = HashSet::new();
        loop {
            let mut sample = std::mem::MaybeUninit::<zerocp_sample_t>::uninit();
            // SAFETY: a writable sample; NULL error.
            let taken = unsafe { zerocp_subscriber_take(sub, sample.as_mut_ptr(), none) };
            if taken == ZEROCP_EMPTY {
                break;
            }
            ok(taken, "take");
            // SAFETY: take filled it.
            let sample = unsafe { sample.assume_init() };
            // SAFETY: the payload is 8 bytes, aligned, held until released.
            assert!(seen.insert(unsafe { sample.payload.cast::<u64>().read() }));
            // SAFETY: NULL error.
            ok(
                unsafe { zerocp_subscriber_release(sub, sample.payload, none) },
                "release",
            );
        }
        assert_eq!(seen.len() as u64, 2 * PER_THREAD, "every sample once");

        // Destroy the subscriber while another thread waits on it.
        let waiter = std::thread::spawn(move || {
            // SAFETY: NULL error.
            unsafe { zerocp_subscriber_wait(sub, 500, std::ptr::null_mut()) }
        });
        // The waiter holds the port's lock while it sleeps; destroy does not need it.
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_subscriber_destroy(sub, none) },
            "destroy under a waiter",
        );
        let code = waiter.join().expect("the waiter");
        assert!(
            code == ZEROCP_TIMEOUT || code == ZEROCP_ERR_INVALID_HANDLE,
            "the wait ended on the live object or found the handle gone: {code:?}"
        );
        // SAFETY: NULL error.
        let after = unsafe { zerocp_subscriber_wait(sub, 0, none) };
        assert_eq!(after, ZEROCP_ERR_INVALID_HANDLE);
        // SAFETY: NULL error.
        ok(
            unsafe { zerocp_publisher_destroy(publisher, none) },
            "destroy pub",
        );
        // SAFETY: NULL error.
        ok(unsafe { zerocp_service_destroy(svc, none) }, "destroy svc");
        // SAFETY: NULL error.
        ok(unsafe { zerocp_runtime_destroy(rt, none) }, "destroy rt");
    }
}
