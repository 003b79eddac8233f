//! End to end: unresponsive is not dead.
//!
//! A publisher holding loans and a subscriber holding samples (and sleeping
//! in `wait(None)`) are `SIGSTOP`ped for longer than the heartbeat timeout.
//! The daemon unroutes them at once (`zerocpctl` shows them `unresponsive`,
//! their ports leave the service) but keeps their chunks: a third process
//! that loans the whole pool gets every chunk except theirs. After `SIGCONT`
//! their next calls fail with the typed "missing heartbeats" error, the
//! sleeping `wait(None)` wakes with it, and what they hold still reads what
//! was written. Only their exit brings `used` back to its earlier value.
//!
//! With `heartbeat.kill_unresponsive` the daemon kills the stopped process
//! instead (through its pidfd) and reclaims its chunks.

mod e2e_support;
mod support;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};
use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);
/// The daemon's heartbeat timeout in these tests.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(2_000);
/// Slack on top of the heartbeat timeout for slow (emulated) CI machines.
const SLACK: Duration = Duration::from_secs(20);
/// Chunks of the one mempool (64-byte chunks: every `Msg` lands there).
const CHUNKS: usize = 8;

/// A domain whose one pool a process may empty (no chunk quota: the
/// drainer takes every chunk on purpose).
fn domain(kill_unresponsive: bool) -> TestDomain {
    TestDomain::builder()
        .heartbeat_timeout_ms(HEARTBEAT_TIMEOUT.as_millis() as u64)
        .kill_unresponsive(kill_unresponsive)
        .mempools(&[(64, CHUNKS as u32)])
        .quota(100, 100)
        .start()
}

fn signal(child: &TestChild, signal: Signal) {
    let pid = Pid::from_raw(child.pid() as i32).expect("a child pid");
    kill_process(pid, signal).expect("signal the child");
}

/// The chunk indices a role printed after `marker`.
fn indices(child: &mut TestChild, marker: &str) -> Vec<u32> {
    child
        .expect_line(marker, WAIT)
        .split_whitespace()
        .map(|i| i.parse().expect("a chunk index"))
        .collect()
}

/// The state letter of `pid`'s main thread (`/proc/<pid>/stat`), e.g. `S`.
fn thread_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// `zerocpctl processes --json`: the state of `pid`, if listed.
fn process_state(domain: &TestDomain, pid: u32) -> Option<String> {
    let json = domain.ctl_json(&["processes"]);
    json["processes"]
        .as_array()
        .expect("processes array")
        .iter()
        .find(|p| p["pid"].as_u64() == Some(u64::from(pid)))
        .map(|p| p["state"].as_str().expect("state").to_owned())
}

/// `zerocpctl services --json`: the pids of the ports of `E2E/<instance>/Event`.
fn service_pids(domain: &TestDomain, instance: &str) -> Vec<u64> {
    let json = domain.ctl_json(&["services"]);
    let name = format!("E2E/{instance}/Event");
    json["services"]
        .as_array()
        .expect("services array")
        .iter()
        .filter(|s| s["service"] == name.as_str())
        .flat_map(|s| {
            let ports = |kind: &str| s[kind].as_array().cloned().unwrap_or_default();
            ports("publishers").into_iter().chain(ports("subscribers"))
        })
        .map(|p| p["pid"].as_u64().expect("pid"))
        .collect()
}

