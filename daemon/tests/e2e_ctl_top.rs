//! End to end: `zerocpctl top` (the real CLI binary) against a real daemon,
//! a real publisher process and a real subscriber process that never
//! takes: `--once` lists the processes by name, the service with a real
//! publish rate, the subscriber's full queue and drops, as text and as
//! JSON; sorts and filters; fails cleanly without a daemon; and refuses
//! the live view without a terminal. The live view itself runs on a
//! pseudo-terminal: it draws the processes, and `q`, Ctrl-C and the daemon
//! stopping all end it with the terminal given back (raw mode off, the
//! alternate screen left, the cursor shown).

mod e2e_support;
mod support;

use std::process::Output;
use std::time::Duration;

use e2e_support::Msg;
use support::{DEADLINE, TestDomain};
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(60);
/// The idle subscriber's queue.
const QUEUE: u64 = 4;

fn service(instance: &str) -> String {
    format!("E2E/{instance}/Event")
}

/// Starts `role` (`publisher` or `idle_subscriber`) of `E2E/<instance>/Event`
/// registered as `name`, and waits until its port exists.
fn start(domain: &TestDomain, role: &str, instance: &str, name: &str) -> TestChild {
    let mut child = spawn_child(&format!("roles::{role}"), &[instance, name], &domain.envs());
    child.expect_line("ready", WAIT);
    child
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("zerocpctl prints UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The number before `/s` in the first cell of `line` that has one.
fn first_rate(line: &str) -> f64 {
    line.split_whitespace()
        .find_map(|cell| cell.strip_suffix("/s")?.parse().ok())
        .unwrap_or_else(|| panic!("no rate in {line:?}"))
}

#[test]
fn top_once_lists_processes_by_name_and_rates_that_move() {
    let domain = TestDomain::start();
    let mut publisher = start(&domain, "publisher", "top", "e2e-top-pub");
    let mut subscriber = start(&domain, "idle_subscriber", "top", "e2e-top-sub");
    // The subscriber never takes: its queue fills and then drops.
    let dropped = || {
        let services = domain.ctl_json(&["services"]);
        services["services"][0]["subscribers"][0]["dropped"]
            .as_u64()
            .unwrap_or(0)
    };
    assert!(domain.wait_until(DEADLINE, || dropped() > 0));

    // Text: the processes by name, the service with its publisher's name
    // and a non-zero rate over the half second between the two samples.
    let text = domain.ctl_ok(&["top", "--once", "--interval", "0.5"]);
    assert!(text.starts_with(&format!(
        "zerocp domain {}: rates over 0.5",
        domain.domain()
    )));
    for needle in ["PROCESSES", "e2e-top-pub", "e2e-top-sub", "MEMPOOLS"] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let row = text
        .lines()
        .find(|l| l.starts_with(&service("top")))
        .unwrap_or_else(|| panic!("no row of the service: {text}"));
    assert!(row.ends_with("e2e-top-pub"), "{row}");
    assert!(first_rate(row) > 0.0, "{row}");
    let size = format!("e2e::Msg ({} B, sized)", size_of::<Msg>());
    assert!(row.contains(&size), "{row}");

    // JSON: one object with the schema, the same model.
    let json = domain.ctl_json(&["top", "--once", "--interval", "0.5"]);
    assert_eq!(json["schema"], 1, "{json}");
    assert_eq!(json["domain"], domain.domain(), "{json}");
    let interval = json["interval_s"].as_f64().expect("an interval");
    assert!(interval >= 0.5, "{json}");
    let names: Vec<&str> = json["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["e2e-top-pub", "e2e-top-sub"], "sorted by name");
    let top = &json["services"][0];
    assert_eq!(top["service"], service("top"), "{json}");
    assert_eq!(top["processes"][0], "e2e-top-pub", "{json}");
    let rate = top["publish_rate_hz"].as_f64().expect("a rate");
    let bandwidth = top["bytes_per_s"].as_f64().expect("a bandwidth");
    assert!(rate > 0.0, "{json}");
    let expected = rate * size_of::<Msg>() as f64;
    assert!((bandwidth - expected).abs() <= expected * 1e-9, "{json}");
    let sub = &json["subscribers"][0];
    assert_eq!(sub["process"], "e2e-top-sub", "{json}");
    assert_eq!(sub["pid"], subscriber.pid(), "{json}");
    assert_eq!(sub["queue_len"], QUEUE, "full: {json}");
    assert_eq!(sub["queue_capacity"], QUEUE, "{json}");
    assert!(sub["dropped"].as_u64().is_some_and(|d| d > 0), "{json}");
    assert_eq!(sub["receive_rate_hz"], 0.0, "it never takes: {json}");
    assert!(!json["mempools"].as_array().expect("mempools").is_empty());

    // The filter and the sort key.
    let filtered = domain.ctl_json(&[
        "top",
        "--once",
        "--interval",
        "0.1",
        "--filter",
        "TOP-SUB",
        "--sort",
        "pid",
    ]);
    assert_eq!(filtered["sort"], "pid");
    assert_eq!(filtered["filter"], "TOP-SUB");
    assert_eq!(filtered["processes"].as_array().map(Vec::len), Some(1));
    assert_eq!(filtered["processes"][0]["pid"], subscriber.pid());
    assert_eq!(filtered["services"].as_array().map(Vec::len), Some(0));
    assert_eq!(filtered["subscribers"].as_array().map(Vec::len), Some(1));

    for child in [&mut publisher, &mut subscriber] {
        child.close_stdin();
        child.expect_success(WAIT);
    }
    domain.stop();
}

#[test]
fn top_fails_cleanly_without_a_daemon_or_a_terminal() {
    let mut domain = TestDomain::start();
    // Without a terminal the live view refuses to start, and says what to
    // use instead; the command line is checked as for every command.
    let live = domain.ctl(&["top"]);
    assert_eq!(live.status.code(), Some(2), "{}", stderr(&live));
    assert!(
        stderr(&live).contains("use `top --once`"),
        "{}",
        stderr(&live)
    );
    assert!(stdout(&live).is_empty());
    for bad in [
        &["top", "--json"][..],
        &["top", "--once", "--sort", "size"],
        &["top", "--once", "--interval", "0"],
        &["top", "--once", "--count", "3"],
        &["top", "extra"],
        &["services", "--once"],
    ] {
        let out = domain.ctl(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }

    let name = domain.domain().to_owned();
    domain.stop_with(rustix::process::Signal::TERM);
    let out = domain.ctl(&["top", "--once", "--interval", "0.1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("zerocpd is not running for domain {name}")),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

/// The live view on a pseudo-terminal: only when `zerocpctl` has it
/// (feature `tui`). The cross runs leave these out by name (qemu-user has no
/// terminal modes, see `ci/test-cross.sh`); wherever they run, they must pass.
#[cfg(feature = "tui")]
mod live_view {
    use std::io::Read;
    use std::os::fd::OwnedFd;
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use rustix::fs::{Mode, OFlags};
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use rustix::termios::{LocalModes, Winsize, tcgetattr, tcsetwinsize};

    use super::support::ZEROCPCTL;
    use super::*;

    /// Entering and leaving the alternate screen, showing the cursor.
    const ALTERNATE_SCREEN: &str = "\x1b[?1049h";
    const SHELL_SCREEN: &str = "\x1b[?1049l";
    const CURSOR_SHOWN: &str = "\x1b[?25h";

    /// `zerocpctl top` running on a pseudo-terminal (its stdin and stdout;
    /// stderr is a pipe): what it drew so far, and the terminal's other side
    /// to type on.
    struct PtyTop {
        child: Child,
        master: std::fs::File,
        /// Everything written to the terminal, escape sequences included.
        drawn: Arc<Mutex<Vec<u8>>>,
        /// The terminal side, kept to read its modes after `top` exits.
        terminal: OwnedFd,
    }

    /// A test that failed half-way leaves no zerocpctl behind.
    impl Drop for PtyTop {
        fn drop(&mut self) {
            if matches!(self.child.try_wait(), Ok(None)) {
                drop(self.child.kill());
                drop(self.child.wait());
            }
        }
    }

    /// A new pseudo-terminal: its controlling side and its terminal side.
    fn pty() -> (OwnedFd, OwnedFd) {
        let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
        let master = openpt(flags).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let open = OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC;
        let terminal = rustix::fs::open(name.as_c_str(), open, Mode::empty()).expect("the pty");
        (master, terminal)
    }

    impl PtyTop {
        /// Starts `zerocpctl top ARGS` on a new 30×120 pseudo-terminal.
        fn spawn(domain: &TestDomain, args: &[&str]) -> Self {
            let (master, terminal) = pty();
            let size = Winsize {
                ws_row: 30,
                ws_col: 120,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            tcsetwinsize(&terminal, size).expect("the pty's size");
            let child = Command::new(ZEROCPCTL)
                .arg("top")
                .args(args)
                .envs(domain.envs())
                .stdin(Stdio::from(terminal.try_clone().expect("dup")))
                .stdout(Stdio::from(terminal.try_clone().expect("dup")))
                .stderr(Stdio::piped())
                .spawn()
                .expect("run zerocpctl top");
            let master = std::fs::File::from(master);
            let drawn = Arc::new(Mutex::new(Vec::new()));
            let reader = master.try_clone().expect("dup");
            let sink = Arc::clone(&drawn);
            std::thread::spawn(move || {
                let mut reader = reader;
                let mut buf = [0u8; 4096];
                // Ends with EIO once no process holds the terminal side.
                while let Ok(n @ 1..) = reader.read(&mut buf) {
                    sink.lock()
                        .expect("the output")
                        .extend_from_slice(&buf[..n]);
                }
            });
            Self {
                child,
                master,
                drawn,
                terminal,
            }
        }

        fn drawn(&self) -> String {
            String::from_utf8_lossy(&self.drawn.lock().expect("the output")).into_owned()
        }

        /// Waits until `needle` was drawn; panics after `WAIT`.
        fn expect_drawn(&self, needle: &str) {
            let deadline = Instant::now() + WAIT;
            while !self.drawn().contains(needle) {
                assert!(
                    Instant::now() < deadline,
                    "{needle:?} not drawn: {:?}",
                    self.drawn()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }

        /// Types `keys` on the terminal.
        fn type_keys(&mut self, keys: &[u8]) {
            std::io::Write::write_all(&mut self.master, keys).expect("type on the pty");
        }

        /// Waits until it exits (panics after `WAIT`): its status and stderr.
        fn finish(&mut self) -> (ExitStatus, String) {
            let deadline = Instant::now() + WAIT;
            let status = loop {
                if let Some(status) = self.child.try_wait().expect("wait for zerocpctl") {
                    break status;
                }
                assert!(
                    Instant::now() < deadline,
                    "top did not exit: {}",
                    self.drawn()
                );
                std::thread::sleep(Duration::from_millis(5));
            };
            let mut stderr = String::new();
            if let Some(mut err) = self.child.stderr.take() {
                drop(err.read_to_string(&mut stderr));
            }
            (status, stderr)
        }

        /// Asserts the terminal was given back: cooked mode (canonical input
        /// and echo, as the pty started), the shell's screen after the
        /// alternate one, the cursor shown after that.
        fn assert_restored(&self) {
            let modes = tcgetattr(&self.terminal)
                .expect("the pty's modes")
                .local_modes;
            assert!(
                modes.contains(LocalModes::ICANON | LocalModes::ECHO),
                "raw mode left on: {modes:?}"
            );
            // The reader may still be copying the last bytes.
            let deadline = Instant::now() + WAIT;
            let restored = |drawn: &str| {
                let entered = drawn.find(ALTERNATE_SCREEN);
                let left = drawn.rfind(SHELL_SCREEN);
                let shown = drawn.rfind(CURSOR_SHOWN);
                matches!((entered, left, shown), (Some(e), Some(l), Some(s)) if e < l && l < s)
            };
            while !restored(&self.drawn()) {
                assert!(
                    Instant::now() < deadline,
                    "not restored: {:?}",
                    self.drawn()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    #[test]
    fn the_live_view_draws_and_q_or_ctrl_c_give_the_terminal_back() {
        let domain = TestDomain::start();
        let mut publisher = start(&domain, "publisher", "live", "e2e-live-pub");
        for (keys, what) in [(&b"s/live\rq"[..], "q"), (&b"\x03"[..], "Ctrl-C")] {
            let mut top = PtyTop::spawn(&domain, &["--interval", "0.2"]);
            top.expect_drawn(ALTERNATE_SCREEN);
            top.expect_drawn("e2e-live-pub");
            // A second frame has rates.
            top.expect_drawn("/s");
            top.type_keys(keys);
            let (status, stderr) = top.finish();
            assert!(status.success(), "{what}: {status}: {stderr}");
            assert!(stderr.is_empty(), "{what}: {stderr}");
            top.assert_restored();
        }
        publisher.close_stdin();
        publisher.expect_success(WAIT);
        domain.stop();
    }

    #[test]
    fn the_live_view_ends_with_an_error_when_the_daemon_stops() {
        let mut domain = TestDomain::start();
        let mut top = PtyTop::spawn(&domain, &["--interval", "0.1"]);
        top.expect_drawn("Processes");
        domain.stop_with(rustix::process::Signal::TERM);
        let (status, stderr) = top.finish();
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("zerocpd of domain {} stopped", domain.domain())),
            "{stderr}"
        );
        top.assert_restored();
    }
}

mod roles {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use crate::e2e_support::{Msg, arg, say, service, stop_flag};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    fn runtime(name: &str) -> Runtime {
        Runtime::builder(name)
            .reconnect(false)
            .init()
            .expect("init")
    }

    /// Publishes `Msg`s on `E2E/<instance>/Event` at 100 Hz (absolute
    /// deadlines) as the process `<name>`, until its stdin closes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        let Some(args) = role_args("roles::publisher") else {
            return;
        };
        let (instance, name): (String, String) = (arg(&args, 0), arg(&args, 1));
        let rt = runtime(&name);
        let publisher = rt
            .publisher::<Msg>(&service(&instance))
            .create()
            .expect("publisher");
        let stop = stop_flag();
        say("ready");
        let id = u64::from(std::process::id());
        let start = Instant::now();
        let mut seq = 0u64;
        while !stop.load(Ordering::Acquire) {
            let loan = publisher.loan_uninit().expect("loan");
            loan.write(Msg::new(id, seq)).publish().expect("publish");
            seq += 1;
            let next = start + Duration::from_millis(10) * u32::try_from(seq).expect("short");
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    }

    /// Subscribes to `E2E/<instance>/Event` with a queue of
    /// [`QUEUE`](crate::QUEUE) as the process `<name>` and never takes,
    /// until its stdin closes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn idle_subscriber() {
        let Some(args) = role_args("roles::idle_subscriber") else {
            return;
        };
        let (instance, name): (String, String) = (arg(&args, 0), arg(&args, 1));
        let rt = runtime(&name);
        let queue = u32::try_from(crate::QUEUE).expect("a small queue");
        let _subscriber = rt
            .subscriber::<Msg>(&service(&instance))
            .queue_capacity(queue)
            .create()
            .expect("subscriber");
        say("ready");
        let mut line = String::new();
        drop(std::io::stdin().read_line(&mut line));
    }
}
