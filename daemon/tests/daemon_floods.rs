//! Connection floods: a process that opens connections and never registers
//! (re-querying so as to look busy, re-opening every connection the daemon
//! evicts) must not lock anybody out, and a uid `[access]` refuses must not
//! take a slot at all.
//!
//! - Same uid (`a_flood_of_the_applications_own_uid_…`): the flooder and the
//!   application share their uid, the case the per-uid limit cannot tell
//!   apart. The flooder only evicts its own connections, except that an
//!   application's connection can be evicted before it registered; the
//!   runtime then connects again, so the application still registers and
//!   exchanges a message, and `zerocpctl` still answers.
//! - Another uid (`a_flood_of_another_uid_…`, root only): the flooder runs
//!   as `nobody`; connections of this uid are never evicted, not even idle
//!   ones.
//! - A refused uid (`a_uid_refused_by_access_…`, root only): `nobody` is not
//!   in `[access]`; each of its connections reads `AccessDenied` (not a
//!   reset), none takes a slot, so the allowed uid's unregistered
//!   connections, filling every slot, are neither evicted nor refused.
//!
//! Each checks that the daemon says what happened in its counters
//! (`zerocpctl status`) and in a bounded number of log lines (one per kind
//! and second, never one per connection), and that after the flooder exits
//! `zerocpctl status` and `mempools` are back to what they were.

mod e2e_support;
mod support;

use std::time::{Duration, Instant};

use support::{RawClient, TestDomain};
use zerocp_core::wire::Message;
use zerocp_os_linux::testing::role::{TestChild, spawn_child, spawn_child_as};

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);
/// The user a flooding child switches to.
const NOBODY: u32 = 65534;
/// Connections the flooder keeps open (beyond `max_pending_per_uid`, 8).
const FLOOD: &str = "32";
/// Evictions after which a flood has lasted long enough (at most 32 per
/// round of the flooder, which pauses 100 ms between rounds: two seconds at
/// least, so the log has had to summarise).
const LONG_FLOOD: u64 = 640;
/// Unregistered connections live long enough here that only evictions
/// close them while a test runs.
const LIMITS: &str = "[limits]\nmax_processes = 8\nregister_timeout_ms = 120000\n\n\
                      [heartbeat]\ninterval_ms = 50\ntimeout_ms = 5000\n\n\
                      [[mempool]]\nsize = 64\ncount = 16\n";

/// What `zerocpctl status --json` says about the domain's contents.
fn contents(status: &serde_json::Value) -> [u64; 4] {
    ["processes", "publishers", "subscribers", "services"].map(|key| {
        status[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key}: {status}"))
    })
}

/// What `zerocpctl mempools --json` says of each pool, but its low-water
/// mark (`min_free`, which remembers the application's loans).
fn pools(domain: &TestDomain) -> Vec<(u64, u64, u64, String)> {
    domain
        .mempools()
        .into_iter()
        .map(|p| (p.chunk_size, p.chunk_count, p.used, p.group))
        .collect()
}

/// A counter of `zerocpctl status --json`.
fn counter(domain: &TestDomain, key: &str) -> u64 {
    domain.ctl_json(&["status"])[key]
        .as_u64()
        .unwrap_or_else(|| panic!("status has no {key}"))
}

/// The daemon's log lines that report turning connections away with `verb`
/// (`refused`, `evicted`, `closed`).
fn refusal_lines(domain: &TestDomain, verb: &str) -> Vec<String> {
    let noun = if verb == "refused" {
        " connection"
    } else {
        " unregistered connection"
    };
    domain
        .daemon_log()
        .lines()
        .filter(|line| line.contains(&format!(" {verb} ")) && line.contains(noun))
        .map(str::to_owned)
        .collect()
}

