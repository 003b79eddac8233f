//! End to end: `kill -9` in the middle of things.
//!
//! - a publisher killed while it holds loaned samples (and has samples
//!   queued at a subscriber);
//! - a subscriber killed while it holds taken samples and its queue is full.
//!
//! The daemon sees the death at once (closed socket, pidfd) and at the
//! latest after the heartbeat timeout; it reclaims every chunk, so
//! `zerocpctl mempools --json` shows `used` back at its earlier value, and
//! the surviving processes keep communicating.

mod e2e_support;
mod support;

use std::time::Duration;

use e2e_support::Msg;
use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);
/// The daemon's heartbeat timeout in these tests.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(3_000);
/// Slack on top of the heartbeat timeout for slow (emulated) CI machines.
const SLACK: Duration = Duration::from_secs(10);

fn domain() -> TestDomain {
    TestDomain::builder()
        .heartbeat_timeout_ms(HEARTBEAT_TIMEOUT.as_millis() as u64)
        .mempools(&[(64, 64)])
        .start()
}

/// Has the survivor subscriber report a sample of `publisher` with `seq`.
fn expect_received(survivor: &mut TestChild, publisher: u32, seq: u64) {
    let expected = format!("{publisher} {seq}");
    loop {
        if survivor.expect_line("got ", WAIT) == expected {
            return;
        }
    }
}

/// Kills `victim`, waits until the daemon has reclaimed every chunk (`used`
/// back at `baseline`), checks that `publisher` still reaches `survivor`
/// (sample `next_seq`), then shuts everything down cleanly.
fn kill_and_expect_reclaim(
    domain: TestDomain,
    baseline: u64,
    mut victim: TestChild,
    mut publisher: TestChild,
    mut survivor: TestChild,
    next_seq: u64,
) {
    victim.kill();
    assert!(
        domain.wait_until(HEARTBEAT_TIMEOUT + SLACK, || domain.used_chunks()
            == baseline),
        "the killed process's chunks were not reclaimed: {:?}",
        domain.mempools()
    );
    publisher.send_line("publish 1");
    expect_received(&mut survivor, publisher.pid(), next_seq);
    publisher.send_line("quit");
    assert!(publisher.wait(WAIT).success());
    survivor.send_line("quit");
    assert!(survivor.wait(WAIT).success());
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == baseline));
    domain.stop();
}

#[test]
fn publisher_killed_holding_loans() {
    let domain = domain();
    let envs = domain.envs();
    let baseline = domain.used_chunks();
    let mut survivor = spawn_child("roles::survivor_subscriber", &["crash-pub"], &envs);
    survivor.expect_line("ready", WAIT);
    let mut other = spawn_child("roles::commanded_publisher", &["crash-pub"], &envs);
    other.expect_line("ready", WAIT);

    let mut victim = spawn_child("roles::loan_holder", &["crash-pub", "2", "3"], &envs);
    victim.expect_line("holding", WAIT);
    expect_received(&mut survivor, victim.pid(), 1);
    assert!(
        domain.used_chunks() >= baseline + 3,
        "the loans are not counted as used"
    );
    kill_and_expect_reclaim(domain, baseline, victim, other, survivor, 0);
}

#[test]
fn subscriber_killed_holding_samples_with_a_full_queue() {
    let domain = domain();
    let envs = domain.envs();
    let baseline = domain.used_chunks();
    let mut survivor = spawn_child("roles::survivor_subscriber", &["crash-sub"], &envs);
    survivor.expect_line("ready", WAIT);
    let mut victim = spawn_child("roles::hoarder", &["crash-sub", "4", "2"], &envs);
    victim.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::commanded_publisher", &["crash-sub"], &envs);
    publisher.expect_line("ready", WAIT);

    publisher.send_line("publish 6");
    publisher.expect_line("sent 6", WAIT);
    // The hoarder takes 2 of its 4 queued samples and holds them ...
    victim.send_line("take");
    victim.expect_line("holding", WAIT);
    // ... and its queue fills up again.
    publisher.send_line("publish 2");
    publisher.expect_line("sent 2", WAIT);
    expect_received(&mut survivor, publisher.pid(), 7);
    assert!(
        domain.used_chunks() >= baseline + 6,
        "held + queued chunks are not counted"
    );
    kill_and_expect_reclaim(domain, baseline, victim, publisher, survivor, 8);
}

mod roles {
    use std::io::BufRead;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::e2e_support::{arg, expect_command, publish_seq, say, service};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    /// Prints `got <publisher> <seq>` for every sample until told to quit.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn survivor_subscriber() {
        let Some(args) = role_args("roles::survivor_subscriber") else {
            return;
        };
        let rt = Runtime::init("e2e-survivor").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service(&args[0]))
            .queue_capacity(64)
            .create()
            .expect("subscriber");
        let quit = Arc::new(AtomicBool::new(false));
        let stdin_quit = Arc::clone(&quit);
        std::thread::spawn(move || {
            expect_command("quit");
            stdin_quit.store(true, Ordering::SeqCst);
        });
        say("ready");
        while !quit.load(Ordering::SeqCst) {
            sub.wait(Some(Duration::from_millis(50))).expect("wait");
            while let Some(msg) = sub.take().expect("take") {
                assert!(msg.is_valid(), "corrupt {:?}", *msg);
                say(format!("got {} {}", msg.publisher, msg.seq));
            }
        }
    }

    /// Publishes on command: `publish N` sends the next N messages.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn commanded_publisher() {
        let Some(args) = role_args("roles::commanded_publisher") else {
            return;
        };
        let rt = Runtime::init("e2e-commanded").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&args[0]))
            .create()
            .expect("publisher");
        let id = u64::from(std::process::id());
        let mut seq = 0;
        say("ready");
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("command");
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["publish", n] => {
                    let n: u64 = n.parse().expect("count");
                    for _ in 0..n {
                        publisher
                            .loan_uninit()
                            .expect("loan")
                            .write(Msg::new(id, seq))
                            .publish()
                            .expect("publish");
                        seq += 1;
                    }
                    say(format!("sent {n}"));
                }
                ["quit"] => return,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// Publishes `published` messages, then loans `loans` samples and holds
    /// them until killed.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn loan_holder() {
        let Some(args) = role_args("roles::loan_holder") else {
            return;
        };
        let (published, loans): (u64, usize) = (arg(&args, 1), arg(&args, 2));
        let rt = Runtime::init("e2e-loan-holder").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&args[0]))
            .max_loans(loans as u32 + 1)
            .create()
            .expect("publisher");
        let id = u64::from(std::process::id());
        publish_seq(&publisher, id, 0..published);
        let held: Vec<_> = (0..loans)
            .map(|_| publisher.loan_uninit().expect("loan"))
            .collect();
        say("holding");
        expect_command("never sent: the parent kills this process");
        drop(held);
    }

    /// A subscriber with a small queue that, on `take`, takes `hold` samples
    /// and keeps them until killed.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn hoarder() {
        let Some(args) = role_args("roles::hoarder") else {
            return;
        };
        let (capacity, hold): (u32, usize) = (arg(&args, 1), arg(&args, 2));
        let rt = Runtime::init("e2e-hoarder").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service(&args[0]))
            .queue_capacity(capacity)
            .max_held(hold as u32)
            .create()
            .expect("subscriber");
        say("ready");
        expect_command("take");
        let held: Vec<_> = (0..hold)
            .map(|_| sub.take().expect("take").expect("a queued sample"))
            .collect();
        say("holding");
        expect_command("never sent: the parent kills this process");
        drop(held);
    }
}
