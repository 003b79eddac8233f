//! A private `zerocpd` for the self-running examples (`waitset`,
//! `epoll_tcp`): use the daemon of `ZEROCP_DOMAIN` if one serves, else
//! start one on `<example>-<pid>` (the `zerocpd` binary beside the example
//! when built, else the daemon library in a child process), stop it with
//! SIGTERM at the end and check that it left nothing. Child processes are
//! watched through pidfds and killed if dropped early, as in `demo`.
#![allow(dead_code)] // each example uses a part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use zerocp_os_linux::names::{DomainName, DomainPaths};
use zerocp_os_linux::pidfd::PidFd;
use zerocp_os_linux::seqpacket::SeqpacketConn;

/// How long any one step (daemon start, a process exit) may take.
pub const STEP_DEADLINE: Duration = Duration::from_secs(10);

/// An example's error.
pub type Error = Box<dyn std::error::Error>;

/// `--role daemon DOMAIN`: the daemon library, for when no `zerocpd` was built.
pub fn run_daemon(domain: Option<String>) -> Result<(), Error> {
    zerocp_daemon::logging::init("zerocpd", zerocp_daemon::logging::LevelFilter::Warn);
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain,
        config: None,
    };
    zerocp_daemon::daemon::run(&options)?;
    Ok(())
}

/// Runs `body` with the domain to use: the running daemon's, or a private
/// one started (and stopped, and checked clean) around it.
pub fn with_daemon(
    example: &str,
    body: impl FnOnce(&Path, &DomainName) -> Result<(), Error>,
) -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    let user_domain = DomainName::from_env()?;
    let paths = DomainPaths::for_client(&user_domain)?;
    if SeqpacketConn::connect(&paths.socket).is_ok() {
        println!("{example}: using the running zerocpd of domain {user_domain} (it keeps running)");
        return body(&exe, &user_domain);
    }
    let domain = DomainName::new(&format!("{example}-{}", std::process::id()))?;
    let paths = DomainPaths::for_client(&domain)?;
    let run_dir_existed = paths.run_dir.is_dir();
    let mut daemon = start_daemon(example, &exe, &domain, &paths)?;
    let result = body(&exe, &domain);
    let stopped = stop(&mut daemon).and_then(|()| check_clean(example, &paths, run_dir_existed));
    result.and(stopped)
}

fn start_daemon(
    example: &str,
    exe: &Path,
    domain: &DomainName,
    paths: &DomainPaths,
) -> Result<Proc, Error> {
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("zerocpd"))
        .filter(|p| p.is_file());
    let mut command = match binary {
        Some(path) => {
            let mut c = Command::new(path);
            c.args(["--domain", domain.as_str(), "--log-level", "warn"]);
            c
        }
        None => {
            let mut c = Command::new(exe);
            c.args(["--role", "daemon", domain.as_str()]);
            c
        }
    };
    println!("{example}: starting zerocpd on private domain {domain}");
    command.env_remove("ZEROCP_DOMAIN").stdin(Stdio::null());
    let mut daemon = Proc::spawn("zerocpd", &mut command)?;
    let deadline = Instant::now() + STEP_DEADLINE;
    while SeqpacketConn::connect(&paths.socket).is_err() {
        if daemon.pidfd.wait_exit(Some(Duration::from_millis(5)))? {
            return Err(format!("zerocpd ended before it was ready ({})", daemon.reap()?).into());
        }
        if Instant::now() >= deadline {
            let _ = stop(&mut daemon);
            return Err(format!("zerocpd did not listen within {STEP_DEADLINE:?}").into());
        }
    }
    Ok(daemon)
}

/// SIGTERM, then a successful exit within [`STEP_DEADLINE`].
pub fn stop(process: &mut Proc) -> Result<(), Error> {
    let pid = rustix::process::Pid::from_child(&process.child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
    process.wait_success()
}

fn check_clean(example: &str, paths: &DomainPaths, run_dir_existed: bool) -> Result<(), Error> {
    let mut gone: Vec<PathBuf> = vec![paths.socket.clone(), paths.lock.clone()];
    if !run_dir_existed {
        gone.push(paths.run_dir.clone());
    }
    let left: Vec<String> = gone
        .iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !left.is_empty() {
        return Err(format!("zerocpd stopped but left behind: {}", left.join(", ")).into());
    }
    println!("{example}: zerocpd stopped; its socket, lock file and run directory are gone");
    Ok(())
}

/// Runs `exe --role main` on `domain` (its output is the example's) and
/// waits for it to succeed: the example's own runtime lives in that child,
/// which finds the domain in `ZEROCP_DOMAIN` like any application.
pub fn run_main(exe: &Path, domain: &DomainName) -> Result<(), Error> {
    let mut command = role(exe, domain, "main", &[]);
    command.stdout(Stdio::inherit());
    Proc::spawn("main process", &mut command)?.wait_success()
}

/// `exe --role <role> <args>` on `domain`, its stdout piped.
pub fn role(exe: &Path, domain: &DomainName, role: &str, args: &[&str]) -> Command {
    let mut c = Command::new(exe);
    c.args(["--role", role])
        .args(args)
        .env("ZEROCP_DOMAIN", domain.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    c
}

/// A child process, watched through a pidfd; killed if dropped before it
/// was waited for, so no error path leaves one running.
pub struct Proc {
    name: String,
    child: Child,
    pidfd: PidFd,
    reaped: bool,
}

impl Proc {
    /// Starts `command` as `name`.
    pub fn spawn(name: &str, command: &mut Command) -> Result<Self, Error> {
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the {name}: {e}"))?;
        match PidFd::open(child.id()) {
            Ok(pidfd) => Ok(Self {
                name: name.to_owned(),
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

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
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

    /// The next line it prints, within [`STEP_DEADLINE`].
    pub fn next_line(&self, lines: &Receiver<String>) -> Result<String, Error> {
        match lines.recv_timeout(STEP_DEADLINE) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("the {} printed nothing for {STEP_DEADLINE:?}", self.name).into())
            }
            Err(RecvTimeoutError::Disconnected) => {
                Err(format!("the {} ended early", self.name).into())
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
