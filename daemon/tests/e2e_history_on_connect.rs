//! End to end: history on connect. A publisher process publishes its
//! samples with `history(k)` and then only waits (blocked reading its
//! stdin, or spinning in a loop of its own): it never publishes again nor
//! calls `update_connections`. A subscriber that joins later in another
//! process and asks for history gets the newest samples, in order, from the
//! publisher's runtime (the daemon's `HistoryWanted` notice, served by its
//! background thread).
//!
//! Besides what each subscriber receives, the tests check the chunk
//! accounting through `zerocpctl mempools`: once the subscribers are gone,
//! exactly the publisher's `k` history entries stay in use, and nothing
//! once the publisher is gone too (also when it was killed).

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);
/// Samples every publisher publishes before it only waits.
const PUBLISHED: u64 = 10;

fn domain() -> TestDomain {
    TestDomain::builder().mempools(&[(64, 64)]).start()
}

/// Starts a publisher of `instance` with history `depth` that publishes
/// `count` samples (sequence 0..count) and then waits as `mode` says
/// (`block`: reading its stdin; `spin`: in a busy loop of its own).
fn start_publisher(
    domain: &TestDomain,
    instance: &str,
    depth: u32,
    count: u64,
    mode: &str,
) -> TestChild {
    let (depth, count) = (depth.to_string(), count.to_string());
    let args = [instance, depth.as_str(), count.as_str(), mode];
    let mut publisher = spawn_child("roles::publisher", &args, &domain.envs());
    publisher.expect_line("published", WAIT);
    publisher
}

/// Runs a late subscriber of `instance` asking for `history` samples and
/// expecting `expected` of them; returns what it says: the sequence numbers
/// it received, in order, and how many a subscriber without history
/// (created just before it in the same process) had queued then.
fn late_subscriber(domain: &TestDomain, instance: &str, history: u32, expected: usize) -> String {
    let (history, expected) = (history.to_string(), expected.to_string());
    let args = [instance, history.as_str(), expected.as_str()];
    let mut subscriber = spawn_child("roles::late_subscriber", &args, &domain.envs());
    let got = subscriber.expect_line("got ", WAIT);
    subscriber.expect_success(WAIT);
    got
}

/// Waits until exactly `chunks` are in use (the publisher's history).
fn expect_in_use(domain: &TestDomain, chunks: u64) {
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == chunks),
        "expected {chunks} chunks in use: {:?}",
        domain.mempools()
    );
}

/// Tells `publisher` to quit and expects it to exit cleanly.
fn quit(mut publisher: TestChild) {
    publisher.send_line("quit");
    publisher.expect_success(WAIT);
}

