//! Test harness shared by the daemon's integration tests (`daemon_*.rs`) and
//! the end-to-end tests (`e2e_*.rs`).
//!
//! - [`TestDomain`]: a real `zerocpd` on a unique domain with its own run
//!   directory and a small test configuration ([`TestDomainBuilder`]); [`TestDomain::stop`] checks the
//!   daemon exits 0 and leaves nothing in the run directory (and nothing of
//!   the domain in `/dev/shm`, where its segments never are), and dropping it
//!   kills the daemon and removes whatever is left.
//! - [`RawClient`]: a client speaking the wire format directly (protocol tests).
//! - [`MappedMgmt`]: the test's own view of a domain's mgmt segment.
//! - [`MappedGroup`]: the test's own view of a segment group's control and
//!   payload parts.
//! - [`scribble`]: a hostile participant of a group, writing seeded
//!   pseudo-random values over its parts (replayable from the seed), and
//!   [`HostileMember`]: a registered process of a group holding what it
//!   holds (the group's parts, its own heartbeat file) to scribble over.
//! - [`wait_until`]: waiting on a condition with a deadline instead of sleeping.
//!
//! Multi-process tests run their child processes (publishers, subscribers,
//! raw clients to be killed) with `zerocp_os_linux::testing::role`: each test
//! binary re-executes itself to run one `#[ignore]`d role test in the child.
//!
//! Deadlines are generous (the suite also runs under qemu-user), but every
//! wait returns as soon as its condition holds.
// Every test binary includes this module and uses a different part of it.
#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use zerocp_os_linux::names::{CONTROL_PART, DEFAULT_GROUP, DomainName, PAYLOAD_PART, SegmentName};
use zerocp_os_linux::testing::{TMP_PREFIX, segment_fd_of, test_object_name};

mod hostile_member;
mod mapped_group;
mod mapped_mgmt;
mod raw_client;
pub mod scribble;
mod test_domain_builder;

pub use hostile_member::HostileMember;
pub use mapped_group::MappedGroup;
pub use mapped_mgmt::MappedMgmt;
pub use raw_client::{REPLY_DEADLINE, RawClient, parse_service};
pub use test_domain_builder::{DEFAULT_MEMPOOLS, TestDomainBuilder};

/// Whether the kernel maps `shm` shared and writable (asked directly, not
/// through `Mapping`, which refuses a read-only descriptor earlier): `Ok`
/// for a read-write descriptor, `EACCES` for a read-only one.
pub fn kernel_maps_writable(
    shm: &zerocp_os_linux::shm::SharedMemory,
) -> Result<(), rustix::io::Errno> {
    use rustix::mm::{MapFlags, ProtFlags};
    // SAFETY: a fresh mapping (no hint, no MAP_FIXED) of a live descriptor,
    // unmapped at once; nothing accesses it.
    let addr = unsafe {
        rustix::mm::mmap(
            std::ptr::null_mut(),
            shm.size(),
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::SHARED,
            shm,
            0,
        )
    }?;
    // SAFETY: exactly the mapping made above, which nothing references.
    unsafe { rustix::mm::munmap(addr, shm.size()) }
}

/// Path of the daemon binary under test.
pub const ZEROCPD: &str = env!("CARGO_BIN_EXE_zerocpd");
/// Path of the CLI binary under test.
pub const ZEROCPCTL: &str = env!("CARGO_BIN_EXE_zerocpctl");

/// Deadline for the daemon to come up, stop, or a child to report. A bound
/// on failure, not a wait: under qemu-user with the whole suite in parallel
/// a daemon once needed more than 30 s before its first log line.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Polls `cond` every few milliseconds until it holds (true) or `timeout` passes (false).
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

