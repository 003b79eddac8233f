//! zerocpd under a service manager and by hand: the `sd_notify` protocol on a
//! real datagram socket (`READY=1` once it accepts connections, `STATUS=`,
//! `WATCHDOG=1` at half of `WATCHDOG_USEC`, `STOPPING=1`), journal
//! priorities when `JOURNAL_STREAM` names its stderr, timestamps otherwise,
//! a run directory removed only when the daemon created it, and a
//! connection the socket's permissions refuse reported as refused.

mod support;

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustix::net::{AddressFamily, RecvFlags, SocketAddrUnix, SocketFlags, SocketType};
use rustix::process::Signal;
use support::{DEADLINE, TestDomain, connects, wait_until};

/// The service manager's end: a datagram socket bound at a path.
struct NotifySocket {
    socket: OwnedFd,
    path: PathBuf,
}

impl NotifySocket {
    fn bind(path: PathBuf) -> Self {
        let socket = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .expect("datagram socket");
        let address = SocketAddrUnix::new(path.as_path()).expect("socket address");
        rustix::net::bind(&socket, &address).expect("bind the notify socket");
        rustix::net::sockopt::set_socket_timeout(
            &socket,
            rustix::net::sockopt::Timeout::Recv,
            Some(Duration::from_millis(200)),
        )
        .expect("receive timeout");
        Self { socket, path }
    }

    /// The next message, or `None` after `timeout`.
    fn recv(&self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok((_, len)) = rustix::net::recv(&self.socket, &mut buf, RecvFlags::empty()) {
                return Some(String::from_utf8(buf[..len].to_vec()).expect("UTF-8 state"));
            }
        }
        None
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        drop(std::fs::remove_file(&self.path));
    }
}

fn notify_path(domain: &TestDomain) -> PathBuf {
    domain.log_path().with_file_name("notify.sock")
}

#[test]
fn notify_protocol_ready_status_watchdog_stopping() {
    let mut domain = TestDomain::builder().prepare();
    let notify = NotifySocket::bind(notify_path(&domain));
    let mut command = domain.daemon_command("info");
    command
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", "200000");
    domain.spawn_unready(command);

    let ready = notify.recv(DEADLINE).expect("READY=1 within the deadline");
    // Ready means ready: the control socket accepts connections already.
    assert!(
        connects(&domain.socket_path()),
        "READY=1 before the socket accepts"
    );
    let expected = format!(
        "READY=1\nSTATUS=serving domain {} on {}",
        domain.domain(),
        domain.socket_path().display()
    );
    assert_eq!(ready, expected);

    // WATCHDOG_USEC=200 ms: a ping every 100 ms, from the event loop.
    for n in 0..3 {
        let ping = notify
            .recv(DEADLINE)
            .unwrap_or_else(|| panic!("watchdog ping {n}"));
        assert_eq!(ping, "WATCHDOG=1");
    }

    domain.signal(Signal::TERM);
    let stopping = (0..100)
        .map_while(|_| notify.recv(DEADLINE))
        .find(|m| m != "WATCHDOG=1")
        .expect("STOPPING=1 after SIGTERM");
    assert_eq!(stopping, "STOPPING=1\nSTATUS=received SIGTERM, stopping");
    let status = domain.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", domain.daemon_log());
    domain.assert_nothing_left();
}

#[test]
fn journal_stream_gets_syslog_priorities() {
    let mut domain = TestDomain::builder().prepare();
    let stat = rustix::fs::stat(domain.log_path()).expect("stat the log");
    let mut command = domain.daemon_command("debug");
    command.env("JOURNAL_STREAM", format!("{}:{}", stat.st_dev, stat.st_ino));
    domain.spawn_command(command);
    domain.stop_with(Signal::TERM);
    let log = domain.daemon_log();
    assert!(log.contains("<6>INFO  serving domain"), "{log}");
    assert!(log.contains("<7>DEBUG"), "{log}");
    for line in log.lines() {
        let priority = line.get(..3).unwrap_or(line);
        assert!(
            ["<3>", "<4>", "<6>", "<7>"].contains(&priority),
            "a line without a journal priority: {line:?}"
        );
    }
}

