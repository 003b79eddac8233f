//! End to end: chunk quotas keep one process from starving the others of a
//! pool they share (`[quota]`, `zerocp_daemon::quota_config`).
//!
//! - An attacker that loans every chunk it can, over several publishers of
//!   its own services, is stopped by `QuotaExceeded` at its port quota and
//!   then at its process quota, each error naming the configuration key;
//!   meanwhile another process's publisher on another service of the same
//!   pool keeps publishing and its subscriber keeps receiving. `zerocpctl`
//!   shows what the attacker holds; after it exits the pool is back to
//!   `used 0`.
//! - A subscriber that never takes, with a queue larger than the pool,
//!   pins at most its port quota: its publishers evict its oldest sample at
//!   the quota (counted as dropped), so the pool is not drained and others
//!   keep loaning; when it finally takes, it gets the newest samples.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);

/// The one pool of these tests: 16 chunks of 64 bytes (every `Msg` lands there).
const CHUNKS: u32 = 16;

/// A publisher and a subscriber of service `instance`, in two processes,
/// both ready.
fn victims(domain: &TestDomain, instance: &str) -> (TestChild, TestChild) {
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::counting_subscriber", &[instance], &envs);
    subscriber.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::steady_publisher", &[instance], &envs);
    publisher.expect_line("ready", WAIT);
    (publisher, subscriber)
}

/// Has `publisher` publish `count` more samples and `subscriber` receive
/// them (`total` received in all, then); the publisher waits for the
/// subscriber, so both work at once.
fn exchange(publisher: &mut TestChild, subscriber: &mut TestChild, count: u64, total: u64) {
    subscriber.send_line(&format!("expect {total}"));
    publisher.send_line(&format!("publish {count}"));
    assert_eq!(publisher.expect_line("published ", WAIT), count.to_string());
    assert_eq!(subscriber.expect_line("received ", WAIT), total.to_string());
}

fn quit(children: [&mut TestChild; 2]) {
    for child in children {
        child.send_line("quit");
        child.expect_success(WAIT);
    }
}

/// The `chunks_held` of process `pid` in `zerocpctl processes --json`.
fn chunks_held(domain: &TestDomain, pid: u32) -> u64 {
    let json = domain.ctl_json(&["processes"]);
    let processes = json["processes"].as_array().expect("processes array");
    let entry = processes
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("pid {pid} is not listed: {json}"));
    entry["chunks_held"].as_u64().expect("chunks_held")
}

