//! What the self-running examples (`demo`, `events`, `waitset`,
//! `epoll_tcp`) share: a daemon to run against, and their roles run as
//! child processes of the example, watched through pidfds.
//!
//! [`with_daemon`] uses the daemon of `ZEROCP_DOMAIN` (default `default`)
//! if one serves; otherwise it starts its own `zerocpd` on a private domain
//! (`<example>-<pid>`): the `zerocpd` binary beside the example's target
//! directory (`target/release/zerocpd`) when it was built, else the daemon
//! library ([`run_daemon`]) in a child process of the example. A daemon it
//! started is stopped with SIGTERM at the end, and it checks, and says,
//! what is gone: the control socket and the lock file, and the run
//! directory too when it did not exist before (the daemon removes a run
//! directory it created, never one it found). A daemon that was already
//! running is left as it was.
//!
//! The roles are this executable again: [`role`] builds the command
//! (`--role NAME`, the domain in `ZEROCP_DOMAIN`), [`Proc`] runs it and
//! kills it if it is dropped before it was waited for, and [`run_main`]
//! runs an example's whole main part as one such child.
//!
//! Every step has a deadline ([`STEP_DEADLINE`]); a child that misses it
//! is killed and the example fails, naming the step.
#![allow(dead_code)] // shared by several examples, each uses a part of it

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use zerocp_os_linux::names::{DomainName, DomainPaths};
use zerocp_os_linux::pidfd::PidFd;
use zerocp_os_linux::seqpacket::SeqpacketConn;

/// How long any one step (daemon start, a message, a process exit) may take.
pub const STEP_DEADLINE: Duration = Duration::from_secs(10);

/// What the examples' steps fail with.
pub type Error = Box<dyn std::error::Error>;

/// `println!` for the example's own output, ignoring a closed stdout
/// (`demo | head`): the example goes on and still stops its daemon and
/// children.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Runs `body` with this executable and the domain to use, against a daemon
/// (module docs); `who` names the example in what it prints and in the
/// private domain's name.
pub fn with_daemon(
    who: &str,
    body: impl FnOnce(&Path, &DomainName) -> Result<(), Error>,
) -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    let user_domain = DomainName::from_env()?;
    if daemon_runs(&user_domain)? {
        say!("{who}: using the running zerocpd of domain {user_domain} (it keeps running)");
        return body(&exe, &user_domain);
    }
    let domain = DomainName::new(&format!("{who}-{}", std::process::id()))?;
    // Where the daemon will put its socket, and whether that directory is
    // there before it starts (then it stays; otherwise it must go again).
    let paths = DomainPaths::for_client(&domain)?;
    let run_dir_existed = paths.run_dir.is_dir();
    let mut daemon = start_daemon(who, &exe, &domain, &paths)?;
    let result = body(&exe, &domain);
    // Stop the daemon we started even when the example failed.
    let stopped = stop_daemon(&mut daemon).and_then(|()| check_clean(who, &paths, run_dir_existed));
    result.and(stopped)
}

/// The daemon role (`--role daemon DOMAIN`): the daemon library, in this process.
pub fn run_daemon(domain: Option<String>) -> Result<(), Error> {
    zerocp_daemon::logging::init("zerocpd", zerocp_daemon::logging::LevelFilter::Warn);
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain,
        config: None,
    };
    zerocp_daemon::daemon::run(&options)?;
    Ok(())
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

fn start_daemon(
    who: &str,
    exe: &Path,
    domain: &DomainName,
    paths: &DomainPaths,
) -> Result<Proc, Error> {
    let mut command = match daemon_binary(exe) {
        Some(path) => {
            say!(
                "{who}: starting zerocpd on private domain {domain} ({})",
                path.display()
            );
            let mut c = Command::new(path);
            c.args(["--domain", domain.as_str(), "--log-level", "warn"]);
            c
        }
        None => {
            say!(
                "{who}: starting zerocpd on private domain {domain} \
                 (the daemon library, in a child process of the {who})"
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
        "{who}: zerocpd (pid {}) serves domain {domain}, socket {}",
        daemon.pid(),
        paths.socket.display()
    );
    Ok(daemon)
}

/// Runs `exe --role main` on `domain` (its output is the example's) and
/// waits for it to succeed: the example's own runtime lives in that child,
/// which finds the domain in `ZEROCP_DOMAIN` like any application.
pub fn run_main(exe: &Path, domain: &DomainName) -> Result<(), Error> {
    let mut command = role(exe, domain, "main", &[]);
    command.stdout(Stdio::inherit());
    Proc::spawn("main process", &mut command)?.wait_success()
}

/// `exe --role <role> <args>` on `domain`: stdin null, stdout piped.
pub fn role(exe: &Path, domain: &DomainName, role: &str, args: &[&str]) -> Command {
    let mut c = Command::new(exe);
    c.args(["--role", role])
        .args(args)
        .env("ZEROCP_DOMAIN", domain.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    c
}

/// The next line `child` prints, within [`STEP_DEADLINE`].
pub fn next_line(lines: &Receiver<String>, child: &mut Proc) -> Result<String, Error> {
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
fn check_clean(who: &str, paths: &DomainPaths, run_dir_existed: bool) -> Result<(), Error> {
    let mut gone = vec![
        (paths.socket.clone(), "control socket"),
        (paths.lock.clone(), "lock file"),
    ];
    if !run_dir_existed {
        gone.push((
            paths.run_dir.clone(),
            "run directory, absent before the example",
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
    say!("{who}: zerocpd stopped (SIGTERM); checked that these are gone:");
    for (path, what) in &gone {
        say!("{who}:   {} ({what})", path.display());
    }
    if run_dir_existed {
        say!(
            "{who}: the run directory {} was there before the {who} and stays",
            paths.run_dir.display()
        );
    }
    Ok(())
}

/// A child process of the example, watched through a pidfd; killed if dropped
/// before it was waited for, so no error path leaves one running.
pub struct Proc {
    /// What it is, in messages.
    pub name: &'static str,
    child: Child,
    pidfd: PidFd,
    reaped: bool,
}

impl Proc {
    pub fn spawn(name: &'static str, command: &mut Command) -> Result<Self, Error> {
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends it one line on its stdin (spawned with `Stdio::piped()`).
    pub fn send(&mut self, line: &str) -> Result<(), Error> {
        let stdin = self.child.stdin.as_mut().ok_or("no stdin pipe")?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("writing to the {}: {e}", self.name).into())
    }

    /// Its stdout, line by line, through a channel that closes at EOF.
    pub fn lines(&mut self) -> Result<Receiver<String>, Error> {
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
    pub fn finish(&mut self, lines: &Receiver<String>) -> Result<(), Error> {
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
    pub fn wait_success(&mut self) -> Result<(), Error> {
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
    pub fn reap_early(&mut self, when: &str) -> String {
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