#[test]
fn stopped_processes_are_unrouted_but_keep_their_chunks_until_they_exit() {
    let domain = domain(false);
    let envs = domain.envs();
    let baseline = domain.used_chunks();
    let mut drainer = spawn_child("roles::pool_drainer", &["unresp-drain"], &envs);
    drainer.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::stoppable_publisher", &["unresp"], &envs);
    publisher.expect_line("ready", WAIT);
    let publisher_pid = publisher.pid().to_string();
    let mut subscriber = spawn_child(
        "roles::stoppable_subscriber",
        &["unresp", &publisher_pid],
        &envs,
    );
    subscriber.expect_line("ready", WAIT);

    publisher.send_line("publish 2");
    publisher.expect_line("sent 2", WAIT);
    subscriber.send_line("take 2");
    let mut held = indices(&mut subscriber, "holding ");
    publisher.send_line("hold 2");
    held.extend(indices(&mut publisher, "holding "));
    assert_eq!(held.len(), 4, "{held:?}");
    assert_eq!(domain.used_chunks(), baseline + 4);
    // The subscriber sleeps in wait(None) before it is stopped.
    subscriber.expect_line("waiting", WAIT);
    assert!(
        domain.wait_until(WAIT, || thread_state(subscriber.pid()) == Some('S')),
        "the subscriber does not sleep in wait(None)"
    );

    signal(&publisher, Signal::STOP);
    signal(&subscriber, Signal::STOP);
    let unrouted = domain.wait_until(HEARTBEAT_TIMEOUT + SLACK, || {
        [publisher.pid(), subscriber.pid()]
            .iter()
            .all(|&pid| process_state(&domain, pid).as_deref() == Some("unresponsive"))
    });
    assert!(
        unrouted,
        "not shown unresponsive: {}",
        domain.ctl_json(&["processes"])
    );
    assert_eq!(
        service_pids(&domain, "unresp"),
        Vec::<u64>::new(),
        "their ports are still routed"
    );
    let drainer_state = process_state(&domain, drainer.pid());
    assert!(
        matches!(drainer_state.as_deref(), Some("alive" | "late")),
        "the running process was dropped too: {drainer_state:?}"
    );
    assert_eq!(
        domain.used_chunks(),
        baseline + 4,
        "chunks of the stopped processes were reclaimed"
    );

    // Everything else of the pool, and nothing of theirs, can be loaned.
    drainer.send_line("drain");
    let drained = indices(&mut drainer, "loaned ");
    assert_eq!(
        drained.len(),
        CHUNKS - held.len(),
        "drained {drained:?} while {held:?} are held"
    );
    assert!(
        drained.iter().all(|i| !held.contains(i)),
        "a held chunk was loaned again: drained {drained:?}, held {held:?}"
    );
    drainer.send_line("release");
    drainer.expect_line("released", WAIT);

    signal(&publisher, Signal::CONT);
    signal(&subscriber, Signal::CONT);
    let waited = subscriber.expect_line("wait error: ", WAIT);
    assert!(waited.contains("missing heartbeats"), "{waited}");
    assert_eq!(subscriber.expect_line("samples intact ", WAIT), "true");
    subscriber.expect_line("checked", WAIT);
    publisher.send_line("check");
    assert_eq!(publisher.expect_line("loans intact ", WAIT), "true");
    let loan = publisher.expect_line("loan error: ", WAIT);
    assert!(loan.contains("missing heartbeats"), "{loan}");
    assert!(!loan.contains("daemon is gone"), "{loan}");
    publisher.expect_line("checked", WAIT);
    assert!(publisher.wait(WAIT).success());
    assert!(subscriber.wait(WAIT).success());

    // They exited holding chunks: the daemon reclaims them now.
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == baseline),
        "not reclaimed after the exit: {:?}",
        domain.mempools()
    );
    let pids = domain.process_pids();
    assert!(!pids.contains(&publisher.pid()) && !pids.contains(&subscriber.pid()));
    let log = domain.daemon_log();
    assert!(log.contains("unresponsive, no heartbeat for"), "{log}");
    assert!(
        log.contains("after it was dropped as unresponsive"),
        "{log}"
    );
    drainer.send_line("quit");
    assert!(drainer.wait(WAIT).success());
    domain.stop();
}

#[test]
fn kill_unresponsive_kills_a_stopped_process_and_reclaims_its_chunks() {
    let domain = domain(true);
    let envs = domain.envs();
    let baseline = domain.used_chunks();
    let mut publisher = spawn_child("roles::stoppable_publisher", &["unresp-kill"], &envs);
    publisher.expect_line("ready", WAIT);
    publisher.send_line("hold 3");
    publisher.expect_line("holding ", WAIT);
    assert_eq!(domain.used_chunks(), baseline + 3);

    signal(&publisher, Signal::STOP);
    let status = publisher.wait(HEARTBEAT_TIMEOUT + SLACK);
    assert_eq!(status.signal(), Some(9), "not killed: {status}");
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == baseline),
        "not reclaimed after the kill: {:?}",
        domain.mempools()
    );
    assert!(!domain.process_pids().contains(&publisher.pid()));
    let log = domain.daemon_log();
    assert!(log.contains("killing it"), "{log}");
    domain.stop();
}

mod roles {
    use std::io::BufRead;

    use crate::e2e_support::{Msg, deadline, expect_command, left, publish_seq, say, service};
    use zerocp::Runtime;
    use zerocp::error::{LoanError, PublishError, TakeError, WaitError};
    use zerocp_os_linux::testing::role::role_args;

    /// The chunk indices of `samples`, space-separated.
    fn list(indices: impl Iterator<Item = u32>) -> String {
        indices.map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
    }

