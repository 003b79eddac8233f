//! End to end: what a registered process can do to the domain-wide state
//! and to other processes' heartbeats: nothing.
//!
//! - The mgmt segment comes read-only: mapping its descriptor writable
//!   fails with `EACCES`, so does `mprotect` of a read-only mapping to
//!   writable, and a process that writes the state word through its
//!   mapping dies of `SIGSEGV`; the daemon and everyone else go on (the
//!   state word still says `READY`).
//! - Heartbeats are private: a runtime holds no descriptor of any heartbeat
//!   file (it closes its own once mapped) and maps exactly one, its own
//!   (seen in its `/proc/self/fd` and `/proc/self/maps`), never that of the
//!   process registered before it; and a slot's next owner gets a fresh
//!   file, not the one a reclaimed process (and whoever it passed its
//!   descriptor to) still holds.

mod e2e_support;
mod support;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use support::{MappedMgmt, RawClient, TestDomain};
use zerocp_core::mgmt::STATE_READY;
use zerocp_core::wire::Message;
use zerocp_os_linux::testing::role::spawn_child;

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);
/// Byte offset of the state word in the mgmt header.
const STATE_OFFSET: usize = 12;

/// Raw clients never beat: a timeout that never strikes during a test.
fn domain() -> TestDomain {
    TestDomain::builder().heartbeat_timeout_ms(120_000).start()
}

#[test]
fn a_process_cannot_write_the_mgmt_segment() {
    let domain = domain();
    let socket = domain.socket_path().display().to_string();
    let mut writer = spawn_child("roles::state_writer", &[&socket], &domain.envs());
    assert_eq!(writer.expect_line("map writable: ", WAIT), "refused EACCES");
    assert_eq!(
        writer.expect_line("mprotect writable: ", WAIT),
        "refused EACCES"
    );
    writer.expect_line("writing the state word", WAIT);
    let status = writer.wait(WAIT);
    assert_eq!(
        status.signal(),
        Some(rustix::process::Signal::SEGV.as_raw()),
        "the write into the mgmt segment did not fault: {status}"
    );
    let mut client = RawClient::connect(&domain.socket_path());
    let (_, fds) = client.register_with_segments("observer");
    let [mgmt_name, _, _] = domain.segment_names();
    let mapped = MappedMgmt::from_registration(fds, mgmt_name);
    assert_eq!(mapped.view().state(), STATE_READY);
    assert_eq!(
        domain.ctl_json(&["status"])["daemon_pid"],
        domain.daemon_pid()
    );
    drop(client);
    domain.stop();
}

#[test]
fn a_process_holds_no_heartbeat_but_its_own() {
    let domain = domain();
    let mut first = RawClient::connect(&domain.socket_path());
    let (registered, _fds) = first.register_with_segments("first");
    let mut inspector = spawn_child("roles::heartbeat_inspector", &[], &domain.envs());
    let prefix = format!("zerocp.{}.heartbeat.", domain.domain());
    let held = inspector.expect_line("descriptors ", WAIT);
    assert_eq!(held, "[]", "the runtime keeps heartbeat descriptors open");
    let mapped = inspector.expect_line("mappings ", WAIT);
    let mapped: Vec<&str> = mapped.trim_matches(['[', ']']).split_whitespace().collect();
    assert_eq!(
        mapped.len(),
        1,
        "not exactly one heartbeat mapped: {mapped:?}"
    );
    let own = mapped[0]
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{} is not a heartbeat file of the domain", mapped[0]));
    assert_ne!(
        own,
        registered.process_slot.to_string(),
        "the runtime mapped the first process's heartbeat"
    );
    assert_eq!(inspector.expect_line("mgmt mapped: ", WAIT), "r--s");
    inspector.close_stdin();
    inspector.expect_success(WAIT);
    drop(first);
    domain.stop();
}

#[test]
fn a_slots_next_owner_gets_a_fresh_heartbeat_file() {
    let domain = domain();
    let mut first = RawClient::connect(&domain.socket_path());
    let (before, fds) = first.register_with_segments("first");
    let old = fds.into_iter().nth(1).expect("a heartbeat file");
    assert_eq!(first.request(&Message::Unregister), Message::Unregistered);
    let mut next = RawClient::connect(&domain.socket_path());
    let (after, fds) = next.register_with_segments("next");
    assert_eq!(
        after.process_slot, before.process_slot,
        "the slot is reused"
    );
    let new = fds.into_iter().nth(1).expect("a heartbeat file");
    let inode = |fd| rustix::fs::fstat(fd).expect("fstat").st_ino;
    assert_ne!(
        inode(&old),
        inode(&new),
        "the next owner got the reclaimed process's heartbeat file"
    );
    drop((first, next));
    domain.stop();
}

