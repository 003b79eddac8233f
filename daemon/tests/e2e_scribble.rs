//! End to end: a hostile participant inside one segment group scribbles
//! over the group's memory while real processes stream messages in it and
//! in another group.
//!
//! The domain has the groups `alpha` (`Robot/Alpha/*`) and `beta`
//! (`Robot/Beta/*`). In each, a real publisher streams sequence-numbered
//! messages to a real subscriber. Meanwhile a scribbler process registers
//! as a process of `alpha` (a raw client with a publisher there) and,
//! holding what any publisher of `alpha` holds (the descriptors of its
//! registration and of its port), writes seeded pseudo-random values
//! ([`support::scribble`]), a batch each time the test says so,
//! over `alpha`'s control and payload parts (the group header, every port,
//! the freelists, links and refcounts, the chunk headers and payloads) and
//! over its own heartbeat file. It also tries the domain-wide mgmt segment,
//! which it must fail to map writable (its descriptor is read-only). What
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
//!   panicking, and exits 0 on SIGTERM;
//! - the scribbled heartbeat harms only its owner: the daemon at most drops
//!   the scribbler as unresponsive, no other process;
//! - the daemon notices: its audit of shared memory counts findings in
//!   `alpha` (`zerocpctl groups`) and logs them, and none in `beta`; it
//!   revokes the ports whose queue or record it finds corrupt (their
//!   processes are told, `Revoked`) and resets `alpha` onto fresh memory
//!   once it is empty if a pool was found corrupt or chunks are missing;
//! - after the scribbler and every other process of `alpha` exit,
//!   `zerocpctl mempools` is back to its base: nothing is lost for good.
//!
//! The seed is printed; `ZEROCP_SCRIBBLE_SEED=<seed>` replays its writes
//! (not their timing against the processes).
//!
//! What `alpha`'s processes typically see (printed at the end of a run):
//! a publisher runs out of chunks once scribbled links cut its freelist
//! short (the rest of the list is leaked, never handed out twice); a
//! subscriber takes garbage or has chunks refused with typed errors, or is
//! told its port was revoked (its queue or record found corrupt); a
//! newcomer's ports may be refused over scribbled records. A scribbled group
//! header or freelist capacity no longer keeps newcomers out: the daemon
//! restores both before it hands the group out with a port (and on its
//! audit timer), and a runtime whose attach still fails on a header word
//! asks once more before it reports the group as corrupt
//! (`daemon/tests/e2e_audit.rs` shows each attack on its own, and what the
//! daemon says about it). None of that reaches `beta` or the daemon. Nor can a process of any group reach
//! the state word of the mgmt segment (read-only for every process,
//! `zerocp_core::mgmt`) or another process's heartbeat (a file of its own,
//! `zerocp_core::heartbeat`).

mod e2e_support;
mod support;

use std::process::ExitStatus;
use std::time::Duration;

use support::TestDomain;
use support::scribble::{Scribbler, seed_from_env};
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::role::spawn_child;

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(60);
/// `alpha`'s index among the groups (`default` is 0).
const ALPHA: u32 = 1;
/// Scribble batches; `zerocpctl` is asked between two.
const BATCHES: u32 = 24;
/// Writes per batch into the control part and into the payload part.
const CONTROL_WRITES: u32 = 12;
const PAYLOAD_WRITES: u32 = 8;
/// Writes per batch into the scribbler's own heartbeat slot.
const HEARTBEAT_WRITES: u32 = 4;
/// Every this many batches a short-lived process joins `alpha`.
const CHURN_EVERY: u32 = 3;

