//! End to end: what the daemon's audit of shared memory says about a
//! hostile member of a segment group, one attack at a time.
//!
//! The domain has the group `alpha` (`Robot/Alpha/*`, pools of 16 × 64 B
//! and 4 × 256 B). The test registers as a process of `alpha` with a
//! publisher there ([`HostileMember`]: a raw client holding what any
//! publisher of the group holds) and writes over what that gives it, with a
//! seeded [`Scribbler`] where the words are chosen at random
//! (`ZEROCP_SCRIBBLE_SEED=<seed>` replays them). For each attack the daemon
//! must say what happened (a counter of `zerocpctl status`, a log line, the
//! group's findings in `zerocpctl groups`), keep serving, and the others
//! must keep being served or be told precisely why not:
//!
//! - a scribbled **group header**: restored by the audit, counted; a
//!   newcomer still attaches (the daemon also repairs the header right
//!   before a `PortCreated`, with the audit timer off); against a header
//!   rewritten without pause a newcomer attaches (between two writes) or
//!   fails with a typed error naming the corrupt group, never anything
//!   vaguer;
//! - a **freelist head and a link out of range**: reported (and the chunks
//!   they cut off as lost) without the daemon crashing; a newcomer still
//!   attaches; the chunks come back when the group empties;
//! - a **subscriber queue** with an entry naming no chunk, then a position
//!   out of range: reported, naming the port (which is revoked);
//! - a **forged heartbeat** (pid and generation words, a beat from the
//!   future, a count going back): noticed, counted, the words restored, and
//!   the process, alive, is neither dropped nor reclaimed;
//! - and no finding where nothing is wrong: a publisher blocked on a full
//!   queue holds a chunk counted ahead of the queues it is in;
//! - the **mgmt state word** (which only the daemon's own user or root can
//!   write, reopening the segment through `/proc`) set to `SHUTTING_DOWN`:
//!   restored, counted; a runtime at work goes on (it believes the word
//!   only when its connection confirms it), and newcomers register.
//!
//! After the attacker leaves, `zerocpctl mempools` returns to base. Chunks
//! cut off a freelist stay lost (reported as such) while the group works:
//! the daemon resets the group onto fresh memory once its last port goes
//! (`[audit] on_corrupt_pool = "reset-when-empty"`, the default), and
//! `zerocpctl groups` counts that reset. (What the daemon does about a
//! corrupt queue, and a reset at once: `e2e_audit_recovery.rs`.)

mod e2e_support;
mod support;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use support::scribble::{Scribbler, group_header_words, seed_from_env};
use support::{HostileMember, MappedMgmt, TestDomain};
use zerocp_os_linux::testing::role::spawn_child;

/// How long the parent waits for a condition, a child's line or its exit.
const WAIT: Duration = Duration::from_secs(60);
/// `alpha`'s index among the groups (`default` is 0).
const ALPHA: usize = 1;
/// The attacker's publisher's service, in `alpha`.
const ATTACKER: &str = "Robot/Alpha/Attacker";
/// Chunks of `alpha`: 16 of 64 bytes (pool 0), then 4 of 256 bytes (pool 1).
const ALPHA_CHUNKS: u32 = 20;

/// A domain with `alpha`, the audit every `audit_ms` (0: timer off); raw
/// clients never beat, so the heartbeat timeout never strikes in a test.
fn start(audit_ms: u64) -> TestDomain {
    let config = format!(
        "[limits]\nmax_processes = 16\nmax_publishers = 8\nmax_subscribers = 8\n\n\
         [heartbeat]\ninterval_ms = 50\ntimeout_ms = 120000\n\n\
         [audit]\ninterval_ms = {audit_ms}\n\n\
         [[mempool]]\nsize = 64\ncount = 4\n\n\
         [[group]]\nname = \"alpha\"\nservices = [\"Robot/Alpha/*\"]\n\
         max_publishers = 4\nmax_subscribers = 4\n\
         [[group.mempool]]\nsize = 64\ncount = 16\n\
         [[group.mempool]]\nsize = 256\ncount = 4\n"
    );
    TestDomain::builder().config_toml(&config).start()
}

