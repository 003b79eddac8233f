//! End to end: no wake-up is lost in ping-pong rounds where every party
//! sleeps (`wait_spins(0)`: the futex path at once) and wakes many times.
//!
//! One pinger process publishes round `r` to the subscribers of two ponger
//! processes, [`THREADS`] threads each (a subscriber and a publisher per
//! thread, each thread sleeping in its own `wait`), and waits until all of
//! them acknowledged `r` on one acknowledgement port before it publishes
//! `r + 1`. So in every round the pinger wakes [`PONGERS`] × [`THREADS`]
//! sleepers, and that many publishers race to wake the one pinger sleeping
//! on its acknowledgement port: the wake-pending flag's two sides, many
//! times over. Nothing else bumps the futex words while they sleep: a lost
//! wake-up leaves its sleeper asleep until its role's deadline, and the role
//! fails naming the round (no timed assertion: the deadline is a minute).

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

/// Ping-pong rounds.
const ROUNDS: u64 = 2000;
/// Ponger processes.
const PONGERS: usize = 2;
/// Subscriber threads of each ponger.
const THREADS: usize = 3;
/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);

#[test]
fn every_sleeper_wakes_for_every_round() {
    let domain = TestDomain::builder()
        .max_processes(PONGERS as u32 + 4)
        .mempools(&[(64, 512)])
        .start();
    let envs = domain.envs();
    let rounds = ROUNDS.to_string();
    let threads = THREADS.to_string();
    let mut pongers: Vec<TestChild> = (0..PONGERS)
        .map(|_| spawn_child("roles::ponger", &[&rounds, &threads], &envs))
        .collect();
    for ponger in &mut pongers {
        ponger.expect_line("ready", WAIT);
    }
    let peers = (PONGERS * THREADS).to_string();
    let mut pinger = spawn_child("roles::pinger", &[&rounds, &peers], &envs);
    assert_eq!(pinger.expect_line("done ", WAIT), rounds);
    assert!(pinger.wait(WAIT).success(), "the pinger failed");
    for ponger in &mut pongers {
        assert_eq!(ponger.expect_line("done ", WAIT), rounds);
        assert!(ponger.wait(WAIT).success(), "a ponger failed");
    }
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == 0),
        "chunks still in use after every process ended: {:?}",
        domain.mempools()
    );
    domain.stop();
}

mod roles {
    use std::time::Instant;

    use crate::e2e_support::{Msg, arg, deadline, say, service};
    use zerocp::{Publisher, Runtime, Subscriber};
    use zerocp_os_linux::testing::role::role_args;

    /// Sleeps in `wait` until `subscriber` has a sample and takes it;
    /// fails naming `what` when the deadline passes first.
    fn take_sleeping(subscriber: &Subscriber<Msg>, deadline: Instant, what: &str) -> Msg {
        loop {
            if let Some(msg) = subscriber.take().expect("take") {
                assert!(msg.is_valid(), "corrupt message {:?}", *msg);
                return *msg;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no wake-up for {what} before the deadline: a lost wake-up"
            );
            // `false` also when a publisher left (another process done).
            subscriber.wait(Some(left)).expect("wait");
        }
    }

    fn publish(publisher: &Publisher<Msg>, msg: Msg) {
        let sample = publisher.loan_uninit().expect("loan").write(msg);
        sample.publish().expect("publish");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn pinger() {
        let Some(args) = role_args("roles::pinger") else {
            return;
        };
        let (rounds, peers): (u64, usize) = (arg(&args, 0), arg(&args, 1));
        let rt = Runtime::init("e2e-pinger").expect("init");
        let ping = rt
            .publisher::<Msg>(&service("ping"))
            .create()
            .expect("publisher");
        let acks = rt
            .subscriber::<Msg>(&service("ack"))
            .queue_capacity(64)
            .wait_spins(0)
            .create()
            .expect("subscriber");
        let id = u64::from(std::process::id());
        let deadline = deadline();
        for round in 0..rounds {
            publish(&ping, Msg::new(id, round));
            for _ in 0..peers {
                let ack = take_sleeping(&acks, deadline, &format!("the acks of round {round}"));
                assert_eq!(ack.seq, round, "an ack of another round");
            }
        }
        assert_eq!(acks.dropped(), 0, "acks were dropped");
        say(format!("done {rounds}"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn ponger() {
        let Some(args) = role_args("roles::ponger") else {
            return;
        };
        let (rounds, threads): (u64, usize) = (arg(&args, 0), arg(&args, 1));
        let rt = Runtime::init("e2e-ponger").expect("init");
        let pairs: Vec<(Subscriber<Msg>, Publisher<Msg>)> = (0..threads)
            .map(|_| {
                let ping = rt
                    .subscriber::<Msg>(&service("ping"))
                    .queue_capacity(4)
                    .wait_spins(0)
                    .create()
                    .expect("subscriber");
                let ack = rt
                    .publisher::<Msg>(&service("ack"))
                    .create()
                    .expect("publisher");
                (ping, ack)
            })
            .collect();
        say("ready");
        let deadline = deadline();
        std::thread::scope(|scope| {
            for (ping, ack) in pairs {
                scope.spawn(move || {
                    let id = u64::from(std::process::id());
                    for round in 0..rounds {
                        let msg = take_sleeping(&ping, deadline, &format!("ping {round}"));
                        assert_eq!(msg.seq, round, "a ping lost or out of order");
                        publish(&ack, Msg::new(id, round));
                    }
                    assert_eq!(ping.dropped(), 0, "pings were dropped");
                });
            }
        });
        say(format!("done {rounds}"));
    }
}
