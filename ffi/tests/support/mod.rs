//! What the C API's end-to-end tests share: a real daemon on a private
//! domain ([`Daemon`], the daemon library run in a child role process of
//! the test binary), the C programs of `ffi/examples` compiled with the
//! system C compiler against `libzerocp_c.a` ([`compile`]; [`compile_as`]
//! also under the sanitizers, [`Build`]), and running them with deadlines
//! ([`CProgram`]).
#![allow(dead_code)] // each test file uses a part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use zerocp_os_linux::names::DomainName;
use zerocp_os_linux::pidfd::PidFd;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};
use zerocp_os_linux::testing::{TMP_PREFIX, test_object_name};

/// How long any one step may take.
pub const STEP: Duration = Duration::from_secs(30);

/// A daemon of a private domain and run directory, stopped (and checked
/// clean) by [`Daemon::stop`].
pub struct Daemon {
    domain: String,
    base: PathBuf,
    run_dir: PathBuf,
    child: TestChild,
}

impl Daemon {
    /// Starts the daemon role `role` (which calls [`run_daemon_role`]) and
    /// waits until it accepts connections.
    pub fn start(role: &str) -> Self {
        let domain = test_object_name(DomainName::MAX_LEN);
        let base = std::env::temp_dir().join(format!("{TMP_PREFIX}{domain}"));
        let run_dir = base.join("run");
        std::fs::create_dir_all(&run_dir).expect("create the run dir");
        let envs = vec![("ZEROCP_RUN_DIR".to_string(), run_dir.display().to_string())];
        let child = spawn_child(role, &[&domain], &envs);
        let daemon = Self {
            domain,
            base,
            run_dir,
            child,
        };
        let socket = daemon.socket();
        let deadline = Instant::now() + STEP;
        while zerocp_os_linux::seqpacket::SeqpacketConn::connect(&socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "the daemon did not listen on {}",
                socket.display()
            );
            std::thread::yield_now();
        }
        daemon
    }

    /// Its control socket.
    pub fn socket(&self) -> PathBuf {
        self.run_dir.join(format!("{}.sock", self.domain))
    }

    /// The environment a client of this daemon runs with.
    pub fn envs(&self) -> Vec<(String, String)> {
        vec![
            ("ZEROCP_DOMAIN".into(), self.domain.clone()),
            ("ZEROCP_RUN_DIR".into(), self.run_dir.display().to_string()),
        ]
    }

    /// Stops the daemon (SIGTERM), waits for its clean exit and checks it
    /// left nothing in the run directory or /dev/shm.
    pub fn stop(mut self) {
        let pid = rustix::process::Pid::from_raw(self.child.pid() as i32).expect("a pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
        self.child.expect_success(STEP);
        let left: Vec<_> = std::fs::read_dir(&self.run_dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "left in the run dir: {left:?}");
        let shm: Vec<_> = std::fs::read_dir("/dev/shm")
            .expect("/dev/shm")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(&self.domain))
            .map(|e| e.path())
            .collect();
        assert!(shm.is_empty(), "left in /dev/shm: {shm:?}");
        std::fs::remove_dir_all(&self.base).expect("remove the test dir");
    }
}

/// The daemon role's body: the daemon library on the domain in its
/// first argument until SIGTERM.
pub fn run_daemon_role(args: &[String]) {
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain: Some(args[0].clone()),
        config: None,
    };
    zerocp_daemon::daemon::run(&options).expect("the daemon runs");
}

pub mod c_build;
use c_build::c_compiler;

/// How a C program is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// As an application would: C11, all warnings as errors.
    Plain,
    /// The same, with the C side under AddressSanitizer and
    /// UndefinedBehaviorSanitizer (`-fsanitize=address,undefined`, every
    /// finding fatal: `-fno-sanitize-recover=all`); the Rust library is
    /// linked as built. README.md, "Sanitizers".
    Sanitized,
}