/// One entry of `zerocpctl mempools --json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MempoolJson {
    /// Payload capacity of each chunk.
    pub chunk_size: u64,
    /// Number of chunks.
    pub chunk_count: u64,
    /// Chunks in use now.
    pub used: u64,
    /// Fewest free chunks ever seen.
    pub min_free: u64,
    /// The segment group whose ports use the pool.
    pub group: String,
    /// Chunks of the pool one process may hold at once.
    pub process_quota: u64,
    /// Chunks of the pool one port may hold at once.
    pub port_quota: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MempoolsJson {
    /// The version of the JSON shapes (`docs/cli-json.md`).
    schema: u32,
    mempools: Vec<MempoolJson>,
}

/// A running `zerocpd` on a private domain and run directory.
pub struct TestDomain {
    domain: String,
    base: PathBuf,
    run_dir: PathBuf,
    config: PathBuf,
    log: PathBuf,
    daemon: Option<Child>,
}

impl TestDomain {
    /// Starts a daemon with the default test configuration.
    pub fn start() -> Self {
        Self::builder().start()
    }

    /// A builder to change the configuration first.
    pub fn builder() -> TestDomainBuilder {
        TestDomainBuilder::default()
    }

    fn prepare(config_text: &str) -> Self {
        // The domain names the test and its process: what a killed test run
        // leaves is swept by the next one (zerocp_os_linux::testing).
        let domain = test_object_name(DomainName::MAX_LEN);
        let base = std::env::temp_dir().join(format!("{TMP_PREFIX}{domain}"));
        let run_dir = base.join("run");
        std::fs::create_dir_all(&run_dir).expect("create the test run dir");
        let config = base.join("zerocpd.toml");
        std::fs::write(&config, config_text).expect("write the test config");
        let log = base.join("zerocpd.log");
        std::fs::write(&log, b"").expect("create the daemon log");
        Self {
            domain,
            base,
            run_dir,
            config,
            log,
            daemon: None,
        }
    }

    /// A `zerocpd` command for this domain (config, run dir, domain set), not started.
    pub fn daemon_command(&self, log_level: &str) -> Command {
        let mut cmd = Command::new(ZEROCPD);
        cmd.arg("--domain")
            .arg(&self.domain)
            .arg("--config")
            .arg(&self.config)
            .arg("--log-level")
            .arg(log_level)
            .env("ZEROCP_RUN_DIR", &self.run_dir)
            .env_remove("ZEROCP_DOMAIN")
            .stdin(Stdio::null());
        cmd
    }

    /// (Re)starts the daemon of this domain (its stderr appends to [`Self::daemon_log`]).
    pub fn spawn(&mut self, log_level: &str) {
        let command = self.daemon_command(log_level);
        self.spawn_command(command);
    }

    /// Starts `command` (a `zerocpd` command line of this domain, e.g. a
    /// modified [`Self::daemon_command`]) as this domain's daemon and waits
    /// until it serves; it is then stopped or killed like any other.
    pub fn spawn_command(&mut self, command: Command) {
        self.spawn_unready(command);
        self.wait_ready();
    }

    /// Like [`Self::spawn_command`] without waiting until the daemon serves
    /// (for tests that watch it come up).
    pub fn spawn_unready(&mut self, mut command: Command) {
        assert!(self.daemon.is_none(), "the daemon is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the daemon log");
        let child = command
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn zerocpd");
        self.daemon = Some(child);
    }

