//! Helpers of the multi-process tests: segments named after their test, the
//! mapping a child role opens, waits with deadlines.
//!
//! The children themselves are started and watched by
//! `zerocp_os_linux::testing::role` (the runner the daemon's tests use too):
//! each role is an `#[ignore]`d test that starts with
//! [`role_args`](zerocp_os_linux::testing::role::role_args) or
//! [`child_mapping`].
#![allow(dead_code)] // Each test binary uses the helpers it needs.

use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::role::role_args;
use zerocp_os_linux::testing::{TMP_PREFIX, open_segment_of, test_object_name};

/// How long any child may take.
pub const CHILD_DEADLINE: Duration = Duration::from_secs(60);

/// A new segment of `size` bytes, named after the test.
pub fn test_segment(size: usize) -> SharedMemory {
    let name = SegmentName::new(&format!("zerocp.{}", test_object_name(120))).unwrap();
    SharedMemory::create(&name, size).unwrap()
}

/// The arguments that tell a child where `shm` is: this process's pid, the
/// descriptor, the name ([`child_mapping`] reads them).
pub fn segment_args(shm: &SharedMemory) -> [String; 3] {
    [
        std::process::id().to_string(),
        shm.as_fd().as_raw_fd().to_string(),
        shm.name().to_string(),
    ]
}

/// In a child process started for `role` with [`segment_args`]: that
/// segment, opened through the parent's descriptor and mapped read-write.
pub fn child_mapping(role: &str) -> Option<(SharedMemory, Mapping)> {
    let args = role_args(role)?;
    let pid = args[0].parse().unwrap();
    let fd = args[1].parse().unwrap();
    let name = SegmentName::new(&args[2]).unwrap();
    let shm = open_segment_of(pid, fd, name, true).unwrap();
    let map = Mapping::map(&shm, true).unwrap();
    Some((shm, map))
}

/// A path in the temporary directory unique to this call, naming the test.
pub fn unique_tmp_path(suffix: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{TMP_PREFIX}{}{suffix}", test_object_name(100)))
}

/// Polls `done` until it holds or `timeout` passes; returns whether it held.
pub fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        // Poll gently: under qemu-user the other process needs the CPU.
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Waits until thread `tid` of process `pid` sleeps ('S' in /proc).
pub fn wait_until_sleeping(pid: u32, tid: u32) {
    let path = format!("/proc/{pid}/task/{tid}/stat");
    let mut last = String::new();
    let slept = wait_for(CHILD_DEADLINE, || {
        last = std::fs::read_to_string(&path).unwrap_or_default();
        // The state letter follows the parenthesised command name.
        last.rsplit(") ").next().and_then(|s| s.chars().next()) == Some('S')
    });
    assert!(slept, "thread {tid} of {pid} never slept: {last}");
}
