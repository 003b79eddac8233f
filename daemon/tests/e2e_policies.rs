//! End to end: what happens when a subscriber's queue is full.
//!
//! - discard oldest (the default): the publisher never waits; the subscriber
//!   finds the newest `capacity` samples, sees the gap, and the dropped count
//!   is in its port (`Subscriber::dropped`) and in `zerocpctl services`;
//! - block publisher: the publisher waits in `publish` until the subscriber
//!   takes a sample, then resumes; nothing is lost.

mod e2e_support;
mod support;

use std::time::Duration;

use e2e_support::Msg;
use std::sync::atomic::Ordering;

use support::{MappedGroup, TestDomain};
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

#[test]
fn discard_oldest_drops_and_counts() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let envs = domain.envs();
    let mut sub = spawn_child("roles::lazy_subscriber", &["4"], &envs);
    sub.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::counting_publisher", &["10"], &envs);
    publisher.expect_line("published", WAIT);

    let services = domain.ctl_json(&["services"]);
    let subscribers = &services["services"][0]["subscribers"];
    assert_eq!(
        subscribers[0]["dropped"], 6,
        "zerocpctl services: {services}"
    );
    assert_eq!(
        subscribers[0]["queue_len"], 4,
        "zerocpctl services: {services}"
    );

    sub.send_line("drain");
    assert_eq!(sub.expect_line("received ", WAIT), "6 7 8 9");
    assert_eq!(sub.expect_line("dropped ", WAIT), "6");
    assert!(sub.wait(WAIT).success());
    publisher.send_line("quit");
    assert!(publisher.wait(WAIT).success());
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn block_publisher_blocks_and_resumes() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let envs = domain.envs();
    let mut sub = spawn_child("roles::blocking_subscriber", &["2"], &envs);
    sub.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::stepping_publisher", &["5"], &envs);
    publisher.expect_line("sent 0", WAIT);
    publisher.expect_line("sent 1", WAIT);
    // The queue (capacity 2) is full now: the third publish must wait.
    publisher.expect_line("publishing 2", WAIT);
    let services = domain.ctl_json(&["services"]);
    let subscriber = &services["services"][0]["subscribers"][0];
    assert_eq!(subscriber["queue_len"], 2, "zerocpctl services: {services}");
    // The publisher announces itself in the subscriber port's `blocked`
    // word while it waits for room: seen from here, publish(2) is blocked,
    // and it can only return after the take below makes room.
    let port = subscriber["port"].as_u64().expect("subscriber port") as u32;
    let [_, control, payload] = domain.segment_names();
    let mapped = MappedGroup::of_daemon(domain.daemon_pid(), 0, [control, payload]);
    let mgmt = mapped.control();
    let blocked = &mgmt.subscriber(port).expect("subscriber port").wake.blocked;
    assert!(
        domain.wait_until(WAIT, || blocked.load(Ordering::SeqCst) >= 1),
        "publish(2) on a full queue never blocked"
    );
    sub.send_line("take 1");
    assert_eq!(sub.expect_line("took ", WAIT), "0");
    publisher.expect_line("sent 2", WAIT);
    // The rest flows as the subscriber takes.
    sub.send_line("take 4");
    assert_eq!(sub.expect_line("took ", WAIT), "1 2 3 4");
    publisher.expect_line("published", WAIT);
    assert!(publisher.wait(WAIT).success());
    sub.send_line("quit");
    assert_eq!(sub.expect_line("dropped ", WAIT), "0");
    assert!(sub.wait(WAIT).success());
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

mod roles {
    use std::io::BufRead;

    use super::*;
    use crate::e2e_support::{arg, deadline, expect_command, left, publish_seq, say, service};
    use zerocp::{FullPolicy, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn counting_publisher() {
        let Some(args) = role_args("roles::counting_publisher") else {
            return;
        };
        let count: u64 = arg(&args, 0);
        let rt = Runtime::init("e2e-count").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service("overflow"))
            .create()
            .expect("publisher");
        publish_seq(&publisher, 1, 0..count);
        say("published");
        expect_command("quit");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn lazy_subscriber() {
        let Some(args) = role_args("roles::lazy_subscriber") else {
            return;
        };
        let capacity: u32 = arg(&args, 0);
        let rt = Runtime::init("e2e-lazy").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service("overflow"))
            .queue_capacity(capacity)
            .create()
            .expect("subscriber");
        say("ready");
        expect_command("drain");
        let mut got = Vec::new();
        while let Some(msg) = sub.take().expect("take") {
            assert!(msg.is_valid());
            got.push(msg.seq.to_string());
        }
        say(format!("received {}", got.join(" ")));
        say(format!("dropped {}", sub.dropped()));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn stepping_publisher() {
        let Some(args) = role_args("roles::stepping_publisher") else {
            return;
        };
        let count: u64 = arg(&args, 0);
        let rt = Runtime::init("e2e-stepping").expect("init");
        // Waits without limit: the test decides when the subscriber takes.
        let publisher = rt
            .publisher::<Msg>(&service("block"))
            .publish_timeout(Duration::MAX)
            .create()
            .expect("publisher");
        for seq in 0..count {
            let sample = publisher
                .loan_uninit()
                .expect("loan")
                .write(Msg::new(1, seq));
            say(format!("publishing {seq}"));
            sample.publish().expect("publish");
            say(format!("sent {seq}"));
        }
        say("published");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn blocking_subscriber() {
        let Some(args) = role_args("roles::blocking_subscriber") else {
            return;
        };
        let capacity: u32 = arg(&args, 0);
        let rt = Runtime::init("e2e-blocking").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service("block"))
            .queue_capacity(capacity)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        say("ready");
        let mut next = 0;
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("command");
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["take", n] => {
                    let n: usize = n.parse().expect("count");
                    let deadline = deadline();
                    let mut took = Vec::new();
                    while took.len() < n {
                        sub.wait(Some(left(deadline, "blocked samples")))
                            .expect("wait");
                        while took.len() < n {
                            let Some(msg) = sub.take().expect("take") else {
                                break;
                            };
                            assert_eq!(msg.seq, next, "lost or reordered under BlockPublisher");
                            next += 1;
                            took.push(msg.seq.to_string());
                        }
                    }
                    say(format!("took {}", took.join(" ")));
                }
                ["quit"] => break,
                other => panic!("unknown command {other:?}"),
            }
        }
        say(format!("dropped {}", sub.dropped()));
    }
}
