//! Running one *role* of a test binary in a child process, for tests that
//! need more than one process: [`spawn_child`] in the parent, [`role_args`]
//! in the child, a [`TestChild`] handle in between.
//!
//! **A role** is a function of the test binary that the child runs: a
//! publisher, a process that holds a lock, a client killed while it holds
//! chunks. It is a `#[test]` only so that the child can run it through the
//! test harness; it checks nothing by itself, so it is marked
//! `#[ignore = "a child role, run by spawn_child: not a test"]` and a normal
//! run lists it as ignored instead of counting it as passed. Its first
//! statement asks [`role_args`] for its arguments and returns when there are
//! none: in any process not started for this role (`--include-ignored`) it
//! does nothing.
//!
//! **The child** is the current test binary run as
//! `<binary> --exact ROLE --ignored --nocapture --test-threads=1`, so that
//! the role, and nothing else, runs; `ROLE` is the role's full test name
//! (`roles::publisher` for a role in `mod roles`).
//!
//! **Its arguments** travel in the environment, one variable per argument,
//! so they need no quoting or escaping: [`ROLE_ENV`] names the role,
//! [`ROLE_ARGC_ENV`] holds the count `n` in decimal, and `ROLE_ARG_ENV_PREFIX`
//! followed by `0` … `n-1` (`ZEROCP_TEST_ROLE_ARG_0`, …) holds each argument
//! verbatim. Any string without a NUL byte passes unchanged (an environment
//! string cannot hold one): empty strings, spaces, `=`, newlines, non-ASCII.
//! The explicit count makes a `ZEROCP_TEST_ROLE_ARG_<i>` that a child
//! inherited from a parent role harmless.
//!
//! **Its output**: stdin is a pipe ([`TestChild::send_line`],
//! [`TestChild::close_stdin`]); a thread reads stdout line by line
//! ([`TestChild::expect_line`]), another collects stderr. Neither is shown
//! while all goes well: a failed wait or check of the handle panics with
//! the child's output, and so does dropping the handle while the parent
//! panics, so a failing test says what its children printed.
//!
//! **Waiting** always has a deadline and never sleeps: lines arrive through
//! a channel read with a timeout, the exit through the child's pidfd. A
//! dropped handle kills a child that is still running.
//!
//! **Starting** waits for the child's first line (the harness prints one
//! before it runs the role). A child that stays silent never reached the
//! harness, so none of the test ran in it: it is killed and started again,
//! a few times at most, and each such start is reported on stderr. A
//! message about a child that does not respond names its scheduler state
//! and wait channel from `/proc`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::pidfd::PidFd;

/// The variable that names the role a child was started for.
pub const ROLE_ENV: &str = "ZEROCP_TEST_ROLE";
/// The variable that holds the number of arguments, in decimal.
pub const ROLE_ARGC_ENV: &str = "ZEROCP_TEST_ROLE_ARGC";
/// What the variable of argument `i` is named, followed by `i` in decimal.
pub const ROLE_ARG_ENV_PREFIX: &str = "ZEROCP_TEST_ROLE_ARG_";

/// What the test harness prints at the end of a run in which exactly one
/// test, the role, ran and passed.
const ONE_PASSED: &str = "test result: ok. 1 passed;";
/// Stdout lines a [`TestChild`] keeps to show when something fails.
const KEPT_LINES: usize = 200;
/// How long a failure message waits for the rest of an exited child's
/// output (the reader threads may still be draining the pipes).
const OUTPUT_GRACE: Duration = Duration::from_secs(1);
/// How long a new child may stay silent before it counts as not started.
const START_WAIT: Duration = Duration::from_secs(20);
/// How many times a child that does not start is started.
const START_ATTEMPTS: u32 = 3;

/// Starts the current test binary as a child that runs only the role `role`
/// (its full test name), with `args` (the role reads them with
/// [`role_args`]) and the extra environment `envs`. Stdin, stdout and
/// stderr are pipes (module docs).
///
/// # Panics
///
/// When the child cannot be started or its pidfd opened.
///
/// In a test file (`greeter` is the role's full name, as it sits at the
/// top of the file):
///
/// ```no_run
/// use std::time::Duration;
/// use zerocp_os_linux::testing::role::{role_args, spawn_child};
///
/// #[test]
/// fn greets() {
///     let mut child = spawn_child("greeter", &["world"], &[]);
///     assert_eq!(child.expect_line("hello ", Duration::from_secs(60)), "world");
///     child.expect_success(Duration::from_secs(60));
/// }
///
/// #[test]
/// #[ignore = "a child role, run by spawn_child: not a test"]
/// fn greeter() {
///     let Some(args) = role_args("greeter") else {
///         return;
///     };
///     println!("hello {}", args[0]);
/// }
/// # fn main() {}
/// ```
pub fn spawn_child(role: &str, args: &[&str], envs: &[(String, String)]) -> TestChild {
    start(role, role_command(role, args, envs))
}

