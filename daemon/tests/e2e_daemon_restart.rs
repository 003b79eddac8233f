//! End to end: the daemon restarts under a running application (issue 11,
//! stage 1: the reconnecting registration).
//!
//! Whether the daemon is killed (`kill -9`) or stopped (SIGTERM), a runtime
//! with reconnecting on (the default) reports `Disconnected`, registers
//! again by itself once a new daemon runs on the same domain (`Connected` at
//! epoch 2, listed by `zerocpctl processes`), and ports created then
//! deliver. During the outage every call fails at once with the retryable
//! `Disconnected` (a sleeping `wait(None)` wakes with it), and a sample held
//! across it stays readable. With reconnecting off it ends `Gone` and stays unregistered.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

/// The names `zerocpctl processes` lists.
fn process_names(domain: &TestDomain) -> Vec<String> {
    let processes = domain.ctl_json(&["processes"]);
    processes["processes"]
        .as_array()
        .expect("an array of processes")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn stop_daemon(domain: &mut TestDomain, kill: bool) {
    if kill {
        domain.kill();
    } else {
        domain.stop_with(rustix::process::Signal::TERM);
    }
}

fn reconnects(kill: bool) {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::survivor", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    assert!(process_names(&domain).contains(&"e2e-survivor".to_owned()));
    stop_daemon(&mut domain, kill);
    assert_eq!(app.expect_line("state ", WAIT), "Disconnected");
    app.send_line("restarted");
    domain.spawn("debug");
    assert_eq!(app.expect_line("state ", WAIT), "Connected { epoch: 2 }");
    assert_eq!(app.expect_line("flows ", WAIT), "seq 7");
    assert!(
        domain.wait_until(WAIT, || process_names(&domain)
            .contains(&"e2e-survivor".to_owned())),
        "the reconnected process is not listed"
    );
    app.send_line("exit");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    domain.stop();
}

#[test]
fn reconnects_after_the_daemon_was_killed() {
    reconnects(true);
}

#[test]
fn reconnects_after_the_daemon_was_stopped() {
    reconnects(false);
}

#[test]
fn a_runtime_dropped_during_the_outage_exits_cleanly() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    // Dropping the runtime stops the heartbeat thread in its reconnecting
    // loop (its backoff sleeps on the stop eventfd): no hang, no panic.
    let mut app = spawn_child("roles::quitter", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    domain.kill();
    assert_eq!(app.expect_line("state ", WAIT), "Disconnected");
    assert_eq!(app.expect_line("dropped ", WAIT), "the runtime");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    // The killed daemon left its files: a new one removes them.
    domain.spawn("debug");
    assert!(process_names(&domain).is_empty());
    domain.stop();
}

#[test]
fn with_reconnecting_off_the_daemon_stays_gone() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::no_reconnect", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    domain.kill();
    assert_eq!(app.expect_line("state ", WAIT), "Gone");
    domain.spawn("debug");
    app.send_line("restarted");
    // The app registers a second runtime under another name once the new
    // daemon runs; the first one (retrying every 1 ms, were reconnecting
    // not off) is not listed, and its state is still `Gone` at the end.
    assert_eq!(app.expect_line("second ", WAIT), "registered");
    assert_eq!(process_names(&domain), vec!["e2e-second".to_owned()]);
    app.send_line("exit");
    assert_eq!(app.expect_line("state ", WAIT), "Gone");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    domain.stop();
}

mod roles {
    use super::*;
    use crate::e2e_support::{Msg, ROLE_DEADLINE, expect_command, say, service};
    use crate::support::wait_until;
    use std::sync::mpsc;

    use zerocp::{ConnectionState, LoanError, PublishError, Runtime, TakeError, WaitError};
    use zerocp_os_linux::testing::role::role_args;

