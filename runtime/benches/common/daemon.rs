//! A private `zerocpd` for one benchmark run.
//!
//! [`PrivateDomain`] makes a run directory of its own (`$TMPDIR/zerocp-bench-<tag>-<pid>`)
//! and a domain name of its own (`bench-<tag>-<pid>`) and points
//! `ZEROCP_RUN_DIR`/`ZEROCP_DOMAIN` at them, so the benchmark never touches
//! a daemon that already runs. [`Daemon`] starts `zerocpd` there with the
//! benchmark's configuration:
//!
//! - `$ZEROCP_BENCH_ZEROCPD` when set (a path, or `lib` for the library);
//! - else the `zerocpd` binary beside the benchmark's target directory
//!   (`target/<profile>/zerocpd`) when it was built;
//! - else the daemon library (`zerocp_daemon::daemon::run`) in a child
//!   process: this binary again with `--role daemon` (`cargo bench` does not
//!   build the daemon's binaries).
//!
//! [`Daemon::stop`] sends SIGTERM, waits, and checks that the daemon exited
//! 0 and left nothing in `/dev/shm` or the run directory; the run directory
//! itself is removed when the [`PrivateDomain`] is dropped. [`Daemon::kill`]
//! kills it instead (its files stay for the next daemon on the domain,
//! which removes them), for the restart benchmark.

use std::os::unix::fs::DirBuilderExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use zerocp_os_linux::names::{DOMAIN_ENV, DomainName, DomainPaths};
use zerocp_os_linux::run_dir::RUN_DIR_ENV;
use zerocp_os_linux::seqpacket::SeqpacketConn;

use crate::common::error::{BenchError, Context};
use crate::common::process::{DEADLINE, RoleArgs, child_start};

/// Environment variable choosing the daemon: a `zerocpd` path, or `lib`.
pub const DAEMON_ENV: &str = "ZEROCP_BENCH_ZEROCPD";
/// How often [`Daemon::wait_ready`] tries to connect: the resolution of the
/// moment it reports.
const READY_POLL: Duration = Duration::from_micros(100);

/// A run directory and domain of this benchmark run alone.
pub struct PrivateDomain {
    /// The domain name.
    pub domain: DomainName,
    /// The socket, lock and shared-memory names of the domain.
    pub paths: DomainPaths,
}

impl PrivateDomain {
    /// Creates the run directory and sets `ZEROCP_RUN_DIR`/`ZEROCP_DOMAIN`
    /// for this process and every child it starts.
    ///
    /// Call it first thing in `main`, before any thread exists (it changes
    /// the environment).
    pub fn create(tag: &str) -> Result<Self, BenchError> {
        let pid = std::process::id();
        let domain = DomainName::new(&format!("bench-{tag}-{pid}"))
            .map_err(|e| BenchError::Usage(e.to_string()))?;
        sweep_stale(tag);
        let run_dir = std::env::temp_dir().join(format!("zerocp-bench-{tag}-{pid}"));
        if std::fs::symlink_metadata(&run_dir).is_ok_and(|m| m.is_dir()) {
            // Left by an aborted run whose pid we now have.
            std::fs::remove_dir_all(&run_dir)
                .os(|| format!("removing stale {}", run_dir.display()))?;
        }
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&run_dir)
            .os(|| format!("creating {}", run_dir.display()))?;
        // SAFETY: called at the start of `main`, before this process starts
        // any thread, so nothing reads the environment concurrently.
        unsafe { std::env::set_var(RUN_DIR_ENV, &run_dir) };
        // SAFETY: as above.
        unsafe { std::env::set_var(DOMAIN_ENV, domain.as_str()) };
        let paths = DomainPaths::new(&run_dir, &domain);
        Ok(Self { domain, paths })
    }

    /// The private run directory.
    pub fn run_dir(&self) -> &Path {
        &self.paths.run_dir
    }
}

/// Removes run directories of earlier runs of this benchmark whose process
/// is gone (a run killed by a signal cannot clean up after itself).
fn sweep_stale(tag: &str) {
    let prefix = format!("zerocp-bench-{tag}-");
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let uid = rustix::process::getuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let ours = std::fs::symlink_metadata(entry.path())
            .is_ok_and(|m| m.is_dir() && std::os::unix::fs::MetadataExt::uid(&m) == uid);
        let alive = Path::new("/proc").join(pid).exists();
        if ours && pid.parse::<u32>().is_ok() && !alive {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => eprintln!(
                    "# removed {} left by an aborted run",
                    entry.path().display()
                ),
                Err(e) => eprintln!("# WARNING: cannot remove {}: {e}", entry.path().display()),
            }
        }
    }
}

impl Drop for PrivateDomain {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.paths.run_dir) {
            eprintln!(
                "# WARNING: cannot remove {}: {e}",
                self.paths.run_dir.display()
            );
        }
    }
}

/// A running private `zerocpd`.
pub struct Daemon {
    child: Option<Child>,
    paths: DomainPaths,
    what: String,
}