/// As [`spawn_child`], with the child's user and group ids set to `uid`
/// and `gid` before it runs (needs root), for tests of what another user
/// may do. The test binary must be executable by that user.
pub fn spawn_child_as(
    role: &str,
    args: &[&str],
    envs: &[(String, String)],
    uid: u32,
    gid: u32,
) -> TestChild {
    use std::os::unix::process::CommandExt;
    let mut command = role_command(role, args, envs);
    command.uid(uid).gid(gid);
    start(role, command)
}

/// Starts a program that is not a role of this test binary (a binary of
/// the crate under test, `env!("CARGO_BIN_EXE_…")`) as a [`TestChild`]
/// named `label`: the same piped output, deadlines, start check (its first
/// stdout line is its sign of life) and kill on drop.
///
/// ```
/// use std::process::Command;
/// use std::time::Duration;
/// use zerocp_os_linux::testing::role::spawn_program;
///
/// let mut command = Command::new("echo");
/// command.arg("ready");
/// let mut echo = spawn_program("echo", command);
/// echo.expect_line("ready", Duration::from_secs(5));
/// assert!(echo.wait(Duration::from_secs(5)).success());
/// ```
pub fn spawn_program(label: &str, command: Command) -> TestChild {
    start(label, command)
}

/// The command that runs `role` of this test binary.
fn role_command(role: &str, args: &[&str], envs: &[(String, String)]) -> Command {
    let exe = std::env::current_exe().expect("the current test binary");
    let mut command = Command::new(exe);
    command
        .args([
            "--exact",
            role,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE_ENV, role)
        .env(ROLE_ARGC_ENV, args.len().to_string());
    for (i, arg) in args.iter().enumerate() {
        command.env(format!("{ROLE_ARG_ENV_PREFIX}{i}"), arg);
    }
    command.envs(envs.iter().map(|(k, v)| (k, v)));
    command
}

/// Starts `command`, the child for `role`, and waits until it shows a sign
/// of life: a first stdout line (the harness prints one before it runs
/// the role) or its exit. A child silent for [`START_WAIT`] never reached
/// the harness, so nothing of the test has run in it: it is killed and
/// started again, up to [`START_ATTEMPTS`] times. Such starts happen under
/// qemu-user, whose emulation of a spawn from a multithreaded process can
/// leave the new process stuck before it runs any of its own code.
fn start(role: &str, command: Command) -> TestChild {
    start_within(role, command, START_WAIT)
}

/// [`start`], with `wait` as the time a start may stay silent.
fn start_within(role: &str, mut command: Command, wait: Duration) -> TestChild {
    for attempt in 1..START_ATTEMPTS {
        let mut child = launch(role, &mut command);
        if child.shows_life(wait) {
            return child;
        }
        let state = child.proc_state();
        child.kill();
        eprintln!(
            "role {role}: start {attempt} printed nothing within {wait:?} ({state}); \
             killed and started again"
        );
    }
    let mut child = launch(role, &mut command);
    if !child.shows_life(wait) {
        let state = child.proc_state();
        child.fail(&format!(
            "printed nothing within {wait:?} in {START_ATTEMPTS} starts ({state})"
        ));
    }
    child
}

/// Spawns `command` with piped stdio and the threads that read its output.
fn launch(role: &str, command: &mut Command) -> TestChild {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the test binary for role {role}: {e}"));
    // Not yet reaped, so the pid is still this child's.
    let pidfd = PidFd::open(child.id())
        .unwrap_or_else(|e| panic!("cannot open a pidfd for role {role}: {e}"));
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let sink = Arc::clone(&stderr);
    // Dropped, and so disconnected, when the pipe is at its end.
    let (stderr_open, stderr_ended) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _open = stderr_open;
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(&buf[..n]);
        }
    });
    let stdin = child.stdin.take();
    TestChild {
        role: role.to_owned(),
        child,
        pidfd,
        stdin,
        lines,
        first: None,
        seen: VecDeque::new(),
        stderr,
        stderr_ended,
        reported: false,
    }
}

