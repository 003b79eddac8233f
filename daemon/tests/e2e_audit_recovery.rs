//! End to end: what the daemon does about what its audit of shared memory
//! finds, with real processes streaming in the group `alpha`
//! (`Robot/Alpha/*`, one pool of 64 chunks) while a hostile member of
//! `alpha` ([`HostileMember`], this test registered with a publisher there)
//! writes over what that gives it:
//!
//! - a **subscriber queue** whose enqueue position names a cell beyond the
//!   queue's capacity: its subscriber, which would otherwise find its queue
//!   never empty and never yielding, gets a typed `Revoked` error saying
//!   its queue was found corrupt; another subscriber of the same service
//!   keeps receiving, in order; the daemon counts the finding and logs the
//!   revocation;
//! - with `[audit] on_corrupt_pool = "reset-now"`, a **freelist link** out
//!   of range: the daemon resets the group onto fresh memory at once; the
//!   streaming publisher and subscriber are told (`Revoked`: a mempool of
//!   the group was found corrupt), create their ports again and messages
//!   flow again; `zerocpctl groups` counts the reset.
//!
//! After everyone leaves, `zerocpctl mempools` is back to its base.

mod e2e_support;
mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use support::{HostileMember, TestDomain};
use zerocp_core::freelist::END;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

/// How long the parent waits for a condition, a child's line or its exit.
const WAIT: Duration = Duration::from_secs(60);
/// `alpha`'s index among the groups (`default` is 0).
const ALPHA: usize = 1;
/// The victim's queue capacity: 4 cells, a lap of 8 positions.
const VICTIM_QUEUE: u32 = 4;
/// An enqueue position whose cell (6) lies beyond that capacity.
const BEYOND: u32 = 6;

/// A domain with `alpha`, audited every 100 ms, with `on_corrupt_pool`
/// set to `policy`; raw clients never beat, so the heartbeat timeout never
/// strikes in a test.
fn start(policy: &str) -> TestDomain {
    let config = format!(
        "[limits]\nmax_processes = 16\n\n\
         [heartbeat]\ninterval_ms = 50\ntimeout_ms = 120000\n\n\
         [audit]\ninterval_ms = 100\non_corrupt_pool = \"{policy}\"\n\n\
         [[mempool]]\nsize = 64\ncount = 4\n\n\
         [[group]]\nname = \"alpha\"\nservices = [\"Robot/Alpha/*\"]\n\
         max_publishers = 4\nmax_subscribers = 4\n\
         [[group.mempool]]\nsize = 64\ncount = 64\n"
    );
    TestDomain::builder().config_toml(&config).start()
}

fn attacker(domain: &TestDomain) -> HostileMember {
    let member = HostileMember::join(domain, "recovery-attacker", "Robot/Alpha/Attacker", "alpha");
    assert_eq!(member.group_index, ALPHA as u32);
    member
}

/// The `u32` word at `offset` of `member`'s writable mapping of its
/// group's control part.
fn control_u32(member: &HostileMember, offset: usize) -> &AtomicU32 {
    let mapping = member.group.control_mapping();
    assert!(offset.is_multiple_of(4) && offset + 4 <= mapping.len());
    let word = mapping.as_ptr().wrapping_add(offset).cast();
    // SAFETY: in bounds and aligned (asserted) in a writable mapping that
    // lives as long as `member`, which the reference borrows; every access
    // to the word, by any process, is atomic.
    unsafe { AtomicU32::from_ptr(word) }
}

/// The offset of `record` in `member`'s mapping of the control part.
fn offset_in_control<T>(member: &HostileMember, record: &T) -> usize {
    std::ptr::from_ref(record) as usize - member.group.control_mapping().as_ptr() as usize
}

/// The port index of the subscriber that process `pid` has on
/// `Robot/Alpha/Seq`, from `zerocpctl services --json`.
fn subscriber_port_of(domain: &TestDomain, pid: u32) -> u32 {
    let services = domain.ctl_json(&["services"]);
    let listed = services["services"].as_array().expect("a list");
    let seq = listed
        .iter()
        .find(|s| s["service"] == "Robot/Alpha/Seq")
        .unwrap_or_else(|| panic!("Robot/Alpha/Seq is not listed: {services}"));
    let subscribers = seq["subscribers"].as_array().expect("a list");
    let port = subscribers
        .iter()
        .find(|s| s["pid"] == pid)
        .unwrap_or_else(|| panic!("process {pid} has no subscriber: {services}"));
    port["port"].as_u64().expect("a port index") as u32
}