/// Run by hand (no journal), each line starts with a UTC timestamp and the
/// program's name and pid; a `JOURNAL_STREAM` that names another file (a
/// child that inherited the variable) changes nothing.
#[test]
fn by_hand_lines_carry_timestamps() {
    let mut domain = TestDomain::builder().prepare();
    let mut command = domain.daemon_command("info");
    command.env("JOURNAL_STREAM", "1:1");
    domain.spawn_command(command);
    let pid = domain.daemon_pid();
    domain.stop_with(Signal::TERM);
    let log = domain.daemon_log();
    let mut lines = log.lines().peekable();
    assert!(lines.peek().is_some(), "no log lines");
    for line in lines {
        let (stamp, rest) = line.split_once(' ').expect("a timestamp, then the rest");
        assert!(is_utc_timestamp(stamp), "no timestamp in {line:?}");
        assert!(rest.starts_with(&format!("zerocpd[{pid}] ")), "{line:?}");
    }
}

/// `2026-12-02T03:04:05.678Z`.
fn is_utc_timestamp(text: &str) -> bool {
    let digits_at = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
    let seps = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ];
    let bytes = text.as_bytes();
    bytes.len() == 24
        && digits_at.iter().all(|&i| bytes[i].is_ascii_digit())
        && seps.iter().all(|&(i, c)| bytes[i] == c)
}

/// A run directory the daemon had to create goes at stop; the one it found
/// (its parent here) stays.
#[test]
fn run_dir_created_by_the_daemon_is_removed_and_found_one_kept() {
    let mut domain = TestDomain::builder().prepare();
    let made = domain.run_dir().join("made/by/daemon");
    let mut command = domain.daemon_command("info");
    command.env("ZEROCP_RUN_DIR", &made);
    domain.spawn_unready(command);
    let socket = made.join(format!("{}.sock", domain.domain()));
    assert!(
        wait_until(DEADLINE, || connects(&socket)),
        "{}",
        domain.daemon_log()
    );
    domain.signal(Signal::TERM);
    assert_eq!(
        domain.wait_exit().code(),
        Some(0),
        "{}",
        domain.daemon_log()
    );
    assert!(
        !domain.run_dir().join("made").exists(),
        "{}",
        domain.daemon_log()
    );
    assert!(domain.run_dir().is_dir());
    domain.assert_nothing_left();
}

/// A user the socket's mode refuses is told access was refused, with the
/// configuration section to look at, not that the daemon is not running.
#[test]
fn zerocpctl_refused_by_socket_permissions_says_so() {
    use std::os::unix::process::CommandExt;
    if !rustix::process::getuid().is_root() {
        eprintln!("skipped: running zerocpctl as another user needs root");
        return;
    }
    let domain = TestDomain::start();
    let out = std::process::Command::new(support::ZEROCPCTL)
        .arg("status")
        .envs(domain.envs())
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run zerocpctl as nobody");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "access to zerocpd of domain {} refused",
            domain.domain()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("[access]") && stderr.contains("EACCES"),
        "{stderr}"
    );
    assert!(!stderr.contains("not running"), "{stderr}");
    domain.stop();
}

#[test]
fn timestamp_shape_check_can_fail() {
    assert!(is_utc_timestamp("2026-12-02T03:04:05.678Z"));
    assert!(!is_utc_timestamp("2026-12-02 03:04:05.678Z"));
    assert!(!is_utc_timestamp("zerocpd[1]"));
}

/// The unit runs the daemon as a dedicated, unprivileged user: it needs no
/// more than a writable run directory. Here as `nobody`,
/// with root's `zerocpctl` (allowed by `[access]`) inspecting it.
#[test]
fn daemon_serves_as_an_unprivileged_user() {
    use std::os::unix::process::CommandExt;
    if !rustix::process::getuid().is_root() {
        eprintln!("skipped: starting zerocpd as another user needs root");
        return;
    }
    const NOBODY: u32 = 65534;
    let mut domain = TestDomain::builder().prepare();
    let owner = Some(rustix::fs::Uid::from_raw(NOBODY));
    let group = Some(rustix::fs::Gid::from_raw(NOBODY));
    rustix::fs::chown(domain.run_dir(), owner, group).expect("chown the run dir");
    let mut command = domain.daemon_command("info");
    command.uid(NOBODY).gid(NOBODY);
    domain.spawn_command(command);
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["daemon_pid"], domain.daemon_pid());
    let pid = domain.daemon_pid();
    for (name, fd) in domain
        .segment_names()
        .iter()
        .zip(domain.daemon_segment_fds())
    {
        let fd = fd.unwrap_or_else(|| panic!("the daemon does not hold {name}"));
        let stat = rustix::fs::stat(format!("/proc/{pid}/fd/{fd}")).expect("the segment");
        assert_eq!(
            (stat.st_uid, stat.st_mode & 0o777),
            (NOBODY, 0o600),
            "{name} is not the daemon user's alone"
        );
    }
    domain.stop_with(Signal::TERM);
}
