//! End to end: a block-publisher subscriber that never takes holds its
//! publishers only as long as they allow (`PublisherBuilder::publish_timeout`).
//!
//! - With `PublishTimeout::DropForSubscriber` every publish returns `Ok`:
//!   the first sample past the stuck subscriber's full queue is dropped for
//!   it after the timeout, the next ones at once (it is stalled); another
//!   subscriber of the service receives every sample, and both ports count
//!   the drops (`timed_out` in `zerocpctl services`). A stuck queue stops at
//!   its port quota (8 of the pool's 16 chunks, though it asked for 64).
//! - With `PublishTimeout::Fail` the publish returns `PublishError::Timeout`
//!   naming the subscriber and the wait (at least the timeout the first
//!   time, zero while it stays stalled); once the subscriber takes a sample
//!   it gets new ones again.
//! - A publisher that waits without limit still returns when the subscriber
//!   it waits for is killed, or stopped and then unrouted for missing
//!   heartbeats, without counting a timeout.

mod e2e_support;
mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};
use support::{MappedGroup, TestDomain};
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);
/// The publish timeout of the publishers that have one.
const TIMEOUT_MS: u64 = 100;

fn ports_of(domain: &TestDomain, kind: &str) -> Vec<serde_json::Value> {
    let services = domain.ctl_json(&["services"]);
    services["services"][0][kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind}: {services}"))
        .clone()
}

/// The `zerocpctl services --json` entry of subscriber port `port`.
fn subscriber(domain: &TestDomain, port: u64) -> serde_json::Value {
    ports_of(domain, "subscribers")
        .into_iter()
        .find(|p| p["port"] == port)
        .unwrap_or_else(|| panic!("no subscriber port {port}"))
}

fn spawn_blocker(domain: &TestDomain, instance: &str, capacity: &str) -> (TestChild, u64) {
    let mut blocker = spawn_child(
        "roles::blocking_subscriber",
        &[instance, capacity],
        &domain.envs(),
    );
    let port = blocker.expect_line("ready ", WAIT).parse().expect("a port");
    (blocker, port)
}

fn quit(child: &mut TestChild) {
    child.send_line("quit");
    child.expect_success(WAIT);
}

