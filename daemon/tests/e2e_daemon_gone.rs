//! End to end: the daemon goes away under a running application.
//!
//! Whether the daemon stops cleanly (SIGTERM: it sets the shutdown state and
//! sends `Shutdown`) or is killed (`kill -9`: the kernel closes its sockets),
//! a runtime with reconnecting off gets `DaemonGone` from every call, promptly, including a
//! subscriber thread blocked in `wait(None)`; nothing hangs or crashes, and
//! the application exits normally, dropping samples and ports it still held.
//! After a `kill -9`, a restarted daemon cleans up what the killed one left.

mod e2e_support;
mod support;

use std::time::Duration;

use e2e_support::Msg;
use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

fn run(kill: bool) {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::doomed_application", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    if kill {
        domain.kill();
    } else {
        domain.stop_with(rustix::process::Signal::TERM);
    }
    assert_eq!(app.expect_line("wait(None) returned ", WAIT), "DaemonGone");
    app.send_line("check");
    assert_eq!(app.expect_line("every call: ", WAIT), "DaemonGone");
    let init = app.expect_line("init: ", WAIT);
    assert!(
        init.contains(&domain.socket_path().display().to_string()),
        "the error does not name the socket tried: {init}"
    );
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    if kill {
        // The killed daemon left its segments and socket behind: a new one
        // on the domain removes them at start, and everything at its stop.
        domain.spawn("debug");
        domain.stop();
    }
}

#[test]
fn daemon_stopped_with_sigterm() {
    run(false);
}

#[test]
fn daemon_killed() {
    run(true);
}

mod roles {
    use std::sync::mpsc;

    use super::*;
    use crate::e2e_support::{ROLE_DEADLINE, expect_command, say, service};
    use zerocp::{
        ConnectionState, InitError, LoanError, PublishError, Runtime, TakeError,
        UpdateConnectionsError, WaitError,
    };
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn doomed_application() {
        if role_args("roles::doomed_application").is_none() {
            return;
        }
        // Reconnecting off: `DaemonGone` is final (e2e_daemon_restart
        // covers reconnecting).
        let rt = Runtime::builder("e2e-doomed")
            .reconnect(false)
            .init()
            .expect("init");
        let svc = service("doomed");
        let publisher = rt.publisher::<Msg>(&svc).create().expect("publisher");
        let subscriber = rt.subscriber::<Msg>(&svc).create().expect("subscriber");
        let sleeper = rt
            .subscriber::<Msg>(&service("silent"))
            .create()
            .expect("subscriber");
        publisher
            .loan_uninit()
            .unwrap()
            .write(Msg::new(1, 0))
            .publish()
            .expect("publish");
        publisher
            .loan_uninit()
            .unwrap()
            .write(Msg::new(1, 1))
            .publish()
            .expect("publish");
        let held = subscriber.take().expect("take").expect("a sample");
        let loaned = publisher.loan_uninit().expect("loan").write(Msg::new(1, 2));

        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let result = sleeper.wait(None);
            let _ = tx.send(result);
        });
        say("ready");
        match rx.recv_timeout(ROLE_DEADLINE).expect("wait(None) returned") {
            Err(WaitError::DaemonGone) => say("wait(None) returned DaemonGone"),
            other => panic!("wait(None) returned {other:?}"),
        }
        waiter.join().expect("the waiting thread");

        expect_command("check");
        assert!(!rt.is_daemon_alive());
        assert_eq!(rt.connection_state(), ConnectionState::Gone);
        assert_eq!(loaned.publish(), Err(PublishError::DaemonGone));
        assert_eq!(
            publisher.loan_uninit().map(drop),
            Err(LoanError::DaemonGone)
        );
        assert_eq!(
            publisher.update_connections(),
            Err(UpdateConnectionsError::DaemonGone)
        );
        assert_eq!(
            subscriber.take().map(|s| s.is_some()),
            Err(TakeError::DaemonGone)
        );
        assert_eq!(
            subscriber.wait(Some(Duration::from_secs(5))),
            Err(WaitError::DaemonGone)
        );
        assert_eq!(subscriber.wait(None), Err(WaitError::DaemonGone));
        let created = rt.publisher::<Msg>(&service("other")).create();
        assert!(
            matches!(&created, Err(e) if e.is_daemon_gone()),
            "creating a port: {created:?}"
        );
        say("every call: DaemonGone");
        // The sample is still readable: the mapping outlives the daemon.
        assert!(held.is_valid());
        drop(held);
        match Runtime::init("e2e-after") {
            Err(e @ InitError::DaemonNotRunning { .. }) => say(format!("init: {e}")),
            other => panic!("init after the daemon stopped: {other:?}"),
        }
    }
}
