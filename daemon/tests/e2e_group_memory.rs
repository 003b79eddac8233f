//! End to end: every segment group has memory of its own, handed out with
//! ports only.
//!
//! The domain has two groups, `alpha` (`Robot/Alpha/*`) and `beta`
//! (`Robot/Beta/*`), besides `default`. A process with ports only in
//! `alpha` maps `alpha`'s control and payload parts and holds no
//! descriptor or mapping of `beta` (nor of `default`); one that only
//! subscribes maps its group's payload read-only; and once a process's
//! last port of a group is gone, so is its mapping of the group.
//!
//! A group's port tables are committed slot by slot: with generous limits
//! the daemon's control part holds a few pages after audits have run, and
//! grows by about the records of the ports a process creates. With
//! `commit_pools = "on-touch"` the payload part holds only the chunk pages
//! publishers wrote.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_core::port::{PublisherPort, SubscriberPort};
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::testing::role::spawn_child;
use zerocp_os_linux::testing::segment_fd_of;

const WAIT: Duration = Duration::from_secs(120);

fn config() -> String {
    "[limits]\nmax_processes = 8\nmax_publishers = 8\nmax_subscribers = 8\n\n\
     [[mempool]]\nsize = 64\ncount = 4\n\n\
     [[group]]\nname = \"alpha\"\nservices = [\"Robot/Alpha/*\"]\n\
     max_publishers = 2\nmax_subscribers = 4\n\
     [[group.mempool]]\nsize = 64\ncount = 4\n\n\
     [[group]]\nname = \"beta\"\nservices = [\"Robot/Beta/*\"]\n\
     [[group.mempool]]\nsize = 64\ncount = 4\n"
        .to_owned()
}

