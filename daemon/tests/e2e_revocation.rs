//! End to end: the daemon revokes single ports of live processes
//! (`zerocpctl revoke-port`, what the audit does when it finds a port's
//! queue or record corrupt), and their processes are told with a typed
//! error instead of stalling:
//!
//! - a subscriber asleep in `wait(None)` wakes with `WaitError::Revoked`,
//!   and `take` then says `TakeError::Revoked`;
//! - a publisher blocked on the full queue of a subscriber that is revoked
//!   goes on (it delivers to nobody), and once its own port is revoked,
//!   `loan_uninit` and `publish` fail with `Revoked`.
//!
//! The parent watches the shared-memory words that say a child sleeps or is
//! blocked (the daemon's own descriptors, through `/proc`) before it revokes,
//! so the revocation meets a sleeper, not a process about to sleep.

mod e2e_support;
mod support;

use std::time::Duration;

use support::{MappedGroup, TestDomain};
use zerocp_core::sync::Ordering;
use zerocp_os_linux::names::DEFAULT_GROUP;
use zerocp_os_linux::testing::role::spawn_child;

/// How long the parent waits for a child's line or exit, or a condition.
const WAIT: Duration = Duration::from_secs(60);

/// The default group's parts, mapped through the daemon's descriptors.
fn default_group(domain: &TestDomain) -> MappedGroup {
    let names = domain.group_segment_names(DEFAULT_GROUP);
    MappedGroup::of_daemon(domain.daemon_pid(), 0, names)
}

/// Waits until `read` on subscriber port `index` of `group` is non-zero.
fn wait_for_word(
    group: &MappedGroup,
    index: u32,
    what: &str,
    read: impl Fn(&zerocp_core::port::SubscriberPort) -> u32,
) {
    let control = group.control();
    let port = control.subscriber(index).expect("a subscriber port");
    assert!(
        support::wait_until(WAIT, || read(port) != 0),
        "subscriber port {index}: {what} stayed 0"
    );
}

/// `zerocpctl revoke-port 0 KIND INDEX`, which must succeed.
fn revoke(domain: &TestDomain, kind: &str, index: u32) -> String {
    domain.ctl_ok(&["revoke-port", "0", kind, &index.to_string()])
}

#[test]
fn a_subscriber_sleeping_in_wait_wakes_with_the_revocation() {
    let domain = TestDomain::start();
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::sleeper", &[], &envs);
    let index: u32 = subscriber
        .expect_line("port ", WAIT)
        .parse()
        .expect("a port index");
    subscriber.expect_line("waiting", WAIT);
    wait_for_word(&default_group(&domain), index, "sleepers", |p| {
        p.wake.sleepers.load(Ordering::SeqCst)
    });

    let said = revoke(&domain, "subscriber", index);
    assert!(
        said.starts_with(&format!("revoked subscriber port {index} of group 0")),
        "{said}"
    );
    let expected = "the daemon revoked this port: an operator revoked it (zerocpctl \
                    revoke-port); drop it and create it again";
    assert_eq!(subscriber.expect_line("wait: ", WAIT), expected);
    assert_eq!(subscriber.expect_line("take: ", WAIT), expected);
    subscriber.expect_success(WAIT);
    let log = domain.daemon_log();
    assert!(
        log.contains(&format!("revoked its subscriber port {index} of group 0")),
        "{log}"
    );
    // Twice is refused, naming why.
    let again = domain.ctl(&["revoke-port", "0", "subscriber", &index.to_string()]);
    assert!(!again.status.success());
    domain.stop();
}

#[test]
fn a_blocked_publisher_is_released_and_a_revoked_one_told() {
    let domain = TestDomain::start();
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::blocking_subscriber", &[], &envs);
    let sub_index: u32 = subscriber
        .expect_line("port ", WAIT)
        .parse()
        .expect("a port index");
    let mut publisher = spawn_child("roles::publisher", &[], &envs);
    let pub_index: u32 = publisher
        .expect_line("port ", WAIT)
        .parse()
        .expect("a port index");
    // Its second sample does not fit the subscriber's queue of one.
    wait_for_word(&default_group(&domain), sub_index, "blocked", |p| {
        p.wake.blocked.load(Ordering::SeqCst)
    });

    revoke(&domain, "subscriber", sub_index);
    assert_eq!(publisher.expect_line("published ", WAIT), "2");
    publisher.expect_line("loaned", WAIT);
    revoke(&domain, "publisher", pub_index);
    publisher.send_line("go");
    let expected = "the daemon revoked this port: an operator revoked it (zerocpctl \
                    revoke-port); drop it and create it again";
    assert_eq!(publisher.expect_line("loan: ", WAIT), expected);
    assert_eq!(publisher.expect_line("publish: ", WAIT), expected);
    publisher.expect_success(WAIT);
    subscriber.close_stdin();
    subscriber.expect_success(WAIT);
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

mod roles {
    use std::time::Instant;

    use crate::e2e_support::{Msg, ROLE_DEADLINE, expect_command, say, service};
    use zerocp::{FullPolicy, LoanError, Runtime, TakeError, WaitError};
    use zerocp_os_linux::testing::role::role_args;

    /// A subscriber that sleeps in `wait(None)` until its port is revoked.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn sleeper() {
        if role_args("roles::sleeper").is_none() {
            return;
        }
        let rt = Runtime::init("revoke-sleeper").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service("revoke-wait"))
            .wait_spins(0)
            .create()
            .expect("subscriber");
        say(format!("port {}", subscriber.port_index()));
        say("waiting");
        match subscriber.wait(None) {
            Err(e @ WaitError::Revoked { .. }) => say(format!("wait: {e}")),
            other => panic!("wait ended with {other:?}"),
        }
        match subscriber.take() {
            Err(e @ TakeError::Revoked { .. }) => say(format!("take: {e}")),
            other => panic!("take gave {:?}", other.map(|s| s.map(|m| *m))),
        }
    }

    /// A subscriber whose queue of one blocks its publishers; it never takes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn blocking_subscriber() {
        if role_args("roles::blocking_subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("revoke-blocker").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service("revoke-block"))
            .queue_capacity(1)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        say(format!("port {}", subscriber.port_index()));
        // Until the parent closes stdin.
        let mut line = String::new();
        drop(std::io::stdin().read_line(&mut line));
    }

    /// Publishes two samples into the blocking subscriber's queue of one
    /// (the second blocks until that subscriber is revoked), loans one more,
    /// then, told to go, loans until its own port's revocation arrives and
    /// publishes the sample it held.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = Runtime::init("revoke-publisher").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service("revoke-block"))
            .max_loans(2)
            .create()
            .expect("publisher");
        say(format!("port {}", publisher.port_index()));
        for seq in 0..2 {
            publisher
                .loan_uninit()
                .expect("loan")
                .write(Msg::new(1, seq))
                .publish()
                .expect("publish");
        }
        say("published 2");
        let held = publisher.loan_uninit().expect("loan").write(Msg::new(1, 2));
        say("loaned");
        expect_command("go");
        let deadline = Instant::now() + ROLE_DEADLINE;
        let error = loop {
            match publisher.loan_uninit() {
                Ok(sample) => drop(sample),
                Err(e @ LoanError::Revoked { .. }) => break e,
                Err(e) => panic!("loan failed otherwise: {e}"),
            }
            assert!(Instant::now() < deadline, "the revocation never arrived");
            std::thread::yield_now();
        };
        say(format!("loan: {error}"));
        match held.publish() {
            Err(e @ zerocp::PublishError::Revoked { .. }) => say(format!("publish: {e}")),
            other => panic!("publish gave {other:?}"),
        }
    }
}
