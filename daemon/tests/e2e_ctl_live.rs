//! End to end: `zerocpctl echo`, `hz`, `bw` and `info` (the real CLI
//! binary) against a real daemon and a real publisher process, on a domain
//! the CLI did not start: what they print, and that they end cleanly at
//! their count, on Ctrl-C and when the daemon stops.

mod e2e_support;
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use e2e_support::Msg;
use support::{DEADLINE, TestDomain, ZEROCPCTL};
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(60);

/// A `zerocpctl` run in the background: its stdout line by line.
struct Ctl {
    child: Child,
    lines: mpsc::Receiver<String>,
}

/// A test that failed half-way leaves no zerocpctl behind.
impl Drop for Ctl {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            drop(self.child.kill());
            drop(self.child.wait());
        }
    }
}

impl Ctl {
    /// Starts `zerocpctl ARGS` against `domain`.
    fn spawn(domain: &TestDomain, args: &[&str]) -> Self {
        let mut child = Command::new(ZEROCPCTL)
            .args(args)
            .envs(domain.envs())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run zerocpctl");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line it prints; panics after `WAIT`.
    fn line(&self) -> String {
        self.lines
            .recv_timeout(WAIT)
            .expect("zerocpctl printed nothing in time")
    }

    /// Waits until it exits (panics after `WAIT`); its status, the lines
    /// it printed that were not read yet, and its stderr.
    fn finish(&mut self) -> (ExitStatus, Vec<String>, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for zerocpctl") {
                break status;
            }
            if Instant::now() >= deadline {
                drop(self.child.kill());
                panic!("zerocpctl did not exit within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            drop(std::io::Read::read_to_string(&mut err, &mut stderr));
        }
        // The reader ends at the end of the output, which came with the exit.
        let rest = self.lines.iter().collect();
        (status, rest, stderr)
    }

    /// Sends `signal` to it.
    fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a pid");
        rustix::process::kill_process(pid, signal).expect("signal zerocpctl");
    }
}

/// Starts a publisher role publishing on `E2E/<instance>/Event` at 100 Hz
/// (`kind`: `msg` for [`Msg`], `slice` for byte slices) and waits until
/// its port exists.
fn publisher(domain: &TestDomain, instance: &str, kind: &str, name: &str) -> TestChild {
    let mut child = spawn_child(
        "roles::paced_publisher",
        &[instance, kind, name],
        &domain.envs(),
    );
    child.expect_line("publishing", WAIT);
    child
}

fn service(instance: &str) -> String {
    format!("E2E/{instance}/Event")
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {e}: {line}"))
}

/// The bytes of a lower-case hex string.
fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Stops the publisher role and the daemon; nothing may be left.
fn stop(domain: TestDomain, mut publisher: TestChild) {
    publisher.close_stdin();
    publisher.expect_success(WAIT);
    domain.stop();
}

#[test]
fn hz_measures_a_100_hz_publisher_within_5_percent() {
    let domain = TestDomain::start();
    let publisher = publisher(&domain, "hz", "msg", "e2e-hz-pub");
    let mut ctl = Ctl::spawn(&domain, &["hz", &service("hz"), "--count", "300", "--json"]);
    let (status, lines, stderr) = ctl.finish();
    assert!(status.success(), "{status}: {stderr}");
    let last = json(lines.last().expect("a final report"));
    let rate = last["rate_hz"].as_f64().expect("a rate");
    assert!((95.0..=105.0).contains(&rate), "{rate} Hz: {lines:?}");
    assert_eq!(last["service"], service("hz"));
    let min = last["min_period_s"].as_f64().expect("a min");
    let max = last["max_period_s"].as_f64().expect("a max");
    assert!(0.0 < min && min <= max, "{last}");
    assert!(last["window"].as_u64().expect("a window") >= 2, "{last}");

    // bw over the same publisher: 24-byte samples at 100 Hz.
    let mut ctl = Ctl::spawn(&domain, &["bw", &service("hz"), "--count", "300", "--json"]);
    let (status, lines, stderr) = ctl.finish();
    assert!(status.success(), "{status}: {stderr}");
    let last = json(lines.last().expect("a final report"));
    let bandwidth = last["bytes_per_s"].as_f64().expect("a bandwidth");
    assert!(
        (2280.0..=2520.0).contains(&bandwidth),
        "{bandwidth} B/s: {lines:?}"
    );
    assert_eq!(last["size_max"], size_of::<Msg>());

    // The text form reads like ros2's.
    let mut ctl = Ctl::spawn(&domain, &["hz", &service("hz"), "--count", "20"]);
    let (status, lines, stderr) = ctl.finish();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        lines.iter().any(|l| l.starts_with("average rate: "))
            && lines
                .iter()
                .any(|l| l.starts_with("\tmin: ") && l.contains(" window: ")),
        "{lines:?}"
    );
    stop(domain, publisher);
}