fn attacker(domain: &TestDomain) -> HostileMember {
    let member = HostileMember::join(domain, "audit-attacker", ATTACKER, "alpha");
    assert_eq!(member.group_index, ALPHA as u32);
    member
}

fn scribbler() -> Scribbler {
    let seed = seed_from_env();
    println!("scribble seed {seed} (replay with ZEROCP_SCRIBBLE_SEED={seed})");
    Scribbler::new(seed)
}

/// Asserts that `kind` is counted (at least `n`) and `needle` logged.
fn says(domain: &TestDomain, kind: &str, n: u64, needle: &str) {
    assert!(
        domain.wait_for_findings(kind, n, WAIT),
        "no {kind} finding counted: {}\n{}",
        domain.audit_counts(),
        domain.daemon_log()
    );
    assert!(
        domain.wait_for_log(needle, WAIT),
        "the daemon did not log {needle:?}:\n{}",
        domain.daemon_log()
    );
}

/// `alpha`'s entry of `zerocpctl groups --json`.
fn alpha_findings(domain: &TestDomain) -> serde_json::Value {
    domain.ctl_json(&["groups"])["groups"][ALPHA].clone()
}

/// Runs a newcomer role in `mode` (`pass` or `attach`); returns how it ended.
fn newcomer(domain: &TestDomain, mode: &str) -> String {
    let mut child = spawn_child("roles::newcomer", &[mode], &domain.envs());
    let end = child.expect_line("end: ", WAIT);
    child.expect_success(WAIT);
    end
}

/// The `u64` word at `offset` of `member`'s mapping of its group's control
/// part, which it (as any process of the group) can write.
fn control_u64(member: &HostileMember, offset: usize) -> &AtomicU64 {
    let mapping = member.group.control_mapping();
    assert!(offset.is_multiple_of(8) && offset + 8 <= mapping.len());
    let word = mapping.as_ptr().wrapping_add(offset).cast();
    // SAFETY: in bounds and aligned (asserted) in a writable mapping that
    // lives as long as `member`, which the reference borrows; every access
    // to the word, by any process, is atomic.
    unsafe { AtomicU64::from_ptr(word) }
}

/// As [`control_u64`], a `u32` word.
fn control_u32(member: &HostileMember, offset: usize) -> &AtomicU32 {
    let mapping = member.group.control_mapping();
    assert!(offset.is_multiple_of(4) && offset + 4 <= mapping.len());
    let word = mapping.as_ptr().wrapping_add(offset).cast();
    // SAFETY: as in `control_u64`.
    unsafe { AtomicU32::from_ptr(word) }
}

/// Waits until one line of the daemon's log holds every one of `parts`.
fn logged_line(domain: &TestDomain, parts: &[&str]) {
    let found = domain.wait_until(WAIT, || {
        domain
            .daemon_log()
            .lines()
            .any(|line| parts.iter().all(|part| line.contains(part)))
    });
    assert!(
        found,
        "no log line with {parts:?}:\n{}",
        domain.daemon_log()
    );
}

/// Sets its word to 1 when dropped.
struct SetOnDrop<'a>(&'a AtomicU32);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(1, Ordering::Relaxed);
    }
}