#[test]
fn a_loan_hog_stops_at_its_quotas_and_the_others_keep_publishing() {
    // Process quota 8 chunks, port quota 4.
    let domain = TestDomain::builder()
        .mempools(&[(64, CHUNKS)])
        .quota(50, 25)
        .start();
    let pools = domain.mempools();
    assert_eq!(
        (pools[0].process_quota, pools[0].port_quota),
        (8, 4),
        "{pools:?}"
    );
    let (mut publisher, mut subscriber) = victims(&domain, "victim");
    exchange(&mut publisher, &mut subscriber, 20, 20);

    let mut hog = spawn_child("roles::loan_hog", &["3"], &domain.envs());
    // Two publishers stop at the port quota, the third at the process quota.
    let first = hog.expect_line("stopped 0 after 4: ", WAIT);
    assert!(
        first.contains("this port holds 4") && first.contains("quota.port_percent = 25"),
        "{first}"
    );
    let second = hog.expect_line("stopped 1 after 4: ", WAIT);
    assert!(second.contains("quota.port_percent"), "{second}");
    let third = hog.expect_line("stopped 2 after 0: ", WAIT);
    assert!(
        third.contains("this process holds 8 of the 16 chunks")
            && third.contains("quota.process_percent = 50"),
        "{third}"
    );
    assert_eq!(hog.expect_line("holding ", WAIT), "8");
    assert_eq!(domain.used_chunks(), 8, "{:?}", domain.mempools());
    assert_eq!(chunks_held(&domain, hog.pid()), 8);

    // The other service of the pool is served while the hog holds its share.
    exchange(&mut publisher, &mut subscriber, 200, 220);
    assert_eq!(domain.used_chunks(), 8, "{:?}", domain.mempools());

    // The hog exits holding its loans: the daemon reclaims them.
    hog.send_line("exit");
    assert!(hog.wait(WAIT).success());
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == 0),
        "{:?}",
        domain.mempools()
    );
    exchange(&mut publisher, &mut subscriber, 20, 240);
    quit([&mut publisher, &mut subscriber]);
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn a_subscriber_that_never_takes_pins_only_its_port_quota() {
    // Port and process quotas: 8 of the 16 chunks; the queue asks for 64.
    let domain = TestDomain::builder().mempools(&[(64, CHUNKS)]).start();
    let envs = domain.envs();
    let mut lazy = spawn_child("roles::lazy_subscriber", &["lazy", "64"], &envs);
    lazy.expect_line("ready", WAIT);
    let mut feeder = spawn_child("roles::steady_publisher", &["lazy"], &envs);
    feeder.expect_line("ready", WAIT);
    feeder.send_line("publish 100");
    assert_eq!(feeder.expect_line("published ", WAIT), "100");

    let services = domain.ctl_json(&["services"]);
    let port = &services["services"][0]["subscribers"][0];
    assert_eq!(port["queue_len"], 8, "{services}");
    assert_eq!(port["queue_capacity"], 64, "{services}");
    assert_eq!(port["dropped"], 92, "{services}");
    assert_eq!(domain.used_chunks(), 8, "{:?}", domain.mempools());
    assert_eq!(chunks_held(&domain, lazy.pid()), 8);

    // The rest of the pool serves another service.
    let (mut publisher, mut subscriber) = victims(&domain, "victim");
    exchange(&mut publisher, &mut subscriber, 100, 100);

    // What the lazy subscriber finds is the newest samples.
    lazy.send_line("drain");
    assert_eq!(
        lazy.expect_line("received ", WAIT),
        "92 93 94 95 96 97 98 99"
    );
    assert_eq!(lazy.expect_line("dropped ", WAIT), "92");
    lazy.expect_success(WAIT);
    quit([&mut publisher, &mut subscriber]);
    feeder.send_line("quit");
    feeder.expect_success(WAIT);
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

mod roles {
    use std::io::BufRead;
    use std::time::Duration;

    use crate::e2e_support::{Msg, arg, deadline, expect_command, left, publish_seq, say, service};
    use zerocp::{FullPolicy, LoanError, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    /// Publishes on `publish N` (numbering on), until `quit`. Waits for
    /// block-publisher subscribers without limit: nothing is lost.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn steady_publisher() {
        let Some(args) = role_args("roles::steady_publisher") else {
            return;
        };
        let rt = Runtime::init("e2e-steady").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&args[0]))
            .publish_timeout(Duration::MAX)
            .create()
            .expect("publisher");
        say("ready");
        let id = u64::from(std::process::id());
        let mut next = 0;
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("a command");
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["publish", n] => {
                    let n: u64 = n.parse().expect("a count");
                    publish_seq(&publisher, id, next..next + n);
                    next += n;
                    say(format!("published {n}"));
                }
                ["quit"] => break,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// Takes every sample until it received `N` in all on `expect N`, until
    /// `quit`; its publishers wait for it (block-publisher), so it gets all.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn counting_subscriber() {
        let Some(args) = role_args("roles::counting_subscriber") else {
            return;
        };
        let rt = Runtime::init("e2e-counting").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service(&args[0]))
            .queue_capacity(4)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        say("ready");
        let mut received = 0u64;
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("a command");
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["expect", n] => {
                    let total: u64 = n.parse().expect("a count");
                    let until = deadline();
                    while received < total {
                        sub.wait(Some(left(until, "samples"))).expect("wait");
                        while let Some(msg) = sub.take().expect("take") {
                            assert!(msg.is_valid(), "a corrupt sample {:?}", *msg);
                            received += 1;
                        }
                    }
                    say(format!("received {received}"));
                }
                ["quit"] => break,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// Creates `args[0]` publishers of services of its own and loans from
    /// each until a loan fails, printing why; then exits holding the loans
    /// on `exit`.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn loan_hog() {
        let Some(args) = role_args("roles::loan_hog") else {
            return;
        };
        let ports: usize = arg(&args, 0);
        let rt = Runtime::init("e2e-hog").expect("init");
        let publishers: Vec<_> = (0..ports)
            .map(|i| {
                rt.publisher::<Msg>(&service(&format!("hog{i}")))
                    .max_loans(32)
                    .create()
                    .expect("publisher")
            })
            .collect();
        let mut held = Vec::new();
        for (i, publisher) in publishers.iter().enumerate() {
            let mut loans = 0;
            let error = loop {
                match publisher.loan_uninit() {
                    Ok(loan) => {
                        held.push(loan.write(Msg::new(1, loans)));
                        loans += 1;
                    }
                    Err(e @ LoanError::QuotaExceeded(_)) => break e,
                    Err(e) => panic!("loan failed for another reason: {e}"),
                }
            };
            say(format!("stopped {i} after {loans}: {error}"));
        }
        say(format!("holding {}", held.len()));
        expect_command("exit");
        // Exits holding the loans: the daemon reclaims them.
        std::process::exit(0);
    }

    /// A subscriber with queue capacity `args[1]` that takes nothing until
    /// `drain`, then reports what it found and how many were dropped.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn lazy_subscriber() {
        let Some(args) = role_args("roles::lazy_subscriber") else {
            return;
        };
        let capacity: u32 = arg(&args, 1);
        let rt = Runtime::init("e2e-lazy").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service(&args[0]))
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
}
