//! One command that shows ZeroCP working: `cargo run --release -p zerocp --example demo`.
//!
//! It uses the daemon of `ZEROCP_DOMAIN` (default `default`) if one serves;
//! otherwise it starts its own `zerocpd` on a private domain (`demo-<pid>`):
//! the `zerocpd` binary beside this example's target directory
//! (`target/release/zerocpd`) when it was built, else the daemon library
//! (`zerocp_daemon::daemon::run`) in a child process of the demo. Then it runs
//! a subscriber and a publisher as two more processes (this executable again,
//! with a role argument) and shows the messages flowing, then stops.
//!
//! What it prints is deterministic up to pids and latencies: the demo reads
//! both children's lines and prints, for each message, the publisher's line
//! and then the subscriber's, the order in which things happened (a message
//! is received only after it was published). The subscriber stops as soon as
//! it has every message, so the demo ends a few milliseconds after the last
//! one.
//!
//! A daemon the demo started is stopped with SIGTERM at the end, and the demo
//! checks, and says, what is gone: both shared-memory segments, the control
//! socket and the lock file, and the run directory too when it did not exist
//! before the demo (the daemon removes a run directory it created, never one
//! it found). A daemon that was already running is left as it was.
//!
//! Every step has a deadline ([`STEP_DEADLINE`]); a child that misses it is
//! killed and the demo fails, naming the step.

#[path = "common/message.rs"]
mod message;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use message::{Counter, SERVICE, now_ns};
use zerocp::{Runtime, ServiceDescription};
use zerocp_os_linux::names::{DomainName, DomainPaths};
use zerocp_os_linux::pidfd::PidFd;
use zerocp_os_linux::seqpacket::SeqpacketConn;

/// Messages the demo publisher sends.
const MESSAGES: u64 = 10;
/// Pause between two messages, so they can be watched flowing.
const INTERVAL: Duration = Duration::from_millis(100);
/// How long any one step (daemon start, a message, a process exit) may take.
const STEP_DEADLINE: Duration = Duration::from_secs(10);

type Error = Box<dyn std::error::Error>;

/// `println!` for the demo's own output, ignoring a closed stdout (`demo |
/// head`): the demo goes on and still stops its daemon and children.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--role") => run_role(&args[1..]),
        None => orchestrate(),
        Some(other) => Err(format!("unknown argument {other:?} (the demo takes none)").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "demo: error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// The child processes: `--role daemon DOMAIN|subscriber|publisher`.
// Publisher and subscriber print one line per message, `<count>\t<text>`, for
// the demo to put in order.

fn run_role(args: &[String]) -> Result<(), Error> {
    match args.first().map(String::as_str) {
        Some("daemon") => run_daemon(args.get(1).cloned()),
        Some("subscriber") => run_subscriber(),
        Some("publisher") => run_publisher(),
        other => Err(format!("unknown role {other:?}").into()),
    }
}

/// One line to the demo through stdout (a pipe): an error, not a panic, when
/// the demo is gone.
fn emit(line: std::fmt::Arguments<'_>) -> Result<(), Error> {
    writeln!(std::io::stdout(), "{line}").map_err(|e| format!("writing to the demo: {e}").into())
}

fn run_daemon(domain: Option<String>) -> Result<(), Error> {
    zerocp_daemon::logging::init("zerocpd", zerocp_daemon::logging::LevelFilter::Warn);
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain,
        config: None,
    };
    zerocp_daemon::daemon::run(&options)?;
    Ok(())
}

fn run_subscriber() -> Result<(), Error> {
    let rt = Runtime::init("demo-subscriber")?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let subscriber = rt.subscriber::<Counter>(&svc).queue_capacity(16).create()?;
    emit(format_args!("ready"))?;
    let mut received = 0;
    let mut deadline = Instant::now() + STEP_DEADLINE;
    loop {
        while let Some(sample) = subscriber.take()? {
            let latency_us = now_ns().saturating_sub(sample.sent_ns) / 1_000;
            emit(format_args!(
                "{}\t  subscriber (pid {}) <- #{} {:?}, {latency_us} µs after it was published",
                sample.count,
                std::process::id(),
                sample.count,
                sample.text()
            ))?;
            received += 1;
            deadline = Instant::now() + STEP_DEADLINE;
        }
        // Checked before sleeping: the last message ends the wait at once.
        if received >= MESSAGES {
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "only {received} of {MESSAGES} messages arrived, none in the last {STEP_DEADLINE:?}"
            )
            .into());
        }
        subscriber.wait(Some(left))?;
    }
}