#[test]
fn a_scribbled_group_header_is_counted_restored_and_newcomers_still_attach() {
    let domain = start(100);
    let member = attacker(&domain);
    let mut scribbler = scribbler();
    let words = group_header_words();
    scribbler.overwrite_u32(member.group.control_mapping(), &words, 8);
    says(&domain, "group_header", 1, "audit: header of group 1: ");
    assert!(
        domain.wait_until(WAIT, || member.group.try_control().is_ok()),
        "the header was not restored: {:?}",
        member.group.try_control().err()
    );
    scribbler.overwrite_u32(member.group.control_mapping(), &words, 8);
    assert_eq!(newcomer(&domain, "pass"), "passed");
    let alpha = alpha_findings(&domain);
    assert!(alpha["findings"].as_u64() >= Some(1), "{alpha}");
    assert_eq!(alpha["last_finding"], "group_header", "{alpha}");
    assert_eq!(domain.ctl_json(&["groups"])["groups"][0]["findings"], 0);
    drop(member);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

#[test]
fn the_header_is_repaired_before_each_reply_and_a_relentless_scribbler_gets_a_typed_error() {
    let domain = start(0);
    let member = attacker(&domain);
    let mut scribbler = scribbler();
    scribbler.overwrite_u32(member.group.control_mapping(), &group_header_words(), 8);
    // The timer is off: the repair before the newcomer's replies lets it in.
    assert_eq!(newcomer(&domain, "pass"), "passed");
    says(&domain, "group_header", 1, "audit: header of group 1: ");
    assert_eq!(domain.audit_counts()["audits"], 0, "no timed audit ran");
    // A state word rewritten without pause, as fast as a core can.
    let (running, stop) = (AtomicU32::new(0), AtomicU32::new(0));
    let state = control_u32(&member, 12);
    let end = std::thread::scope(|s| {
        s.spawn(|| {
            while stop.load(Ordering::Relaxed) == 0 {
                state.store(2, Ordering::Relaxed);
                running.store(1, Ordering::Relaxed);
            }
        });
        // Stops the writer however this closure ends (a failed newcomer
        // unwinds through here, and the scope then joins the writer).
        let _stop = SetOnDrop(&stop);
        assert!(domain.wait_until(WAIT, || running.load(Ordering::Relaxed) == 1));
        newcomer(&domain, "attach")
    });
    println!("a newcomer against a relentless scribbler: {end}");
    assert!(
        end == "attached" || end.starts_with("corrupt: "),
        "neither attached nor told the group is corrupt: {end}"
    );
    if end != "attached" {
        assert!(end.contains("segment group 1"), "{end}");
    }
    assert_eq!(newcomer(&domain, "pass"), "passed", "once the writes stop");
    drop(member);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

#[test]
fn freelist_damage_is_reported_and_the_daemon_keeps_serving() {
    let domain = start(100);
    let member = attacker(&domain);
    let control = member.group.control();
    let head = control.layout().freelist_offset(0).expect("pool 0") as usize;
    let links = control
        .layout()
        .links_range(1, control.config())
        .expect("pool 1");
    let link_of_local_1 = links.0 as usize + 4;
    // Pool 0's head names chunk 1000 (tag 7); pool 1's chain 0 → 1 → 5000.
    control_u64(&member, head).store(7 << 32 | 1000, Ordering::Relaxed);
    control_u32(&member, link_of_local_1).store(5000, Ordering::Relaxed);
    says(
        &domain,
        "freelist_chain",
        2,
        "freelist of pool 0 of group 1: head index 1000 is out of range 0..16",
    );
    assert!(domain.wait_for_log(
        "freelist of pool 1 of group 1: the link of free index 1 is 5000, out of range 0..4",
        WAIT
    ));
    // What they cut off: all of pool 0, pool 1's chunks 2 and 3 (18, 19).
    says(
        &domain,
        "lost_chunks",
        2,
        "pool 0 of group 1: 16 chunks (first 0) are neither free nor held as counted",
    );
    assert!(domain.wait_for_log("pool 1 of group 1: 2 chunks (first 18)", WAIT));
    assert_eq!(newcomer(&domain, "attach"), "attached");
    assert_eq!(
        domain.ctl_json(&["status"])["daemon_pid"],
        domain.daemon_pid()
    );
    assert_eq!(alpha_findings(&domain)["resets"], 0, "the group works on");
    drop(member);
    // The lost chunks come back with the reset of the emptied group.
    domain.expect_back_to_base(WAIT);
    assert_eq!(
        alpha_findings(&domain)["resets"],
        1,
        "{}",
        domain.daemon_log()
    );
    assert!(domain.wait_for_log(
        "group \"alpha\" reset onto fresh memory (incarnation 1): the audit found mempool",
        WAIT
    ));
    domain.stop();
}

#[test]
fn a_corrupt_subscriber_queue_is_reported_naming_the_port() {
    let domain = start(100);
    let member = attacker(&domain);
    let mut subscriber = spawn_child("roles::quiet_subscriber", &[], &domain.envs());
    subscriber.expect_line("subscribed", WAIT);
    let services = domain.ctl_json(&["services"]);
    let listed = services["services"].as_array().expect("a list");
    let audited = listed
        .iter()
        .find(|s| s["service"] == "Robot/Alpha/Audit")
        .unwrap_or_else(|| panic!("the subscriber's service is not listed: {services}"));
    let port = audited["subscribers"][0]["port"].as_u64().expect("a port") as u32;
    let control = member.group.control();
    let queue = &control.subscriber(port).expect("the port").queue;
    let base = member.group.control_mapping().as_ptr() as usize;
    let queue = std::ptr::from_ref(queue) as usize - base;
    // The queue's words: enqueue position first, then (a cache line each)
    // the dequeue position and the capacity, then the cells.
    let (enqueue, cells) = (queue, queue + 3 * 64);
    // Position 0 filled with chunk 9999, the tail after it.
    control_u64(&member, cells).store(1 << 32 | 9999, Ordering::Relaxed);
    control_u32(&member, enqueue).store(1, Ordering::Relaxed);
    let named = format!("audit: queue of subscriber port {port} of group 1 ");
    says(&domain, "subscriber_queue", 1, &named);
    let entry = format!("an entry names chunk 9999, the group has {ALPHA_CHUNKS}");
    logged_line(&domain, &[&named, &entry]);
    // A tail whose cell index lies beyond the capacity (4: a lap is 8).
    control_u32(&member, enqueue).store(6, Ordering::Relaxed);
    assert!(domain.wait_for_findings("subscriber_queue", 2, WAIT));
    logged_line(
        &domain,
        &[
            &named,
            "enqueue position 0x6 names a cell beyond the capacity 4",
        ],
    );
    subscriber.send_line("quit");
    subscriber.expect_success(WAIT);
    drop(member);
    domain.expect_back_to_base(WAIT);
    assert_eq!(
        domain.ctl_json(&["status"])["daemon_pid"],
        domain.daemon_pid()
    );
    domain.stop();
}

#[test]
fn a_forged_heartbeat_is_noticed_and_its_live_process_kept() {
    let domain = start(100);
    let member = attacker(&domain);
    let pid = std::process::id();
    let slot = member.heartbeat_slot();
    let generation = slot.generation();
    member.beat();
    let mut scribbler = scribbler();
    // pid and generation, each once: a second write of the same word could
    // put back the value the daemon wrote (seed 16439466794924135012 did).
    scribbler.overwrite_u32(&member.heartbeat, &[0], 1);
    scribbler.overwrite_u32(&member.heartbeat, &[4], 1);
    let heading = format!("audit: heartbeat of process {pid} (slot ");
    says(&domain, "heartbeat", 1, &heading);
    assert!(domain.wait_for_log("restored to what the daemon wrote", WAIT));
    assert!(
        domain.wait_until(WAIT, || (slot.pid(), slot.generation())
            == (pid, generation)),
        "pid {} generation {} not restored",
        slot.pid(),
        slot.generation()
    );
    let now = zerocp_os_linux::clock::monotonic_ms();
    slot.beat(now + 10 * 24 * 3_600_000);
    says(&domain, "heartbeat", 2, "is ahead of the daemon's clock");
    slot.beat(now);
    let audits = domain.audit_counts()["audits"].as_u64().expect("a count");
    assert!(domain.wait_until(WAIT, || {
        domain.audit_counts()["audits"].as_u64() > Some(audits + 1)
    }));
    // The beat count (bytes 16..24) back to 0.
    let count = member.heartbeat.as_ptr().wrapping_add(16).cast();
    // SAFETY: 8-aligned, inside the slot at offset 0 of the writable
    // mapping; every access to the word is atomic.
    unsafe { AtomicU64::from_ptr(count) }.store(0, Ordering::Relaxed);
    says(&domain, "heartbeat", 3, "beat count went back from");
    let processes = domain.ctl_json(&["processes"]);
    let me = processes["processes"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("the forger was removed: {processes}"))
        .clone();
    assert_ne!(me["state"], "unresponsive", "{me}");
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["processes"], 1, "{status}");
    assert_eq!(status["publishers"], 1, "{status}");
    assert!(
        !domain.daemon_log().contains("removed:"),
        "a process was reclaimed"
    );
    drop(member);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

/// Findings of every kind together, from `zerocpctl status --json`.
fn findings(domain: &TestDomain) -> u64 {
    let counts = domain.audit_counts();
    let counts = counts.as_object().expect("an object");
    counts
        .iter()
        .filter(|(kind, _)| kind.as_str() != "audits")
        .map(|(_, n)| n.as_u64().expect("a count"))
        .sum()
}

#[test]
fn a_publisher_blocked_on_a_full_queue_is_no_finding() {
    let domain = start(100);
    let mut subscriber = spawn_child("roles::quiet_subscriber", &["block"], &domain.envs());
    subscriber.expect_line("subscribed", WAIT);
    let mut publisher = spawn_child("roles::blocked_publisher", &[], &domain.envs());
    // Four samples fill the queue (capacity 4); the fifth publish counts
    // its chunk for the subscriber first, then waits for room.
    publisher.expect_line("published 4", WAIT);
    let audits = domain.audit_counts()["audits"].as_u64().expect("a count");
    assert!(domain.wait_until(WAIT, || {
        domain.audit_counts()["audits"].as_u64() > Some(audits + 3)
    }));
    assert_eq!(findings(&domain), 0, "{}", domain.audit_counts());
    subscriber.send_line("quit");
    subscriber.expect_success(WAIT);
    publisher.expect_line("published 5", WAIT);
    publisher.close_stdin();
    publisher.expect_success(WAIT);
    domain.expect_back_to_base(WAIT);
    assert_eq!(findings(&domain), 0, "{}", domain.audit_counts());
    domain.stop();
}

#[test]
fn a_forged_mgmt_state_word_is_restored_and_shuts_nobody_out() {
    let domain = start(100);
    let mut steady = spawn_child("roles::steady", &[], &domain.envs());
    steady.expect_line("ready", WAIT);
    let [mgmt_name, _, _] = domain.segment_names();
    // As a process of the daemon's own user can: reopened through /proc.
    let mgmt = MappedMgmt::of_daemon(domain.daemon_pid(), mgmt_name);
    let state = mgmt.mapping().as_ptr().wrapping_add(12).cast();
    // SAFETY: the state word (4-aligned, inside the 512-byte header) of a
    // writable mapping; every access to it is atomic.
    let state = unsafe { AtomicU32::from_ptr(state) };
    state.store(2, Ordering::Relaxed);
    says(
        &domain,
        "mgmt_header",
        1,
        "audit: mgmt header: 1 word (first `state`)",
    );
    assert_eq!(state.load(Ordering::Relaxed), 1, "READY again");
    // A runtime that read `SHUTTING_DOWN` meanwhile asked its connection,
    // which said the daemon is there: it goes on.
    steady.send_line("pass");
    assert_eq!(steady.expect_line("end: ", WAIT), "passed");
    assert_eq!(newcomer(&domain, "pass"), "passed");
    // Forged again: the repair before the `Registered` reply lets a
    // newcomer in whatever the timer does.
    state.store(2, Ordering::Relaxed);
    assert_eq!(newcomer(&domain, "pass"), "passed");
    steady.close_stdin();
    steady.expect_success(WAIT);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

mod roles {
    use std::io::BufRead;
    use std::time::Duration;

    use crate::e2e_support::{Msg, deadline, expect_command, left, say};
    use zerocp::{FullPolicy, Publisher, Runtime, ServiceDescription, Subscriber};
    use zerocp_os_linux::testing::role::role_args;

    fn audited() -> ServiceDescription {
        ServiceDescription::new("Robot", "Alpha", "Audit").expect("valid")
    }

    /// Joins `alpha`: `attach` creates a subscriber; `pass` also a
    /// publisher, and passes one message. Ends with `end: attached`,
    /// `end: passed`, or `end: corrupt: <error>` when told the group's
    /// control part is corrupt; any other error fails the role.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn newcomer() {
        let Some(args) = role_args("roles::newcomer") else {
            return;
        };
        let rt = Runtime::init("audit-newcomer").expect("init");
        let subscriber = match rt.subscriber::<Msg>(&audited()).create() {
            Ok(subscriber) => subscriber,
            Err(e) if e.is_corrupt_group() => return say(format!("end: corrupt: {e}")),
            Err(e) => panic!("subscriber: {e}"),
        };
        if args[0] == "attach" {
            return say("end: attached");
        }
        let publisher = rt.publisher::<Msg>(&audited()).create().expect("publisher");
        pass(&publisher, &subscriber, 1);
    }

    /// Publishes five messages, saying `published N` after each, then
    /// waits for its stdin to close.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn blocked_publisher() {
        if role_args("roles::blocked_publisher").is_none() {
            return;
        }
        let rt = Runtime::init("audit-blocked-pub").expect("init");
        let publisher = rt.publisher::<Msg>(&audited()).create().expect("publisher");
        for seq in 1..=5 {
            publisher
                .loan_uninit()
                .expect("loan")
                .write(Msg::new(u64::from(std::process::id()), seq))
                .publish()
                .expect("publish");
            say(format!("published {seq}"));
        }
        let mut rest = String::new();
        drop(std::io::stdin().lock().read_line(&mut rest));
    }

    /// Publishes one message to itself: `end: passed`.
    fn pass(publisher: &Publisher<Msg>, subscriber: &Subscriber<Msg>, seq: u64) {
        let sent = Msg::new(u64::from(std::process::id()), seq);
        publisher
            .loan_uninit()
            .expect("loan")
            .write(sent)
            .publish()
            .expect("publish");
        let deadline = deadline();
        loop {
            if let Some(msg) = subscriber.take().expect("take") {
                assert_eq!(*msg, sent);
                return say("end: passed");
            }
            let wait = left(deadline, "the message").min(Duration::from_millis(50));
            subscriber.wait(Some(wait)).expect("wait");
        }
    }

    /// A process of `alpha` at work before an attack: passes a message to
    /// itself for every `pass` the parent sends, until its stdin closes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn steady() {
        if role_args("roles::steady").is_none() {
            return;
        }
        let rt = Runtime::init("audit-steady").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&audited())
            .create()
            .expect("subscriber");
        let publisher = rt.publisher::<Msg>(&audited()).create().expect("publisher");
        say("ready");
        for (seq, line) in std::io::stdin().lock().lines().enumerate() {
            assert_eq!(line.expect("a line from the parent"), "pass");
            pass(&publisher, &subscriber, seq as u64);
        }
    }

    /// A subscriber in `alpha` with a queue of 4 that never takes (its
    /// publishers block on it with the argument `block`); leaves when the
    /// parent says `quit`.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn quiet_subscriber() {
        let Some(args) = role_args("roles::quiet_subscriber") else {
            return;
        };
        let policy = match args.first().map(String::as_str) {
            Some("block") => FullPolicy::BlockPublisher,
            _ => FullPolicy::DiscardOldest,
        };
        let rt = Runtime::init("audit-quiet-sub").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&audited())
            .queue_capacity(4)
            .full_policy(policy)
            .create()
            .expect("subscriber");
        say("subscribed");
        expect_command("quit");
        drop(subscriber);
    }
}