#[test]
fn echo_count_json_prints_exactly_the_published_bytes() {
    let domain = TestDomain::start();
    let mut publisher = publisher(&domain, "echo", "msg", "e2e-echo-pub");
    let mut ctl = Ctl::spawn(
        &domain,
        &["echo", &service("echo"), "--count", "3", "--json"],
    );
    let (status, lines, stderr) = ctl.finish();
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    let mut previous = None;
    for line in &lines {
        let sample = json(line);
        assert_eq!(sample["service"], service("echo"), "{line}");
        assert_eq!(sample["len"], size_of::<Msg>(), "{line}");
        assert_eq!(sample["elements"], 1, "{line}");
        assert!(sample["publish_time_ns"].as_u64().is_some_and(|t| t > 0));
        assert!(
            sample["publisher"]["generation"]
                .as_u64()
                .is_some_and(|g| g > 0)
        );
        let bytes = unhex(sample["payload"].as_str().expect("hex payload"));
        let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
        let msg = Msg {
            seq: word(0),
            publisher: word(1),
            check: word(2),
        };
        assert!(msg.is_valid(), "{line}");
        // Msg is derived: it describes itself, and echo decodes it.
        let fields = serde_json::json!({
            "seq": msg.seq,
            "publisher": msg.publisher,
            "check": msg.check,
        });
        assert_eq!(sample["fields"], fields, "{line}");
        assert_eq!(msg.publisher, u64::from(publisher.pid()), "{line}");
        // The publisher's sequence numbers count its publishes, as Msg.seq does.
        assert_eq!(sample["sequence"], msg.seq, "{line}");
        assert!(previous.is_none_or(|p| msg.seq > p), "{lines:?}");
        previous = Some(msg.seq);
    }

    // Text: a header line, the fields, and the hex dump.
    let mut ctl = Ctl::spawn(&domain, &["echo", &service("echo"), "--count", "1"]);
    let (status, lines, stderr) = ctl.finish();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        lines[0].starts_with('#') && lines[0].ends_with("24 bytes"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 6, "3 fields, 16 bytes a dump line: {lines:?}");
    assert!(lines[1].starts_with("  seq: "), "{lines:?}");
    assert!(lines[4].starts_with("  00000000  "), "{lines:?}");
    publisher.close_stdin();
    publisher.expect_success(WAIT);
    domain.stop();
}

#[test]
fn echo_shows_a_slice_service() {
    let domain = TestDomain::start();
    let publisher = publisher(&domain, "slice", "slice", "e2e-slice-pub");
    let mut ctl = Ctl::spawn(
        &domain,
        &["echo", &service("slice"), "--count", "6", "--json"],
    );
    let (status, lines, stderr) = ctl.finish();
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(lines.len(), 6, "{lines:?}");
    for line in &lines {
        let sample = json(line);
        let seq = sample["sequence"].as_u64().expect("a sequence");
        let (len, bytes) = roles::slice_of(seq);
        assert_eq!(sample["elements"], len, "{line}");
        assert_eq!(sample["len"], len, "{line}");
        assert_eq!(
            unhex(sample["payload"].as_str().expect("hex")),
            bytes,
            "{line}"
        );
    }
    let mut ctl = Ctl::spawn(&domain, &["echo", &service("slice"), "--count", "1"]);
    let (status, lines, stderr) = ctl.finish();
    assert!(status.success(), "{status}: {stderr}");
    assert!(lines[0].ends_with(" elements)"), "{lines:?}");
    let info = domain.ctl_json(&["info", &service("slice")]);
    assert_eq!(info["shape"], "slice", "{info}");
    assert_eq!(info["type_name"], "[u8]", "{info}");
    stop(domain, publisher);
}

#[test]
fn info_names_the_publisher_process() {
    let domain = TestDomain::start();
    let publisher = publisher(&domain, "info", "msg", "e2e-info-pub");
    let info = domain.ctl_json(&["info", &service("info")]);
    assert_eq!(info["service"], service("info"));
    assert_eq!(info["type_name"], "e2e::Msg");
    assert_eq!(info["shape"], "sized");
    assert_eq!(info["payload_size"], size_of::<Msg>());
    let publishers = info["publishers"].as_array().expect("publishers");
    assert_eq!(publishers.len(), 1, "{info}");
    assert_eq!(publishers[0]["process"], "e2e-info-pub", "{info}");
    assert_eq!(publishers[0]["pid"], publisher.pid(), "{info}");
    assert_eq!(info["subscribers"].as_array().map(Vec::len), Some(0));
    let text = domain.ctl_ok(&["info", &service("info")]);
    assert!(
        text.contains("e2e-info-pub") && text.contains("e2e::Msg (24 B, align 8), sized"),
        "{text}"
    );

    let unknown = domain.ctl(&["info", &service("nobody")]);
    assert_eq!(unknown.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no port of service E2E/nobody/Event"),
        "{stderr}"
    );
    let echo = domain.ctl(&["echo", &service("nobody"), "--count", "1"]);
    assert_eq!(echo.status.code(), Some(1));
    let bad = domain.ctl(&["hz", "E2E/only-two"]);
    assert_eq!(bad.status.code(), Some(2), "a bad command line");
    let bad = domain.ctl(&["services", "--count", "3"]);
    assert_eq!(bad.status.code(), Some(2), "a bad command line");
    stop(domain, publisher);
}