/// In a child started by [`spawn_child`] for `role`: its arguments, in
/// order. `None` in any other process, where the role returns at once.
///
/// # Panics
///
/// When the child's environment is not what [`spawn_child`] sets (module
/// docs): a count that is not a number, an argument missing or not UTF-8.
///
/// ```
/// use zerocp_os_linux::testing::role::role_args;
/// // This process was not started for a role.
/// assert_eq!(role_args("roles::publisher"), None);
/// ```
pub fn role_args(role: &str) -> Option<Vec<String>> {
    if std::env::var_os(ROLE_ENV)? != *role {
        return None;
    }
    let count = std::env::var(ROLE_ARGC_ENV).unwrap_or_default();
    let count: usize = count
        .parse()
        .unwrap_or_else(|_| panic!("{ROLE_ARGC_ENV} is {count:?}, not a count"));
    let args = (0..count)
        .map(|i| {
            let name = format!("{ROLE_ARG_ENV_PREFIX}{i}");
            std::env::var(&name).unwrap_or_else(|e| panic!("role argument {name}: {e}"))
        })
        .collect();
    Some(args)
}

/// A child process running one role: its pipes, its output so far, its
/// exit. Dropping it kills the child if it still runs (and, while the
/// parent panics, prints what the child printed).
///
/// ```no_run
/// use std::time::Duration;
/// use zerocp_os_linux::testing::role::spawn_child;
///
/// const WAIT: Duration = Duration::from_secs(60);
/// let mut child = spawn_child("roles::echo", &[], &[]);
/// child.expect_line("ready", WAIT);
/// child.send_line("ping");
/// assert_eq!(child.expect_line("got ", WAIT), "ping");
/// child.close_stdin(); // the role reads to EOF, then returns
/// assert!(child.wait(WAIT).success());
/// ```
pub struct TestChild {
    role: String,
    child: Child,
    pidfd: PidFd,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// The last [`KEPT_LINES`] stdout lines received, for failure messages.
    seen: VecDeque<String>,
    /// The first line, read by the start and not yet by a check.
    first: Option<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Disconnects when the stderr reader has read everything.
    stderr_ended: mpsc::Receiver<()>,
    /// Whether a panic of this handle has shown the output already.
    reported: bool,
}

