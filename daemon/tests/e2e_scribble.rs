//! End to end: a hostile participant inside one segment group scribbles
//! over the group's memory while real processes stream messages in it and
//! in another group.
//!
//! The domain has the groups `alpha` (`Robot/Alpha/*`) and `beta`
//! (`Robot/Beta/*`). In each, a real publisher streams sequence-numbered
//! messages to a real subscriber. Meanwhile the test, holding `alpha`'s
//! control and payload parts writable as any publisher of `alpha` could
//! (opened through the daemon's descriptors), writes seeded pseudo-random
//! values over them ([`support::scribble`]): the group header, every port,
//! the freelists, links and refcounts, the chunk headers and payloads. What
//! must hold:
//!
//! - the daemon keeps serving: `zerocpctl` answers (status, services, which
//!   reads `alpha`'s queues, mempools, which reads its freelists) during and
//!   after, and new processes register and create ports in `beta`;
//! - `beta`'s subscriber receives every message of `beta`'s publisher, in
//!   order, and neither sees an error: `beta`'s memory is its own;
//! - `alpha`'s processes may see errors or garbage, but end within a
//!   deadline; how they end is printed, not asserted;
//! - the daemon reclaims `alpha`'s ports over the scribbled memory without
//!   panicking, and exits 0 on SIGTERM.
//!
//! The seed is printed; `ZEROCP_SCRIBBLE_SEED=<seed>` replays its writes.

mod e2e_support;
mod support;

use std::process::ExitStatus;
use std::time::Duration;

use support::scribble::{Scribbler, control_regions, payload_regions, seed_from_env};
use support::{MappedGroup, TestDomain};
use zerocp_os_linux::testing::role::spawn_child;

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(60);
/// `alpha`'s index among the groups (`default` is 0).
const ALPHA: u32 = 1;
/// Scribble batches; `zerocpctl` is asked between two.
const BATCHES: u32 = 12;
/// Writes per batch into the control part and into the payload part.
const CONTROL_WRITES: u32 = 40;
const PAYLOAD_WRITES: u32 = 20;

fn config() -> String {
    "[limits]\nmax_processes = 16\nmax_publishers = 8\nmax_subscribers = 8\n\n\
     [[mempool]]\nsize = 64\ncount = 4\n\n\
     [[group]]\nname = \"alpha\"\nservices = [\"Robot/Alpha/*\"]\n\
     max_publishers = 4\nmax_subscribers = 4\n\
     [[group.mempool]]\nsize = 64\ncount = 16\n\
     [[group.mempool]]\nsize = 256\ncount = 4\n\n\
     [[group]]\nname = \"beta\"\nservices = [\"Robot/Beta/*\"]\n\
     max_publishers = 4\nmax_subscribers = 4\n\
     [[group.mempool]]\nsize = 64\ncount = 16\n"
        .to_owned()
}

#[test]
fn scribbling_over_one_group_leaves_the_daemon_and_other_groups_intact() {
    let seed = seed_from_env();
    println!("scribble seed {seed} (replay with ZEROCP_SCRIBBLE_SEED={seed})");
    let domain = TestDomain::builder().config_toml(&config()).start();
    let envs = domain.envs();
    let mut beta_sub = spawn_child("roles::beta_subscriber", &[], &envs);
    beta_sub.expect_line("ready", WAIT);
    let mut beta_pub = spawn_child("roles::beta_publisher", &[], &envs);
    beta_pub.expect_line("publishing", WAIT);
    let mut alpha_sub = spawn_child("roles::alpha_subscriber", &[], &envs);
    alpha_sub.expect_line("ready", WAIT);
    let mut alpha_pub = spawn_child("roles::alpha_publisher", &[], &envs);
    alpha_pub.expect_line("publishing", WAIT);

    let alpha = MappedGroup::of_daemon(
        domain.daemon_pid(),
        ALPHA,
        domain.group_segment_names("alpha"),
    );
    let (control, payload) = (control_regions(&alpha), payload_regions(&alpha));
    let mut scribbler = Scribbler::new(seed);
    for batch in 0..BATCHES {
        scribbler.scribble(alpha.control_mapping(), &control, CONTROL_WRITES);
        scribbler.scribble(alpha.payload_mapping(), &payload, PAYLOAD_WRITES);
        daemon_answers(&domain);
        if batch == BATCHES / 2 {
            newcomer_works_in_beta(&envs);
        }
    }
    println!("scribbled {:?}", scribbler.scribbled());

    let alpha_ends = [&mut alpha_pub, &mut alpha_sub].map(|child| {
        child.close_stdin();
        (child.role().to_owned(), child.wait(WAIT))
    });
    for (role, status) in &alpha_ends {
        println!("{role} ended: {}", describe(*status));
    }

    beta_pub.close_stdin();
    let published: u64 = beta_pub
        .expect_line("published ", WAIT)
        .parse()
        .expect("a count");
    beta_pub.expect_success(WAIT);
    beta_sub.send_line(&format!("expect {published}"));
    let received: u64 = beta_sub
        .expect_line("received ", WAIT)
        .parse()
        .expect("a count");
    beta_sub.expect_success(WAIT);
    assert_eq!(received, published, "beta's subscriber missed messages");
    assert!(published > 0, "beta's publisher published nothing");

    newcomer_works_in_beta(&envs);
    daemon_answers(&domain);
    let log = domain.daemon_log();
    assert!(!log.contains("panicked"), "the daemon panicked:\n{log}");
    domain.stop();
}