/// At most one line per kind and second: `lines` over `elapsed` (plus the
/// first line and one for a second begun), fewer than the connections, and
/// summaries among them.
fn assert_summarised(lines: &[String], elapsed: Duration, connections: u64, domain: &TestDomain) {
    eprintln!(
        "{connections} connections turned away in {elapsed:?}, logged in {} lines:\n{}",
        lines.len(),
        lines.join("\n")
    );
    let bound = elapsed.as_secs() as usize + 2;
    assert!(
        lines.len() <= bound,
        "{} lines in {elapsed:?} (at most {bound}):\n{}",
        lines.len(),
        lines.join("\n")
    );
    assert!(
        (lines.len() as u64) < connections,
        "{} lines for {connections} connections: one per connection\n{}",
        lines.len(),
        domain.daemon_log()
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" connections in the last ")),
        "no summary among:\n{}",
        lines.join("\n")
    );
}

/// Starts the flooder (`uid`: as that user) and waits until it floods.
fn start_flooder(domain: &TestDomain, uid: Option<u32>) -> TestChild {
    let socket = domain.socket_path().display().to_string();
    let mut flooder = match uid {
        Some(uid) => spawn_child_as("roles::flooder", &[&socket, FLOOD], &[], uid, uid),
        None => spawn_child("roles::flooder", &[&socket, FLOOD], &[]),
    };
    flooder.expect_line("flooding", WAIT);
    flooder
}

/// Lets the flood go on until [`LONG_FLOOD`] connections were evicted.
fn let_flood(domain: &TestDomain) {
    let long = domain.wait_until(WAIT, || {
        counter(domain, "evicted_connections") >= LONG_FLOOD
    });
    assert!(long, "fewer than {LONG_FLOOD} evictions within {WAIT:?}");
}

/// Stops the flooder; returns how many of its connections were evicted.
fn stop_flooder(mut flooder: TestChild) -> u64 {
    flooder.send_line("stop");
    let evicted = flooder.expect_line("evicted ", WAIT);
    flooder.expect_success(WAIT);
    evicted.parse().expect("a count")
}

/// The application registers, exchanges a message with itself and exits,
/// within the deadline.
fn run_application(domain: &TestDomain) {
    let mut app = spawn_child("roles::application", &[], &domain.envs());
    app.expect_line("exchanged", WAIT);
    app.expect_success(WAIT);
}

fn skip_unless_root() -> bool {
    if rustix::process::getuid().is_root() {
        return false;
    }
    eprintln!("skipped: running a child as another user needs root");
    true
}

#[test]
fn a_flood_of_the_applications_own_uid_locks_out_neither_it_nor_zerocpctl() {
    let domain = TestDomain::builder().config_toml(LIMITS).start();
    let base = contents(&domain.ctl_json(&["status"]));
    let base_pools = pools(&domain);
    let started = Instant::now();
    let flooder = start_flooder(&domain, None);
    run_application(&domain);
    for _ in 0..3 {
        domain.ctl_ok(&["status"]);
    }
    let_flood(&domain);
    let flooder_evicted = stop_flooder(flooder);
    let elapsed = started.elapsed();

    assert!(flooder_evicted > 0, "the flood evicted nothing");
    let evicted = counter(&domain, "evicted_connections");
    assert!(evicted >= flooder_evicted, "{evicted} < {flooder_evicted}");
    assert_summarised(
        &refusal_lines(&domain, "evicted"),
        elapsed,
        evicted,
        &domain,
    );
    let log = domain.daemon_log();
    assert!(log.contains("limits.max_pending_per_uid"), "{log}");
    assert_eq!(contents(&domain.ctl_json(&["status"])), base);
    assert!(domain.wait_until(WAIT, || pools(&domain) == base_pools));
    domain.stop();
}

