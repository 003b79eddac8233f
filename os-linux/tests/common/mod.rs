//! Helpers of the multi-process tests: unique names and their cleanup, the
//! mapping a child role opens, waits with deadlines.
//!
//! The children themselves are started and watched by
//! `zerocp_os_linux::testing::role` (the runner the daemon's tests use too):
//! each role is an `#[ignore]`d test that starts with
//! [`role_args`](zerocp_os_linux::testing::role::role_args) or
//! [`child_mapping`].
#![allow(dead_code)] // Each test binary uses the helpers it needs.

use std::path::Path;
use std::time::{Duration, Instant};

use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::ShmName;
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::role::role_args;
use zerocp_os_linux::testing::{TMP_PREFIX, test_object_name};

/// How long any child may take.
pub const CHILD_DEADLINE: Duration = Duration::from_secs(60);

/// In a child process started for `role` with a shared-memory name as its
/// argument: that object, opened and mapped read-write.
pub fn child_mapping(role: &str) -> Option<(SharedMemory, Mapping)> {
    let args = role_args(role)?;
    let shm = SharedMemory::open(&ShmName::new(&args[0]).unwrap(), true).unwrap();
    let map = Mapping::map(&shm, true).unwrap();
    Some((shm, map))
}

/// A shared-memory name unique to this call, naming the test.
pub fn unique_shm() -> ShmName {
    ShmName::new(&format!("/zerocp.{}", test_object_name(120))).unwrap()
}

/// A path in the temporary directory unique to this call, naming the test.
pub fn unique_tmp_path(suffix: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{TMP_PREFIX}{}{suffix}", test_object_name(100)))
}

/// Removes a shared-memory object when dropped, so a failing test leaves
/// nothing behind either.
pub struct ShmCleanup(pub ShmName);

impl Drop for ShmCleanup {
    fn drop(&mut self) {
        let _ = SharedMemory::remove_if_exists(&self.0);
    }
}

/// Asserts that `name` no longer exists in /dev/shm.
pub fn assert_shm_gone(name: &ShmName) {
    let file = Path::new("/dev/shm").join(&name.as_str()[1..]);
    assert!(!file.exists(), "{} left behind", file.display());
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
