//! End to end: the same `Publisher` and `Subscriber` values go on after the
//! daemon restarts (issue 11: the lazy re-attachment of ports).
//!
//! Ports created before a `kill -9` or a SIGTERM of the daemon deliver
//! again once a new daemon runs on the same domain: each re-creates its
//! port on its next call, with the options it was created with, and the
//! publisher's sequence numbers go on increasing. A subscriber sleeping in
//! `wait` on another thread comes back to its loop with `Disconnected` and
//! then receives from the new daemon. A loan held across the restart fails
//! to publish with `LoanedBeforeReconnect` and leaves no chunk held in the
//! new daemon; a sample held across it stays readable and is dropped after
//! the reconnection. Dropping the ports afterwards removes their new ports.
//! A daemon restarted with a smaller largest chunk refuses the big-payload
//! ports (`NotRecreated`, remembered: the same failure on the next call)
//! while the small-payload ports deliver. A port the daemon revoked stays
//! revoked: it is not created again.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

/// The services `zerocpctl services` lists.
fn service_count(domain: &TestDomain) -> Option<usize> {
    domain.ctl_json(&["services"])["services"]
        .as_array()
        .map(Vec::len)
}

fn carries_on(kill: bool) {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::carrier", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    if kill {
        domain.kill();
    } else {
        domain.stop_with(rustix::process::Signal::TERM);
    }
    assert_eq!(app.expect_line("state ", WAIT), "Disconnected");
    domain.spawn("debug");
    app.send_line("restarted");
    assert_eq!(app.expect_line("flows ", WAIT), "seq 4 sequence 4");
    assert_eq!(app.expect_line("sleeper ", WAIT), "in order");
    assert_eq!(app.expect_line("dropped ", WAIT), "the ports");
    // The ports dropped after the reconnection removed their new ports, and
    // the loan held across the restart holds nothing in the new memory.
    assert!(
        domain.wait_until(WAIT, || service_count(&domain) == Some(0)),
        "ports still listed: {}",
        domain.ctl_json(&["services"])
    );
    domain.expect_back_to_base(WAIT);
    app.send_line("exit");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

#[test]
fn the_same_ports_deliver_after_the_daemon_was_killed() {
    carries_on(true);
}

#[test]
fn the_same_ports_deliver_after_the_daemon_was_stopped() {
    carries_on(false);
}