#[test]
fn a_flood_of_another_uid_never_evicts_this_uids_connections() {
    if skip_unless_root() {
        return;
    }
    let text = format!("{LIMITS}\n[access]\nuids = [{NOBODY}]\nsocket_mode = 0o666\n");
    let domain = TestDomain::builder().config_toml(&text).start();
    domain.open_to_other_users();
    let base = contents(&domain.ctl_json(&["status"]));
    let base_pools = pools(&domain);
    // Idle, unregistered: the likeliest victims, were another uid's flood
    // able to evict them.
    let mut idle: Vec<RawClient> = (0..3)
        .map(|_| RawClient::connect(&domain.socket_path()))
        .collect();
    let started = Instant::now();
    let flooder = start_flooder(&domain, Some(NOBODY));
    run_application(&domain);
    domain.ctl_ok(&["status"]);
    let_flood(&domain);
    let flooder_evicted = stop_flooder(flooder);
    let elapsed = started.elapsed();

    for client in &mut idle {
        let waiting = client.client.recv(Duration::ZERO);
        assert!(
            matches!(waiting, Ok(None)),
            "an idle connection read {waiting:?}"
        );
    }
    assert!(flooder_evicted > 0, "the flood evicted nothing");
    let lines = refusal_lines(&domain, "evicted");
    assert!(
        lines.iter().all(|l| !l.contains("uid 0")),
        "{}",
        lines.join("\n")
    );
    let evicted = counter(&domain, "evicted_connections");
    assert_summarised(&lines, elapsed, evicted, &domain);
    drop(idle);
    assert_eq!(contents(&domain.ctl_json(&["status"])), base);
    assert!(domain.wait_until(WAIT, || pools(&domain) == base_pools));
    domain.stop();
}

#[test]
fn a_uid_refused_by_access_reads_why_and_never_takes_a_slot() {
    if skip_unless_root() {
        return;
    }
    // Four slots in all, every one held by an idle connection of this uid.
    let text = "[limits]\nmax_pending_connections = 4\nmax_pending_per_uid = 4\n\
                register_timeout_ms = 120000\n\n[access]\nsocket_mode = 0o666\n\n\
                [[mempool]]\nsize = 64\ncount = 16\n";
    let domain = TestDomain::builder().config_toml(text).start();
    domain.open_to_other_users();
    let base_pools = pools(&domain);
    let mut idle: Vec<RawClient> = (0..4)
        .map(|_| RawClient::connect(&domain.socket_path()))
        .collect();
    let started = Instant::now();
    let socket = domain.socket_path().display().to_string();
    let mut refused = spawn_child_as(
        "roles::refused_flooder",
        &[&socket, "200"],
        &domain.envs(),
        NOBODY,
        NOBODY,
    );
    assert_eq!(refused.expect_line("runtime: ", WAIT), "AccessDenied");
    assert_eq!(refused.expect_line("denied ", WAIT), "200 of 200");
    refused.expect_success(WAIT);
    // The first refusal is logged at once, the others in one summary.
    assert!(domain.wait_until(WAIT, || {
        domain
            .daemon_log()
            .contains("refused 200 connections in the last")
    }));
    let elapsed = started.elapsed();

    // The allowed uid's connections were neither evicted nor refused: each
    // still answers.
    for client in &mut idle {
        let waiting = client.client.recv(Duration::ZERO);
        assert!(
            matches!(waiting, Ok(None)),
            "an idle connection read {waiting:?}"
        );
    }
    let Message::Status(status) = idle[0].request(&Message::QueryStatus) else {
        panic!("no status");
    };
    assert_eq!(status.evicted_connections, 0);
    assert_eq!(status.refused_connections, 200 + 1, "and the runtime's");
    let lines = refusal_lines(&domain, "refused");
    assert!(
        lines.iter().all(|l| l.contains("uid 65534")),
        "{}",
        lines.join("\n")
    );
    assert_summarised(&lines, elapsed, status.refused_connections, &domain);
    drop(idle);
    assert_eq!(contents(&domain.ctl_json(&["status"])), [0; 4]);
    assert_eq!(pools(&domain), base_pools);
    domain.stop();
}

mod roles {
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use zerocp::{ErrorCode, InitError, Runtime};
    use zerocp_core::wire::Message;
    use zerocp_os_linux::control_client::{ControlClient, ControlError};
    use zerocp_os_linux::testing::role::role_args;

