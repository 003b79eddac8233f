//! End to end: an application watches its connection to the daemon (issue
//! 11, item 3): the callback set with `RuntimeBuilder::on_connection_change`
//! and a thread blocked in `ConnectionWatcher::wait_change` both see
//! `Disconnected` and then the reconnection, after a `kill -9` and again
//! after a SIGTERM of the daemon, each followed by a new daemon on the same
//! domain; with reconnecting off both see `Gone`; a wait with a timeout and
//! no change returns the state it was given; a waiting watcher wakes with
//! `Gone` when the runtime ends. And the reconnecting thread is not held by
//! a daemon that accepts connections but never answers: it goes on trying
//! (each attempt waits a bounded time), and dropping the runtime meanwhile
//! ends the process cleanly; nor is it by one whose socket accepts no
//! connections at all (its backlog full).

mod e2e_support;
mod support;

use std::time::Duration;

use support::{TestDomain, wait_until};
use zerocp_os_linux::error::Errno;
use zerocp_os_linux::seqpacket::{SeqpacketConn, SeqpacketListener};
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);

/// Connections a daemon that never answers must see from one reconnecting
/// runtime: more than a 120 s `WAIT` allows if each attempt waited for the
/// 20 s registration deadline of `Runtime::init`.
const UNANSWERED_ATTEMPTS: usize = 12;

/// Expects one change seen by the child's callback and by its waiter.
fn expect_change(app: &mut TestChild, callback: &str, waiter: &str) {
    assert_eq!(
        app.expect_line("change ", WAIT),
        format!("callback {callback} waiter {waiter}")
    );
}

#[test]
fn the_callback_and_a_waiter_see_a_kill_and_a_stop_and_each_reconnection() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::watcher", &[], &domain.envs());
    assert_eq!(app.expect_line("timeout ", WAIT), "Connected { epoch: 1 }");
    assert_eq!(app.expect_line("differs ", WAIT), "Connected { epoch: 1 }");
    app.expect_line("ready", WAIT);
    domain.kill();
    expect_change(&mut app, "Disconnected", "Disconnected");
    domain.spawn("debug");
    expect_change(
        &mut app,
        "Reconnected { epoch: 2 }",
        "Connected { epoch: 2 }",
    );
    domain.stop_with(rustix::process::Signal::TERM);
    expect_change(&mut app, "Disconnected", "Disconnected");
    domain.spawn("debug");
    expect_change(
        &mut app,
        "Reconnected { epoch: 3 }",
        "Connected { epoch: 3 }",
    );
    app.send_line("exit");
    assert_eq!(app.expect_line("ended ", WAIT), "waiter Gone");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    domain.stop();
}

#[test]
fn with_reconnecting_off_the_callback_and_a_waiter_see_gone() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::no_reconnect", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    domain.kill();
    expect_change(&mut app, "Gone", "Gone");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    // The killed daemon left its files: a new one removes them.
    domain.spawn("debug");
    domain.stop();
}

#[test]
fn a_daemon_that_never_answers_does_not_hold_the_reconnecting_thread() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::patient", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    domain.kill();
    assert_eq!(app.expect_line("change ", WAIT), "Disconnected");
    // In the dead daemon's place: a socket that takes connections and
    // never answers (a hung daemon). The runtime's attempts keep coming.
    let listener = SeqpacketListener::bind_replacing_stale(&domain.socket_path(), 0o600)
        .expect("bind the silent socket");
    let mut held = Vec::new();
    let attempted = wait_until(WAIT, || {
        while let Some(conn) = listener.accept().expect("accept") {
            held.push(conn);
        }
        held.len() >= UNANSWERED_ATTEMPTS
    });
    assert!(
        attempted,
        "{} attempts to register on a silent socket",
        held.len()
    );
    app.send_line("quit");
    assert_eq!(app.expect_line("dropped ", WAIT), "the runtime");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    drop(held);
    drop(listener);
    domain.spawn("debug");
    domain.stop();
}

/// Connects to `listener`'s socket until its backlog is full (it accepts
/// nothing); returns the queued connections, which keep it full.
fn fill_backlog(listener: &SeqpacketListener) -> Vec<SeqpacketConn> {
    let mut queued = Vec::new();
    loop {
        match SeqpacketConn::connect_within(listener.path(), Duration::from_millis(20)) {
            Ok(conn) => queued.push(conn),
            Err(e) if e.errno() == Some(Errno::AGAIN) => return queued,
            Err(e) => panic!("connecting to fill the backlog: {e}"),
        }
        assert!(queued.len() <= 4096, "the backlog never filled");
    }
}