#[test]
fn a_stuck_subscriber_is_dropped_after_the_timeout_and_the_others_get_everything() {
    // 32 chunks: port quota 16, more than either subscriber can hold.
    let domain = TestDomain::builder().mempools(&[(64, 32)]).start();
    let envs = domain.envs();
    let (mut blocker, blocker_port) = spawn_blocker(&domain, "slow", "2");
    let mut taker = spawn_child("roles::taking_subscriber", &["slow"], &envs);
    taker.expect_line("ready", WAIT);

    // Drop for the stuck subscriber: every publish returns Ok.
    let timeout = TIMEOUT_MS.to_string();
    let mut dropper = spawn_child("roles::timed_publisher", &["slow", &timeout, "drop"], &envs);
    dropper.expect_line("ready", WAIT);
    dropper.send_line("publish 4");
    for seq in 0..4 {
        assert_eq!(dropper.expect_line("ok ", WAIT), seq.to_string());
    }
    // 2 fill the stuck queue, 2 are dropped for it: the first after the
    // timeout, the second at once (stalled).
    assert_eq!(dropper.expect_line("published ", WAIT), "4 timed_out 2");
    taker.send_line("expect 4");
    assert_eq!(taker.expect_line("received ", WAIT), "4");
    let stuck = subscriber(&domain, blocker_port);
    assert_eq!(
        (&stuck["queue_len"], &stuck["timed_out"]),
        (&2.into(), &2.into()),
        "{stuck}"
    );
    assert_eq!(ports_of(&domain, "publishers")[0]["timed_out"], 2);

    // Fail: the publish says which subscriber and how long it waited.
    let mut failer = spawn_child("roles::timed_publisher", &["slow", &timeout, "fail"], &envs);
    failer.expect_line("ready", WAIT);
    failer.send_line("publish 3");
    let first: Vec<u64> = failer
        .expect_line("timeout 0 ", WAIT)
        .split_whitespace()
        .map(|w| w.parse().expect("a number"))
        .collect();
    assert_eq!(first[1], blocker_port, "the error names the subscriber");
    assert!(first[0] >= TIMEOUT_MS, "it waited the timeout: {first:?}");
    // Stalled since: no further wait.
    for seq in 1..3 {
        assert_eq!(
            failer.expect_line(&format!("timeout {seq} "), WAIT),
            format!("0 {blocker_port}")
        );
    }
    assert_eq!(failer.expect_line("published ", WAIT), "3 timed_out 3");
    taker.send_line("expect 7");
    assert_eq!(taker.expect_line("received ", WAIT), "7");
    assert_eq!(subscriber(&domain, blocker_port)["timed_out"], 5);

    // Once it takes one, it is served again.
    blocker.send_line("take 1");
    assert_eq!(blocker.expect_line("took ", WAIT), "0");
    failer.send_line("publish 1");
    assert_eq!(failer.expect_line("ok ", WAIT), "3");
    assert_eq!(failer.expect_line("published ", WAIT), "1 timed_out 3");
    taker.send_line("expect 8");
    assert_eq!(taker.expect_line("received ", WAIT), "8");
    assert_eq!(subscriber(&domain, blocker_port)["queue_len"], 2);

    for child in [&mut dropper, &mut failer, &mut taker, &mut blocker] {
        quit(child);
    }
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn a_stuck_subscriber_queue_stops_at_its_port_quota() {
    // 16 chunks: port quota 8, though the queue asks for 64.
    let domain = TestDomain::builder().mempools(&[(64, 16)]).start();
    let (mut blocker, blocker_port) = spawn_blocker(&domain, "quota", "64");
    let timeout = TIMEOUT_MS.to_string();
    let mut dropper = spawn_child(
        "roles::timed_publisher",
        &["quota", &timeout, "drop"],
        &domain.envs(),
    );
    dropper.expect_line("ready", WAIT);
    dropper.send_line("publish 10");
    assert_eq!(dropper.expect_line("published ", WAIT), "10 timed_out 2");
    let stuck = subscriber(&domain, blocker_port);
    assert_eq!(
        (&stuck["queue_len"], &stuck["queue_capacity"]),
        (&8.into(), &64.into()),
        "{stuck}"
    );
    assert_eq!(domain.used_chunks(), 8, "{:?}", domain.mempools());
    for child in [&mut dropper, &mut blocker] {
        quit(child);
    }
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

/// Starts a publisher that waits without limit and has it block on a
/// block-publisher subscriber with a full queue; returns both (the
/// publisher is inside `publish(1)`, registered as blocked).
fn blocked_publisher(domain: &TestDomain) -> (TestChild, TestChild) {
    let (blocker, port) = spawn_blocker(domain, "gone", "1");
    let mut publisher = spawn_child(
        "roles::timed_publisher",
        &["gone", "max", "drop"],
        &domain.envs(),
    );
    publisher.expect_line("ready", WAIT);
    publisher.send_line("publish 2");
    assert_eq!(publisher.expect_line("ok ", WAIT), "0");
    assert_eq!(publisher.expect_line("publishing ", WAIT), "1");
    let [_, control, payload] = domain.segment_names();
    let mapped = MappedGroup::of_daemon(domain.daemon_pid(), 0, [control, payload]);
    let port = mapped
        .control()
        .subscriber(port as u32)
        .expect("the subscriber's port");
    assert!(
        domain.wait_until(WAIT, || port.wake.blocked.load(Ordering::SeqCst) >= 1),
        "publish(1) on a full queue never blocked"
    );
    (publisher, blocker)
}

fn signal(child: &TestChild, signal: Signal) {
    let pid = Pid::from_raw(child.pid() as i32).expect("a child pid");
    kill_process(pid, signal).expect("signal the child");
}

#[test]
fn a_publisher_waiting_without_limit_returns_when_its_subscriber_dies() {
    let domain = TestDomain::builder().mempools(&[(64, 16)]).start();
    let (mut publisher, mut blocker) = blocked_publisher(&domain);
    blocker.kill();
    assert_eq!(publisher.expect_line("ok ", WAIT), "1");
    assert_eq!(publisher.expect_line("published ", WAIT), "2 timed_out 0");
    quit(&mut publisher);
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn a_publisher_waiting_without_limit_returns_when_its_subscriber_is_unrouted() {
    let domain = TestDomain::builder()
        .mempools(&[(64, 16)])
        .heartbeat_timeout_ms(2_000)
        .start();
    let (mut publisher, mut blocker) = blocked_publisher(&domain);
    // Stopped past the heartbeat timeout, the subscriber is unrouted (not
    // reclaimed: it still holds its queue until it exits).
    signal(&blocker, Signal::STOP);
    assert_eq!(publisher.expect_line("ok ", WAIT), "1");
    assert_eq!(publisher.expect_line("published ", WAIT), "2 timed_out 0");
    assert_eq!(domain.used_chunks(), 1, "{:?}", domain.mempools());
    blocker.kill();
    quit(&mut publisher);
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

mod roles {
    use std::io::BufRead;
    use std::time::Duration;

    use crate::e2e_support::{Msg, arg, deadline, left, say, service};
    use zerocp::{FullPolicy, PublishError, PublishTimeout, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    /// Splits a command line into its words.
    fn commands() -> impl Iterator<Item = Vec<String>> {
        std::io::stdin().lock().lines().map(|line| {
            let line = line.expect("a command");
            line.split_whitespace().map(str::to_owned).collect()
        })
    }

    /// A block-publisher subscriber with queue capacity `args[1]` that
    /// takes only on `take N` (and drops what it took at once).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn blocking_subscriber() {
        let Some(args) = role_args("roles::blocking_subscriber") else {
            return;
        };
        let capacity: u32 = arg(&args, 1);
        let rt = Runtime::init("e2e-stuck").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service(&args[0]))
            .queue_capacity(capacity)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        say(format!("ready {}", sub.port_index()));
        for words in commands() {
            match words.as_slice() {
                [take, n] if take == "take" => {
                    let n: usize = n.parse().expect("a count");
                    let took: Vec<String> = (0..n)
                        .map(|_| sub.take().expect("take").expect("a queued sample"))
                        .map(|msg| msg.seq.to_string())
                        .collect();
                    say(format!("took {}", took.join(" ")));
                }
                [quit] if quit == "quit" => break,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// A discard-oldest subscriber that takes everything, reporting on
    /// `expect N` once it received `N` in all. Its queue (15) and one held
    /// sample stay within the port quota of the tests' pool (16), so its
    /// publishers never bound it, and it loses nothing as long as fewer
    /// than 15 samples arrive between two `expect`s.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn taking_subscriber() {
        let Some(args) = role_args("roles::taking_subscriber") else {
            return;
        };
        let rt = Runtime::init("e2e-taker").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service(&args[0]))
            .queue_capacity(15)
            .max_held(1)
            .create()
            .expect("subscriber");
        say("ready");
        let mut received = 0u64;
        for words in commands() {
            match words.as_slice() {
                [expect, n] if expect == "expect" => {
                    let total: u64 = n.parse().expect("a count");
                    let until = deadline();
                    while received < total {
                        sub.wait(Some(left(until, "samples"))).expect("wait");
                        while let Some(msg) = sub.take().expect("take") {
                            assert!(msg.is_valid(), "a corrupt sample {:?}", *msg);
                            received += 1;
                        }
                    }
                    assert_eq!(sub.dropped(), 0, "the taker lost samples");
                    say(format!("received {received}"));
                }
                [quit] if quit == "quit" => break,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// A publisher with publish timeout `args[1]` ms (`max`: no limit) and
    /// timeout action `args[2]` (`drop` or `fail`); on `publish N` reports
    /// each publish (`ok SEQ`, or `timeout SEQ WAITED_MS SUBSCRIBER`) and
    /// then its count of timed-out deliveries.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn timed_publisher() {
        let Some(args) = role_args("roles::timed_publisher") else {
            return;
        };
        let timeout = match args[1].as_str() {
            "max" => Duration::MAX,
            ms => Duration::from_millis(ms.parse().expect("a timeout in ms")),
        };
        let action = match args[2].as_str() {
            "drop" => PublishTimeout::DropForSubscriber,
            "fail" => PublishTimeout::Fail,
            other => panic!("unknown timeout action {other:?}"),
        };
        let rt = Runtime::init("e2e-timed").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&args[0]))
            .publish_timeout(timeout)
            .on_publish_timeout(action)
            .create()
            .expect("publisher");
        say("ready");
        let id = u64::from(std::process::id());
        let mut seq = 0;
        for words in commands() {
            match words.as_slice() {
                [publish, n] if publish == "publish" => {
                    let n: u64 = n.parse().expect("a count");
                    for _ in 0..n {
                        let sample = publisher.loan_uninit().expect("loan");
                        say(format!("publishing {seq}"));
                        match sample.write(Msg::new(id, seq)).publish() {
                            Ok(()) => say(format!("ok {seq}")),
                            Err(PublishError::Timeout(e)) => {
                                assert!(e.to_string().contains("did not get the sample"), "{e}");
                                say(format!(
                                    "timeout {seq} {} {}",
                                    e.waited.as_millis(),
                                    e.subscriber
                                ));
                            }
                            Err(e) => panic!("publish: {e}"),
                        }
                        seq += 1;
                    }
                    say(format!("published {n} timed_out {}", publisher.timed_out()));
                }
                [quit] if quit == "quit" => break,
                other => panic!("unknown command {other:?}"),
            }
        }
    }
}