    use crate::e2e_support::{Msg, ROLE_DEADLINE, arg, say, service};

    /// How often the flooder re-queries on each of its connections.
    const REQUERY: std::time::Duration = std::time::Duration::from_millis(100);

    fn connect(socket: &Path) -> ControlClient {
        ControlClient::connect(socket).expect("connect to the daemon")
    }

    /// Holds `args[1]` unregistered connections to the socket `args[0]`;
    /// every 100 ms queries on each, and opens a new one for each the daemon
    /// evicted, until told `stop`; then prints how many were evicted.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn flooder() {
        let Some(args) = role_args("roles::flooder") else {
            return;
        };
        let socket = Path::new(&args[0]);
        let count: usize = arg(&args, 1);
        let stop = Arc::new(AtomicBool::new(false));
        let stopper = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut line = String::new();
            // "stop", or the parent gone: either way, stop.
            drop(std::io::stdin().read_line(&mut line));
            stopper.store(true, Ordering::Relaxed);
        });
        let mut conns: Vec<ControlClient> = (0..count).map(|_| connect(socket)).collect();
        let mut evicted = 0u64;
        let mut rounds = 0u64;
        while !stop.load(Ordering::Relaxed) {
            for conn in &mut conns {
                match conn.request(&Message::QueryStatus, ROLE_DEADLINE) {
                    Ok(Message::Status(_)) => {}
                    Err(e) if e.is_refused_for_room() => {
                        evicted += 1;
                        *conn = connect(socket);
                    }
                    other => panic!("a flooding connection got {other:?}"),
                }
            }
            rounds += 1;
            if rounds == 1 {
                say("flooding");
            }
            std::thread::sleep(REQUERY);
        }
        say(format!("evicted {evicted}"));
    }

    /// As a uid `[access]` refuses: opens `args[1]` connections to the
    /// socket `args[0]` at once, then asks for the status on each; prints
    /// how many read `AccessDenied` naming its uid, and what `Runtime::init`
    /// got.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn refused_flooder() {
        let Some(args) = role_args("roles::refused_flooder") else {
            return;
        };
        let socket = Path::new(&args[0]);
        let count: usize = arg(&args, 1);
        let uid = rustix::process::getuid().as_raw();
        let mut conns: Vec<ControlClient> = (0..count).map(|_| connect(socket)).collect();
        let mut denied = 0;
        for (i, conn) in conns.iter_mut().enumerate() {
            match conn.request(&Message::QueryStatus, ROLE_DEADLINE) {
                Err(ControlError::Refused {
                    code: ErrorCode::AccessDenied,
                    detail,
                }) if detail.contains(&format!("uid {uid} ")) => denied += 1,
                other => panic!("connection {i} of a refused uid got {other:?}"),
            }
        }
        match Runtime::init("refused-app") {
            Err(InitError::Rejected { code, .. }) => say(format!("runtime: {code}")),
            other => panic!("Runtime::init of a refused uid: {other:?}"),
        }
        say(format!("denied {denied} of {count}"));
    }

    /// Registers, creates a publisher and a subscriber of one service,
    /// sends itself a message and takes it.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn application() {
        if role_args("roles::application").is_none() {
            return;
        }
        let rt = Runtime::init("flood-app").expect("register despite the flood");
        let publisher = rt
            .publisher::<Msg>(&service("flood"))
            .create()
            .expect("publisher");
        let subscriber = rt
            .subscriber::<Msg>(&service("flood"))
            .create()
            .expect("subscriber");
        let id = u64::from(std::process::id());
        let sample = publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(id, 7));
        sample.publish().expect("publish");
        let taken = loop {
            if let Some(sample) = subscriber.take().expect("take") {
                break sample;
            }
            subscriber.wait(Some(ROLE_DEADLINE)).expect("wait");
        };
        assert_eq!(*taken, Msg::new(id, 7));
        say("exchanged");
    }
}