fn resets_of_alpha(domain: &TestDomain) -> u64 {
    let groups = domain.ctl_json(&["groups"]);
    groups["groups"][ALPHA]["resets"]
        .as_u64()
        .unwrap_or_else(|| panic!("no reset count: {groups}"))
}

/// Stops a streaming role and waits for its success.
fn finish(child: &mut TestChild) {
    child.close_stdin();
    child.expect_success(WAIT);
}

#[test]
fn a_scribbled_queue_gets_its_subscriber_a_revoked_error_while_another_keeps_receiving() {
    let domain = start("reset-when-empty");
    let envs = domain.envs();
    let mut bystander = spawn_child("roles::subscriber", &["steady"], &envs);
    bystander.expect_line("subscribed", WAIT);
    let mut victim = spawn_child("roles::subscriber", &["victim"], &envs);
    victim.expect_line("subscribed", WAIT);
    let mut publisher = spawn_child("roles::publisher", &[], &envs);
    publisher.expect_line("publishing", WAIT);
    victim.expect_line("flowing", WAIT);
    bystander.expect_line("flowing", WAIT);

    let member = attacker(&domain);
    let port = subscriber_port_of(&domain, victim.pid());
    let control = member.group.control();
    let queue = &control.subscriber(port).expect("the victim's port").queue;
    // The queue's first word is its enqueue position.
    control_u32(&member, offset_in_control(&member, queue)).store(BEYOND, Ordering::Relaxed);

    let error = victim.expect_line("revoked: ", WAIT);
    assert!(
        error.contains("its queue in shared memory was found corrupt"),
        "{error}"
    );
    victim.expect_success(WAIT);
    bystander.send_line("more 20");
    bystander.expect_line("took 20 more", WAIT);
    assert!(
        domain.wait_for_findings("subscriber_queue", 1, WAIT),
        "{}",
        domain.audit_counts()
    );
    let revoked = format!("revoked its subscriber port {port} of group 1");
    assert!(
        domain.wait_for_log(&revoked, WAIT),
        "the daemon did not log {revoked:?}:\n{}",
        domain.daemon_log()
    );
    let log = domain.daemon_log();
    assert_eq!(log.matches(&revoked).count(), 1, "revoked once:\n{log}");

    finish(&mut publisher);
    finish(&mut bystander);
    drop(member);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

#[test]
fn with_reset_now_a_scribbled_freelist_resets_the_group_and_traffic_recovers() {
    let domain = start("reset-now");
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::subscriber", &["steady"], &envs);
    subscriber.expect_line("subscribed", WAIT);
    let mut publisher = spawn_child("roles::publisher", &[], &envs);
    publisher.expect_line("publishing", WAIT);
    subscriber.expect_line("flowing", WAIT);

    let member = attacker(&domain);
    let control = member.group.control();
    let list = control.freelist(0).expect("pool 0");
    let links = control
        .layout()
        .links_range(0, control.config())
        .expect("pool 0");
    // The chain's last index (its link is END): the bottom of the stack,
    // which the stream (a few chunks at a time out of 64) never pops. The
    // walk races with the stream, so the link is changed only while it
    // still says END, else walked again.
    let cut = (0..100).any(|_| {
        let mut bottom = None;
        list.walk(|index| bottom = Some(index));
        let link = links.0 as usize + 4 * bottom.expect("free chunks") as usize;
        control_u32(&member, link)
            .compare_exchange(END, 5000, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    });
    assert!(cut, "never found the chain's end");

    let told = "a mempool of its segment group was found corrupt, and the group was reset";
    for child in [&mut publisher, &mut subscriber] {
        let error = child.expect_line("revoked: ", WAIT);
        assert!(error.contains(told), "{}: {error}", child.role());
        child.expect_line("recreated", WAIT);
    }
    // Messages published on the new memory arrive.
    subscriber.expect_line("flowing", WAIT);
    assert_eq!(resets_of_alpha(&domain), 1);
    let reset = "group \"alpha\" reset onto fresh memory (incarnation 1): the audit found \
                 mempool 0 corrupt";
    assert!(
        domain.daemon_log().contains(reset),
        "{}",
        domain.daemon_log()
    );
    assert!(domain.wait_for_findings("freelist_chain", 1, WAIT));

    finish(&mut publisher);
    finish(&mut subscriber);
    drop(member);
    domain.expect_back_to_base(WAIT);
    assert_eq!(resets_of_alpha(&domain), 1, "reset once");
    domain.stop();
}

mod roles {
    use std::io::BufRead;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;

    use crate::e2e_support::{Msg, publish_recreating, say};
    use zerocp::{Runtime, ServiceDescription, Subscriber, TakeError, WaitError};
    use zerocp_os_linux::testing::role::role_args;

    /// A pause between two publishes: paces the load, synchronises nothing.
    const PACE: Duration = Duration::from_micros(500);
    /// How long a subscriber sleeps for data at most before it looks again.
    const POLL: Duration = Duration::from_millis(50);
    /// Messages a subscriber takes before it says traffic flows.
    const FLOWING: u64 = 20;

    fn seq() -> ServiceDescription {
        ServiceDescription::new("Robot", "Alpha", "Seq").expect("valid")
    }

    /// Set once the parent closes this process's stdin; `more N` lines add
    /// `N` to `more` on the way.
    fn stdin_watch(more: &Arc<AtomicU64>) -> Arc<AtomicBool> {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, more) = (Arc::clone(&stop), Arc::clone(more));
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let line = line.expect("a line from the parent");
                let n = line.strip_prefix("more ").expect("`more N`");
                more.fetch_add(n.parse().expect("a count"), Ordering::AcqRel);
            }
            flag.store(true, Ordering::Release);
        });
        stop
    }

    /// Publishes until stopped; when its port is revoked it says so once,
    /// creates it again and goes on.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = Runtime::init("recovery-pub").expect("init");
        let stop = stdin_watch(&Arc::new(AtomicU64::new(0)));
        publish_recreating(&rt, &seq(), PACE, &stop);
    }

    fn subscriber_port(rt: &Runtime, victim: bool) -> Subscriber<Msg> {
        let builder = rt.subscriber::<Msg>(&seq());
        let builder = if victim {
            builder.queue_capacity(super::VICTIM_QUEUE)
        } else {
            builder
        };
        builder.create().expect("subscriber")
    }

    /// Takes until stopped, every message valid and in order, and says
    /// `flowing` after [`FLOWING`] since it (re)created its port, and `took
    /// N more` once it took the `N` more the parent asked for. When its port
    /// is revoked it says so; a `victim` then ends, a `steady` subscriber
    /// creates the port again (once).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn subscriber() {
        let Some(args) = role_args("roles::subscriber") else {
            return;
        };
        let victim = args[0] == "victim";
        let rt = Runtime::init("recovery-sub").expect("init");
        let mut subscriber = subscriber_port(&rt, victim);
        let more = Arc::new(AtomicU64::new(0));
        let stop = stdin_watch(&more);
        say("subscribed");
        let (mut taken, mut last, mut revoked) = (0u64, None, false);
        let mut goal = None;
        while !stop.load(Ordering::Acquire) {
            let asked = more.swap(0, Ordering::AcqRel);
            if asked > 0 {
                goal = Some((asked, taken + asked));
            }
            let error = match subscriber.take() {
                Ok(Some(msg)) => {
                    assert!(msg.is_valid(), "a corrupt message {:?}", *msg);
                    assert!(last.is_none_or(|l| msg.seq > l), "out of order");
                    last = Some(msg.seq);
                    taken += 1;
                    if taken == FLOWING {
                        say("flowing");
                    }
                    if let Some((n, at)) = goal
                        && taken == at
                    {
                        say(format!("took {n} more"));
                        goal = None;
                    }
                    None
                }
                Ok(None) => match subscriber.wait(Some(POLL)) {
                    Ok(_) => None,
                    Err(e @ WaitError::Revoked { .. }) => Some(e.to_string()),
                    Err(e) => panic!("wait: {e}"),
                },
                Err(e @ TakeError::Revoked { .. }) => Some(e.to_string()),
                Err(e) => panic!("take: {e}"),
            };
            if let Some(error) = error {
                say(format!("revoked: {error}"));
                if victim {
                    return;
                }
                assert!(!revoked, "revoked twice: {error}");
                revoked = true;
                drop(subscriber);
                subscriber = subscriber_port(&rt, false);
                (taken, last) = (0, None);
                say("recreated");
            }
        }
    }
}
