//! End to end: the daemon restarts while a process creates and drops ports
//! as fast as it can (issue 11, item 5).
//!
//! The process loops: a publisher and a subscriber of one of four
//! services, a message published and taken, both ports dropped. The test
//! kills the daemon (`kill -9`) under that burst, starts a new one, then
//! stops that one (SIGTERM) and starts a third. What must hold:
//!
//! - every call returns `Ok` or the retryable `Disconnected`, never another
//!   error, a panic or a hang, whatever it was doing when the daemon went
//!   (a request on the wire, a port half created);
//! - after each restart the same runtime creates ports again, and their
//!   messages flow;
//! - once the process paused (every port dropped, the process still
//!   registered), the new daemon lists no port and every chunk is free;
//!   after it exits, still none.
//!
//! Nothing here is timed: every step waits for a line or a condition with a
//! generous deadline (the suite also runs under qemu-user).

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);
/// Rounds that succeed before the burst says it is creating, or recovered.
const ROUNDS: &str = "25";

/// The daemon's `status` counts of publishers and subscribers.
fn port_counts(domain: &TestDomain) -> (u64, u64) {
    let status = domain.ctl_json(&["status"]);
    let count = |key: &str| status[key].as_u64().expect("a count");
    (count("publishers"), count("subscribers"))
}

#[test]
fn ports_are_created_again_after_restarts_during_a_burst_of_creation() {
    let mut domain = TestDomain::builder()
        .mempools(&[(64, 64)])
        .log_level("info")
        .start();
    let mut burst = spawn_child("roles::burst", &[ROUNDS], &domain.envs());
    burst.expect_line("creating", WAIT);
    for (restart, kill) in [(1, true), (2, false)] {
        if kill {
            domain.kill();
        } else {
            domain.stop_with(rustix::process::Signal::TERM);
        }
        assert_eq!(burst.expect_line("outage ", WAIT), restart.to_string());
        domain.spawn("info");
        assert_eq!(burst.expect_line("recovered ", WAIT), restart.to_string());
    }
    burst.send_line("pause");
    let counts = burst.expect_line("paused: ", WAIT);
    eprintln!("burst: {counts}");
    // The process still lives: what it dropped is gone from the new daemon.
    assert!(
        domain.wait_until(WAIT, || port_counts(&domain) == (0, 0)),
        "ports left registered: {:?}",
        port_counts(&domain)
    );
    domain.expect_back_to_base(WAIT);
    burst.send_line("exit");
    burst.expect_success(WAIT);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

mod roles {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use zerocp::{LoanError, PublishError, Runtime, TakeError};
    use zerocp_os_linux::testing::role::role_args;

    use crate::e2e_support::{Msg, arg, expect_command, say, service, stop_flag};

    /// One round of the burst: a publisher and a subscriber of one of four
    /// services, a message, a take, all dropped. `false` when a call said
    /// `Disconnected` (any other error fails the role), `true` when every
    /// call succeeded.
    fn churn(rt: &Runtime, round: u64) -> bool {
        let svc = service(&format!("burst{}", round % 4));
        let publisher = match rt.publisher::<Msg>(&svc).create() {
            Ok(p) => p,
            Err(e) if e.is_disconnected() => return false,
            Err(e) => panic!("creating a publisher: {e}"),
        };
        let subscriber = match rt.subscriber::<Msg>(&svc).create() {
            Ok(s) => s,
            Err(e) if e.is_disconnected() => return false,
            Err(e) => panic!("creating a subscriber: {e}"),
        };
        let loan = match publisher.loan_uninit() {
            Ok(loan) => loan,
            Err(LoanError::Disconnected) => return false,
            Err(e) => panic!("loan: {e}"),
        };
        match loan.write(Msg::new(1, round)).publish() {
            Ok(()) => {}
            Err(PublishError::Disconnected | PublishError::LoanedBeforeReconnect) => return false,
            Err(e) => panic!("publish: {e}"),
        }
        match subscriber.take() {
            Ok(msg) => assert!(msg.is_none_or(|m| m.is_valid() && m.seq == round)),
            Err(TakeError::Disconnected) => return false,
            Err(e) => panic!("take: {e}"),
        }
        true
    }

    /// Creates and drops ports until the parent says `pause`: says
    /// `creating` once `rounds` (its argument) rounds succeeded, `outage <n>`
    /// at the first `Disconnected` of the `n`-th outage and `recovered <n>`
    /// once `rounds` rounds succeeded after it; waits for `exit` at the end.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn burst() {
        let Some(args) = role_args("roles::burst") else {
            return;
        };
        let rounds: u64 = arg(&args, 0);
        let rt = Runtime::builder("e2e-rt-burst")
            .reconnect_ceiling(Duration::from_millis(100))
            .init()
            .expect("init");
        let paused = stop_flag();
        let (mut round, mut succeeded, mut outages) = (0u64, 0u64, 0u32);
        // Rounds that succeeded since the last outage (`None` during one,
        // until a round succeeds).
        let mut since: Option<u64> = Some(0);
        while !paused.load(Ordering::Acquire) {
            if churn(&rt, round) {
                succeeded += 1;
                let n = since.map_or(1, |n| n + 1);
                since = Some(n);
                if n == rounds {
                    match outages {
                        0 => say("creating"),
                        n => say(format!("recovered {n}")),
                    }
                }
            } else if since.is_some() {
                since = None;
                outages += 1;
                say(format!("outage {outages}"));
            }
            round += 1;
            // Other processes (the daemon) need the CPU too under qemu.
            std::thread::yield_now();
        }
        say(format!("paused: {succeeded} of {round} rounds succeeded"));
        expect_command("exit");
    }
}