#[test]
fn a_daemon_that_accepts_nothing_does_not_hold_the_reconnecting_thread() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::patient", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    // The daemon's socket file moves aside for one whose listener accepts
    // nothing (a hung daemon), its backlog full, before the daemon dies:
    // the runtime's first attempt to register again (made right after the
    // callback's `Disconnected`, stop requested or not) connects to it.
    let socket = domain.socket_path();
    let moved = socket.with_extension("moved");
    std::fs::rename(&socket, &moved).expect("move the daemon's socket aside");
    let listener = SeqpacketListener::bind(&socket, 0o600).expect("bind the deaf socket");
    let queued = fill_backlog(&listener);
    domain.kill();
    assert_eq!(app.expect_line("change ", WAIT), "Disconnected");
    app.send_line("quit");
    assert_eq!(app.expect_line("dropped ", WAIT), "the runtime");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    drop(queued);
    drop(listener);
    std::fs::remove_file(&moved).expect("remove the moved socket");
    domain.spawn("debug");
    domain.stop();
}

mod roles {
    use super::*;
    use crate::e2e_support::{ROLE_DEADLINE, expect_command, say};
    use std::sync::mpsc;

    use zerocp::{ConnectionEvent, ConnectionState, ConnectionWatcher, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    /// A thread that waits for every change of `watcher`'s state from now
    /// on and sends it, until `Gone`.
    fn spawn_waiter(watcher: ConnectionWatcher) -> mpsc::Receiver<ConnectionState> {
        let (tx, states) = mpsc::channel();
        // Read here, not in the thread: a change before the thread runs
        // is then seen by its first wait.
        let mut seen = watcher.state();
        std::thread::spawn(move || {
            while seen != ConnectionState::Gone {
                seen = watcher.wait_change(seen, None);
                if tx.send(seen).is_err() {
                    return;
                }
            }
        });
        states
    }

    /// A runtime whose callback sends every event on the returned channel.
    fn runtime(name: &str, reconnect: bool) -> (Runtime, mpsc::Receiver<ConnectionEvent>) {
        let (tx, events) = mpsc::channel();
        let rt = Runtime::builder(name)
            .reconnect(reconnect)
            .reconnect_ceiling(Duration::from_millis(50))
            .on_connection_change(move |event| {
                let _ = tx.send(event);
            })
            .init()
            .expect("init");
        (rt, events)
    }

    /// Says the next event of the callback and the next state of the
    /// waiter, on one line.
    fn say_change(
        events: &mpsc::Receiver<ConnectionEvent>,
        states: &mpsc::Receiver<ConnectionState>,
    ) {
        let event = events.recv_timeout(ROLE_DEADLINE).expect("an event");
        let state = states.recv_timeout(ROLE_DEADLINE).expect("a state");
        say(format!("change callback {event:?} waiter {state:?}"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn watcher() {
        if role_args("roles::watcher").is_none() {
            return;
        }
        let (rt, events) = runtime("e2e-watcher", true);
        let watcher = rt.connection_watcher();
        let unchanged = watcher.wait_change(watcher.state(), Some(Duration::from_millis(50)));
        say(format!("timeout {unchanged:?}"));
        // Not the state seen: returns at once (without a timeout).
        let differs = watcher.wait_change(ConnectionState::Disconnected, None);
        say(format!("differs {differs:?}"));
        let states = spawn_waiter(watcher);
        say("ready");
        for _ in 0..4 {
            say_change(&events, &states);
        }
        expect_command("exit");
        drop(rt);
        let state = states.recv_timeout(ROLE_DEADLINE).expect("a state");
        say(format!("ended waiter {state:?}"));
        assert!(
            events.try_recv().is_err(),
            "an event when the runtime ended"
        );
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn no_reconnect() {
        if role_args("roles::no_reconnect").is_none() {
            return;
        }
        let (rt, events) = runtime("e2e-watch-gone", false);
        let states = spawn_waiter(rt.connection_watcher());
        say("ready");
        say_change(&events, &states);
        assert_eq!(rt.connection_state(), ConnectionState::Gone);
        assert!(!rt.is_daemon_alive());
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn patient() {
        if role_args("roles::patient").is_none() {
            return;
        }
        let (rt, events) = runtime("e2e-patient", true);
        say("ready");
        let event = events.recv_timeout(ROLE_DEADLINE).expect("an event");
        say(format!("change {event:?}"));
        expect_command("quit");
        drop(rt);
        say("dropped the runtime");
    }
}