#[test]
fn a_port_the_restarted_daemon_cannot_hold_gets_a_typed_error() {
    let mut domain = TestDomain::builder()
        .mempools(&[(64, 64), (4096, 8)])
        .start();
    let mut app = spawn_child("roles::misfit", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    domain.kill();
    assert_eq!(app.expect_line("state ", WAIT), "Disconnected");
    // The new daemon's largest chunk is 64 bytes.
    let smaller = TestDomain::builder().mempools(&[(64, 64)]).config_text();
    std::fs::write(domain.config_path(), smaller).expect("rewrite the config");
    domain.spawn("debug");
    app.send_line("restarted");
    let big = app.expect_line("big ", WAIT);
    assert!(
        big.starts_with("the publisher on E2E/big/Event") && big.contains("64"),
        "{big}"
    );
    assert_eq!(app.expect_line("small ", WAIT), "seq 0");
    app.send_line("exit");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

#[test]
fn a_revoked_port_is_not_created_again() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::revokee", &[], &domain.envs());
    let index = app.expect_line("subscriber ", WAIT);
    domain.ctl_ok(&["revoke-port", "0", "subscriber", &index]);
    assert_eq!(app.expect_line("take ", WAIT), "Revoked");
    domain.kill();
    assert_eq!(app.expect_line("state ", WAIT), "Disconnected");
    domain.spawn("debug");
    app.send_line("restarted");
    assert_eq!(app.expect_line("after ", WAIT), "revoked, publisher back");
    // The new daemon knows the publisher, re-attached, and no subscriber.
    let services = domain.ctl_json(&["services"]);
    let subscribers = services["services"][0]["subscribers"]
        .as_array()
        .map(Vec::len);
    assert_eq!(subscribers, Some(0), "{services}");
    app.send_line("exit");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    domain.stop();
}

mod roles {
    use super::*;
    use crate::e2e_support::{Msg, ROLE_DEADLINE, deadline, expect_command, left, say, service};
    use crate::support::wait_until;
    use std::sync::mpsc;

    use zerocp::error::{CreatePortReason, PortRequestError};
    use zerocp::{
        ConnectionState, LoanError, PortKind, PublishError, Runtime, Subscriber, TakeError,
        WaitError,
    };
    use zerocp_os_linux::testing::role::role_args;

    /// Samples published before the restart.
    const BEFORE: u64 = 4;

    fn wait_for_state(rt: &Runtime, wanted: impl Fn(ConnectionState) -> bool) -> ConnectionState {
        assert!(
            wait_until(ROLE_DEADLINE, || wanted(rt.connection_state())),
            "the connection state stayed {:?}",
            rt.connection_state()
        );
        rt.connection_state()
    }

    fn runtime(name: &str) -> Runtime {
        Runtime::builder(name)
            .reconnect_ceiling(Duration::from_millis(50))
            .init()
            .expect("init")
    }

    /// A subscriber on its own thread, as an application loop would run
    /// it: waits, takes, and goes back to `wait` after `Disconnected`
    /// (which `wait` returns at once during the outage), until it took a
    /// sample numbered `stop_at` or later. Returns the samples' numbers
    /// (payload, sequence); `taken` hears when it has the `BEFORE` samples
    /// published before the restart.
    fn sleeper_loop(
        subscriber: Subscriber<Msg>,
        stop_at: u64,
        taken: mpsc::Sender<()>,
    ) -> Vec<(u64, u64)> {
        let deadline = deadline();
        let mut got = Vec::new();
        while got.last().is_none_or(|&(seq, _)| seq < stop_at) {
            match subscriber.wait(Some(left(deadline, "the sleeper's samples"))) {
                Ok(_) => {}
                Err(WaitError::Disconnected) => {
                    // What an application does meanwhile: retry soon.
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                Err(e) => panic!("wait: {e}"),
            }
            loop {
                // The daemon may go between `wait` and `take`.
                let sample = match subscriber.take() {
                    Ok(Some(sample)) => sample,
                    Ok(None) | Err(TakeError::Disconnected) => break,
                    Err(e) => panic!("take: {e}"),
                };
                assert!(sample.is_valid());
                got.push((sample.seq, sample.sequence()));
                if got.len() == BEFORE as usize {
                    let _ = taken.send(());
                }
            }
        }
        got
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn carrier() {
        if role_args("roles::carrier").is_none() {
            return;
        }
        let rt = runtime("e2e-carrier");
        let svc = service("carry");
        let publisher = rt.publisher::<Msg>(&svc).create().expect("publisher");
        let subscriber = rt.subscriber::<Msg>(&svc).create().expect("subscriber");
        let sleeper = rt.subscriber::<Msg>(&svc).create().expect("subscriber");
        for seq in 0..BEFORE {
            let sample = publisher.loan_uninit().expect("loan");
            sample.write(Msg::new(1, seq)).publish().expect("publish");
        }
        for seq in 0..BEFORE - 1 {
            let sample = subscriber.take().expect("take").expect("a sample");
            assert_eq!((sample.seq, sample.sequence()), (seq, seq));
        }
        let held = subscriber.take().expect("take").expect("a sample");
        let loaned = publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(1, 99));
        let (tx, rx) = mpsc::channel();
        let (taken_tx, taken_rx) = mpsc::channel();
        let stop_at = BEFORE + 8;
        let waiter = std::thread::spawn(move || {
            let _ = tx.send(sleeper_loop(sleeper, stop_at, taken_tx));
        });
        taken_rx
            .recv_timeout(ROLE_DEADLINE)
            .expect("the sleeper took the samples published before the restart");
        say("ready");
        wait_for_state(&rt, |s| s == ConnectionState::Disconnected);
        assert_eq!(
            publisher.loan_uninit().map(drop),
            Err(LoanError::Disconnected)
        );
        assert_eq!(
            subscriber.take().map(|s| s.is_some()),
            Err(TakeError::Disconnected)
        );
        say("state Disconnected");
        expect_command("restarted");
        wait_for_state(&rt, |s| s == ConnectionState::Connected { epoch: 2 });
        // The loan of the old memory is released there, never published.
        assert_eq!(loaned.publish(), Err(PublishError::LoanedBeforeReconnect));
        // The subscriber re-attaches first (nothing queued yet), then the
        // publisher, whose sequence numbers go on.
        assert!(subscriber.take().expect("take").is_none());
        assert!(held.is_valid() && held.seq == BEFORE - 1, "{held:?}");
        drop(held);
        let sample = publisher.loan_uninit().expect("loan");
        sample
            .write(Msg::new(1, BEFORE))
            .publish()
            .expect("publish");
        subscriber.wait(Some(ROLE_DEADLINE)).expect("wait");
        let sample = subscriber.take().expect("take").expect("a sample");
        assert!(sample.is_valid());
        say(format!(
            "flows seq {} sequence {}",
            sample.seq,
            sample.sequence()
        ));
        drop(sample);
        // The sleeper re-attaches on its own thread, at its next `wait`
        // (what is published before goes to its old port, gone): publish,
        // paced, until it has one numbered `stop_at` or later.
        let deadline = deadline();
        let mut seq = BEFORE + 1;
        let got = loop {
            let sample = publisher.loan_uninit().expect("loan");
            sample.write(Msg::new(1, seq)).publish().expect("publish");
            seq += 1;
            match rx.recv_timeout(Duration::from_millis(5)) {
                Ok(got) => break got,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    left(deadline, "the sleeper's sample after the restart");
                }
                Err(e) => panic!("the sleeper thread ended: {e}"),
            }
        };
        waiter.join().expect("the sleeper thread");
        let before: Vec<_> = (0..BEFORE).map(|s| (s, s)).collect();
        assert_eq!(got[..BEFORE as usize], before[..], "{got:?}");
        let after = &got[BEFORE as usize..];
        assert!(
            after.iter().all(|&(seq, sequence)| seq == sequence)
                && after.windows(2).all(|w| w[0].0 < w[1].0)
                && !after.is_empty(),
            "{got:?}"
        );
        say("sleeper in order");
        drop((publisher, subscriber));
        say("dropped the ports");
        expect_command("exit");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn revokee() {
        if role_args("roles::revokee").is_none() {
            return;
        }
        let rt = runtime("e2e-revokee");
        let svc = service("revoked");
        let publisher = rt.publisher::<Msg>(&svc).create().expect("publisher");
        let subscriber = rt.subscriber::<Msg>(&svc).create().expect("subscriber");
        say(format!("subscriber {}", subscriber.port_index()));
        let revoked =
            |taken: &Result<bool, TakeError>| matches!(taken, Err(TakeError::Revoked { .. }));
        assert!(
            wait_until(ROLE_DEADLINE, || revoked(
                &subscriber.take().map(|s| s.is_some())
            )),
            "the subscriber was not revoked"
        );
        say("take Revoked");
        wait_for_state(&rt, |s| s == ConnectionState::Disconnected);
        say("state Disconnected");
        expect_command("restarted");
        wait_for_state(&rt, |s| s == ConnectionState::Connected { epoch: 2 });
        let taken = subscriber.take().map(|s| s.is_some());
        assert!(revoked(&taken), "{taken:?}");
        publisher.loan_uninit().expect("the publisher re-attaches");
        say("after revoked, publisher back");
        expect_command("exit");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn misfit() {
        if role_args("roles::misfit").is_none() {
            return;
        }
        let rt = runtime("e2e-misfit");
        let big_svc = service("big");
        let big_publisher = rt.publisher::<[u8; 2048]>(&big_svc).create();
        let big_publisher = big_publisher.expect("publisher");
        let big_subscriber = rt.subscriber::<[u8; 2048]>(&big_svc).create();
        let big_subscriber = big_subscriber.expect("subscriber");
        let small_svc = service("small");
        let publisher = rt.publisher::<Msg>(&small_svc).create().expect("publisher");
        let subscriber = rt
            .subscriber::<Msg>(&small_svc)
            .create()
            .expect("subscriber");
        say("ready");
        wait_for_state(&rt, |s| s == ConnectionState::Disconnected);
        say("state Disconnected");
        expect_command("restarted");
        wait_for_state(&rt, |s| s == ConnectionState::Connected { epoch: 2 });
        let first = big_publisher.loan_uninit().map(drop);
        let Err(LoanError::NotRecreated(e)) = &first else {
            panic!("loan on the big publisher: {first:?}");
        };
        assert_eq!(e.kind(), PortKind::Publisher);
        assert!(
            matches!(
                e.reason(),
                CreatePortReason::Request(PortRequestError::PayloadTooLarge { size: 2048, .. })
            ),
            "{e}"
        );
        // Remembered for this registration: the same failure, not a new
        // request.
        assert_eq!(big_publisher.loan_uninit().map(drop), first);
        let taken = big_subscriber.take().map(|s| s.is_some());
        assert!(
            matches!(&taken, Err(TakeError::NotRecreated(e)) if e.kind() == PortKind::Subscriber),
            "{taken:?}"
        );
        say(format!("big {e}"));
        assert!(subscriber.take().expect("take").is_none());
        let sample = publisher.loan_uninit().expect("loan");
        sample.write(Msg::new(2, 0)).publish().expect("publish");
        subscriber.wait(Some(ROLE_DEADLINE)).expect("wait");
        let sample = subscriber.take().expect("take").expect("a sample");
        assert!(sample.is_valid());
        say(format!("small seq {}", sample.sequence()));
        drop(sample);
        expect_command("exit");
    }
}