/// The sanitizers' options for every C program [`CProgram::spawn`] runs
/// (ignored by a plain build): any finding ends the program with a
/// non-zero status, leaks included, and prints a stack trace.
const SANITIZER_ENVS: [(&str, &str); 2] = [
    (
        "ASAN_OPTIONS",
        "detect_leaks=1:halt_on_error=1:abort_on_error=0",
    ),
    ("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
];

/// Compiles `ffi/examples/<name>.c` (plain) into `dir`; returns the program.
pub fn compile(name: &str, dir: &Path) -> PathBuf {
    compile_as(name, dir, Build::Plain)
}

/// Compiles `ffi/examples/<name>.c` with `cc` (C11, all warnings as
/// errors) against the static library into `dir`, as `build` says;
/// returns the program.
pub fn compile_as(name: &str, dir: &Path, build: Build) -> PathBuf {
    let ffi = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sanitizers: &[&str] = match build {
        Build::Plain => &[],
        Build::Sanitized => &[
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
            "-g",
        ],
    };
    let out = dir.join(match build {
        Build::Plain => name.to_string(),
        Build::Sanitized => format!("{name}-sanitized"),
    });
    let flags = [
        "-std=c11",
        "-D_POSIX_C_SOURCE=200809L",
        "-Wall",
        "-Wextra",
        "-Werror",
    ];
    let flags: Vec<&str> = flags.iter().chain(sanitizers).copied().collect();
    let source = ffi.join("examples").join(format!("{name}.c"));
    if let Err(e) = c_build::compile(&c_compiler(), &source, &flags, &out) {
        panic!("{name}.c ({build:?}): {e}");
    }
    out
}

/// Compiles `ffi/examples/<name>.cpp` with the C++ compiler (C++17, all
/// warnings and pedantic as errors) against the static library into `dir`.
pub fn compile_cpp(name: &str, dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.cpp"));
    let out = dir.join(name);
    let flags = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"];
    if let Err(e) = c_build::compile(&c_build::cxx_compiler(), &source, &flags, &out) {
        panic!("{name}.cpp: {e}");
    }
    out
}

/// Checks `cond` until it holds (true) or `timeout` passes (false),
/// pausing 1 ms, doubling to 20 ms, between checks.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// A fresh directory for compiled programs, removed by the caller.
pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{TMP_PREFIX}{}", test_object_name(40)));
    std::fs::create_dir_all(&dir).expect("create the scratch dir");
    dir
}

/// A running C program: its stdout lines through a channel, its exit
/// through its pidfd, each waited for with a deadline.
pub struct CProgram {
    child: Child,
    pidfd: PidFd,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl CProgram {
    /// Starts `program` with `args` and the environment `envs` (and the
    /// sanitizers' options, for a sanitized build).
    pub fn spawn(program: &Path, args: &[&str], envs: &[(String, String)]) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .envs(SANITIZER_ENVS)
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the C program");
        let pidfd = PidFd::open(child.id()).expect("pidfd");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            pidfd,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line that starts with `prefix` (within [`STEP`]).
    pub fn expect_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(e) => panic!("no line {prefix:?} ({e}); printed: {:?}", self.seen),
            }
        }
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        self.pidfd.kill().expect("SIGKILL");
        self.wait();
    }

    /// Closes its stdin (the publisher's signal to finish).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits (within [`STEP`]) for it to exit; returns the status.
    pub fn wait(&mut self) -> ExitStatus {
        let exited = self.pidfd.wait_exit(Some(STEP)).expect("wait on the pidfd");
        if !exited {
            let _ = self.child.kill();
            panic!(
                "the C program did not exit within {STEP:?}; printed: {:?}",
                self.seen
            );
        }
        self.child.wait().expect("reap")
    }

    /// Waits for a successful exit; panics with what it printed otherwise.
    pub fn expect_success(&mut self) {
        let status = self.wait();
        let rest: Vec<String> = self.lines.try_iter().collect();
        self.seen.extend(rest);
        assert!(
            status.success(),
            "the C program failed with {status}; printed: {:?}",
            self.seen
        );
    }
}

impl Drop for CProgram {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