impl TestChild {
    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The role it runs.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Waits up to `timeout` for a stdout line containing `marker`; returns
    /// what follows the marker on that line. Lines before it (the test
    /// harness's own, or other output of the role) are skipped. The marker
    /// need not start the line: the harness prints `test <name> ... ` before
    /// the role's first output, on the same line.
    ///
    /// # Panics
    ///
    /// When no such line comes in time or the child closes its stdout
    /// first; the message holds the child's output.
    pub fn expect_line(&mut self, marker: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left) {
                Ok(line) => {
                    let rest = line
                        .find(marker)
                        .map(|at| line[at + marker.len()..].to_owned());
                    self.keep(line);
                    if let Some(rest) = rest {
                        return rest;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let state = self.proc_state();
                    self.fail(&format!(
                        "printed no line {marker:?} within {timeout:?} ({state})"
                    ))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("closed its stdout before a line {marker:?}"))
                }
            }
        }
    }

    /// Writes `line` and a newline to the child's stdin.
    ///
    /// # Panics
    ///
    /// When stdin was closed or the child no longer reads it.
    pub fn send_line(&mut self, line: &str) {
        let Some(stdin) = self.stdin.as_mut() else {
            self.fail(&format!("cannot be sent {line:?}: its stdin is closed"));
        };
        if let Err(e) = writeln!(stdin, "{line}").and_then(|()| stdin.flush()) {
            self.fail(&format!("cannot be sent {line:?}: {e}"));
        }
    }

    /// Closes the child's stdin: a role that reads it sees the end of file.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits up to `timeout` for the child to exit and reaps it.
    ///
    /// # Panics
    ///
    /// When it does not exit in time (it is then killed) or cannot be
    /// waited for.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        match self.pidfd.wait_exit(Some(timeout)) {
            Ok(true) => {}
            Ok(false) => {
                drop(self.child.kill());
                self.fail(&format!("did not exit within {timeout:?} (killed)"));
            }
            Err(e) => self.fail(&format!("cannot be waited for: {e}")),
        }
        match self.child.wait() {
            Ok(status) => status,
            Err(e) => self.fail(&format!("cannot be reaped: {e}")),
        }
    }

    /// Waits up to `timeout` for the child to exit, and checks that it
    /// exited successfully and that the test harness ran the role and saw
    /// it pass (so a misspelt role, which runs no test, fails here).
    ///
    /// # Panics
    ///
    /// When the child does not exit in time, fails, or ran no role; the
    /// message holds its output.
    pub fn expect_success(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let status = self.wait(timeout);
        // It has exited: the harness's summary is in the pipe, or it never
        // printed one.
        let mut passed = self.seen.iter().any(|l| l.contains(ONE_PASSED));
        while !passed {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = self.next_line(left) else {
                break;
            };
            passed = line.contains(ONE_PASSED);
            self.keep(line);
        }
        if !status.success() || !passed {
            let ran_none = self.seen.iter().any(|l| l == "running 0 tests");
            let why = if passed {
                "though the harness said the role passed"
            } else if ran_none {
                "and the harness ran no test: the binary has no test of that full name"
            } else {
                "without the harness saying that the role ran and passed"
            };
            self.fail(&format!("exited with {status}, {why}"));
        }
    }

    /// Kills the child (SIGKILL) and reaps it; returns its exit status.
    ///
    /// # Panics
    ///
    /// When it cannot be reaped.
    pub fn kill(&mut self) -> ExitStatus {
        // An error here means it has exited already: reaping still works.
        drop(self.child.kill());
        match self.child.wait() {
            Ok(status) => status,
            Err(e) => self.fail(&format!("cannot be reaped: {e}")),
        }
    }

    /// Waits up to `timeout` for a first stdout line (left for the next
    /// check to read) or the end of stdout; false when neither came.
    fn shows_life(&mut self, timeout: Duration) -> bool {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => {
                self.first = Some(line);
                true
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => true,
            Err(mpsc::RecvTimeoutError::Timeout) => false,
        }
    }

    /// The child's scheduler state and wait channel, as `/proc` shows
    /// them, for messages about a child that does not respond.
    fn proc_state(&self) -> String {
        let read = |what: &str| {
            std::fs::read_to_string(format!("/proc/{}/{what}", self.pid())).unwrap_or_default()
        };
        let stat = read("stat");
        // The state follows the command name, which ends at the last ')'.
        let state = stat
            .rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().next())
            .unwrap_or("?");
        format!("state {state}, waiting in {:?}", read("wchan"))
    }

    /// The next stdout line: the one the start read, or one that arrives
    /// within `timeout`.
    fn next_line(&mut self, timeout: Duration) -> Result<String, mpsc::RecvTimeoutError> {
        match self.first.take() {
            Some(line) => Ok(line),
            None => self.lines.recv_timeout(timeout),
        }
    }

    /// Keeps `line` among the last [`KEPT_LINES`] stdout lines.
    fn keep(&mut self, line: String) {
        if self.seen.len() == KEPT_LINES {
            self.seen.pop_front();
        }
        self.seen.push_back(line);
    }

    /// What the child printed so far: stdout (the lines read, and those
    /// waiting in the pipe's channel), then stderr. Of a child that has
    /// exited, everything, unless a process it started still holds a pipe
    /// (then what arrived within [`OUTPUT_GRACE`]).
    fn output(&mut self) -> String {
        if let Some(line) = self.first.take() {
            self.keep(line);
        }
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            let deadline = Instant::now() + OUTPUT_GRACE;
            let left = || deadline.saturating_duration_since(Instant::now());
            while let Ok(line) = self.lines.recv_timeout(left()) {
                self.keep(line);
            }
            let _ = self.stderr_ended.recv_timeout(left());
        }
        while let Ok(line) = self.lines.try_recv() {
            self.keep(line);
        }
        let stdout: Vec<&str> = self.seen.iter().map(String::as_str).collect();
        let stderr = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        format!(
            "--- stdout (last {KEPT_LINES} lines)\n{}\n--- stderr\n{}",
            stdout.join("\n"),
            String::from_utf8_lossy(&stderr)
        )
    }

    /// Panics with `what` happened to this child, and its output (which
    /// the drop that follows then does not print again).
    fn fail(&mut self, what: &str) -> ! {
        self.reported = true;
        let output = self.output();
        panic!("role {} (pid {}) {what}\n{output}", self.role, self.pid())
    }
}