#[test]
fn a_process_maps_only_the_groups_it_has_ports_in() {
    let domain = TestDomain::builder().config_toml(&config()).start();
    let envs = domain.envs();
    let mut app = spawn_child("roles::alpha_only", &[], &envs);
    app.expect_line("ok received", WAIT);
    app.expect_line("ok isolated", WAIT);
    app.expect_line("ok unmapped", WAIT);
    app.expect_success(WAIT);
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn a_subscriber_only_process_maps_its_groups_payload_read_only() {
    let domain = TestDomain::builder().config_toml(&config()).start();
    let envs = domain.envs();
    let mut app = spawn_child("roles::alpha_subscriber", &[], &envs);
    app.expect_line("ok read-only", WAIT);
    app.expect_success(WAIT);
    domain.stop();
}

/// The bytes of memory the running daemon's default control part holds
/// (`st_blocks` of its memory file, through `/proc/<pid>/fd`).
fn control_allocated(domain: &TestDomain) -> u64 {
    let [_, control, _] = domain.segment_names();
    allocated(domain, &control)
}

/// The bytes of memory the running daemon's default payload part holds.
fn payload_allocated(domain: &TestDomain) -> u64 {
    let [_, _, payload] = domain.segment_names();
    allocated(domain, &payload)
}

fn allocated(domain: &TestDomain, part: &SegmentName) -> u64 {
    let pid = domain.daemon_pid();
    let fd = segment_fd_of(pid, part).expect("the daemon holds the part");
    let stat = rustix::fs::stat(format!("/proc/{pid}/fd/{fd}")).expect("stat");
    stat.st_blocks as u64 * 512
}

/// Waits for two more audits of the running daemon.
fn two_more_audits(domain: &TestDomain) {
    let audits = || domain.audit_counts()["audits"].as_u64().expect("a count");
    let before = audits();
    assert!(
        domain.wait_until(WAIT, || audits() >= before + 2),
        "no audit ran"
    );
}

#[test]
fn port_records_are_committed_as_ports_are_created() {
    if zerocp_os_linux::testing::shmem_huge_pages() {
        return;
    }
    let domain = TestDomain::builder()
        .config_toml(
            "[limits]\nmax_publishers = 512\nmax_subscribers = 2048\n\n\
             [[mempool]]\nsize = 64\ncount = 16\n",
        )
        .start();
    two_more_audits(&domain);
    let idle = control_allocated(&domain);
    let record = size_of::<SubscriberPort>() as u64;
    let page = rustix::param::page_size() as u64;
    assert!(
        idle <= 4 * page,
        "{idle} B held by an idle daemon (2048 slots: 5.4 MB)"
    );
    let mut app = spawn_child("roles::eight_subscribers", &[], &domain.envs());
    app.expect_line("ok created", WAIT);
    let with_ports = control_allocated(&domain);
    assert!(with_ports >= idle + 8 * record, "{idle} -> {with_ports} B");
    assert!(
        with_ports <= idle + 8 * record + size_of::<PublisherPort>() as u64 + 3 * page,
        "{idle} -> {with_ports} B for 8 subscribers and a publisher"
    );
    two_more_audits(&domain);
    assert_eq!(
        control_allocated(&domain),
        with_ports,
        "an audit read a slot never used"
    );
    app.close_stdin();
    app.expect_success(WAIT);
    domain.stop();
}

#[test]
fn pools_committed_on_touch_hold_only_the_chunks_written() {
    if zerocp_os_linux::testing::shmem_huge_pages() {
        return;
    }
    let domain = TestDomain::builder()
        .config_toml("[memory]\ncommit_pools = \"on-touch\"\n")
        .start();
    assert_eq!(payload_allocated(&domain), 0, "the default pools, 30 MiB");
    let mut app = spawn_child("roles::eight_subscribers", &[], &domain.envs());
    app.expect_line("ok created", WAIT);
    two_more_audits(&domain);
    // Four samples of a 24-byte type: four 192-byte chunks of the first
    // pool, all in the first page (a second at most, for another page size).
    let page = rustix::param::page_size() as u64;
    let written = payload_allocated(&domain);
    assert!(
        written > 0 && written <= 2 * page,
        "{written} B for 4 samples"
    );
    app.close_stdin();
    app.expect_success(WAIT);
    domain.stop();
}

mod roles {
    use crate::e2e_support::{Msg, deadline, domain, left, publish_seq, say};
    use zerocp::{Runtime, ServiceDescription};
    use zerocp_os_linux::testing::role::role_args;

    fn alpha() -> ServiceDescription {
        ServiceDescription::new("Robot", "Alpha", "Pose").expect("valid")
    }

    /// This process's mappings of group `group`'s parts: (part, writable).
    fn mapped_parts(group: &str) -> Vec<(String, bool)> {
        let prefix = format!("/memfd:zerocp.{}.{group}.", domain());
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        maps.lines()
            .filter_map(|line| {
                let at = line.find(&prefix)?;
                let part = line[at + prefix.len()..].split_whitespace().next()?;
                let writable = line.split_whitespace().nth(1)?.starts_with("rw");
                Some((part.to_owned(), writable))
            })
            .collect()
    }

    /// This process's descriptors of group `group`'s parts.
    fn held_parts(group: &str) -> Vec<String> {
        let prefix = format!("/memfd:zerocp.{}.{group}.", domain());
        std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .map(|link| link.to_string_lossy().into_owned())
            .filter(|link| link.starts_with(&prefix))
            .collect()
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_only() {
        if role_args("roles::alpha_only").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-group-memory").expect("init");
        let subscriber = rt.subscriber::<Msg>(&alpha()).create().expect("subscriber");
        let publisher = rt.publisher::<Msg>(&alpha()).create().expect("publisher");
        publish_seq(&publisher, u64::from(std::process::id()), 0..1);
        let deadline = deadline();
        let sample = loop {
            if let Some(sample) = subscriber.take().expect("take") {
                break sample;
            }
            subscriber
                .wait(Some(left(deadline, "an alpha sample")))
                .expect("wait");
        };
        assert!(sample.is_valid());
        drop(sample);
        say("ok received");
        let mut alpha = mapped_parts("alpha");
        alpha.sort();
        assert_eq!(
            alpha,
            [
                ("control".to_owned(), true),
                ("payload".to_owned(), false),
                ("payload".to_owned(), true)
            ],
            "alpha's control part, its payload read-only (subscriber) and writable (publisher)"
        );
        for other in ["beta", "default"] {
            assert_eq!(mapped_parts(other), [], "{other} is mapped");
            assert_eq!(held_parts(other), Vec::<String>::new(), "{other} is held");
        }
        assert_eq!(
            held_parts("alpha"),
            Vec::<String>::new(),
            "descriptors kept"
        );
        say("ok isolated");
        drop((publisher, subscriber));
        assert_eq!(
            mapped_parts("alpha"),
            [],
            "alpha is still mapped without ports"
        );
        say("ok unmapped");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn alpha_subscriber() {
        if role_args("roles::alpha_subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-group-memory-sub").expect("init");
        let _subscriber = rt.subscriber::<Msg>(&alpha()).create().expect("subscriber");
        let mut parts = mapped_parts("alpha");
        parts.sort();
        assert_eq!(
            parts,
            [("control".to_owned(), true), ("payload".to_owned(), false)],
            "a subscriber maps the control part writable and the payload read-only"
        );
        assert_eq!(mapped_parts("beta"), []);
        say("ok read-only");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn eight_subscribers() {
        if role_args("roles::eight_subscribers").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-group-memory-commit").expect("init");
        let service = ServiceDescription::new("Robot", "Commit", "Pose").expect("valid");
        let subscribers: Vec<_> = (0..8)
            .map(|_| rt.subscriber::<Msg>(&service).create().expect("subscriber"))
            .collect();
        let publisher = rt.publisher::<Msg>(&service).create().expect("publisher");
        publish_seq(&publisher, u64::from(std::process::id()), 0..4);
        for subscriber in &subscribers {
            assert!(
                subscriber
                    .take()
                    .expect("take")
                    .is_some_and(|s| s.is_valid())
            );
        }
        say("ok created");
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest);
    }
}