/// Ends `publisher`, then expects the pools whole and the domain stopped
/// cleanly.
fn finish(domain: TestDomain, publisher: TestChild) {
    quit(publisher);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

#[test]
fn a_late_subscriber_gets_the_newest_samples_in_order_and_one_without_history_nothing() {
    let domain = domain();
    let publisher = start_publisher(&domain, "late", 4, PUBLISHED, "block");
    assert_eq!(
        late_subscriber(&domain, "late", 4, 4),
        "6,7,8,9 plain 0",
        "the last 4, oldest first; nothing for the subscriber without history"
    );
    expect_in_use(&domain, 4);
    finish(domain, publisher);
}

#[test]
fn a_late_subscriber_gets_what_the_history_holds_when_it_asks_for_more() {
    let domain = domain();
    let deep = start_publisher(&domain, "deep", 3, PUBLISHED, "block");
    assert_eq!(late_subscriber(&domain, "deep", 8, 3), "7,8,9 plain 0");
    let short = start_publisher(&domain, "short", 8, 2, "block");
    assert_eq!(late_subscriber(&domain, "short", 8, 2), "0,1 plain 0");
    expect_in_use(&domain, 5);
    quit(short);
    expect_in_use(&domain, 3);
    finish(domain, deep);
}

#[test]
fn a_late_subscriber_gets_only_what_it_asks_for_of_a_deeper_history() {
    let domain = domain();
    let publisher = start_publisher(&domain, "few", 6, PUBLISHED, "block");
    assert_eq!(late_subscriber(&domain, "few", 2, 2), "8,9 plain 0");
    expect_in_use(&domain, 6);
    finish(domain, publisher);
}

#[test]
fn two_late_subscribers_get_the_same_history() {
    let domain = domain();
    let publisher = start_publisher(&domain, "twice", 3, PUBLISHED, "block");
    assert_eq!(late_subscriber(&domain, "twice", 3, 3), "7,8,9 plain 0");
    assert_eq!(late_subscriber(&domain, "twice", 3, 3), "7,8,9 plain 0");
    // Two joining at once, in two processes.
    let args = ["twice", "3", "3"];
    let mut first = spawn_child("roles::late_subscriber", &args, &domain.envs());
    let mut second = spawn_child("roles::late_subscriber", &args, &domain.envs());
    for subscriber in [&mut first, &mut second] {
        assert_eq!(subscriber.expect_line("got ", WAIT), "7,8,9 plain 0");
        subscriber.expect_success(WAIT);
    }
    expect_in_use(&domain, 3);
    finish(domain, publisher);
}

#[test]
fn a_publisher_busy_in_its_own_loop_still_serves() {
    let domain = domain();
    let publisher = start_publisher(&domain, "busy", 3, PUBLISHED, "spin");
    assert_eq!(late_subscriber(&domain, "busy", 3, 3), "7,8,9 plain 0");
    finish(domain, publisher);
}

#[test]
fn a_late_subscriber_in_a_wait_set_wakes_with_the_history() {
    let domain = domain();
    let publisher = start_publisher(&domain, "waitset", 3, PUBLISHED, "block");
    let mut subscriber = spawn_child("roles::waitset_subscriber", &["waitset"], &domain.envs());
    assert_eq!(subscriber.expect_line("got ", WAIT), "7,8,9");
    subscriber.expect_success(WAIT);
    finish(domain, publisher);
}

#[test]
fn a_killed_publisher_leaves_no_hang_and_no_chunk_behind() {
    let domain = domain();
    let mut publisher = start_publisher(&domain, "killed", 4, PUBLISHED, "block");
    // A subscriber that holds the history it got when the publisher dies.
    let mut holder = spawn_child("roles::holder", &["killed"], &domain.envs());
    assert_eq!(holder.expect_line("holding ", WAIT), "6,7,8,9");
    let pid = publisher.pid();
    publisher.kill();
    assert!(
        domain.wait_until(WAIT, || !domain.process_pids().contains(&pid)),
        "the daemon still lists the killed publisher"
    );
    expect_in_use(&domain, 4);
    // A subscriber joining now finds no publisher: nothing, and no hang.
    assert_eq!(late_subscriber(&domain, "killed", 4, 0), " plain 0");
    holder.send_line("release");
    holder.expect_success(WAIT);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

mod roles {
    use std::sync::atomic::Ordering;

    use crate::e2e_support::{
        Msg, arg, deadline, expect_command, left, publish_seq, say, service, stop_flag,
    };
    use zerocp::{Runtime, Subscriber, WaitSet};
    use zerocp_os_linux::testing::role::role_args;

    /// Takes from `subscriber` until `expected` samples came; returns
    /// their sequence numbers.
    fn receive(subscriber: &Subscriber<Msg>, expected: usize) -> Vec<u64> {
        let deadline = deadline();
        let mut seqs = Vec::new();
        while seqs.len() < expected {
            match subscriber.take().expect("take") {
                Some(msg) => {
                    assert!(msg.is_valid(), "a corrupt sample {:?}", *msg);
                    seqs.push(msg.seq);
                }
                None => {
                    subscriber
                        .wait(Some(left(deadline, "the history")))
                        .expect("wait");
                }
            }
        }
        seqs
    }

    fn joined(seqs: &[u64]) -> String {
        let seqs: Vec<String> = seqs.iter().map(u64::to_string).collect();
        seqs.join(",")
    }

    /// Publishes, then waits without touching the publisher until told to
    /// quit (module docs).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        let Some(args) = role_args("roles::publisher") else {
            return;
        };
        let instance: String = arg(&args, 0);
        let depth: u32 = arg(&args, 1);
        let count: u64 = arg(&args, 2);
        let mode: String = arg(&args, 3);
        let rt = Runtime::init("history-publisher").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&instance))
            .history(depth)
            .create()
            .expect("publisher");
        publish_seq(&publisher, u64::from(std::process::id()), 0..count);
        if mode == "spin" {
            let stop = stop_flag();
            say("published");
            // Application work that never calls into the runtime nor yields.
            while !stop.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
        } else {
            say("published");
            expect_command("quit");
        }
        drop(publisher);
    }

    /// Creates a subscriber without history, then one asking for
    /// `history`; receives `expected` samples with the latter and says
    /// them, and what the former has queued by then.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn late_subscriber() {
        let Some(args) = role_args("roles::late_subscriber") else {
            return;
        };
        let instance: String = arg(&args, 0);
        let history: u32 = arg(&args, 1);
        let expected: usize = arg(&args, 2);
        let rt = Runtime::init("history-late").expect("init");
        let plain = rt
            .subscriber::<Msg>(&service(&instance))
            .queue_capacity(16)
            .create()
            .expect("plain subscriber");
        let subscriber = rt
            .subscriber::<Msg>(&service(&instance))
            .queue_capacity(16)
            .history(history)
            .create()
            .expect("subscriber");
        let seqs = receive(&subscriber, expected);
        assert!(
            subscriber.take().expect("take").is_none(),
            "more than {expected} samples"
        );
        say(format!("got {} plain {}", joined(&seqs), plain.queued()));
    }

    /// Asks for 3 samples of history and sleeps in a wait set over its
    /// subscriber until they came.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn waitset_subscriber() {
        let Some(args) = role_args("roles::waitset_subscriber") else {
            return;
        };
        let instance: String = arg(&args, 0);
        let rt = Runtime::init("history-waitset").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service(&instance))
            .queue_capacity(16)
            .history(3)
            .create()
            .expect("subscriber");
        let waitset = WaitSet::new().expect("wait set");
        let attachment = waitset.attach(&subscriber).expect("attach");
        let deadline = deadline();
        let mut seqs = Vec::new();
        while seqs.len() < 3 {
            let events = waitset
                .wait(Some(left(deadline, "the history")))
                .expect("wait");
            if events.contains(&attachment) {
                while let Some(msg) = subscriber.take().expect("take") {
                    seqs.push(msg.seq);
                }
            }
        }
        say(format!("got {}", joined(&seqs)));
    }

    /// Receives the history (4 samples) and holds it until told to release.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn holder() {
        let Some(args) = role_args("roles::holder") else {
            return;
        };
        let instance: String = arg(&args, 0);
        let rt = Runtime::init("history-holder").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service(&instance))
            .queue_capacity(16)
            .history(4)
            .create()
            .expect("subscriber");
        let deadline = deadline();
        while subscriber.queued() < 4 {
            subscriber
                .wait(Some(left(deadline, "the history")))
                .expect("wait");
        }
        let mut held = Vec::new();
        while let Some(sample) = subscriber.take().expect("take") {
            held.push(sample);
        }
        let seqs: Vec<u64> = held.iter().map(|s| s.seq).collect();
        say(format!("holding {}", joined(&seqs)));
        expect_command("release");
        drop(held);
    }
}
