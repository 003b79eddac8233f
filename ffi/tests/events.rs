//! End to end: the C API's notifiers and listeners against a real daemon.
//!
//! - `c_events` (built plainly and under the sanitizers) listens on a wait
//!   set and gets every id a C notifier raises; a C listener gets a Rust
//!   notifier's ids and a Rust listener a C notifier's (one event service,
//!   whatever the language).
//! - Through the exported functions: an id above the largest is refused,
//!   NULL outputs are refused, `try_wait` without events is `ZEROCP_EMPTY`,
//!   `wait` times out with an empty set, ids coalesce, a listener
//!   destroyed while attached is detached implicitly, and a listener's
//!   handle is not a subscriber's.

mod support;

use std::collections::BTreeSet;

use support::{Build, CProgram, Daemon, STEP, compile_as, scratch_dir};
use zerocp_os_linux::testing::role::spawn_child;

const COUNT: usize = 6;

/// The ids `0..COUNT` as the listeners print them.
fn expected_ids() -> BTreeSet<u32> {
    (0..COUNT as u32).collect()
}

/// Reads `COUNT` lines "event ID" (or their "ID" alone) from `next`, then
/// checks they name every id once.
fn collect_ids(mut next: impl FnMut() -> String) -> BTreeSet<u32> {
    let ids: Vec<u32> = (0..COUNT)
        .map(|_| {
            let line = next();
            let id = line.rsplit(' ').next().unwrap_or_default();
            id.parse()
                .unwrap_or_else(|_| panic!("no event id in {line:?}"))
        })
        .collect();
    let set: BTreeSet<u32> = ids.iter().copied().collect();
    assert_eq!(set.len(), ids.len(), "each id once: {ids:?}");
    set
}

#[test]
fn a_c_listener_gets_every_id_of_a_c_notifier() {
    c_to_c(Build::Plain);
}

#[test]
fn a_c_listener_gets_every_id_of_a_c_notifier_under_sanitizers() {
    c_to_c(Build::Sanitized);
}

