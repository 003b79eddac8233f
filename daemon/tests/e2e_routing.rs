//! End to end: routing between several processes of one service.
//!
//! - several publisher processes on one service: every subscriber process
//!   gets every message of every publisher, each publisher's in order;
//! - a late joiner gets the history it asked for (bounded by the publisher's
//!   depth), from `update_connections` or, without it, at the next publish,
//!   before any newer sample.

mod e2e_support;
mod support;

use std::time::Duration;

use e2e_support::Msg;
use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);

#[test]
fn several_publishers_on_one_service() {
    const PUBLISHERS: usize = 3;
    const EACH: u64 = 50;
    let domain = TestDomain::builder().mempools(&[(64, 512)]).start();
    let envs = domain.envs();
    let args = [PUBLISHERS.to_string(), EACH.to_string()];
    let args = [args[0].as_str(), args[1].as_str()];
    let mut subs: Vec<TestChild> = (0..2)
        .map(|_| spawn_child("roles::merging_subscriber", &args, &envs))
        .collect();
    for sub in &mut subs {
        sub.expect_line("ready", WAIT);
    }
    let mut pubs: Vec<TestChild> = (0..PUBLISHERS)
        .map(|_| spawn_child("roles::burst_publisher", &args[1..], &envs))
        .collect();
    for publisher in &mut pubs {
        publisher.expect_line("published", WAIT);
        assert!(publisher.wait(WAIT).success());
    }
    for sub in &mut subs {
        assert_eq!(
            sub.expect_line("received ", WAIT),
            format!("{PUBLISHERS} x {EACH}")
        );
        assert!(sub.wait(WAIT).success());
    }
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn late_joiners_receive_the_history() {
    let domain = TestDomain::builder().mempools(&[(64, 128)]).start();
    let envs = domain.envs();
    // Depth 4; messages 0..=9 published before anyone subscribes.
    let mut publisher = spawn_child("roles::history_publisher", &["4", "10"], &envs);
    publisher.expect_line("published", WAIT);

    // Asks for 3: gets 7, 8, 9 from update_connections, then 10 and 11 live.
    let mut early = spawn_child("roles::late_subscriber", &["3", "7 8 9 10 11", "3"], &envs);
    early.expect_line("ready", WAIT);
    publisher.send_line("update");
    publisher.expect_line("updated", WAIT);
    assert_eq!(early.expect_line("got ", WAIT), "7 8 9");
    publisher.send_line("publish 10");
    publisher.expect_line("sent 10", WAIT);

    // Asks for 8 (more than the depth of 4): gets 7..=10 at the next publish,
    // before 11 itself, without update_connections.
    let mut late = spawn_child("roles::late_subscriber", &["8", "7 8 9 10 11", "0"], &envs);
    late.expect_line("ready", WAIT);
    publisher.send_line("publish 11");
    publisher.expect_line("sent 11", WAIT);

    assert_eq!(early.expect_line("received ", WAIT), "7 8 9 10 11");
    assert_eq!(late.expect_line("received ", WAIT), "7 8 9 10 11");
    assert!(early.wait(WAIT).success() && late.wait(WAIT).success());
    publisher.send_line("quit");
    assert!(publisher.wait(WAIT).success());
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

mod roles {
    use std::collections::HashMap;
    use std::io::BufRead;

    use super::*;
    use crate::e2e_support::{arg, deadline, left, publish_seq, say, service};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn burst_publisher() {
        let Some(args) = role_args("roles::burst_publisher") else {
            return;
        };
        let count: u64 = arg(&args, 0);
        let rt = Runtime::init("e2e-burst").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service("merge"))
            .create()
            .expect("publisher");
        let id = u64::from(std::process::id());
        publish_seq(&publisher, id, 0..count);
        say("published");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn merging_subscriber() {
        let Some(args) = role_args("roles::merging_subscriber") else {
            return;
        };
        let (publishers, each): (usize, u64) = (arg(&args, 0), arg(&args, 1));
        let rt = Runtime::init("e2e-merge").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service("merge"))
            .queue_capacity(256)
            .create()
            .expect("subscriber");
        say("ready");
        let mut next: HashMap<u64, u64> = HashMap::new();
        let total = publishers as u64 * each;
        let mut received = 0;
        let deadline = deadline();
        while received < total {
            sub.wait(Some(left(deadline, "messages of every publisher")))
                .expect("wait");
            while let Some(msg) = sub.take().expect("take") {
                assert!(msg.is_valid(), "corrupt {:?}", *msg);
                let expected = next.entry(msg.publisher).or_insert(0);
                assert_eq!(
                    msg.seq, *expected,
                    "publisher {} out of order",
                    msg.publisher
                );
                *expected += 1;
                received += 1;
            }
        }
        assert_eq!(next.len(), publishers, "messages from {next:?}");
        assert!(next.values().all(|&n| n == each), "per publisher: {next:?}");
        assert_eq!(sub.dropped(), 0);
        say(format!("received {publishers} x {each}"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn history_publisher() {
        let Some(args) = role_args("roles::history_publisher") else {
            return;
        };
        let (depth, count): (u32, u64) = (arg(&args, 0), arg(&args, 1));
        let rt = Runtime::init("e2e-history").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service("history"))
            .history(depth)
            .create()
            .expect("publisher");
        let id = u64::from(std::process::id());
        publish_seq(&publisher, id, 0..count);
        say("published");
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("command");
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["update"] => {
                    publisher.update_connections().expect("update_connections");
                    say("updated");
                }
                ["publish", seq] => {
                    let seq: u64 = seq.parse().expect("seq");
                    let sample = publisher
                        .loan_uninit()
                        .expect("loan")
                        .write(Msg::new(id, seq));
                    sample.publish().expect("publish");
                    say(format!("sent {seq}"));
                }
                ["quit"] => return,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn late_subscriber() {
        let Some(args) = role_args("roles::late_subscriber") else {
            return;
        };
        let history: u32 = arg(&args, 0);
        let expected: Vec<u64> = args[1]
            .split_whitespace()
            .map(|s| s.parse().expect("seq"))
            .collect();
        // Report the first `report` samples (the history) as soon as they are in.
        let report: usize = arg(&args, 2);
        let rt = Runtime::init("e2e-late").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service("history"))
            .history(history)
            .queue_capacity(16)
            .create()
            .expect("subscriber");
        say("ready");
        let mut got = Vec::new();
        let deadline = deadline();
        let mut reported = false;
        while got.len() < expected.len() {
            sub.wait(Some(left(deadline, "history and live samples")))
                .expect("wait");
            while let Some(msg) = sub.take().expect("take") {
                assert!(msg.is_valid());
                got.push(msg.seq);
            }
            if !reported && report > 0 && got.len() >= report {
                say(format!("got {}", join(&got[..report])));
                reported = true;
            }
        }
        assert_eq!(got, expected);
        say(format!("received {}", join(&got)));
    }

    fn join(seqs: &[u64]) -> String {
        seqs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}
