//! Memory as capabilities: the segments are sealed memory files handed out
//! as descriptors, and the rights follow the role. A registered process gets
//! the mgmt segment read-only and its own heartbeat file read-write; a
//! subscriber its group's payload part read-only; only a publisher brings a
//! read-write descriptor of a payload part. Nothing of
//! the domain exists in `/dev/shm`; no holder can resize a segment; a
//! process that only subscribes dies of SIGSEGV when it writes into a
//! sample, and cannot reopen its read-only descriptor writable.

mod e2e_support;
mod support;

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use rustix::fs::FallocateFlags;
use rustix::io::Errno;
use support::{RawClient, TestDomain, kernel_maps_writable};
use zerocp_core::wire::{CreatePublisher, Message};
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::role::{spawn_child, spawn_child_as};

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);
/// The user a test child switches to (`nobody`).
const NOBODY: u32 = 65534;

/// Wraps the descriptors of a port reply as the default group's control
/// and payload parts, checking them.
fn group_parts(domain: &TestDomain, fds: Vec<OwnedFd>) -> [SharedMemory; 2] {
    let [_, control_name, payload_name] = domain.segment_names();
    let [control, payload] = <[OwnedFd; 2]>::try_from(fds).expect("two descriptors");
    [
        SharedMemory::from_fd(control, control_name).expect("a sealed control part"),
        SharedMemory::from_fd(payload, payload_name).expect("a sealed payload part"),
    ]
}

#[test]
fn registration_hands_out_the_mgmt_segment_read_only_and_ports_their_groups_parts_by_role() {
    let domain = TestDomain::start();
    let mut client = RawClient::connect(&domain.socket_path());
    let (registered, fds) = client.register_with_segments("capabilities");
    let [mgmt_name, _, _] = domain.segment_names();
    let [mgmt, heartbeat] = <[OwnedFd; 2]>::try_from(fds)
        .expect("the mgmt segment and the heartbeat file at registration");
    let mgmt = SharedMemory::from_fd(mgmt, mgmt_name).expect("a sealed mgmt segment");
    assert_eq!(mgmt.size() as u64, registered.mgmt_size);
    assert!(!mgmt.is_writable(), "the mgmt segment must be read-only");
    assert_eq!(kernel_maps_writable(&mgmt), Err(Errno::ACCESS));
    let heartbeat_name = zerocp_os_linux::names::SegmentName::heartbeat(
        &zerocp_os_linux::names::DomainName::new(domain.domain()).expect("valid"),
        registered.process_slot,
    );
    let heartbeat = SharedMemory::from_fd(heartbeat, heartbeat_name).expect("a sealed file");
    assert_eq!(
        heartbeat.size() as u64,
        u64::from(registered.heartbeat_size)
    );
    assert!(
        heartbeat.is_writable(),
        "the heartbeat file must be writable"
    );
    assert_eq!(kernel_maps_writable(&heartbeat), Ok(()));
    // The seals: nobody shrinks or grows a segment under its peers (the
    // read-only mgmt segment cannot be resized through its descriptor at all).
    assert_eq!(rustix::fs::ftruncate(&heartbeat, 0), Err(Errno::PERM));
    let twice = 2 * heartbeat.size() as u64;
    assert_eq!(
        rustix::fs::fallocate(&heartbeat, FallocateFlags::empty(), 0, twice),
        Err(Errno::PERM)
    );
    assert!(rustix::fs::ftruncate(&mgmt, 0).is_err());
    assert!(
        rustix::fs::fallocate(&mgmt, FallocateFlags::empty(), 0, 2 * registered.mgmt_size).is_err()
    );
    assert_eq!(
        rustix::fs::fstat(&mgmt).unwrap().st_size as u64,
        registered.mgmt_size
    );
    assert_eq!(domain.dev_shm_entries(), Vec::<std::path::PathBuf>::new());

    // A subscriber brings its group's control part (writable) and payload
    // part read-only; a publisher the payload part writable.
    let (created, fds) = client.create_subscriber_with_segments::<u64>("Caps/Raw/Rights", 2);
    let [control, payload] = group_parts(&domain, fds);
    assert_eq!(
        (control.size() as u64, payload.size() as u64),
        (created.control_size, created.payload_size)
    );
    assert!(control.is_writable(), "the control part must be writable");
    assert!(
        !payload.is_writable(),
        "a subscriber got the payload writable"
    );
    assert_eq!(kernel_maps_writable(&payload), Err(Errno::ACCESS));
    assert!(rustix::fs::ftruncate(&payload, 0).is_err());
    assert_eq!(rustix::fs::ftruncate(&control, 0), Err(Errno::PERM));
    let request = Message::CreatePublisher(CreatePublisher {
        service: support::parse_service("Caps/Raw/Rights"),
        type_info: zerocp_core::service::TypeInfo {
            size: 8,
            align: 8,
            name: zerocp_core::fixed_string::FixedString::from_str_truncated("u64"),
        },
        history: 0,
        max_loans: 1,
        shape: zerocp_core::wire::PayloadShape::Sized,
        max_slice_len: 0,
        user_header: zerocp_core::service::TypeInfo::of::<()>(),
        layout: zerocp_core::type_layout::TypeLayout::unknown(),
    });
    let (reply, fds) = client
        .client
        .request_with_fds(&request, support::REPLY_DEADLINE)
        .expect("CreatePublisher");
    assert!(matches!(reply, Message::PublisherCreated(_)), "{reply:?}");
    let [_, writable] = group_parts(&domain, fds);
    assert!(writable.is_writable());
    assert_eq!(kernel_maps_writable(&writable), Ok(()));
    drop(client);
    domain.stop();
}

