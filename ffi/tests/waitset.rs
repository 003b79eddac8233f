//! End to end: the C API's wait sets against a real daemon.
//!
//! - `c_waitset.c` (built plainly and under the sanitizers) waits on one
//!   set for two subscribers, fed by a C publisher and a Rust one, and
//!   receives every counter of each, in order.
//! - Through the exported functions from Rust threads: which ids a wait
//!   reports and how many (`capacity`), the set's descriptor, a take on
//!   an attached subscriber while another thread's set sleeps on it (the
//!   subscriber's lock is not held), and a subscriber destroyed while
//!   attached, also under a sleeping wait (detached implicitly); an
//!   application's socket attached by descriptor; a wait
//!   without limit that wakes with `ZEROCP_ERR_DAEMON` when the daemon stops;
//!   intervals and deadlines, reported with their reasons; detaching on
//!   one thread while another waits on the set.

mod support;

use support::{Build, CProgram, Daemon, STEP, compile_as, scratch_dir};
use zerocp_os_linux::testing::role::spawn_child;

const COUNT: usize = 5;

#[test]
fn a_c_program_waits_for_two_subscribers_on_one_set() {
    two_subscribers_on_one_set(Build::Plain);
}

#[test]
fn a_c_program_waits_for_two_subscribers_under_sanitizers() {
    two_subscribers_on_one_set(Build::Sanitized);
}

