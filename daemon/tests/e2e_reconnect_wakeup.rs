//! End to end: a runtime that has backed off to long waits between its
//! attempts to register again learns at once that a new daemon is there
//! (the heartbeat thread watches the run directory for the daemon's socket,
//! `runtime/src/socket_watch.rs`), and its existing publisher and subscriber
//! deliver again long before its next attempt would have come.
//!
//! The runtime's reconnect ceiling is 60 s. While the daemon is away, a
//! socket stands in its place that takes each attempt and closes it, so the
//! test sees the attempts come: it waits until two of them are at least
//! [`LONG_GAP`] apart. Without the watch, the next attempt cannot come
//! sooner than that gap after the last one (each wait is drawn between half
//! and all of a step that doubles, and the steps here stay below the
//! ceiling), so data flowing before then is the watch's doing: without it
//! this test fails. No timing is asserted beyond that deadline.

mod e2e_support;
mod support;

use std::time::{Duration, Instant};

use support::{TestDomain, wait_until};
use zerocp_os_linux::seqpacket::SeqpacketListener;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

/// The gap between two attempts the test waits for before it starts the
/// new daemon (reached after some 15 to 30 s of outage).
const LONG_GAP: Duration = Duration::from_secs(8);

/// Taken off the deadline for the attempts seen late (the test polls).
const SEEN_LATE: Duration = Duration::from_secs(1);

/// Stands in for the daemon: takes the runtime's attempts and closes them,
/// until two come at least [`LONG_GAP`] apart; returns when the last came.
fn wait_for_a_long_gap(domain: &TestDomain) -> (Instant, Duration) {
    let listener = SeqpacketListener::bind_replacing_stale(&domain.socket_path(), 0o600)
        .expect("bind the stand-in socket");
    let mut last: Option<Instant> = None;
    let mut gap = Duration::ZERO;
    let long = wait_until(WAIT, || {
        while let Some(conn) = listener.accept().expect("accept") {
            drop(conn);
            let now = Instant::now();
            if let Some(before) = last {
                gap = now - before;
            }
            last = Some(now);
        }
        gap >= LONG_GAP
    });
    assert!(long, "no two attempts {LONG_GAP:?} apart within {WAIT:?}");
    (last.expect("an attempt"), gap)
}

#[test]
fn a_backed_off_runtime_reconnects_as_soon_as_the_daemon_is_back() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut app = spawn_child("roles::backed_off", &[], &domain.envs());
    app.expect_line("ready", WAIT);
    domain.kill();
    app.expect_line("disconnected", WAIT);
    let (last_attempt, gap) = wait_for_a_long_gap(&domain);
    let next_attempt_by_backoff = last_attempt + gap - SEEN_LATE;
    domain.spawn("debug");
    let left = next_attempt_by_backoff.saturating_duration_since(Instant::now());
    let seq = app.expect_line("flows seq ", left);
    assert!(seq.parse::<u64>().is_ok(), "a sequence number: {seq}");
    app.send_line("exit");
    assert!(
        app.wait(WAIT).success(),
        "the application did not exit cleanly"
    );
    domain.stop();
}

mod roles {
    use super::*;
    use crate::e2e_support::{Msg, ROLE_DEADLINE, expect_command, say, service};

    use zerocp::{ConnectionState, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn backed_off() {
        if role_args("roles::backed_off").is_none() {
            return;
        }
        let rt = Runtime::builder("e2e-backed-off")
            .reconnect_ceiling(Duration::from_secs(60))
            .init()
            .expect("init");
        let svc = service("wakeup");
        let publisher = rt.publisher::<Msg>(&svc).create().expect("publisher");
        let subscriber = rt.subscriber::<Msg>(&svc).create().expect("subscriber");
        say("ready");
        assert!(
            wait_until(ROLE_DEADLINE, || rt.connection_state()
                == ConnectionState::Disconnected),
            "the connection state stayed {:?}",
            rt.connection_state()
        );
        say("disconnected");
        // The same ports deliver again once the runtime registered again:
        // publish until the subscriber takes a sample (errors meanwhile are
        // the outage's retryable ones).
        let mut seq = 0;
        let mut received = None;
        let flowed = wait_until(2 * ROLE_DEADLINE, || {
            if let Ok(loan) = publisher.loan_uninit()
                && loan.write(Msg::new(1, seq)).publish().is_ok()
            {
                seq += 1;
            }
            received = subscriber.take().ok().flatten().map(|s| {
                assert!(s.is_valid(), "a corrupted sample");
                s.seq
            });
            received.is_some()
        });
        assert!(flowed, "no sample after the daemon came back");
        say(format!("flows seq {}", received.expect("a sample")));
        expect_command("exit");
    }
}