#[test]
fn a_process_that_only_subscribes_dies_of_sigsegv_when_it_writes_into_a_sample() {
    let domain = TestDomain::builder().mempools(&[(64, 16)]).start();
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::scribbling_subscriber", &[], &envs);
    subscriber.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::publisher", &[], &envs);
    subscriber.expect_line("writing into sample ", WAIT);
    // Traffic flowed (a sample was published and taken) and both processes
    // still map the group's memory: nothing of the domain is in /dev/shm.
    assert_eq!(domain.dev_shm_entries(), Vec::<std::path::PathBuf>::new());
    let status = subscriber.wait(WAIT);
    assert_eq!(
        status.signal(),
        Some(rustix::process::Signal::SEGV.as_raw()),
        "the write into a read-only sample did not fault: {status}"
    );
    publisher.send_line("publish");
    publisher.expect_line("published again", WAIT);
    publisher.expect_success(WAIT);
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == 0),
        "the dead subscriber's chunks did not come back: {:?}",
        domain.mempools()
    );
    domain.stop();
}

/// A process of another user that only subscribes cannot turn its
/// read-only descriptor into a writable one through `/proc/self/fd`: the
/// segment's mode (0600, the daemon's user) refuses the reopen.
#[test]
fn a_reader_cannot_reopen_its_descriptor_writable() {
    if !rustix::process::getuid().is_root() {
        eprintln!("skipped: running a child as another user needs root");
        return;
    }
    let domain = TestDomain::builder()
        .config_toml("[access]\nuids = [65534]\nsocket_mode = 0o666\n")
        .start();
    domain.open_to_other_users();
    let socket = domain.socket_path().display().to_string();
    let mut reader = spawn_child_as("roles::reopening_reader", &[&socket], &[], NOBODY, NOBODY);
    assert_eq!(reader.expect_line("reopen ", WAIT), "refused EACCES");
    reader.expect_success(WAIT);
    domain.stop();
}

mod roles {
    use super::*;
    use crate::e2e_support::{Msg, domain, expect_command, say, service};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = Runtime::init("caps-publisher").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service("caps"))
            .create()
            .expect("publisher");
        let id = u64::from(std::process::id());
        let sample = publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(id, 0));
        sample.publish().expect("publish");
        // After the subscriber died, the publisher goes on.
        expect_command("publish");
        let sample = publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(id, 1));
        sample.publish().expect("publish after the subscriber died");
        say("published again");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn scribbling_subscriber() {
        if role_args("roles::scribbling_subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("caps-scribbler").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service("caps"))
            .create()
            .expect("subscriber");
        say("ready");
        let sample = loop {
            if let Some(sample) = subscriber.take().expect("take") {
                break sample;
            }
            subscriber.wait(Some(WAIT)).expect("wait");
        };
        assert!(sample.is_valid(), "{:?}", *sample);
        say(format!("writing into sample {}", domain()));
        let address = std::ptr::from_ref::<Msg>(&sample).expose_provenance();
        let target = std::ptr::with_exposed_provenance_mut::<Msg>(address);
        // SAFETY: none: writing through a shared sample is exactly what the
        // kernel must refuse here (the page is mapped read-only), and this
        // process dies of SIGSEGV before the write could be observed.
        unsafe { std::ptr::write_volatile(target, Msg::new(0, 0)) };
        say("the write went through");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn reopening_reader() {
        let Some(args) = role_args("roles::reopening_reader") else {
            return;
        };
        let mut client = RawClient::connect(std::path::Path::new(&args[0]));
        client.register("reader");
        let (_, fds) = client.create_subscriber_with_segments::<u64>("Caps/Raw/Reopen", 2);
        let data = fds.get(1).expect("the payload part");
        let path = format!("/proc/self/fd/{}", data.as_fd().as_raw_fd());
        let flags = rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC;
        match rustix::fs::open(path, flags, rustix::fs::Mode::empty()) {
            Err(Errno::ACCESS) => say("reopen refused EACCES"),
            Err(errno) => say(format!("reopen failed otherwise: {errno:?}")),
            Ok(_) => say("reopen succeeded: the data segment is writable"),
        }
    }
}