    fn wait_ready(&mut self) {
        let socket = self.socket_path();
        let ready = wait_until(DEADLINE, || {
            if let Some(status) = self
                .daemon
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "zerocpd exited with {status} before it was ready; its log:\n{}",
                    self.daemon_log()
                );
            }
            connects(&socket)
        });
        assert!(
            ready,
            "zerocpd did not accept connections on {} within {DEADLINE:?}; its log:\n{}",
            socket.display(),
            self.daemon_log()
        );
    }

    /// The domain name.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Lets other users reach the control socket: the test's directories
    /// become world-searchable (the socket's own mode and `[access]` still
    /// decide who may connect).
    pub fn open_to_other_users(&self) {
        use std::os::unix::fs::PermissionsExt;
        for dir in [&self.base, &self.run_dir] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
                .unwrap_or_else(|e| panic!("chmod {}: {e}", dir.display()));
        }
    }

    /// The private run directory (`ZEROCP_RUN_DIR`).
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The daemon's log file (its stderr; it exists from the start).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The config file the daemon was started with.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// `<run_dir>/<domain>.sock`.
    pub fn socket_path(&self) -> PathBuf {
        self.run_dir.join(format!("{}.sock", self.domain))
    }

    /// `<run_dir>/<domain>.lock`.
    pub fn lock_path(&self) -> PathBuf {
        self.run_dir.join(format!("{}.lock", self.domain))
    }

    /// The names of the daemon's segments: mgmt, and the default group's
    /// control and payload parts.
    pub fn segment_names(&self) -> [SegmentName; 3] {
        let [control, payload] = self.group_segment_names(DEFAULT_GROUP);
        let domain = DomainName::new(&self.domain).expect("a valid test domain");
        [SegmentName::mgmt(&domain), control, payload]
    }

    /// The names of the control and payload parts of group `group`.
    pub fn group_segment_names(&self, group: &str) -> [SegmentName; 2] {
        let domain = DomainName::new(&self.domain).expect("a valid test domain");
        [CONTROL_PART, PAYLOAD_PART].map(|part| SegmentName::group_part(&domain, group, part))
    }

    /// The descriptor numbers under which the running daemon holds its
    /// segments (`None` for one it does not hold).
    pub fn daemon_segment_fds(&self) -> [Option<i32>; 3] {
        let pid = self.daemon_pid();
        self.segment_names().map(|name| segment_fd_of(pid, &name))
    }

    /// Entries of `/dev/shm` that carry this domain's name: there must never
    /// be any, the segments are memory files without a name.
    pub fn dev_shm_entries(&self) -> Vec<PathBuf> {
        let prefix = format!("zerocp.{}.", self.domain);
        std::fs::read_dir("/dev/shm")
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Environment for child processes of this domain: `ZEROCP_DOMAIN`, `ZEROCP_RUN_DIR`.
    pub fn envs(&self) -> Vec<(String, String)> {
        vec![
            ("ZEROCP_DOMAIN".into(), self.domain.clone()),
            (
                "ZEROCP_RUN_DIR".into(),
                self.run_dir.to_string_lossy().into_owned(),
            ),
        ]
    }

    /// The daemon's pid (0 when it is not running).
    pub fn daemon_pid(&self) -> u32 {
        self.daemon.as_ref().map_or(0, Child::id)
    }

    /// The daemon's stderr so far.
    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs `zerocpctl ARGS` against this domain.
    pub fn ctl(&self, args: &[&str]) -> Output {
        Command::new(ZEROCPCTL)
            .args(args)
            .envs(self.envs())
            .stdin(Stdio::null())
            .output()
            .expect("run zerocpctl")
    }

    /// Runs `zerocpctl ARGS`, asserts it succeeded, and returns its stdout.
    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let out = self.ctl(args);
        assert!(
            out.status.success(),
            "zerocpctl {args:?} failed ({}): {}\ndaemon log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.daemon_log()
        );
        String::from_utf8(out.stdout).expect("zerocpctl prints UTF-8")
    }

    /// Runs `zerocpctl ARGS --json` and parses its output.
    pub fn ctl_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let text = self.ctl_ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("zerocpctl {all:?}: {e}: {text}"))
    }

    /// The `audit` object of `zerocpctl status --json`: audits run and
    /// findings by kind.
    pub fn audit_counts(&self) -> serde_json::Value {
        self.ctl_json(&["status"])["audit"].clone()
    }

    /// Waits until finding counter `kind` of `zerocpctl status --json`
    /// reaches `at_least`; returns whether it did within `timeout`.
    pub fn wait_for_findings(&self, kind: &str, at_least: u64, timeout: Duration) -> bool {
        wait_until(timeout, || {
            self.audit_counts()[kind].as_u64().unwrap_or(0) >= at_least
        })
    }

    /// Waits until the daemon's log holds `needle`; returns whether it did
    /// within `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.daemon_log().contains(needle))
    }

    /// `zerocpctl mempools --json`, parsed.
    pub fn mempools(&self) -> Vec<MempoolJson> {
        let text = self.ctl_ok(&["mempools", "--json"]);
        let parsed: MempoolsJson = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("mempools --json has the wrong shape: {e}: {text}"));
        assert_eq!(parsed.schema, 1, "{text}");
        parsed.mempools
    }

    /// Chunks in use over all mempools.
    pub fn used_chunks(&self) -> u64 {
        self.mempools().iter().map(|p| p.used).sum()
    }

    /// Waits until no chunk of any pool is in use (`zerocpctl mempools` back
    /// to its base); panics with the pools and the daemon's log if that
    /// does not happen within `timeout`.
    pub fn expect_back_to_base(&self, timeout: Duration) {
        assert!(
            self.wait_until(timeout, || self.used_chunks() == 0),
            "chunks still in use: {:?}\n{}",
            self.mempools(),
            self.daemon_log()
        );
    }

    /// The pids `zerocpctl processes --json` lists.
    pub fn process_pids(&self) -> Vec<u32> {
        let json = self.ctl_json(&["processes"]);
        json["processes"]
            .as_array()
            .expect("processes array")
            .iter()
            .map(|p| p["pid"].as_u64().expect("pid") as u32)
            .collect()
    }

    /// Polls `cond` until it holds or `timeout` passes; returns whether it held.
    pub fn wait_until(&self, timeout: Duration, cond: impl FnMut() -> bool) -> bool {
        wait_until(timeout, cond)
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = self.daemon.as_ref().expect("daemon running").id();
        let pid = rustix::process::Pid::from_raw(pid as i32).expect("nonzero pid");
        rustix::process::kill_process(pid, signal).expect("signal zerocpd");
    }

    /// Waits (up to [`DEADLINE`]) for the daemon to exit; returns its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.daemon.as_mut().expect("daemon running");
        let mut status = None;
        let exited = wait_until(DEADLINE, || {
            status = child.try_wait().expect("wait for zerocpd");
            status.is_some()
        });
        assert!(exited, "zerocpd did not exit within {DEADLINE:?}");
        self.daemon = None;
        status.expect("exited")
    }

    /// SIGTERM, wait, assert exit code 0 and that nothing was left behind.
    pub fn stop(mut self) {
        self.stop_with(rustix::process::Signal::TERM);
    }

    /// Like [`stop`](Self::stop), with another signal (e.g. SIGINT).
    pub fn stop_with(&mut self, signal: rustix::process::Signal) {
        self.signal(signal);
        let status = self.wait_exit();
        assert_eq!(
            status.code(),
            Some(0),
            "zerocpd exited with {status}; its log:\n{}",
            self.daemon_log()
        );
        self.assert_nothing_left();
    }

    /// SIGKILLs the daemon (which then leaves its files behind) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            drop(child.kill());
            drop(child.wait());
        }
    }

    /// What of this domain's OS objects exists: entries in `/dev/shm` and in
    /// the run directory.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let mut left = self.dev_shm_entries();
        if let Ok(entries) = std::fs::read_dir(&self.run_dir) {
            left.extend(entries.filter_map(Result::ok).map(|e| e.path()));
        }
        left
    }

    /// Asserts that nothing of the domain exists in `/dev/shm` or the run directory.
    pub fn assert_nothing_left(&self) {
        let left = self.leftovers();
        assert!(
            left.is_empty(),
            "left behind: {left:?}; daemon log:\n{}",
            self.daemon_log()
        );
    }
}

/// Whether a `SOCK_SEQPACKET` connection to `socket` succeeds now.
pub fn connects(socket: &Path) -> bool {
    zerocp_os_linux::seqpacket::SeqpacketConn::connect(socket).is_ok()
}

impl Drop for TestDomain {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- zerocpd log ({}) ---\n{}",
                self.domain,
                self.daemon_log()
            );
        }
        // The run directory is unique to this test's domain: whatever a
        // failed or killed daemon left there is ours to remove.
        drop(std::fs::remove_dir_all(&self.base));
    }
}