mod roles {
    use std::io::BufRead;
    use std::os::fd::OwnedFd;
    use std::sync::atomic::{AtomicU32, Ordering};

    use rustix::io::Errno;
    use rustix::mm::MprotectFlags;
    use zerocp::Runtime;
    use zerocp_os_linux::mmap::Mapping;
    use zerocp_os_linux::names::{DomainName, SegmentName};
    use zerocp_os_linux::shm::SharedMemory;
    use zerocp_os_linux::testing::role::role_args;

    use super::STATE_OFFSET;
    use crate::e2e_support::{domain, say};
    use crate::support::{RawClient, kernel_maps_writable};

    fn refused(result: Result<(), Errno>) -> String {
        match result {
            Err(Errno::ACCESS) => "refused EACCES".to_owned(),
            Err(errno) => format!("failed otherwise: {errno:?}"),
            Ok(()) => "allowed".to_owned(),
        }
    }

    /// Registers raw, then tries to write the mgmt segment every way it has.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn state_writer() {
        let Some(args) = role_args("roles::state_writer") else {
            return;
        };
        let mut client = RawClient::connect(std::path::Path::new(&args[0]));
        let (_, fds) = client.register_with_segments("state-writer");
        let [mgmt, _heartbeat] = <[OwnedFd; 2]>::try_from(fds).expect("two descriptors");
        let name = SegmentName::mgmt(&DomainName::new(&domain()).expect("valid"));
        let mgmt = SharedMemory::from_fd(mgmt, name).expect("a sealed mgmt segment");
        say(format!(
            "map writable: {}",
            refused(kernel_maps_writable(&mgmt))
        ));
        let map = Mapping::map(&mgmt, false).expect("map read-only");
        // SAFETY: the range is exactly `map`'s; only its protection changes,
        // and the kernel must refuse that.
        let protect = unsafe {
            rustix::mm::mprotect(
                map.as_ptr().cast(),
                map.len(),
                MprotectFlags::READ | MprotectFlags::WRITE,
            )
        };
        say(format!("mprotect writable: {}", refused(protect)));
        say("writing the state word");
        // SAFETY: none: writing the read-only page is exactly what the
        // kernel must refuse, and this process dies of SIGSEGV first.
        let state = unsafe { AtomicU32::from_ptr(map.as_ptr().wrapping_add(STATE_OFFSET).cast()) };
        state.store(2, Ordering::SeqCst);
        say("the write went through");
    }

    /// The heartbeat files this process holds a descriptor of (from
    /// `/proc/self/fd`) and maps (from `/proc/self/maps`), and how it maps
    /// the mgmt segment; then waits for the parent.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn heartbeat_inspector() {
        if role_args("roles::heartbeat_inspector").is_none() {
            return;
        }
        let _rt = Runtime::init("inspector").expect("init");
        let heartbeat = format!("zerocp.{}.heartbeat.", domain());
        let mgmt = format!("memfd:zerocp.{}.mgmt", domain());
        let mut held: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
            .map(|target| target.display().to_string())
            .filter(|target| target.contains(&heartbeat))
            .collect();
        held.sort();
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        let name = |line: &str| {
            let at = line.find("memfd:")?;
            let name = line[at + "memfd:".len()..].split_whitespace().next()?;
            Some(name.to_owned())
        };
        let mut mapped: Vec<String> = maps
            .lines()
            .filter_map(name)
            .filter(|name| name.starts_with(&heartbeat))
            .collect();
        mapped.dedup();
        let mgmt_perms: Vec<&str> = maps
            .lines()
            .filter(|line| line.contains(&mgmt))
            .filter_map(|line| line.split_whitespace().nth(1))
            .collect();
        say(format!("descriptors [{}]", held.join(" ")));
        say(format!("mappings [{}]", mapped.join(" ")));
        say(format!("mgmt mapped: {}", mgmt_perms.join(" ")));
        let mut line = String::new();
        drop(std::io::stdin().lock().read_line(&mut line));
    }
}