fn config() -> String {
    "[limits]\nmax_processes = 32\nmax_publishers = 16\nmax_subscribers = 16\n\n\
     [[mempool]]\nsize = 64\ncount = 4\n\n\
     [[group]]\nname = \"alpha\"\nservices = [\"Robot/Alpha/*\"]\n\
     max_publishers = 8\nmax_subscribers = 8\n\
     [[group.mempool]]\nsize = 64\ncount = 16\n\
     [[group.mempool]]\nsize = 256\ncount = 4\n\n\
     [[group]]\nname = \"beta\"\nservices = [\"Robot/Beta/*\"]\n\
     max_publishers = 4\nmax_subscribers = 4\n\
     [[group.mempool]]\nsize = 64\ncount = 32\n"
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
    alpha_sub.expect_line("subscribed", WAIT);
    let mut alpha_pub = spawn_child("roles::alpha_publisher", &[], &envs);
    alpha_pub.expect_line("publishing", WAIT);

    // A process of `alpha` (raw: it never beats, so the daemon drops it
    // when its timeout strikes, if its scribbled heartbeat did not look
    // stale earlier), holding what a publisher there holds.
    let seed_arg = seed.to_string();
    let mut scribbler = spawn_child("roles::scribbler", &[&seed_arg], &envs);
    scribbler.expect_line("joined", WAIT);
    let mut alpha_children = vec![alpha_pub, alpha_sub];
    for batch in 0..BATCHES {
        scribbler.send_line(&format!("batch {batch}"));
        scribbler.expect_line("scribbled batch", WAIT);
        daemon_answers(&domain);
        if batch % CHURN_EVERY == 1 {
            // A newcomer in the scribbled group: its ports take slots the
            // daemon prepares over scribbled memory, its runtime attaches
            // to a scribbled header.
            alpha_children.push(spawn_child("roles::alpha_newcomer", &[], &envs));
        }
        if batch == BATCHES / 2 {
            newcomer_works_in_beta(&envs);
        }
    }
    for child in &mut alpha_children {
        child.close_stdin();
    }
    for child in &mut alpha_children {
        let status = child.wait(WAIT);
        // A role that exited (rather than being killed) said how it ended.
        let said = match status.code() {
            Some(_) => child.expect_line("end: ", WAIT),
            None => "nothing".to_owned(),
        };
        println!(
            "{} (pid {}) ended: {}; it said: {said}",
            child.role(),
            child.pid(),
            describe(status)
        );
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
    println!("beta: {published} published, {received} received in order");
    assert_eq!(received, published, "beta's subscriber missed messages");
    assert!(published > 0, "beta's publisher published nothing");

    newcomer_works_in_beta(&envs);
    daemon_answers(&domain);
    only_the_scribbler_may_be_dropped(&domain, scribbler.pid());
    scribbler.close_stdin();
    println!("scribbled {}", scribbler.expect_line("scribbled ", WAIT));
    scribbler.expect_success(WAIT);
    // Every process of `alpha` has gone: what they held came back, and
    // what corruption cost `alpha` with a reset onto fresh memory.
    domain.expect_back_to_base(WAIT);
    the_daemon_noticed(&domain);
    let log = domain.daemon_log();
    assert!(!log.contains("panicked"), "the daemon panicked:\n{log}");
    domain.stop();
}

#[test]
fn a_seed_replays_the_same_writes() {
    let regions = [0..512, 1000..1100, 4000..4096];
    let scribbled = |seed: u64| {
        let name = SegmentName::new("zerocp.test.scribble").expect("a valid name");
        let shm = SharedMemory::create(&name, 4096).expect("a memory file");
        let map = Mapping::map(&shm, true).expect("mapped");
        let mut scribbler = Scribbler::new(seed);
        scribbler.scribble(&map, &regions, 200);
        // SAFETY: the mapping is 4096 bytes, this thread is its only user
        // and nothing writes it while the slice lives.
        let bytes = unsafe { std::slice::from_raw_parts(map.as_ptr(), map.len()) }.to_vec();
        (bytes, scribbler.scribbled())
    };
    let (first, done) = scribbled(42);
    assert_eq!(done.writes, 200);
    assert_eq!(scribbled(42), (first.clone(), done), "seed 42 replayed");
    assert_ne!(scribbled(43).0, first, "another seed, other writes");
    let mut outside = first
        .iter()
        .enumerate()
        .filter(|(at, _)| !regions.iter().any(|r| r.contains(at)));
    assert!(outside.all(|(_, &b)| b == 0), "a write outside the regions");
}

/// No process but the scribbler (`scribbler`, its pid) is listed
/// unresponsive.
fn only_the_scribbler_may_be_dropped(domain: &TestDomain, scribbler: u32) {
    let processes = domain.ctl_json(&["processes"]);
    let listed = processes["processes"].as_array().expect("a list");
    for process in listed {
        if process["state"] == "unresponsive" {
            assert_eq!(
                process["pid"].as_u64(),
                Some(u64::from(scribbler)),
                "a process other than the scribbler was dropped: {processes}"
            );
        }
    }
}

/// The audit noticed the scribbling (restored words, damaged structures)
/// and counted it against `alpha`, and only `alpha` (`beta`'s memory was
/// not touched).
fn the_daemon_noticed(domain: &TestDomain) {
    let noticed = domain.wait_until(WAIT, || {
        let groups = domain.ctl_json(&["groups"]);
        groups["groups"][ALPHA as usize]["findings"]
            .as_u64()
            .is_some_and(|n| n > 0)
    });
    let groups = domain.ctl_json(&["groups"]);
    println!("audit: {}", domain.audit_counts());
    println!(
        "alpha's last finding: {}: {}; alpha reset {} times",
        groups["groups"][ALPHA as usize]["last_finding"],
        groups["groups"][ALPHA as usize]["last_finding_detail"],
        groups["groups"][ALPHA as usize]["resets"]
    );
    assert!(noticed, "the audit found nothing in alpha: {groups}");
    assert_eq!(groups["groups"][2]["name"], "beta");
    assert_eq!(groups["groups"][2]["findings"], 0, "{groups}");
    assert!(domain.daemon_log().contains("audit: "), "nothing logged");
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
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::{BATCHES, CONTROL_WRITES, DEADLINE_EXIT, ERROR_EXIT, HEARTBEAT_WRITES};
    use super::{PAYLOAD_WRITES, Scribbler};
    use crate::e2e_support::{
        Msg, ROLE_DEADLINE, deadline, left, publish_until_stopped, receive_in_order, say, stop_flag,
    };
    use crate::support::HostileMember;
    use crate::support::scribble::{ControlRegions, payload_regions};
    use zerocp::{FullPolicy, Publisher, Runtime, ServiceDescription, Subscriber, TakeError};
    use zerocp_core::heartbeat::HeartbeatSlot;
    use zerocp_os_linux::testing::role::role_args;

    /// How long an `alpha` role may take to finish once told to stop.
    const GRACE: Duration = Duration::from_secs(5);
    /// A pause between two publishes: paces the load, synchronises nothing.
    const PACE: Duration = Duration::from_micros(200);
    /// `beta`'s queue: with the sample taken, the one loaned and the
    /// newcomer's, far fewer chunks than `beta`'s pool has, so `beta`'s
    /// publisher never runs out of chunks, it waits for room in the queue.
    const BETA_QUEUE: u32 = 8;
    /// Messages an `alpha` newcomer publishes (and takes) before it leaves.
    const NEWCOMER_MESSAGES: u64 = 50;
    /// How long a subscriber sleeps for data at most before it looks again.
    const POLL: Duration = Duration::from_millis(50);

    fn beta() -> ServiceDescription {
        ServiceDescription::new("Robot", "Beta", "Seq").expect("valid")
    }

    fn alpha() -> ServiceDescription {
        ServiceDescription::new("Robot", "Alpha", "Seq").expect("valid")
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
            say("end: stuck past the deadline");
            std::process::exit(DEADLINE_EXIT);
        });
    }

    /// For an `alpha` role: reports `error` and ends the process.
    fn fail(what: &str, error: impl std::fmt::Display) -> ! {
        say(format!("end: {what}: {error}"));
        std::process::exit(ERROR_EXIT);
    }

    /// For an `alpha` role: the runtime, and the stop flag watched by a
    /// watchdog.
    fn alpha_start(name: &str) -> (Runtime, Arc<AtomicBool>) {
        let stop = stop_flag();
        watchdog(&stop);
        let rt = Runtime::init(name).unwrap_or_else(|e| fail("init", e));
        (rt, stop)
    }

    /// What an `alpha` subscriber took.
    #[derive(Debug, Default)]
    struct Taken {
        valid: u64,
        invalid: u64,
        refused: u64,
    }

    /// Takes one sample if there is one (`false` when there was none).
    fn take_one(subscriber: &Subscriber<Msg>, taken: &mut Taken) -> bool {
        match subscriber.take() {
            Ok(Some(msg)) if msg.is_valid() => taken.valid += 1,
            Ok(Some(_)) => taken.invalid += 1,
            Ok(None) => return false,
            Err(TakeError::CorruptChunk { .. }) => taken.refused += 1,
            Err(e) => fail("take", e),
        }
        true
    }

    /// Loans, writes and publishes message `seq`.
    fn publish(publisher: &Publisher<Msg>, seq: u64) {
        let sample = publisher.loan_uninit().unwrap_or_else(|e| fail("loan", e));
        let id = u64::from(std::process::id());
        if let Err(e) = sample.write(Msg::new(id, seq)).publish() {
            fail("publish", e);
        }
    }

    /// Joins `alpha` as a raw client with a publisher there and, for each
    /// `batch N` line, scribbles one batch with the scribbler of the seed
    /// it is given: over the records, then the freelist headers too, then
    /// the group header too (by thirds of the batches: what stops newcomers
    /// from joining comes last, so that the first newcomers still work over
    /// scribbled ports and lists), the payload part and its own heartbeat
    /// slot. Says what it wrote when its stdin closes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn scribbler() {
        let Some(args) = role_args("roles::scribbler") else {
            return;
        };
        let seed = args[0].parse().expect("a seed");
        let member =
            HostileMember::join_from_env("scribble-alpha-raw", "Robot/Alpha/Scribbler", "alpha");
        assert_eq!(member.group_index, super::ALPHA);
        let alpha = &member.group;
        // The slot's pid and generation, then its beats and `dropped` word.
        let heartbeat = [0..8, 8..size_of::<HeartbeatSlot>()];
        let regions = ControlRegions::of(alpha);
        let phases = [
            regions.records.clone(),
            regions.with_freelists(),
            regions.all(),
        ];
        let payload = payload_regions(alpha);
        let mut scribbler = Scribbler::new(seed);
        say("joined");
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("a line from the parent");
            let batch: u32 = line
                .strip_prefix("batch ")
                .and_then(|n| n.parse().ok())
                .expect("`batch N`");
            let control = &phases[(batch * 3 / BATCHES) as usize];
            scribbler.scribble(alpha.control_mapping(), control, CONTROL_WRITES);
            scribbler.scribble(alpha.payload_mapping(), &payload, PAYLOAD_WRITES);
            scribbler.scribble(&member.heartbeat, &heartbeat, HEARTBEAT_WRITES);
            say("scribbled batch");
        }
        say(format!("scribbled {:?}", scribbler.scribbled()));
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
            .queue_capacity(BETA_QUEUE)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        receive_in_order(&subscriber, POLL);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn beta_publisher() {
        if role_args("roles::beta_publisher").is_none() {
            return;
        }
        let rt = Runtime::init("scribble-beta-pub").expect("init");
        // Lossless on purpose (beta checks every sequence number): wait for
        // room as long as it takes, not the default publish timeout.
        let publisher = rt
            .publisher::<Msg>(&beta())
            .publish_timeout(Duration::MAX)
            .create()
            .expect("publisher");
        let stop = stop_flag();
        publish_until_stopped(&publisher, PACE, &stop);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_subscriber() {
        if role_args("roles::alpha_subscriber").is_none() {
            return;
        }
        let (rt, stop) = alpha_start("scribble-alpha-sub");
        let subscriber = rt
            .subscriber::<Msg>(&alpha())
            .create()
            .unwrap_or_else(|e| fail("subscriber", e));
        say("subscribed");
        let mut taken = Taken::default();
        while !stop.load(Ordering::Acquire) {
            if !take_one(&subscriber, &mut taken)
                && let Err(e) = subscriber.wait(Some(POLL))
            {
                fail("wait", e);
            }
        }
        say(format!("end: stopped, {taken:?}"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_publisher() {
        if role_args("roles::alpha_publisher").is_none() {
            return;
        }
        let (rt, stop) = alpha_start("scribble-alpha-pub");
        let publisher = rt
            .publisher::<Msg>(&alpha())
            .create()
            .unwrap_or_else(|e| fail("publisher", e));
        say("publishing");
        let mut seq = 0;
        while !stop.load(Ordering::Acquire) {
            publish(&publisher, seq);
            seq += 1;
            std::thread::sleep(PACE);
        }
        say(format!("end: stopped after {seq} messages"));
    }

    /// Joins `alpha` while it is scribbled over: a subscriber and a
    /// publisher of the service the others use, a few messages, gone.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_newcomer() {
        if role_args("roles::alpha_newcomer").is_none() {
            return;
        }
        let (rt, stop) = alpha_start("scribble-alpha-new");
        let subscriber = rt
            .subscriber::<Msg>(&alpha())
            .history(4)
            .create()
            .unwrap_or_else(|e| fail("subscriber", e));
        let publisher = rt
            .publisher::<Msg>(&alpha())
            .history(4)
            .create()
            .unwrap_or_else(|e| fail("publisher", e));
        let mut taken = Taken::default();
        for seq in 0..NEWCOMER_MESSAGES {
            if stop.load(Ordering::Acquire) {
                break;
            }
            publish(&publisher, seq);
            while take_one(&subscriber, &mut taken) {}
        }
        say(format!("end: done, {taken:?}"));
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
