//! Process roles: a benchmark re-executes its own binary with
//! `--role NAME [--key value]…` for every other process it needs (the
//! daemon, the pong side, subscribers), pins itself and its children to
//! CPUs, and talks to children over their stdout: a child prints `ready`
//! once it is set up, and result lines before it exits.
//!
//! Children die with their parent (`PR_SET_PDEATHSIG`), so an aborted
//! benchmark leaves no spinning process behind.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use zerocp_os_linux::affinity::{allowed_cpus, set_cpu_affinity};

use crate::common::error::{BenchError, Context};

/// How long any single step (a child getting ready, a reply, a child
/// exiting) may take before the benchmark gives up.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The arguments of a child process: `--role NAME` and `--key value` pairs.
#[derive(Debug, Clone)]
pub struct RoleArgs {
    /// The role.
    pub name: String,
    opts: Vec<(String, String)>,
}

impl RoleArgs {
    /// Parses `args` (without the program name) if they start with `--role`.
    pub fn parse(args: &[String]) -> Result<Option<Self>, BenchError> {
        let Some(first) = args.first() else {
            return Ok(None);
        };
        if first != "--role" {
            return Ok(None);
        }
        let name = args
            .get(1)
            .ok_or_else(|| BenchError::Usage("--role needs a name".into()))?
            .clone();
        let mut opts = Vec::new();
        let mut rest = args[2..].iter();
        while let Some(key) = rest.next() {
            let Some(key) = key.strip_prefix("--") else {
                return Err(BenchError::Usage(format!(
                    "role {name}: unexpected {key:?}"
                )));
            };
            let value = rest
                .next()
                .ok_or_else(|| BenchError::Usage(format!("role {name}: --{key} needs a value")))?;
            opts.push((key.to_owned(), value.clone()));
        }
        Ok(Some(Self { name, opts }))
    }

    /// The value of `--key`.
    pub fn get(&self, key: &str) -> Result<&str, BenchError> {
        self.opts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| BenchError::Usage(format!("role {}: --{key} missing", self.name)))
    }

    /// The value of `--key`, parsed.
    pub fn parse_value<T: std::str::FromStr>(&self, key: &str) -> Result<T, BenchError> {
        let text = self.get(key)?;
        text.parse().map_err(|_| {
            BenchError::Usage(format!("role {}: --{key} {text:?} is invalid", self.name))
        })
    }
}

/// The CPUs of the two sides: the parent's and the children's.
#[derive(Debug, Clone, Copy)]
pub struct Cpus {
    /// The parent (ping side, publisher).
    pub parent: usize,
    /// The children (pong side, subscribers).
    pub child: usize,
}

impl Cpus {
    /// The first two CPUs this process may use (CPU 0 and 1 on an
    /// unrestricted machine). With a single CPU both sides share it, and
    /// busy-poll loops yield instead of spinning (see [`Spin`]).
    pub fn pick() -> Result<Self, BenchError> {
        let cpus = allowed_cpus().os(|| "sched_getaffinity".into())?;
        let (&parent, rest) = cpus
            .split_first()
            .ok_or_else(|| BenchError::Usage("no CPU is allowed to this process".into()))?;
        let child = rest.first().copied().unwrap_or(parent);
        if child == parent {
            eprintln!(
                "# WARNING: only CPU {parent} is available; both sides share it (busy-poll loops yield)"
            );
        }
        Ok(Self { parent, child })
    }

    /// Whether both sides share one CPU.
    pub fn shared(&self) -> bool {
        self.parent == self.child
    }

    /// The options telling a child its CPU (`--cpu`) and whether it shares
    /// it with the parent (`--yield 1`).
    pub fn child_opts(&self) -> Vec<(&'static str, String)> {
        vec![
            ("cpu", self.child.to_string()),
            ("yield", u8::from(self.shared()).to_string()),
        ]
    }
}

/// Pins the calling thread (and threads it starts later) to `cpu`.
pub fn pin(cpu: usize) -> Result<(), BenchError> {
    set_cpu_affinity(cpu).os(|| format!("pinning to CPU {cpu}"))
}

/// A busy-wait that yields on a shared CPU and gives up after [`DEADLINE`]
/// (looking at the clock only every 65536 spins, i.e. never in a normal wait).
pub struct Spin {
    yield_cpu: bool,
    spins: u32,
    since: Option<Instant>,
}