    fn wait_for_state(rt: &Runtime, wanted: impl Fn(ConnectionState) -> bool) -> ConnectionState {
        assert!(
            wait_until(ROLE_DEADLINE, || wanted(rt.connection_state())),
            "the connection state stayed {:?}",
            rt.connection_state()
        );
        rt.connection_state()
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn survivor() {
        if role_args("roles::survivor").is_none() {
            return;
        }
        let rt = Runtime::builder("e2e-survivor")
            .reconnect_ceiling(Duration::from_millis(50))
            .init()
            .expect("init");
        assert_eq!(
            rt.connection_state(),
            ConnectionState::Connected { epoch: 1 }
        );
        let old_svc = service("before");
        let old_publisher = rt.publisher::<Msg>(&old_svc).create().expect("publisher");
        let old_subscriber = rt.subscriber::<Msg>(&old_svc).create().expect("subscriber");
        let sleeper = rt
            .subscriber::<Msg>(&service("silent"))
            .create()
            .expect("subscriber");
        old_publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(1, 0))
            .publish()
            .expect("publish");
        let held = old_subscriber.take().expect("take").expect("a sample");
        let loaned = old_publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(1, 1));
        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let _ = tx.send(sleeper.wait(None));
        });
        say("ready");
        let woken = rx.recv_timeout(ROLE_DEADLINE).expect("wait(None) returned");
        assert_eq!(woken, Err(WaitError::Disconnected));
        waiter.join().expect("the waiting thread");
        let state = wait_for_state(&rt, |s| s == ConnectionState::Disconnected);
        // During the outage (the parent starts the new daemon only after the
        // state line below) every call fails at once with the retryable
        // error; what the process holds stays readable.
        assert_eq!(loaned.publish(), Err(PublishError::Disconnected));
        assert_eq!(
            old_publisher.loan_uninit().map(drop),
            Err(LoanError::Disconnected)
        );
        assert_eq!(
            old_subscriber.take().map(|s| s.is_some()),
            Err(TakeError::Disconnected)
        );
        assert_eq!(old_subscriber.wait(None), Err(WaitError::Disconnected));
        let created = rt.publisher::<Msg>(&service("during")).create();
        assert!(
            matches!(&created, Err(e) if e.is_disconnected()),
            "creating a port: {created:?}"
        );
        assert!(held.is_valid() && held.seq == 0);
        drop(held);
        say(format!("state {state:?}"));
        expect_command("restarted");
        let state = wait_for_state(&rt, |s| matches!(s, ConnectionState::Connected { .. }));
        say(format!("state {state:?}"));
        let svc = service("restart");
        let publisher = rt.publisher::<Msg>(&svc).create().expect("publisher");
        let subscriber = rt.subscriber::<Msg>(&svc).create().expect("subscriber");
        publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(1, 7))
            .publish()
            .expect("publish");
        let sample = subscriber
            .wait(Some(ROLE_DEADLINE))
            .map(|_| subscriber.take())
            .expect("wait")
            .expect("take")
            .expect("a sample");
        assert!(sample.is_valid());
        say(format!("flows seq {}", sample.seq));
        drop(sample);
        expect_command("exit");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn quitter() {
        if role_args("roles::quitter").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-quitter").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service("quit"))
            .create()
            .expect("subscriber");
        say("ready");
        let state = wait_for_state(&rt, |s| s == ConnectionState::Disconnected);
        say(format!("state {state:?}"));
        drop(subscriber);
        drop(rt);
        say("dropped the runtime");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn no_reconnect() {
        if role_args("roles::no_reconnect").is_none() {
            return;
        }
        let rt = Runtime::builder("e2e-no-reconnect")
            .reconnect(false)
            .reconnect_ceiling(Duration::from_millis(1))
            .init()
            .expect("init");
        say("ready");
        let state = wait_for_state(&rt, |s| s != ConnectionState::Connected { epoch: 1 });
        say(format!("state {state:?}"));
        expect_command("restarted");
        let second = Runtime::init("e2e-second").expect("a second runtime");
        say("second registered");
        expect_command("exit");
        say(format!("state {:?}", rt.connection_state()));
        drop(second);
    }
}