fn c_to_c(build: Build) {
    let dir = scratch_dir();
    let program = compile_as("c_events", &dir, build);
    let daemon = Daemon::start("roles::daemon");
    let mut listener = CProgram::spawn(&program, &["listen", &COUNT.to_string()], &daemon.envs());
    listener.expect_line("ready");
    let mut notifier = CProgram::spawn(&program, &["notify", &COUNT.to_string()], &daemon.envs());
    assert_eq!(
        collect_ids(|| listener.expect_line("event ")),
        expected_ids()
    );
    assert_eq!(
        listener.expect_line("received "),
        format!("received {COUNT}")
    );
    listener.expect_success();
    notifier.expect_line("notified");
    notifier.close_stdin();
    notifier.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn a_c_listener_gets_a_rust_notifiers_ids_and_a_rust_listener_a_c_notifiers() {
    let dir = scratch_dir();
    let program = compile_as("c_events", &dir, Build::Plain);
    let daemon = Daemon::start("roles::daemon");

    let mut c_listener = CProgram::spawn(&program, &["listen", &COUNT.to_string()], &daemon.envs());
    c_listener.expect_line("ready");
    let mut rust_notifier = spawn_child("roles::rust_notifier", &[], &daemon.envs());
    assert_eq!(
        collect_ids(|| c_listener.expect_line("event ")),
        expected_ids()
    );
    c_listener.expect_success();
    rust_notifier.expect_line("notified", STEP);
    rust_notifier.close_stdin();
    rust_notifier.expect_success(STEP);

    let mut rust_listener = spawn_child("roles::rust_listener", &[], &daemon.envs());
    rust_listener.expect_line("ready", STEP);
    let mut c_notifier = CProgram::spawn(&program, &["notify", &COUNT.to_string()], &daemon.envs());
    assert_eq!(
        collect_ids(|| rust_listener.expect_line("event ", STEP)),
        expected_ids()
    );
    rust_listener.expect_success(STEP);
    c_notifier.expect_line("notified");
    c_notifier.close_stdin();
    c_notifier.expect_success();
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn events_through_the_exported_functions() {
    let daemon = Daemon::start("roles::daemon");
    let mut child = spawn_child("roles::event_rules", &[], &daemon.envs());
    child.expect_success(STEP);
    daemon.stop();
}

mod roles {
    use std::collections::BTreeSet;
    use std::io::BufRead;
    use std::ptr::{null, null_mut};
    use std::time::{Duration, Instant};

    use zerocp::{EventId, Runtime, ServiceDescription};
    use zerocp_c::error::zerocp_result_t::{self, *};
    use zerocp_c::error::{ZEROCP_ERROR_MESSAGE_LEN, zerocp_error_t};
    use zerocp_c::event_api::*;
    use zerocp_c::runtime_api::*;
    use zerocp_c::service_api::*;
    use zerocp_c::subscriber_api::*;
    use zerocp_c::waitset_api::*;
    use zerocp_c::waitset_attach_api::*;
    use zerocp_os_linux::testing::role::role_args;

    use super::COUNT;

    fn service() -> ServiceDescription {
        ServiceDescription::new("Examples", "Events", "Tick").expect("a valid service")
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn daemon() {
        if let Some(args) = role_args("roles::daemon") {
            super::support::run_daemon_role(&args);
        }
    }

    /// Raises ids `0..COUNT`, each until it reached a listener, says
    /// "notified", then waits for stdin to close.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn rust_notifier() {
        if role_args("roles::rust_notifier").is_none() {
            return;
        }
        let rt = Runtime::init("rust-notifier").expect("runtime");
        let notifier = rt.notifier(&service()).create().expect("notifier");
        let deadline = Instant::now() + Duration::from_secs(10);
        for id in 0..COUNT as u32 {
            let id = EventId::new(id).expect("an id");
            while notifier.notify(id).expect("notify") == 0 {
                assert!(Instant::now() < deadline, "no listener routed in 10 s");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        println!("notified");
        for line in std::io::stdin().lock().lines() {
            line.expect("stdin");
        }
    }

    /// Says "ready", then prints "event ID" for each id of `0..COUNT` it
    /// takes (each once), within 10 s.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn rust_listener() {
        if role_args("roles::rust_listener").is_none() {
            return;
        }
        let rt = Runtime::init("rust-listener").expect("runtime");
        let listener = rt.listener(&service()).create().expect("listener");
        println!("ready");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = BTreeSet::new();
        while seen.len() < COUNT {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "only {seen:?} in 10 s");
            for id in listener.wait(Some(left)).expect("wait") {
                if seen.insert(id.value()) {
                    println!("event {}", id.value());
                }
            }
        }
    }

    /// A result code and the message of the call that made it.
    type Outcome = (zerocp_result_t, String);

    /// Runs one exported call with a fresh error struct.
    fn outcome(call: impl FnOnce(*mut zerocp_error_t) -> zerocp_result_t) -> Outcome {
        let mut error = zerocp_error_t {
            code: 0,
            message: [0; ZEROCP_ERROR_MESSAGE_LEN],
        };
        let code = call(&mut error);
        (code, error.text())
    }

    fn ok(outcome: Outcome) {
        assert_eq!(outcome.0, ZEROCP_OK, "{}", outcome.1);
    }

    fn notify(notifier: zerocp_notifier_t, id: u32) -> (Outcome, usize) {
        let mut reached = usize::MAX;
        // SAFETY: a writable count and error struct.
        let done = outcome(|e| unsafe { zerocp_notifier_notify(notifier, id, &mut reached, e) });
        (done, reached)
    }

    fn try_wait(listener: zerocp_listener_t) -> (Outcome, zerocp_event_set_t) {
        let mut events = zerocp_event_set_t {
            words: [u32::MAX; 8],
        };
        // SAFETY: a writable set and error struct.
        let done = outcome(|e| unsafe { zerocp_listener_try_wait(listener, &mut events, e) });
        (done, events)
    }

    fn wait(listener: zerocp_listener_t, ms: i64) -> (Outcome, zerocp_event_set_t) {
        let mut events = zerocp_event_set_t {
            words: [u32::MAX; 8],
        };
        // SAFETY: a writable set and error struct.
        let done = outcome(|e| unsafe { zerocp_listener_wait(listener, ms, &mut events, e) });
        (done, events)
    }

    /// The ids in `events`, as `zerocp_event_set_contains` says.
    fn ids(events: &zerocp_event_set_t) -> Vec<u32> {
        (0..=ZEROCP_MAX_EVENT_ID + 1)
            // SAFETY: a readable set.
            .filter(|&id| unsafe { zerocp_event_set_contains(events, id) })
            .collect()
    }

    /// The wait set's wait for one id: its outcome and (id, count).
    fn wait_set(set: zerocp_waitset_t, ms: i64) -> (zerocp_result_t, u64, usize) {
        let (mut ready, mut count) = (0u64, usize::MAX);
        // SAFETY: room for one id, a writable count, NULL error.
        let code = unsafe { zerocp_waitset_wait(set, ms, &mut ready, 1, &mut count, null_mut()) };
        (code, ready, count)
    }

    /// A runtime, an event service `Examples/Rules/Tick`, a notifier and a
    /// listener on it.
    fn ports() -> (
        zerocp_runtime_t,
        zerocp_service_t,
        zerocp_notifier_t,
        zerocp_listener_t,
    ) {
        let mut rt = zerocp_runtime_t::default();
        // SAFETY: a NUL-terminated name, NULL options, a writable out.
        ok(outcome(|e| unsafe {
            zerocp_runtime_create(c"event-rules".as_ptr(), null(), &mut rt, e)
        }));
        let mut svc = zerocp_service_t::default();
        let (s, i, ev) = (c"Examples".as_ptr(), c"Rules".as_ptr(), c"Tick".as_ptr());
        // SAFETY: NUL-terminated names, a writable out.
        ok(outcome(|e| unsafe {
            zerocp_service_create(s, i, ev, &mut svc, e)
        }));
        let mut notifier = zerocp_notifier_t::default();
        // SAFETY: a writable out.
        ok(outcome(|e| unsafe {
            zerocp_notifier_create(rt, svc, &mut notifier, e)
        }));
        let mut listener = zerocp_listener_t::default();
        // SAFETY: a writable out.
        ok(outcome(|e| unsafe {
            zerocp_listener_create(rt, svc, &mut listener, e)
        }));
        (rt, svc, notifier, listener)
    }

    /// The rules of the module docs, each checked through the exported
    /// functions.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn event_rules() {
        if role_args("roles::event_rules").is_none() {
            return;
        }
        let (rt, svc, notifier, listener) = ports();
        let empty = zerocp_event_set_t::default();

        // Nothing raised: try_wait is EMPTY, wait times out; both with an empty set.
        assert_eq!(try_wait(listener), ((ZEROCP_EMPTY, String::new()), empty));
        assert_eq!(wait(listener, 0), ((ZEROCP_TIMEOUT, String::new()), empty));

        // An id out of range, and NULL outputs, are refused by name.
        let ((code, why), _) = notify(notifier, ZEROCP_MAX_EVENT_ID + 1);
        assert_eq!(code, ZEROCP_ERR_INVALID_ARGUMENT);
        assert!(why.contains("256"), "{why}");
        // SAFETY: NULL events on purpose; a writable error struct.
        let (code, why) = outcome(|e| unsafe { zerocp_listener_try_wait(listener, null_mut(), e) });
        assert_eq!(code, ZEROCP_ERR_NULL_ARGUMENT);
        assert!(why.contains("events"), "{why}");

        // Ids raised twice before a take coalesce; the set has each once.
        for id in [7, ZEROCP_MAX_EVENT_ID, 7, 0] {
            let (done, reached) = notify(notifier, id);
            ok(done);
            assert_eq!(reached, 1, "the one listener");
        }
        let (done, events) = wait(listener, 5000);
        ok(done);
        assert_eq!(ids(&events), [0, 7, ZEROCP_MAX_EVENT_ID]);
        assert_eq!(try_wait(listener).0.0, ZEROCP_EMPTY);

        // A listener's handle is not a subscriber's.
        let as_subscriber = zerocp_subscriber_t { id: listener.id };
        // SAFETY: a writable error struct.
        let (code, _) = outcome(|e| unsafe { zerocp_subscriber_wait(as_subscriber, 0, e) });
        assert_eq!(code, ZEROCP_ERR_INVALID_HANDLE);

        // Attached, raised, reported; destroyed while attached: detached implicitly.
        let mut set = zerocp_waitset_t::default();
        // SAFETY: a writable out.
        ok(outcome(|e| unsafe { zerocp_waitset_create(&mut set, e) }));
        let mut attachment = 0u64;
        // SAFETY: a writable attachment id.
        ok(outcome(|e| unsafe {
            zerocp_waitset_attach_listener(set, listener, &mut attachment, e)
        }));
        ok(notify(notifier, 3).0);
        assert_eq!(wait_set(set, 5000), (ZEROCP_OK, attachment, 1));
        // SAFETY: a writable error struct.
        ok(outcome(|e| unsafe { zerocp_listener_destroy(listener, e) }));
        assert_eq!(wait_set(set, 50).0, ZEROCP_TIMEOUT);
        // SAFETY: a writable error struct.
        ok(outcome(|e| unsafe {
            zerocp_waitset_detach(set, attachment, e)
        }));
        assert_eq!(try_wait(listener).0.0, ZEROCP_ERR_INVALID_HANDLE);
        // SAFETY: a writable error struct.
        ok(outcome(|e| unsafe { zerocp_waitset_destroy(set, e) }));
        // SAFETY: as above.
        ok(outcome(|e| unsafe { zerocp_notifier_destroy(notifier, e) }));
        // SAFETY: as above.
        ok(outcome(|e| unsafe { zerocp_service_destroy(svc, e) }));
        // SAFETY: as above.
        ok(outcome(|e| unsafe { zerocp_runtime_destroy(rt, e) }));
    }
}
