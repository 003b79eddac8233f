//! Helpers for tests that re-execute the test binary as a child process.
//!
//! The parent runs `<this binary> --exact <child test> --ignored --nocapture
//! --test-threads=1` with `ZEROCP_TEST_CHILD=<child test>` and
//! `ZEROCP_TEST_ARG=<argument>` in the environment. A child "test" is a role,
//! not a test: it is `#[ignore]`d with that reason, so a normal run lists it
//! as ignored instead of counting it as passed, and only `--ignored` runs it.
//! It starts with [`child_arg`], which returns `None` (and so makes it a
//! no-op) where those variables are absent (`--include-ignored`).
#![allow(dead_code)] // Each test binary uses the helpers it needs.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::ShmName;
use zerocp_os_linux::pidfd::PidFd;
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::{TMP_PREFIX, test_object_name};

/// Names the child test to run.
pub const CHILD_ENV: &str = "ZEROCP_TEST_CHILD";
/// Carries the parent's argument to the child.
pub const ARG_ENV: &str = "ZEROCP_TEST_ARG";
/// How long any child may take.
pub const CHILD_DEADLINE: Duration = Duration::from_secs(60);

/// In a child process started for `test`, the parent's argument.
pub fn child_arg(test: &str) -> Option<String> {
    (std::env::var(CHILD_ENV).ok()? == test).then(|| std::env::var(ARG_ENV).unwrap_or_default())
}

/// In a child process started for `test` with a shared-memory name as its
/// argument: that object, opened and mapped read-write.
pub fn child_mapping(test: &str) -> Option<(SharedMemory, Mapping)> {
    let arg = child_arg(test)?;
    let shm = SharedMemory::open(&ShmName::new(&arg).unwrap(), true).unwrap();
    let map = Mapping::map(&shm, true).unwrap();
    Some((shm, map))
}

/// Starts the child test `test` of this binary with `arg`.
pub fn spawn_child(test: &str, arg: &str, stdin: Stdio) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, test)
        .env(ARG_ENV, arg)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (with a deadline) for `child` to exit and asserts that its one
/// test ran and passed.
pub fn expect_success(child: Child) -> Output {
    let pidfd = PidFd::open(child.id()).unwrap();
    if !pidfd.wait_exit(Some(CHILD_DEADLINE)).unwrap() {
        let mut child = child;
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        panic!("child did not finish in time: {}", describe(&output));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed: {}",
        describe(&output)
    );
    output
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
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