#[test]
fn ctrl_c_ends_echo_cleanly_and_its_port_goes() {
    let domain = TestDomain::start();
    let publisher = publisher(&domain, "sigint", "msg", "e2e-sigint-pub");
    let mut ctl = Ctl::spawn(&domain, &["echo", &service("sigint"), "--json"]);
    ctl.line();
    let subscribers = || {
        domain.ctl_json(&["info", &service("sigint")])["subscribers"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(subscribers(), 1, "echo's own subscriber");
    ctl.signal(rustix::process::Signal::INT);
    let (status, _, stderr) = ctl.finish();
    assert!(
        status.success(),
        "Ctrl-C is not an error: {status}: {stderr}"
    );
    assert!(domain.wait_until(DEADLINE, || subscribers() == 0));
    stop(domain, publisher);
}

#[test]
fn echo_and_hz_end_with_an_error_when_the_daemon_stops() {
    let mut domain = TestDomain::start();
    let mut publisher = publisher(&domain, "gone", "msg", "e2e-gone-pub");
    let echo = Ctl::spawn(&domain, &["echo", &service("gone")]);
    let hz = Ctl::spawn(&domain, &["hz", &service("gone"), "--json"]);
    echo.line();
    hz.line();
    domain.stop_with(rustix::process::Signal::TERM);
    for mut ctl in [echo, hz] {
        let (status, _, stderr) = ctl.finish();
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("zerocpd of domain {} stopped", domain.domain())),
            "{stderr}"
        );
    }
    assert_eq!(publisher.expect_line("stopped: ", WAIT), "DaemonGone");
    publisher.expect_success(WAIT);
    domain.assert_nothing_left();
}

mod roles {
    use std::time::{Duration, Instant};

    use crate::e2e_support::{Msg, arg, say, service, stop_flag};
    use zerocp::{LoanError, PublishError, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    /// The longest slice the slice publisher sends.
    const MAX_SLICE: u32 = 5;

    /// What the slice publisher sends as sample `seq`: its length and bytes.
    pub fn slice_of(seq: u64) -> (usize, Vec<u8>) {
        let len = (seq % u64::from(MAX_SLICE)) as usize + 1;
        (len, vec![seq as u8; len])
    }

    /// Why a publish failed, as the role reports it.
    fn failure(loan: Option<LoanError>, publish: Option<PublishError>) -> String {
        match (loan, publish) {
            (Some(LoanError::DaemonGone), _) | (_, Some(PublishError::DaemonGone)) => {
                "DaemonGone".into()
            }
            (loan, publish) => panic!("loan {loan:?}, publish {publish:?}"),
        }
    }

    /// Publishes on `E2E/<instance>/Event` at 100 Hz, paced by its own
    /// clock (absolute deadlines), until its stdin closes (`stopped:
    /// stdin`) or the daemon is gone (`stopped: DaemonGone`).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn paced_publisher() {
        let Some(args) = role_args("roles::paced_publisher") else {
            return;
        };
        let (instance, kind, name): (String, String, String) =
            (arg(&args, 0), arg(&args, 1), arg(&args, 2));
        let rt = Runtime::builder(&name)
            .reconnect(false)
            .init()
            .expect("init");
        let svc = service(&instance);
        let stop = stop_flag();
        let id = u64::from(std::process::id());
        let mut publish: Box<dyn FnMut(u64) -> Result<(), String>> = if kind == "slice" {
            let publisher = rt
                .publisher::<[u8]>(&svc)
                .max_slice_len(MAX_SLICE)
                .create()
                .expect("slice publisher");
            Box::new(move |seq| {
                let (len, bytes) = slice_of(seq);
                let loan = publisher
                    .loan_slice_uninit(len)
                    .map_err(|e| failure(Some(e), None))?;
                loan.write_with(|slice| slice.copy_from_slice(&bytes))
                    .publish()
                    .map_err(|e| failure(None, Some(e)))
            })
        } else {
            let publisher = rt.publisher::<Msg>(&svc).create().expect("publisher");
            Box::new(move |seq| {
                let loan = publisher
                    .loan_uninit()
                    .map_err(|e| failure(Some(e), None))?;
                loan.write(Msg::new(id, seq))
                    .publish()
                    .map_err(|e| failure(None, Some(e)))
            })
        };
        say("publishing");
        let period = Duration::from_millis(10);
        let start = Instant::now();
        let mut seq = 0u64;
        while !stop.load(std::sync::atomic::Ordering::Acquire) {
            if let Err(why) = publish(seq) {
                say(format!("stopped: {why}"));
                return;
            }
            seq += 1;
            let next = start + period * u32::try_from(seq).expect("a short test");
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        say("stopped: stdin");
    }
}
