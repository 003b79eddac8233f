//! [`spawn_child`] / [`child_role_args`]: multi-process tests re-execute the
//! current test binary, running a single "role" in the child.
//!
//! A role is a `#[test]` function only so that the child can run it through
//! the test harness; it checks nothing by itself, so it is `#[ignore]`d with
//! the reason "a child role, run by spawn_child: not a test" and a normal
//! run lists it as ignored instead of counting it as passed. The child runs
//! it with `--exact ROLE --ignored`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{ROLE_ARGS_ENV, ROLE_ENV, wait_until};

/// A re-executed copy of the test binary playing one role.
pub struct TestChild {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

/// Re-executes the current test binary so that only the test `role` (its full
/// name, e.g. `roles::raw_publisher`) runs, with `args` (read them with
/// [`child_role_args`]) and the extra environment `envs`. Its stdout is read
/// line by line ([`TestChild::expect_line`]); stdin is piped ([`TestChild::send_line`]).
pub fn spawn_child(role: &str, args: &[&str], envs: &[(String, String)]) -> TestChild {
    let exe = std::env::current_exe().expect("current test binary");
    let args_json = serde_json::to_string(args).expect("encode role args");
    let mut child = Command::new(exe)
        .args([
            role,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE_ENV, role)
        .env(ROLE_ARGS_ENV, args_json)
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the test binary as a child");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stdin = child.stdin.take();
    TestChild {
        child,
        stdin,
        lines,
    }
}

/// In a child started by [`spawn_child`] for `role`: its arguments. `None` in
/// any other process (the role test then returns at once).
pub fn child_role_args(role: &str) -> Option<Vec<String>> {
    if std::env::var(ROLE_ENV).ok()? != role {
        return None;
    }
    let json = std::env::var(ROLE_ARGS_ENV).unwrap_or_else(|_| "[]".into());
    Some(serde_json::from_str(&json).expect("role args are a JSON array of strings"))
}

impl TestChild {
    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a stdout line containing `marker`; returns what follows it.
    /// Other lines (the test harness's own output) are skipped. The marker
    /// need not start the line: libtest prints `test <name> ... ` before a
    /// role's first output on the same line.
    pub fn expect_line(&mut self, marker: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find(marker) {
                        return line[at + marker.len()..].to_owned();
                    }
                }
                Err(e) => panic!("child {} printed no line {marker:?}: {e}", self.pid()),
            }
        }
    }

    /// Writes `line` to the child's stdin.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to child");
        stdin.flush().expect("flush child stdin");
    }

    /// Closes the child's stdin (a role can wait for EOF to know when to end).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// SIGKILLs the child and reaps it.
    pub fn kill(&mut self) -> ExitStatus {
        drop(self.child.kill());
        self.child.wait().expect("reap child")
    }

    /// Waits up to `timeout` for the child to exit; panics if it does not.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let mut status = None;
        let exited = wait_until(timeout, || {
            status = self.child.try_wait().expect("wait for child");
            status.is_some()
        });
        assert!(
            exited,
            "child {} did not exit within {timeout:?}",
            self.pid()
        );
        status.expect("exited")
    }
}

impl Drop for TestChild {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            drop(self.child.kill());
            drop(self.child.wait());
        }
    }
}