impl Drop for TestChild {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            drop(self.child.kill());
            drop(self.child.wait());
        }
        if std::thread::panicking() && !self.reported {
            let output = self.output();
            eprintln!("--- role {} (pid {})\n{output}", self.role, self.pid());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(60);
    const ECHO_ARGS: &str = "testing::role::tests::echo_args";
    const ECHO_STDIN: &str = "testing::role::tests::echo_stdin";

    #[test]
    fn arguments_arrive_unchanged() {
        let args = ["", "two words", "a=b", "line\nbreak", "ünïcode", "--exact"];
        let mut child = spawn_child(ECHO_ARGS, &args, &[]);
        assert_eq!(child.expect_line("args: ", WAIT), format!("{args:?}"));
        child.expect_success(WAIT);
        let mut none = spawn_child(ECHO_ARGS, &[], &[]);
        assert_eq!(none.expect_line("args: ", WAIT), "[]");
        none.expect_success(WAIT);
    }

    /// A command that prints nothing on its first `silent` starts (counted
    /// in a file of `dir`), then a line and exits.
    fn silent_at_first(dir: &std::path::Path, silent: u32) -> Command {
        let mut command = Command::new("sh");
        command.arg("-c").arg(format!(
            "n=$(cat {d}/starts 2>/dev/null || echo 0); echo $((n + 1)) > {d}/starts; \
             if [ $n -lt {silent} ]; then exec sleep 600; fi; echo alive",
            d = dir.display()
        ));
        command
    }

    fn scratch_dir(test: &str) -> std::path::PathBuf {
        use crate::testing::{TMP_PREFIX, test_object_name};
        let name = format!("{TMP_PREFIX}{}{test}", test_object_name(48));
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_silent_start_is_started_again() {
        let dir = scratch_dir("-restart");
        let wait = Duration::from_millis(300);
        let mut child = start_within("silent", silent_at_first(&dir, START_ATTEMPTS - 1), wait);
        assert_eq!(child.expect_line("ali", WAIT), "ve");
        assert!(child.wait(WAIT).success());
        let starts = std::fs::read_to_string(dir.join("starts")).unwrap();
        assert_eq!(starts.trim(), START_ATTEMPTS.to_string());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_child_silent_in_every_start_fails_naming_its_state() {
        let dir = scratch_dir("-silent");
        let wait = Duration::from_millis(300);
        let command = silent_at_first(&dir, START_ATTEMPTS);
        // Nothing the closure owns is used again after a panic.
        let start = std::panic::AssertUnwindSafe(move || start_within("silent", command, wait));
        let failed = std::panic::catch_unwind(start);
        std::fs::remove_dir_all(&dir).unwrap();
        let message = *failed.err().unwrap().downcast::<String>().unwrap();
        assert!(message.contains("printed nothing within"), "{message}");
        assert!(message.contains("state S"), "{message}");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn echo_args() {
        let Some(args) = role_args(ECHO_ARGS) else {
            return;
        };
        println!("args: {args:?}");
    }

    #[test]
    fn lines_go_both_ways_and_drop_kills() {
        let mut child = spawn_child(ECHO_STDIN, &[], &[("ECHO_PREFIX".into(), "got ".into())]);
        child.send_line("one");
        assert_eq!(child.expect_line("got ", WAIT), "one");
        child.send_line("two");
        assert_eq!(child.expect_line("got ", WAIT), "two");
        child.close_stdin();
        child.expect_success(WAIT);

        let mut child = spawn_child(ECHO_STDIN, &[], &[("ECHO_PREFIX".into(), "got ".into())]);
        child.send_line("alive");
        child.expect_line("got alive", WAIT);
        let pidfd = PidFd::open(child.pid()).unwrap();
        drop(child);
        assert!(pidfd.wait_exit(Some(Duration::ZERO)).unwrap());
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn echo_stdin() {
        if role_args(ECHO_STDIN).is_none() {
            return;
        }
        let prefix = std::env::var("ECHO_PREFIX").unwrap();
        for line in std::io::stdin().lines() {
            println!("{prefix}{}", line.unwrap());
        }
    }
}
