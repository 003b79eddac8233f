//! What the bridge's end-to-end tests share: private domains with their
//! own daemon, the real `zerocp-zenoh` binary, configurations, and the
//! checksummed payloads the publisher and subscriber roles exchange.

// Each test binary uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use zerocp_os_linux::names::DomainName;
use zerocp_os_linux::testing::role::{TestChild, role_args, spawn_child, spawn_program};
use zerocp_os_linux::testing::{TMP_PREFIX, test_object_name};

/// The deadline of every step.
pub const STEP: Duration = Duration::from_secs(60);
/// The service every test bridges.
pub const SERVICE: (&str, &str, &str) = ("Bridge", "Test", "Blob");
/// The longest payload: 1 MiB.
pub const MAX_LEN: usize = 1 << 20;

/// A daemon of a private domain and run directory (the role
/// `roles::daemon` of the test binary).
pub struct Domain {
    pub name: String,
    base: PathBuf,
    daemon: TestChild,
}

impl Domain {
    pub fn start() -> Self {
        let name = test_object_name(DomainName::MAX_LEN);
        let base = std::env::temp_dir().join(format!("{TMP_PREFIX}{name}"));
        std::fs::create_dir_all(base.join("run")).expect("create the run dir");
        let daemon = start_daemon(&name, &base);
        Self { name, base, daemon }
    }

    /// The environment that puts a process into this domain.
    pub fn envs(&self) -> Vec<(String, String)> {
        vec![
            ("ZEROCP_DOMAIN".into(), self.name.clone()),
            ("ZEROCP_RUN_DIR".into(), self.run_dir()),
        ]
    }

    /// Kills the daemon (SIGKILL) and starts a new one of the domain.
    pub fn restart_daemon(&mut self) {
        self.daemon.kill();
        self.daemon = start_daemon(&self.name, &self.base);
    }

    /// Starts a `zerocp-zenoh` of this domain with `config`.
    pub fn bridge(&self, label: &str, config: &str) -> TestChild {
        let path = self.base.join(format!("{label}.toml"));
        std::fs::write(&path, config).expect("write the bridge's config");
        let mut command = Command::new(env!("CARGO_BIN_EXE_zerocp-zenoh"));
        command.arg("--config").arg(&path).envs(self.envs());
        let mut bridge = spawn_program(label, command);
        bridge.expect_line("bridging", STEP);
        bridge
    }

    /// Stops the daemon (SIGTERM, a clean exit) and removes the directory.
    pub fn stop(mut self) {
        terminate(&mut self.daemon);
        self.daemon.expect_success(STEP);
        std::fs::remove_dir_all(&self.base).expect("remove the test dir");
    }

    fn run_dir(&self) -> String {
        self.base.join("run").display().to_string()
    }
}

fn start_daemon(name: &str, base: &std::path::Path) -> TestChild {
    let run = base.join("run");
    let envs = vec![("ZEROCP_RUN_DIR".to_string(), run.display().to_string())];
    let daemon = spawn_child("roles::daemon", &[name], &envs);
    let socket = run.join(format!("{name}.sock"));
    let deadline = Instant::now() + STEP;
    while zerocp_os_linux::seqpacket::SeqpacketConn::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the daemon did not listen");
        std::thread::sleep(Duration::from_millis(5));
    }
    daemon
}

/// The body of each test binary's role `roles::daemon`: the domain's
/// daemon, named by its argument.
pub fn daemon_role() {
    let Some(args) = role_args("roles::daemon") else {
        return;
    };
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain: Some(args[0].clone()),
        config: None,
    };
    zerocp_daemon::daemon::run(&options).expect("the daemon runs");
}

/// What the test said on a role's stdin: `marked` once a line came,
/// `closed` once stdin is at its end.
#[derive(Clone, Default)]
pub struct Stdin {
    pub marked: Arc<AtomicBool>,
    pub closed: Arc<AtomicBool>,
}

/// Watches the role's stdin on a thread of its own.
pub fn watch_stdin() -> Stdin {
    let stdin = Stdin::default();
    let seen = stdin.clone();
    std::thread::spawn(move || {
        for _ in std::io::stdin().lines().map_while(Result::ok) {
            seen.marked.store(true, Ordering::Relaxed);
        }
        seen.closed.store(true, Ordering::Relaxed);
    });
    stdin
}