/// `zerocpctl` answers the queries that read the groups' memory.
fn daemon_answers(domain: &TestDomain) {
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["daemon_pid"], domain.daemon_pid());
    for query in ["services", "mempools", "groups", "processes"] {
        domain.ctl_json(&[query]);
    }
}

/// A new process registers, creates a publisher and a subscriber in `beta`
/// and passes a message.
fn newcomer_works_in_beta(envs: &[(String, String)]) {
    let mut newcomer = spawn_child("roles::beta_newcomer", &[], envs);
    newcomer.expect_success(WAIT);
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => "exit 0 (stopped when told)".to_owned(),
        (Some(ERROR_EXIT), _) => format!("exit {ERROR_EXIT} (an error from the runtime)"),
        (Some(DEADLINE_EXIT), _) => format!("exit {DEADLINE_EXIT} (stuck past its deadline)"),
        (Some(code), _) => format!("exit {code} (a panic?)"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => format!("{status}"),
    }
}

/// An `alpha` role's exit code after an error from the runtime.
const ERROR_EXIT: i32 = 2;
/// An `alpha` role's exit code when it did not finish in time.
const DEADLINE_EXIT: i32 = 3;

mod roles {
    use std::io::BufRead;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use super::{DEADLINE_EXIT, ERROR_EXIT};
    use crate::e2e_support::{Msg, ROLE_DEADLINE, deadline, left, say};
    use zerocp::{FullPolicy, Runtime, ServiceDescription, TakeError};
    use zerocp_os_linux::testing::role::role_args;

    /// How long an `alpha` role may take to finish once told to stop.
    const GRACE: Duration = Duration::from_secs(5);
    /// A pause between two publishes: paces the load, synchronises nothing.
    const PACE: Duration = Duration::from_micros(200);
    /// How long a subscriber sleeps for data at most before it looks again.
    const POLL: Duration = Duration::from_millis(50);

    fn beta() -> ServiceDescription {
        ServiceDescription::new("Robot", "Beta", "Seq").expect("valid")
    }

    fn alpha() -> ServiceDescription {
        ServiceDescription::new("Robot", "Alpha", "Seq").expect("valid")
    }