impl Spin {
    /// A new wait; `yield_cpu` when both sides share one CPU.
    #[inline(always)]
    pub fn new(yield_cpu: bool) -> Self {
        Self {
            yield_cpu,
            spins: 0,
            since: None,
        }
    }

    /// One idle turn; `Err` with `what` once the wait took too long.
    #[inline(always)]
    pub fn turn(&mut self, what: &str) -> Result<(), BenchError> {
        if self.yield_cpu {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
        self.spins = self.spins.wrapping_add(1);
        if self.spins.is_multiple_of(1 << 16) {
            return self.check(what);
        }
        Ok(())
    }

    #[cold]
    fn check(&mut self, what: &str) -> Result<(), BenchError> {
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() > DEADLINE {
            return Err(BenchError::Peer {
                role: "peer".into(),
                detail: format!("no {what} within {DEADLINE:?}"),
            });
        }
        Ok(())
    }
}

/// A child process running this binary in a role.
pub struct RoleChild {
    role: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    done: bool,
}

/// Starts this binary as `--role role` with `opts`; its stdout lines come
/// back through [`RoleChild::expect_line`], its stderr is ours.
pub fn spawn_role(role: &str, opts: &[(&str, String)]) -> Result<RoleChild, BenchError> {
    let exe = std::env::current_exe().os(|| "locating the benchmark binary".into())?;
    let mut cmd = Command::new(&exe);
    cmd.args(["--role", role, "--parent", &std::process::id().to_string()]);
    for (key, value) in opts {
        cmd.arg(format!("--{key}")).arg(value);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .os(|| format!("starting {} --role {role}", exe.display()))?;
    let (tx, lines) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    Ok(RoleChild {
        role: role.to_owned(),
        child,
        lines,
        done: false,
    })
}

impl RoleChild {
    /// The child's next stdout line, which must start with `prefix`.
    pub fn expect_line(&mut self, prefix: &str) -> Result<String, BenchError> {
        match self.lines.recv_timeout(DEADLINE) {
            Ok(line) if line.starts_with(prefix) => Ok(line),
            Ok(line) => Err(self.failed(format!("expected {prefix:?}, got {line:?}"))),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(self.failed(format!("no {prefix:?} within {DEADLINE:?}")))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                self.done = true;
                Err(self.failed(format!("exited ({status}) before printing {prefix:?}")))
            }
        }
    }

    /// Waits for the child to exit successfully.
    pub fn finish(mut self) -> Result<(), BenchError> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .os(|| format!("waiting for {}", self.role))?
            {
                self.done = true;
                return if status.success() {
                    Ok(())
                } else {
                    Err(self.failed(format!("exited with {status}")))
                };
            }
            if Instant::now() >= deadline {
                return Err(self.failed(format!("did not exit within {DEADLINE:?}")));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn failed(&self, detail: String) -> BenchError {
        BenchError::Peer {
            role: format!("{} pid {}", self.role, self.child.id()),
            detail,
        }
    }
}

impl Drop for RoleChild {
    fn drop(&mut self) {
        if !self.done {
            // An error path: the child may be spinning; it holds nothing the
            // daemon cannot reclaim.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// First thing in a child: die with the parent (`signal`, after checking the
/// parent did not exit already), then pin to `--cpu` if given. Returns
/// whether busy-poll loops must yield (`--yield 1`: the CPU is shared).
pub fn child_start(args: &RoleArgs, signal: Signal) -> Result<bool, BenchError> {
    rustix::process::set_parent_process_death_signal(Some(signal))
        .os(|| "prctl(PR_SET_PDEATHSIG)".into())?;
    let parent: i32 = args.parse_value("parent")?;
    if rustix::process::getppid()
        .map(Pid::as_raw_nonzero)
        .map(|p| p.get())
        != Some(parent)
    {
        return Err(BenchError::Peer {
            role: args.name.clone(),
            detail: format!("parent {parent} exited before the child started"),
        });
    }
    if args.get("cpu").is_ok() {
        pin(args.parse_value("cpu")?)?;
    }
    Ok(matches!(args.get("yield"), Ok("1")))
}

/// Prints one line to the parent and flushes it.
pub fn tell_parent(line: &str) -> Result<(), BenchError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .os(|| "writing to the parent".into())
}