/// Sends SIGTERM to `child`.
pub fn terminate(child: &mut TestChild) {
    let pid = rustix::process::Pid::from_raw(child.pid() as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
}

/// Stops a bridge with SIGTERM; returns its counters line.
pub fn stop_bridge(mut bridge: TestChild) -> String {
    terminate(&mut bridge);
    let counters = bridge.expect_line("stopped: ", STEP);
    assert!(bridge.wait(STEP).success(), "the bridge failed");
    counters
}

/// Asks a running bridge for its counters (SIGUSR1); returns the line.
pub fn counters_now(bridge: &mut TestChild) -> String {
    let pid = rustix::process::Pid::from_raw(bridge.pid() as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::USR1).expect("SIGUSR1");
    bridge.expect_line("counters: ", STEP)
}

/// The value of `name` in a counters line (`sent 3, received 0, …`).
pub fn counter(counters: &str, name: &str) -> u64 {
    counters
        .split(", ")
        .find_map(|c| c.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {counters:?}"))
}

/// A free TCP port on 127.0.0.1, bound and released. Another process can
/// take it before the bridge binds it (then the bridge fails to start and
/// the test fails loudly; the chance is small).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Which ways a bridge forwards the service.
#[derive(Clone, Copy)]
pub enum Ways {
    Out,
    In,
    Both,
}

/// A bridge's configuration: `zenoh` the `[zenoh]` table's lines.
pub fn config(zenoh: &str, ways: Ways) -> String {
    let (s, i, e) = SERVICE;
    let route = format!(
        "service = \"{s}/{i}/{e}\"\ntype = {{ name = \"u8\", size = 1, align = 1 }}\n\
         max_slice_len = {MAX_LEN}\ncongestion = \"block\"\n"
    );
    let mut text = format!("[zenoh]\n{zenoh}\n");
    if matches!(ways, Ways::Out | Ways::Both) {
        text += &format!("[[outbound]]\n{route}\n");
    }
    if matches!(ways, Ways::In | Ways::Both) {
        text += &format!("[[inbound]]\n{route}\n");
    }
    text
}

/// The request/response service the server tests bridge.
pub const ASK_SERVICE: &str = "Bridge/Test/Ask";

/// A bridge's configuration with one server route of [`ASK_SERVICE`]:
/// `side` is `outbound_server` or `inbound_server`; requests and
/// responses are byte slices up to [`MAX_LEN`].
pub fn server_config(zenoh: &str, side: &str) -> String {
    format!(
        "[zenoh]\n{zenoh}\n[[{side}]]\nservice = \"{ASK_SERVICE}\"\n\
         request = {{ name = \"u8\", size = 1, align = 1 }}\n\
         response = {{ name = \"u8\", size = 1, align = 1 }}\n\
         max_request_len = {MAX_LEN}\nmax_response_len = {MAX_LEN}\ntimeout_ms = 30000\n"
    )
}

pub fn listen(port: u16) -> String {
    format!("listen = [\"tcp/127.0.0.1:{port}\"]")
}

pub fn connect(port: u16) -> String {
    format!("connect = [\"tcp/127.0.0.1:{port}\"]")
}

/// The length of sample `seq`'s payload: 64 B, 4 KiB, 64 KiB, 1 MiB.
pub fn payload_len(seq: u64) -> usize {
    [64, 4096, 65_536, MAX_LEN][(seq % 4) as usize]
}

/// Fills `payload` for `seq`: the number in its first 8 bytes, then bytes
/// that follow from it and their offset.
pub fn fill(seq: u64, payload: &mut [u8]) {
    payload[..8].copy_from_slice(&seq.to_le_bytes());
    for (at, b) in payload.iter_mut().enumerate().skip(8) {
        *b = byte(seq, at);
    }
}

/// The sequence number of `payload`, every byte and the length checked.
pub fn check(payload: &[u8]) -> u64 {
    let seq = u64::from_le_bytes(payload[..8].try_into().expect("8 bytes"));
    assert_eq!(payload.len(), payload_len(seq), "sample {seq}'s length");
    let bad = payload
        .iter()
        .enumerate()
        .skip(8)
        .position(|(at, &b)| b != byte(seq, at));
    assert_eq!(bad, None, "sample {seq} differs at that offset (past 8)");
    seq
}

fn byte(seq: u64, at: usize) -> u8 {
    (seq.wrapping_mul(31).wrapping_add(at as u64) % 251) as u8
}