    /// Set once the parent closes this process's stdin (or sends anything).
    fn stop_flag() -> Arc<AtomicBool> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut line = String::new();
            drop(std::io::stdin().lock().read_line(&mut line));
            flag.store(true, Ordering::Release);
        });
        stop
    }

    /// For an `alpha` role: ends the process with [`DEADLINE_EXIT`] when it
    /// has not finished [`GRACE`] after `stop`, or after [`ROLE_DEADLINE`].
    fn watchdog(stop: &Arc<AtomicBool>) {
        let stop = Arc::clone(stop);
        std::thread::spawn(move || {
            let start = Instant::now();
            while !stop.load(Ordering::Acquire) && start.elapsed() < ROLE_DEADLINE {
                std::thread::sleep(POLL);
            }
            std::thread::sleep(GRACE);
            say("stuck past the deadline");
            std::process::exit(DEADLINE_EXIT);
        });
    }

    /// For an `alpha` role: reports `error` and ends the process.
    fn fail(error: impl std::fmt::Display) -> ! {
        say(format!("error: {error}"));
        std::process::exit(ERROR_EXIT);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn beta_subscriber() {
        if role_args("roles::beta_subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("scribble-beta-sub").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&beta())
            .queue_capacity(16)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        let expected = Arc::new(AtomicU64::new(u64::MAX));
        let target = Arc::clone(&expected);
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let line = line.expect("a line from the parent");
                if let Some(n) = line.strip_prefix("expect ") {
                    target.store(n.parse().expect("a count"), Ordering::Release);
                }
            }
        });
        say("ready");
        let deadline = deadline();
        let mut next = 0u64;
        while next < expected.load(Ordering::Acquire) {
            match subscriber.take().expect("beta's take") {
                Some(msg) => {
                    assert!(msg.is_valid(), "a corrupt beta message {:?}", *msg);
                    assert_eq!(msg.seq, next, "beta's messages out of order");
                    next += 1;
                }
                None => {
                    let wait = left(deadline, "beta's messages").min(POLL);
                    subscriber.wait(Some(wait)).expect("beta's wait");
                }
            }
        }
        say(format!("received {next}"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn beta_publisher() {
        if role_args("roles::beta_publisher").is_none() {
            return;
        }
        let rt = Runtime::init("scribble-beta-pub").expect("init");
        let publisher = rt.publisher::<Msg>(&beta()).create().expect("publisher");
        let stop = stop_flag();
        say("publishing");
        let id = u64::from(std::process::id());
        let mut seq = 0;
        while !stop.load(Ordering::Acquire) {
            publisher
                .loan_uninit()
                .expect("beta's loan")
                .write(Msg::new(id, seq))
                .publish()
                .expect("beta's publish");
            seq += 1;
            std::thread::sleep(PACE);
        }
        say(format!("published {seq}"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_subscriber() {
        if role_args("roles::alpha_subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("scribble-alpha-sub").expect("init");
        let subscriber = rt.subscriber::<Msg>(&alpha()).create().expect("subscriber");
        let stop = stop_flag();
        watchdog(&stop);
        say("ready");
        let (mut valid, mut invalid, mut refused) = (0u64, 0u64, 0u64);
        while !stop.load(Ordering::Acquire) {
            match subscriber.take() {
                Ok(Some(msg)) if msg.is_valid() => valid += 1,
                Ok(Some(_)) => invalid += 1,
                Ok(None) => {
                    if let Err(e) = subscriber.wait(Some(POLL)) {
                        fail(e);
                    }
                }
                Err(TakeError::CorruptChunk { .. }) => refused += 1,
                Err(e) => fail(e),
            }
        }
        say(format!(
            "took {valid} valid, {invalid} invalid, refused {refused}"
        ));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_publisher() {
        if role_args("roles::alpha_publisher").is_none() {
            return;
        }
        let rt = Runtime::init("scribble-alpha-pub").expect("init");
        let publisher = rt.publisher::<Msg>(&alpha()).create().expect("publisher");
        let stop = stop_flag();
        watchdog(&stop);
        say("publishing");
        let id = u64::from(std::process::id());
        let mut seq = 0;
        while !stop.load(Ordering::Acquire) {
            let sample = publisher.loan_uninit().unwrap_or_else(|e| fail(e));
            if let Err(e) = sample.write(Msg::new(id, seq)).publish() {
                fail(e);
            }
            seq += 1;
            std::thread::sleep(PACE);
        }
        say(format!("published {seq}"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn beta_newcomer() {
        if role_args("roles::beta_newcomer").is_none() {
            return;
        }
        let service = ServiceDescription::new("Robot", "Beta", "Newcomer").expect("valid");
        let rt = Runtime::init("scribble-beta-new").expect("init");
        let subscriber = rt.subscriber::<Msg>(&service).create().expect("subscriber");
        let publisher = rt.publisher::<Msg>(&service).create().expect("publisher");
        publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(7, 7))
            .publish()
            .expect("publish");
        let deadline = deadline();
        let msg = loop {
            if let Some(msg) = subscriber.take().expect("take") {
                break msg;
            }
            subscriber
                .wait(Some(left(deadline, "the newcomer's message")))
                .expect("wait");
        };
        assert_eq!(*msg, Msg::new(7, 7));
    }
}
