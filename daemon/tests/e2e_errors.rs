//! End to end: the typed errors an application gets, with readable messages.
//!
//! Type mismatch between the ports of one service (size, alignment or type
//! name), payload larger than the largest mempool, daemon not running (the
//! message names the socket tried), invalid service name and options, too
//! many loans, out of chunks, too many held samples.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

#[test]
fn port_and_sample_errors() {
    // Largest chunk 1 KiB; only 4 small chunks, to run out of them (with no
    // chunk quota: one process may take the whole pool; e2e_quotas tests
    // the quotas).
    let domain = TestDomain::builder()
        .mempools(&[(64, 4), (1024, 8)])
        .quota(100, 100)
        .start();
    let mut app = spawn_child("roles::error_checks", &[], &domain.envs());
    for check in [
        "type mismatch",
        "payload too large",
        "invalid names and options",
        "too many loans",
        "out of chunks",
        "too many held",
    ] {
        let line = app.expect_line("ok ", WAIT);
        assert!(line.starts_with(check), "expected {check:?}, got {line:?}");
    }
    assert!(app.wait(WAIT).success());
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn daemon_not_running() {
    let domain = TestDomain::builder().prepare();
    let mut app = spawn_child("roles::no_daemon", &[], &domain.envs());
    let message = app.expect_line("error: ", WAIT);
    assert!(
        message.contains(&domain.socket_path().display().to_string()),
        "the message does not name the socket tried: {message}"
    );
    assert!(message.contains("not running"), "{message}");
    assert!(app.wait(WAIT).success());
}

mod roles {
    use crate::e2e_support::{Msg, publish_seq, say, service};
    use zerocp::{InitError, LoanError, Runtime, ServiceDescription, TakeError};
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn error_checks() {
        if role_args("roles::error_checks").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-errors").expect("init");

        // Type mismatch: the first port fixes the type of the service.
        let svc = service("typed");
        let _publisher = rt.publisher::<Msg>(&svc).create().expect("publisher");
        let same_size = rt.subscriber::<[u64; 3]>(&svc).create().unwrap_err();
        assert!(same_size.is_type_mismatch(), "{same_size}");
        let text = same_size.to_string();
        assert!(
            text.contains("e2e::Msg") && text.contains("[u64; 3]"),
            "{text}"
        );
        let other_size = rt.publisher::<u32>(&svc).create().unwrap_err();
        assert!(other_size.is_type_mismatch(), "{other_size}");
        let _subscriber = rt
            .subscriber::<Msg>(&svc)
            .create()
            .expect("the matching type");
        say(format!("ok type mismatch: {same_size}"));

        // Larger than the largest mempool (1 KiB).
        let big = rt
            .publisher::<[u8; 4096]>(&service("big"))
            .create()
            .unwrap_err();
        assert!(big.is_payload_too_large(), "{big}");
        assert!(big.to_string().contains("4096"), "{big}");
        say(format!("ok payload too large: {big}"));

        // Names and options, refused before anything is sent.
        let bad = ServiceDescription::new("E2E", "with space", "Event").unwrap_err();
        assert!(bad.to_string().contains("instance name has ' '"), "{bad}");
        let options = rt
            .subscriber::<Msg>(&svc)
            .queue_capacity(0)
            .create()
            .unwrap_err();
        assert!(
            options.to_string().contains("queue_capacity = 0"),
            "{options}"
        );
        let options = rt
            .publisher::<Msg>(&svc)
            .max_loans(33)
            .create()
            .unwrap_err();
        assert!(options.to_string().contains("max_loans = 33"), "{options}");
        let name = Runtime::init("").unwrap_err();
        assert!(matches!(name, InitError::InvalidName { .. }), "{name}");
        say(format!("ok invalid names and options: {bad}"));

        // Too many loans.
        let loans_svc = service("loans");
        let publisher = rt
            .publisher::<Msg>(&loans_svc)
            .max_loans(2)
            .create()
            .expect("publisher");
        let first = publisher.loan_uninit().expect("loan 1");
        let second = publisher.loan_uninit().expect("loan 2");
        let third = publisher.loan_uninit().map(drop);
        assert_eq!(third, Err(LoanError::TooManyLoans { max: 2 }));
        say(format!("ok too many loans: {}", third.unwrap_err()));
        drop((first, second));

        // Out of chunks: the 64-byte pool has 4.
        let greedy = rt
            .publisher::<Msg>(&service("greedy"))
            .max_loans(8)
            .create()
            .expect("publisher");
        let held: Vec<_> = (0..4)
            .map(|_| greedy.loan_uninit().expect("a chunk"))
            .collect();
        let out = greedy.loan_uninit().map(drop).unwrap_err();
        assert!(
            matches!(out, LoanError::OutOfChunks { chunk_size: 64, .. }),
            "{out}"
        );
        drop(held);
        greedy
            .loan_uninit()
            .expect("chunks are back after the loans were dropped");
        say(format!("ok out of chunks: {out}"));

        // Too many held samples.
        let held_svc = service("held");
        let publisher = rt.publisher::<Msg>(&held_svc).create().expect("publisher");
        let subscriber = rt
            .subscriber::<Msg>(&held_svc)
            .max_held(1)
            .create()
            .expect("subscriber");
        publish_seq(&publisher, 1, 0..2);
        let first = subscriber.take().expect("take").expect("sample 0");
        let second = subscriber.take().map(|s| s.is_some());
        assert_eq!(second, Err(TakeError::TooManyHeld { max: 1 }));
        drop(first);
        assert_eq!(subscriber.take().expect("take").expect("sample 1").seq, 1);
        say(format!("ok too many held: {}", second.unwrap_err()));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn no_daemon() {
        if role_args("roles::no_daemon").is_none() {
            return;
        }
        match Runtime::init("e2e-lonely") {
            Err(e @ InitError::DaemonNotRunning { .. }) => say(format!("error: {e}")),
            other => panic!("expected DaemonNotRunning, got {other:?}"),
        }
    }
}