    /// On command: `publish N` publishes N messages, `hold K` loans K
    /// samples, writes them and holds them, `check` (after being stopped
    /// and resumed) checks the loans and that every call fails with
    /// `Unresponsive`, then exits holding what it holds.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn stoppable_publisher() {
        let Some(args) = role_args("roles::stoppable_publisher") else {
            return;
        };
        let rt = Runtime::init("e2e-stopped-pub").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&args[0]))
            .max_loans(4)
            .create()
            .expect("publisher");
        let id = u64::from(std::process::id());
        let mut held = Vec::new();
        say("ready");
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("command");
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["publish", n] => {
                    let n: u64 = n.parse().expect("count");
                    publish_seq(&publisher, id, 0..n);
                    say(format!("sent {n}"));
                }
                ["hold", k] => {
                    let k: u64 = k.parse().expect("count");
                    for seq in 100..100 + k {
                        let loan = publisher.loan_uninit().expect("loan");
                        held.push(loan.write(Msg::new(id, seq)));
                    }
                    say(format!(
                        "holding {}",
                        list(held.iter().map(|s| s.chunk_index()))
                    ));
                }
                ["check"] => {
                    let intact = held
                        .iter()
                        .zip(100..)
                        .all(|(sample, seq)| **sample == Msg::new(id, seq));
                    say(format!("loans intact {intact}"));
                    let loan = publisher.loan_uninit().map(drop);
                    assert!(
                        matches!(loan, Err(LoanError::Unresponsive { .. })),
                        "{loan:?}"
                    );
                    say(format!("loan error: {}", loan.unwrap_err()));
                    let published = held.pop().expect("a held loan").publish();
                    assert!(
                        matches!(published, Err(PublishError::Unresponsive { .. })),
                        "{published:?}"
                    );
                    let created = rt.subscriber::<Msg>(&service("unresp-new")).create();
                    assert!(
                        created.as_ref().is_err_and(|e| e.is_unresponsive()),
                        "{:?}",
                        created.err()
                    );
                    say("checked");
                    // Exits holding a loan: the daemon reclaims it.
                    std::process::exit(0);
                }
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// Takes 2 samples of publisher `args[1]` on `take 2`, holds them,
    /// sleeps in `wait(None)`; when that fails (after being stopped and
    /// resumed) checks the samples and that `take` fails with
    /// `Unresponsive` too, then exits holding them.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn stoppable_subscriber() {
        let Some(args) = role_args("roles::stoppable_subscriber") else {
            return;
        };
        let publisher: u64 = args[1].parse().expect("publisher pid");
        let rt = Runtime::init("e2e-stopped-sub").expect("init");
        let sub = rt
            .subscriber::<Msg>(&service(&args[0]))
            .queue_capacity(4)
            .max_held(2)
            .create()
            .expect("subscriber");
        say("ready");
        expect_command("take 2");
        let until = deadline();
        let mut held = Vec::new();
        while held.len() < 2 {
            sub.wait(Some(left(until, "two samples"))).expect("wait");
            while held.len() < 2
                && let Some(sample) = sub.take().expect("take")
            {
                held.push(sample);
            }
        }
        say(format!(
            "holding {}",
            list(held.iter().map(|s| s.chunk_index()))
        ));
        say("waiting");
        let waited = sub.wait(None);
        assert!(
            matches!(waited, Err(WaitError::Unresponsive { .. })),
            "{waited:?}"
        );
        say(format!("wait error: {}", waited.unwrap_err()));
        let intact = held
            .iter()
            .zip(0..)
            .all(|(s, seq)| s.is_valid() && s.publisher == publisher && s.seq == seq);
        say(format!("samples intact {intact}"));
        let taken = sub.take().map(|s| s.is_some());
        assert!(
            matches!(taken, Err(TakeError::Unresponsive { .. })),
            "{taken:?}"
        );
        say("checked");
        // Exits holding the samples: the daemon reclaims them.
        std::process::exit(0);
    }

    /// On `drain`, loans every chunk it can and prints their indices; on
    /// `release`, gives them back; then waits for `quit`.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn pool_drainer() {
        let Some(args) = role_args("roles::pool_drainer") else {
            return;
        };
        let rt = Runtime::init("e2e-drainer").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&args[0]))
            .max_loans(32)
            .create()
            .expect("publisher");
        let id = u64::from(std::process::id());
        say("ready");
        expect_command("drain");
        let mut loans = Vec::new();
        loop {
            match publisher.loan_uninit() {
                Ok(loan) => loans.push(loan.write(Msg::new(id, loans.len() as u64))),
                Err(LoanError::OutOfChunks { .. }) => break,
                Err(e) => panic!("loan: {e}"),
            }
        }
        say(format!(
            "loaned {}",
            list(loans.iter().map(|s| s.chunk_index()))
        ));
        expect_command("release");
        drop(loans);
        say("released");
        expect_command("quit");
    }
}