fn run_publisher() -> Result<(), Error> {
    let rt = Runtime::init("demo-publisher")?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let publisher = rt.publisher::<Counter>(&svc).create()?;
    for count in 0..MESSAGES {
        let text = format!("hello #{count}");
        // Written straight into shared memory; the subscriber reads these bytes.
        publisher
            .loan_uninit()?
            .write(Counter::new(count, now_ns(), &text))
            .publish()?;
        emit(format_args!(
            "{count}\t  publisher  (pid {}) -> #{count} {text:?}",
            std::process::id()
        ))?;
        if count + 1 < MESSAGES {
            std::thread::sleep(INTERVAL);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The demo itself.

/// Daemon (if needed), subscriber, publisher, clean stop.
fn orchestrate() -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    let user_domain = DomainName::from_env()?;
    if daemon_runs(&user_domain)? {
        say!("demo: using the running zerocpd of domain {user_domain} (it keeps running)");
        return run_pair(&exe, &user_domain);
    }
    let domain = DomainName::new(&format!("demo-{}", std::process::id()))?;
    // Where the daemon will put its socket, and whether that directory is
    // there before it starts (then it stays; otherwise it must go again).
    let paths = DomainPaths::for_client(&domain)?;
    let run_dir_existed = paths.run_dir.is_dir();
    let mut daemon = start_daemon(&exe, &domain, &paths)?;
    let result = run_pair(&exe, &domain);
    // Stop the daemon we started even when the demo failed.
    let stopped = stop_daemon(&mut daemon).and_then(|()| check_clean(&paths, run_dir_existed));
    result.and(stopped)
}

fn daemon_runs(domain: &DomainName) -> Result<bool, Error> {
    let paths = DomainPaths::for_client(domain)?;
    Ok(SeqpacketConn::connect(&paths.socket).is_ok())
}

/// `zerocpd` beside this example (`target/<profile>/zerocpd`), if built.
fn daemon_binary(exe: &Path) -> Option<PathBuf> {
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir.join("zerocpd");
    path.is_file().then_some(path)
}

fn start_daemon(exe: &Path, domain: &DomainName, paths: &DomainPaths) -> Result<Proc, Error> {
    let mut command = match daemon_binary(exe) {
        Some(path) => {
            say!(
                "demo: starting zerocpd on private domain {domain} ({})",
                path.display()
            );
            let mut c = Command::new(path);
            c.args(["--domain", domain.as_str(), "--log-level", "warn"]);
            c
        }
        None => {
            say!(
                "demo: starting zerocpd on private domain {domain} \
                 (the daemon library, in a child process of the demo)"
            );
            let mut c = Command::new(exe);
            c.args(["--role", "daemon", domain.as_str()]);
            c
        }
    };
    command.env_remove("ZEROCP_DOMAIN").stdin(Stdio::null());
    let mut daemon = Proc::spawn("zerocpd", &mut command)?;
    let deadline = Instant::now() + STEP_DEADLINE;
    // Ready once it accepts connections; between attempts, wait on its
    // pidfd, so a daemon that fails to start is reported at once.
    while SeqpacketConn::connect(&paths.socket).is_err() {
        if daemon.pidfd.wait_exit(Some(Duration::from_millis(5)))? {
            return Err(daemon.reap_early("before it was ready").into());
        }
        if Instant::now() >= deadline {
            let _ = stop_daemon(&mut daemon);
            return Err(format!(
                "zerocpd did not listen on {} within {STEP_DEADLINE:?}",
                paths.socket.display()
            )
            .into());
        }
    }
    say!(
        "demo: zerocpd (pid {}) serves domain {domain}, socket {}",
        daemon.pid(),
        paths.socket.display()
    );
    Ok(daemon)
}

fn run_pair(exe: &Path, domain: &DomainName) -> Result<(), Error> {
    let role = |name: &str| {
        let mut c = Command::new(exe);
        c.args(["--role", name])
            .env("ZEROCP_DOMAIN", domain.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        c
    };
    let mut subscriber = Proc::spawn("subscriber", &mut role("subscriber"))?;
    let sub_lines = subscriber.lines()?;
    let ready = next_line(&sub_lines, &mut subscriber)?;
    if ready != "ready" {
        return Err(format!("the subscriber printed {ready:?} instead of \"ready\"").into());
    }
    say!(
        "demo: subscriber (pid {}) ready; starting the publisher ({MESSAGES} messages, one every {} ms)",
        subscriber.pid(),
        INTERVAL.as_millis()
    );
    let mut publisher = Proc::spawn("publisher", &mut role("publisher"))?;
    let pub_lines = publisher.lines()?;
    for count in 0..MESSAGES {
        say!("{}", message_line(&pub_lines, &mut publisher, count)?);
        say!("{}", message_line(&sub_lines, &mut subscriber, count)?);
    }
    publisher.finish(&pub_lines)?;
    subscriber.finish(&sub_lines)?;
    say!("demo: all {MESSAGES} messages went through shared memory, zero copies");
    Ok(())
}

/// The next line of `child`, which must be about message `count`; its text.
fn message_line(lines: &Receiver<String>, child: &mut Proc, count: u64) -> Result<String, Error> {
    let line = next_line(lines, child)?;
    match line.split_once('\t') {
        Some((n, text)) if n.parse() == Ok(count) => Ok(text.to_owned()),
        _ => Err(format!(
            "the {} printed {line:?}, expected message #{count}",
            child.name
        )
        .into()),
    }
}

/// The next line `child` prints, within [`STEP_DEADLINE`].
fn next_line(lines: &Receiver<String>, child: &mut Proc) -> Result<String, Error> {
    match lines.recv_timeout(STEP_DEADLINE) {
        Ok(line) => Ok(line),
        Err(RecvTimeoutError::Timeout) => {
            Err(format!("the {} printed nothing for {STEP_DEADLINE:?}", child.name).into())
        }
        Err(RecvTimeoutError::Disconnected) => Err(child.reap_early("early").into()),
    }
}

fn stop_daemon(daemon: &mut Proc) -> Result<(), Error> {
    let pid = rustix::process::Pid::from_child(&daemon.child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
    daemon.wait_success()
}

/// Checks that the stopped daemon left nothing and says what it checked.
fn check_clean(paths: &DomainPaths, run_dir_existed: bool) -> Result<(), Error> {
    let mut gone = vec![
        (paths.socket.clone(), "control socket"),
        (paths.lock.clone(), "lock file"),
    ];
    if !run_dir_existed {
        gone.push((
            paths.run_dir.clone(),
            "run directory, absent before the demo",
        ));
    }
    let left: Vec<String> = gone
        .iter()
        .filter(|(path, _)| path.exists())
        .map(|(path, what)| format!("{} ({what})", path.display()))
        .collect();
    if !left.is_empty() {
        return Err(format!("zerocpd stopped but left behind: {}", left.join(", ")).into());
    }
    say!("demo: zerocpd stopped (SIGTERM); checked that these are gone:");
    for (path, what) in &gone {
        say!("demo:   {} ({what})", path.display());
    }
    if run_dir_existed {
        say!(
            "demo: the run directory {} was there before the demo and stays",
            paths.run_dir.display()
        );
    }
    Ok(())
}

/// A child process of the demo, watched through a pidfd; killed if dropped
/// before it was waited for, so no error path leaves one running.
struct Proc {
    name: &'static str,
    child: Child,
    pidfd: PidFd,
    reaped: bool,
}

impl Proc {
    fn spawn(name: &'static str, command: &mut Command) -> Result<Self, Error> {
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the {name}: {e}"))?;
        match PidFd::open(child.id()) {
            Ok(pidfd) => Ok(Self {
                name,
                child,
                pidfd,
                reaped: false,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e.into())
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its stdout, line by line, through a channel that closes at EOF.
    fn lines(&mut self) -> Result<Receiver<String>, Error> {
        let stdout = self.child.stdout.take().ok_or("no stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }

    /// Expects no more lines, then a successful exit.
    fn finish(&mut self, lines: &Receiver<String>) -> Result<(), Error> {
        match lines.recv_timeout(STEP_DEADLINE) {
            Err(RecvTimeoutError::Disconnected) => self.wait_success(),
            Ok(line) => {
                Err(format!("the {} printed {line:?} after its last message", self.name).into())
            }
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("the {} did not end within {STEP_DEADLINE:?}", self.name).into())
            }
        }
    }

    /// Waits at most [`STEP_DEADLINE`] for it to exit; Ok if it exited 0.
    fn wait_success(&mut self) -> Result<(), Error> {
        if !self.pidfd.wait_exit(Some(STEP_DEADLINE))? {
            return Err(format!("the {} did not exit within {STEP_DEADLINE:?}", self.name).into());
        }
        let status = self.reap()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the {} exited with {status}", self.name).into())
        }
    }

    /// An error for a child that ended (or closed its stdout) `when`.
    fn reap_early(&mut self, when: &str) -> String {
        let status = if self.pidfd.wait_exit(Some(STEP_DEADLINE)).unwrap_or(false) {
            self.reap().map(|s| s.to_string())
        } else {
            Ok("its stdout closed".to_owned())
        };
        match status {
            Ok(status) => format!("the {} ended {when} ({status})", self.name),
            Err(e) => format!("the {} ended {when} ({e})", self.name),
        }
    }

    fn reap(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait()?;
        self.reaped = true;
        Ok(status)
    }
}

impl Drop for Proc {
    /// SIGTERM (a daemon then cleans up), SIGKILL if that did not end it.
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        if !self.pidfd.wait_exit(Some(STEP_DEADLINE)).unwrap_or(false) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