/// `c_waitset` gets `COUNT` counters from a C publisher (Demo) and `COUNT`
/// from a Rust one (Second), each stream in order, and nothing else.
fn two_subscribers_on_one_set(build: Build) {
    let dir = scratch_dir();
    let waiter = compile_as("c_waitset", &dir, build);
    let publisher = compile_as("c_publisher", &dir, build);
    let daemon = Daemon::start("roles::daemon");
    let mut waits = CProgram::spawn(&waiter, &[&COUNT.to_string()], &daemon.envs());
    waits.expect_line("ready");
    let mut c_pub = CProgram::spawn(&publisher, &[&COUNT.to_string()], &daemon.envs());
    c_pub.expect_line("published");
    let mut rust_pub = spawn_child(
        "roles::rust_publisher",
        &[&COUNT.to_string()],
        &daemon.envs(),
    );
    rust_pub.expect_line("published", STEP);
    let (mut demo, mut second) = (Vec::new(), Vec::new());
    for _ in 0..2 * COUNT {
        let line = waits.expect_line("");
        match line.split_once(' ') {
            Some(("Demo", rest)) => demo.push(rest.to_string()),
            Some(("Second", rest)) => second.push(rest.to_string()),
            _ => panic!("unexpected line {line:?}"),
        }
    }
    let expected: Vec<String> = (0..COUNT).map(|i| format!("count={i} seq={i}")).collect();
    assert_eq!(demo, expected, "the C publisher's counters");
    assert_eq!(second, expected, "the Rust publisher's counters");
    assert_eq!(
        waits.expect_line("received"),
        format!("received {COUNT} and {COUNT}")
    );
    waits.expect_success();
    c_pub.close_stdin();
    c_pub.expect_success();
    rust_pub.close_stdin();
    rust_pub.expect_success(STEP);
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn wait_sets_through_the_exported_functions() {
    let daemon = Daemon::start("roles::daemon");
    let mut child = spawn_child("roles::waitset_rules", &[], &daemon.envs());
    child.expect_success(STEP);
    daemon.stop();
}

/// A wait set sleeping without a time limit wakes when the daemon stops
/// and fails with `ZEROCP_ERR_DAEMON`.
#[test]
fn a_sleeping_wait_set_wakes_when_the_daemon_stops() {
    let daemon = Daemon::start("roles::daemon");
    let mut child = spawn_child("roles::waits_for_the_daemon", &[], &daemon.envs());
    child.expect_line("asleep", STEP);
    daemon.stop();
    child.expect_success(STEP);
}

/// Intervals and deadlines from C: ticks, a missed deadline and data
/// with their reasons, the period rules, detaching the timers.
#[test]
fn intervals_and_deadlines_through_the_exported_functions() {
    let daemon = Daemon::start("roles::daemon");
    let mut child = spawn_child("roles::timer_rules", &[], &daemon.envs());
    child.expect_success(STEP);
    daemon.stop();
}

/// A detach on one thread while another thread waits on the same set:
/// every detach and every wait succeeds (an attachment ends under the
/// set's lock, never beside a running wait).
#[test]
fn detaching_while_another_thread_waits_is_serialised() {
    let daemon = Daemon::start("roles::daemon");
    let mut child = spawn_child("roles::detach_beside_wait", &[], &daemon.envs());
    child.expect_success(STEP);
    daemon.stop();
}

#[path = "waitset/api.rs"]
mod api;

mod roles {
    use std::io::{BufRead, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    use zerocp::{Runtime, ServiceDescription, ZeroCopySafe};
    use zerocp_c::error::zerocp_result_t::*;
    use zerocp_os_linux::testing::role::role_args;

    use crate::api::{Api, gettid, thread_state};

    /// The examples' message (runtime/examples/common/message.rs).
    #[repr(C)]
    #[derive(Debug, Clone, Copy, ZeroCopySafe)]
    #[zerocp(type_name = "zerocp_examples::Counter")]
    struct Counter {
        count: u64,
        sent_ns: u64,
        pid: u32,
        text_len: u32,
        text: [u8; 48],
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn daemon() {
        let Some(args) = role_args("roles::daemon") else {
            return;
        };
        crate::support::run_daemon_role(&args);
    }

    /// Publishes N counters on Examples/Second/Counter (with a history of
    /// N), says "published", keeps its port until stdin closes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn rust_publisher() {
        let Some(args) = role_args("roles::rust_publisher") else {
            return;
        };
        let count: u32 = args[0].parse().expect("a count");
        let rt = Runtime::builder("rust-publisher")
            .reconnect(false)
            .init()
            .expect("init");
        let svc = ServiceDescription::new("Examples", "Second", "Counter").expect("service");
        let publisher = rt
            .publisher::<Counter>(&svc)
            .history(count)
            .create()
            .expect("publisher");
        for i in 0..count {
            let loan = publisher.loan_uninit().expect("loan").write(Counter {
                count: u64::from(i),
                sent_ns: 0,
                pid: std::process::id(),
                text_len: 0,
                text: [0; 48],
            });
            loan.publish().expect("publish");
        }
        println!("published {count}");
        for line in std::io::stdin().lock().lines() {
            line.expect("stdin");
        }
    }

    /// Waits (within 10 s) until thread `tid` of this process sleeps.
    fn until_asleep(tid: u32) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while thread_state(tid) != 'S' {
            assert!(Instant::now() < deadline, "thread {tid} never slept");
            std::thread::yield_now();
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn waits_for_the_daemon() {
        if role_args("roles::waits_for_the_daemon").is_none() {
            return;
        }
        let api = Api::new(c"ffi-waitset-gone");
        let sub = api.subscriber(c"Gone");
        let set = api.waitset();
        api.attach(set, sub).expect("attach");
        let main = gettid();
        std::thread::spawn(move || {
            until_asleep(main);
            println!("asleep");
        });
        assert_eq!(api.wait(set, -1, 4).0, ZEROCP_ERR_DAEMON);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn waitset_rules() {
        if role_args("roles::waitset_rules").is_none() {
            return;
        }
        let api = Api::new(c"ffi-waitset");
        let (a, b) = (api.subscriber(c"A"), api.subscriber(c"B"));
        let (pub_a, pub_b) = (api.publisher(c"A"), api.publisher(c"B"));
        let set = api.waitset();
        let id_a = api.attach(set, a).expect("attach a");
        let id_b = api.attach(set, b).expect("attach b");
        assert_eq!((id_a, id_b), (1, 2), "ids count from 1");

        // Nothing queued: a timeout, no ids, the descriptor quiet.
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_TIMEOUT, vec![]));
        let fd = api.waitset_fd(set);
        assert!(!api.readable(fd, 0));

        // A sample on b: the descriptor turns readable, b is reported.
        api.publish(pub_b, 7);
        assert!(api.readable(fd, 10_000), "readable once b has a sample");
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_OK, vec![id_b]));

        // Both ready, room for one: a first (attachment order), then the
        // rest, as long as each has a sample queued.
        api.publish(pub_a, 8);
        assert_eq!(api.wait(set, 0, 1), (ZEROCP_OK, vec![id_a]));
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_OK, vec![id_a, id_b]));
        assert_eq!(api.take_all(a), vec![8]);
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_OK, vec![id_b]));
        assert_eq!(api.take_all(b), vec![7]);
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_TIMEOUT, vec![]));
        assert!(!api.readable(fd, 0), "quiet again after the takes");

        // Another thread's set sleeps on a and b; a take on a from here
        // does not wait for it (the set does not hold a's lock), and the
        // sample published after it wakes the set.
        let (tid_tx, tid_rx) = channel();
        let sleeper = std::thread::spawn(move || {
            tid_tx.send(gettid()).expect("send the tid");
            api.wait(set, 20_000, 4)
        });
        until_asleep(tid_rx.recv().expect("the sleeper's tid"));
        assert!(api.take_all(a).is_empty());
        api.publish(pub_a, 9);
        assert_eq!(
            sleeper.join().expect("the sleeper"),
            (ZEROCP_OK, vec![id_a]),
            "woken by a's sample, not by its timeout"
        );
        assert_eq!(api.take_all(a), vec![9]);

        // b destroyed while the set sleeps on it: the set detaches it, a
        // still wakes it, and b is never reported.
        let (tid_tx, tid_rx) = channel();
        let sleeper = std::thread::spawn(move || {
            tid_tx.send(gettid()).expect("send the tid");
            api.wait(set, 20_000, 4)
        });
        until_asleep(tid_rx.recv().expect("the sleeper's tid"));
        api.destroy_subscriber(b);
        api.publish(pub_b, 10);
        api.publish(pub_a, 11);
        assert_eq!(
            sleeper.join().expect("the sleeper"),
            (ZEROCP_OK, vec![id_a])
        );
        assert_eq!(api.take_all(a), vec![11]);
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_TIMEOUT, vec![]));
        assert_eq!(api.detach(set, id_b), ZEROCP_OK, "its id is still accepted");
        assert_eq!(api.detach(set, id_b), ZEROCP_ERR_INVALID_ARGUMENT);

        // An application's socket: reported while readable, also after
        // the application closed its copy (the set keeps its own).
        let (mut writer, reader) = UnixStream::pair().expect("a socket pair");
        let id_fd = api
            .attach_fd(set, reader.as_raw_fd())
            .expect("attach the socket");
        assert_eq!(id_fd, 3);
        drop(reader);
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_TIMEOUT, vec![]));
        writer.write_all(b"x").expect("write");
        assert_eq!(api.wait(set, 10_000, 4), (ZEROCP_OK, vec![id_fd]));
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_OK, vec![id_fd]), "until read");
        assert_eq!(api.detach(set, id_fd), ZEROCP_OK);
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_TIMEOUT, vec![]));

        // A new attachment gets a new id; detaching stops the reports.
        let again = api.attach(set, a).expect("attach a again");
        assert_eq!(again, 4, "ids are not reused");
        api.publish(pub_a, 12);
        assert_eq!(api.wait(set, 10_000, 4), (ZEROCP_OK, vec![id_a, again]));
        assert_eq!(api.detach(set, id_a), ZEROCP_OK);
        assert_eq!(api.wait(set, 0, 4), (ZEROCP_OK, vec![again]));
        assert_eq!(api.take_all(a), vec![12]);
        api.destroy_waitset(set);
        assert_eq!(api.wait(set, 0, 4).0, ZEROCP_ERR_INVALID_HANDLE);
        api.destroy_subscriber(a);
        api.close([pub_a, pub_b]);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn detach_beside_wait() {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        if role_args("roles::detach_beside_wait").is_none() {
            return;
        }
        const ROUNDS: usize = 2000;
        static DONE: AtomicBool = AtomicBool::new(false);
        static WAITS: AtomicU64 = AtomicU64::new(0);
        let api = Api::new(c"ffi-detach");
        let set = api.waitset();
        let waiter = std::thread::spawn(move || {
            while !DONE.load(Ordering::Relaxed) {
                let (code, _) = api.wait(set, 0, 4);
                assert!(
                    code == ZEROCP_OK || code == ZEROCP_TIMEOUT,
                    "wait: {code:?}"
                );
                WAITS.fetch_add(1, Ordering::Relaxed);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while WAITS.load(Ordering::Relaxed) == 0 {
            assert!(Instant::now() < deadline, "the waiter never waited");
            std::thread::yield_now();
        }
        for round in 0..ROUNDS {
            let id = api.attach_interval(set, 1).expect("attach an interval");
            assert_eq!(api.detach(set, id), ZEROCP_OK, "detach in round {round}");
        }
        DONE.store(true, Ordering::Relaxed);
        waiter.join().expect("the waiter");
        api.destroy_waitset(set);
        api.close([]);
    }

    /// The first event of `id` within 10 s, skipping others.
    fn next_of(api: &Api, set: zerocp_c::waitset_api::zerocp_waitset_t, id: u64) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let (code, events) = api.wait_events(set, 1_000, 8);
            assert!(code == ZEROCP_OK || code == ZEROCP_TIMEOUT, "{code:?}");
            if let Some(&(_, reason)) = events.iter().find(|(at, _)| *at == id) {
                return reason;
            }
        }
        panic!("attachment {id} was not reported within 10 s");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn timer_rules() {
        use zerocp_c::waitset_api::{ZEROCP_READY_DATA, ZEROCP_READY_MISSED, ZEROCP_READY_TICK};
        if role_args("roles::timer_rules").is_none() {
            return;
        }
        let api = Api::new(c"ffi-timers");
        let sub = api.subscriber(c"T");
        let publisher = api.publisher(c"T");
        let listener = api.listener(c"L");
        let set = api.waitset();
        let thirty_days_ms = 30 * 24 * 60 * 60 * 1000;
        for bad in [0, thirty_days_ms + 1] {
            assert_eq!(
                api.attach_interval(set, bad),
                Err(ZEROCP_ERR_INVALID_ARGUMENT)
            );
            assert_eq!(
                api.attach_deadline(set, sub, bad),
                Err(ZEROCP_ERR_INVALID_ARGUMENT)
            );
            assert_eq!(
                api.attach_listener_deadline(set, listener, bad),
                Err(ZEROCP_ERR_INVALID_ARGUMENT)
            );
        }
        let zero = zerocp_c::event_api::zerocp_listener_t::default();
        assert_eq!(
            api.attach_listener_deadline(set, zero, 10),
            Err(ZEROCP_ERR_INVALID_HANDLE)
        );

        // An interval ticks, not before its period; the plain wait reports
        // its id too.
        let start = Instant::now();
        let tick = api.attach_interval(set, 20).expect("attach an interval");
        assert_eq!(next_of(&api, set, tick), ZEROCP_READY_TICK);
        assert!(start.elapsed() >= Duration::from_millis(20), "ticked early");
        let (code, ids) = api.wait(set, 10_000, 4);
        assert_eq!((code, ids), (ZEROCP_OK, vec![tick]));
        assert_eq!(api.detach(set, tick), ZEROCP_OK);

        // A deadline on a silent subscriber is missed; a sample is data.
        let watch = api
            .attach_deadline(set, sub, 30)
            .expect("attach a deadline");
        assert_eq!(next_of(&api, set, watch), ZEROCP_READY_MISSED);
        api.publish(publisher, 5);
        assert_eq!(next_of(&api, set, watch), ZEROCP_READY_DATA);
        assert_eq!(api.take_all(sub), vec![5]);
        let on_listener = api
            .attach_listener_deadline(set, listener, 30)
            .expect("attach a deadline on a listener");
        assert_eq!(next_of(&api, set, on_listener), ZEROCP_READY_MISSED);

        // Without timers nothing is ready.
        assert_eq!(api.detach(set, watch), ZEROCP_OK);
        assert_eq!(api.detach(set, on_listener), ZEROCP_OK);
        assert_eq!(api.wait_events(set, 100, 4), (ZEROCP_TIMEOUT, vec![]));
        api.destroy_waitset(set);
        api.destroy_subscriber(sub);
        api.destroy_listener(listener);
        api.close([publisher]);
    }
}