/// Which daemon to run.
fn daemon_command(domain: &DomainName, config: &Path) -> Result<(Command, String), BenchError> {
    let exe = std::env::current_exe().os(|| "locating the benchmark binary".into())?;
    let choice = std::env::var_os(DAEMON_ENV).filter(|v| !v.is_empty());
    let binary = match choice {
        Some(v) if v == "lib" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => exe
            .parent()
            .and_then(Path::parent)
            .map(|dir| dir.join("zerocpd"))
            .filter(|p| p.is_file()),
    };
    let config_arg = config.as_os_str().to_owned();
    Ok(match binary {
        Some(path) => {
            let mut cmd = Command::new(&path);
            cmd.args([
                "--domain",
                domain.as_str(),
                "--log-level",
                "warn",
                "--config",
            ])
            .arg(config_arg);
            // SAFETY: runs in the forked child before exec and makes one raw
            // system call (prctl), which is async-signal-safe; it allocates
            // nothing and takes no lock.
            unsafe {
                cmd.pre_exec(|| {
                    rustix::process::set_parent_process_death_signal(Some(Signal::TERM))
                        .map_err(Into::into)
                });
            }
            (cmd, format!("{} (binary)", path.display()))
        }
        None => {
            let mut cmd = Command::new(&exe);
            cmd.args([
                "--role",
                "daemon",
                "--parent",
                &std::process::id().to_string(),
            ])
            .args(["--domain", domain.as_str(), "--config"])
            .arg(config_arg);
            (cmd, "the zerocp_daemon library (child process)".to_owned())
        }
    })
}

impl Daemon {
    /// Writes `config` (TOML) into the run directory and starts the daemon
    /// on the private domain; returns once its socket accepts connections.
    pub fn start(domain: &PrivateDomain, config: &str) -> Result<Self, BenchError> {
        let mut daemon = Self::spawn(domain, config)?;
        daemon.wait_ready()?;
        eprintln!("# zerocpd: {}, domain {}", daemon.what, domain.domain);
        Ok(daemon)
    }

    /// Like [`start`](Self::start) without waiting: the daemon is starting;
    /// [`wait_ready`](Self::wait_ready) waits until it accepts connections.
    pub fn spawn(domain: &PrivateDomain, config: &str) -> Result<Self, BenchError> {
        let config_path = domain.run_dir().join("zerocpd.toml");
        std::fs::write(&config_path, config).os(|| format!("writing {}", config_path.display()))?;
        let (mut cmd, what) = daemon_command(&domain.domain, &config_path)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .os(|| format!("starting zerocpd: {what}"))?;
        Ok(Self {
            child: Some(child),
            paths: domain.paths.clone(),
            what,
        })
    }

    /// Waits until the daemon's socket accepts a connection, trying every
    /// [`READY_POLL`]; returns when the first one succeeded, on the
    /// system-wide monotonic clock ([`zerocp_os_linux::clock::monotonic`],
    /// which other processes read too).
    pub fn wait_ready(&mut self) -> Result<Duration, BenchError> {
        let deadline = Instant::now() + DEADLINE;
        while SeqpacketConn::connect(&self.paths.socket).is_err() {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().os(|| "waiting for zerocpd".into())?
            {
                self.child = None;
                return Err(BenchError::Daemon(format!(
                    "{} exited with {status} before it was ready",
                    self.what
                )));
            }
            if Instant::now() >= deadline {
                return Err(BenchError::Daemon(format!(
                    "{} did not listen on {} within {DEADLINE:?}",
                    self.what,
                    self.paths.socket.display()
                )));
            }
            std::thread::sleep(READY_POLL);
        }
        Ok(zerocp_os_linux::clock::monotonic())
    }

    /// Kills the daemon with SIGKILL, as a crash would, and reaps it. Its
    /// socket and lock file stay behind; the next daemon removes them.
    // Only the restart benchmark kills its daemon; every benchmark compiles
    // this module.
    #[allow(dead_code)]
    pub fn kill(mut self) -> Result<(), BenchError> {
        if let Some(mut child) = self.child.take() {
            child.kill().os(|| "sending SIGKILL to zerocpd".into())?;
            child.wait().os(|| "waiting for zerocpd".into())?;
        }
        Ok(())
    }

    /// Stops the daemon with SIGTERM and checks it cleaned up after itself.
    pub fn stop(mut self) -> Result<(), BenchError> {
        let status = self.terminate()?;
        if !status.success() {
            return Err(BenchError::Daemon(format!(
                "{} exited with {status}",
                self.what
            )));
        }
        let left = self.leftovers();
        if left.is_empty() {
            Ok(())
        } else {
            Err(BenchError::Daemon(format!(
                "left behind: {}",
                left.join(", ")
            )))
        }
    }

    fn terminate(&mut self) -> Result<std::process::ExitStatus, BenchError> {
        let Some(mut child) = self.child.take() else {
            return Err(BenchError::Daemon(format!("{} is not running", self.what)));
        };
        rustix::process::kill_process(Pid::from_child(&child), Signal::TERM)
            .os(|| "sending SIGTERM to zerocpd".into())?;
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = child.try_wait().os(|| "waiting for zerocpd".into())? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BenchError::Daemon(format!(
                    "{} did not stop within {DEADLINE:?} of SIGTERM (killed)",
                    self.what
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Files the daemon should have removed, removing them.
    fn leftovers(&self) -> Vec<String> {
        let mut left = Vec::new();
        for path in [&self.paths.socket, &self.paths.lock] {
            if path.exists() {
                let _ = std::fs::remove_file(path);
                left.push(path.display().to_string());
            }
        }
        left
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.is_some() {
            // An error path: stop it all the same, and remove what it leaves.
            if let Err(e) = self.terminate() {
                eprintln!("# WARNING: {e}");
            }
            for item in self.leftovers() {
                eprintln!("# WARNING: removed {item} left by zerocpd");
            }
        }
    }
}

/// The `daemon` role: the daemon library in this process, until SIGTERM.
pub fn role_main(args: &RoleArgs) -> Result<(), BenchError> {
    child_start(args, Signal::TERM)?;
    zerocp_daemon::logging::init("zerocpd", zerocp_daemon::logging::LevelFilter::Warn);
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain: Some(args.get("domain")?.to_owned()),
        config: Some(PathBuf::from(args.get("config")?)),
    };
    zerocp_daemon::daemon::run(&options)
        .map(drop)
        .map_err(|e| BenchError::Daemon(e.to_string()))
}
