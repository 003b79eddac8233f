//! End to end: self-describing types. A real publisher process of a
//! `#[derive(ZeroCopySafe)]` struct with a nested derived struct, an array
//! and several kinds; the real `zerocpctl` shows its layout (`info`) and
//! decodes its samples field by field (`echo --count 3 --json`), and falls
//! back to hex for a type that does not describe itself.

mod e2e_support;
mod support;

use std::io::Read;
use std::mem::offset_of;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{TestDomain, ZEROCPCTL};
use zerocp::ZeroCopySafe;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(60);

/// A derived struct nested in [`Pose`].
#[repr(C)]
#[derive(Debug, Clone, Copy, ZeroCopySafe)]
struct Vec3 {
    x: f64,
    y: f64,
    z: f64,
}

/// The published type: no padding (8 + 24 + 4 + 2 + 2 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, ZeroCopySafe)]
#[zerocp(type_name = "e2e::Pose")]
struct Pose {
    stamp: u64,
    position: Vec3,
    yaw: f32,
    quality: i16,
    flags: [u8; 2],
}

impl Pose {
    /// Sample `seq`: every field a value the test can predict from `stamp`.
    fn of(seq: u64) -> Self {
        let s = seq as f64;
        Self {
            stamp: seq,
            position: Vec3 {
                x: s * 0.5,
                y: -s,
                z: 1.25,
            },
            yaw: seq as f32 * 0.25,
            quality: -(seq as i16),
            flags: [seq as u8, 7],
        }
    }

    /// What `echo` must decode sample `seq` into.
    fn fields(seq: u64) -> Value {
        let s = seq as f64;
        json!({
            "stamp": seq,
            "position.x": s * 0.5,
            "position.y": -s,
            "position.z": 1.25,
            "yaw": s * 0.25,
            "quality": -(seq as i64),
            "flags": [seq as u8, 7],
        })
    }
}

/// Starts a publisher role of `kind` (`pose`: [`Pose`], `opaque`: `u128`)
/// on `E2E/<instance>/Event` and waits until its port exists.
fn publisher(domain: &TestDomain, instance: &str, kind: &str) -> TestChild {
    let mut child = spawn_child("roles::paced_publisher", &[instance, kind], &domain.envs());
    child.expect_line("publishing", WAIT);
    child
}

fn service(instance: &str) -> String {
    format!("E2E/{instance}/Event")
}

/// Runs `zerocpctl ARGS` to its end (killed and failed after `WAIT`); its
/// status, stdout lines and stderr.
fn ctl(domain: &TestDomain, args: &[&str]) -> (ExitStatus, Vec<String>, String) {
    let mut child = Command::new(ZEROCPCTL)
        .args(args)
        .envs(domain.envs())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run zerocpctl");
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for zerocpctl") {
            break status;
        }
        if Instant::now() >= deadline {
            drop(child.kill());
            drop(child.wait());
            panic!("zerocpctl {args:?} did not exit within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).expect("read stdout");
    }
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut err).expect("read stderr");
    }
    (status, out.lines().map(str::to_owned).collect(), err)
}

fn stop(domain: TestDomain, mut publisher: TestChild) {
    publisher.close_stdin();
    publisher.expect_success(WAIT);
    domain.stop();
}

#[test]
fn echo_count_3_json_decodes_a_derived_struct() {
    let domain = TestDomain::start();
    let publisher = publisher(&domain, "pose", "pose");
    let args = ["echo", &service("pose"), "--count", "3", "--json"];
    let (status, lines, stderr) = ctl(&domain, &args);
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    let mut previous = None;
    for line in &lines {
        let sample: Value = serde_json::from_str(line).expect("a JSON line");
        assert_eq!(sample["len"], size_of::<Pose>(), "{line}");
        let seq = sample["fields"]["stamp"].as_u64().expect("a decoded stamp");
        assert_eq!(sample["fields"], Pose::fields(seq), "{line}");
        // The publisher's sequence numbers count its publishes, as stamp does.
        assert_eq!(sample["sequence"], seq, "{line}");
        assert!(previous.is_none_or(|p| seq > p), "{lines:?}");
        previous = Some(seq);
    }

    // Text: the header, the fields in declaration order, then the hex.
    let (status, lines, stderr) = ctl(&domain, &["echo", &service("pose"), "--count", "1"]);
    assert!(status.success(), "{status}: {stderr}");
    let names: Vec<&str> = lines[1..8]
        .iter()
        .map(|l| l.trim().split(':').next().unwrap_or_default())
        .collect();
    let expected = ["stamp", "position.x", "position.y", "position.z", "yaw"];
    assert_eq!(names[..5], expected, "{lines:?}");
    assert_eq!(lines[4].trim(), "position.z: 1.25", "{lines:?}");
    assert!(lines[8].starts_with("  00000000  "), "{lines:?}");
    stop(domain, publisher);
}

#[test]
fn info_shows_the_layout_and_a_type_without_one_is_hex() {
    let domain = TestDomain::start();
    let pose = publisher(&domain, "pose-info", "pose");
    let info = domain.ctl_json(&["info", &service("pose-info")]);
    let position = offset_of!(Pose, position);
    let field = |name: &str, offset: usize, kind: &str, len: u32| json!({"name": name, "offset": offset, "kind": kind, "len": len});
    let expected = json!([
        field("stamp", offset_of!(Pose, stamp), "u64", 1),
        field("position.x", position + offset_of!(Vec3, x), "f64", 1),
        field("position.y", position + offset_of!(Vec3, y), "f64", 1),
        field("position.z", position + offset_of!(Vec3, z), "f64", 1),
        field("yaw", offset_of!(Pose, yaw), "f32", 1),
        field("quality", offset_of!(Pose, quality), "i16", 1),
        field("flags", offset_of!(Pose, flags), "u8", 2),
    ]);
    assert_eq!(info["layout"], expected, "{info}");
    assert_eq!(info["layout_truncated"], false, "{info}");
    let text = domain.ctl_ok(&["info", &service("pose-info")]);
    assert!(
        text.contains("FIELD") && text.contains("position.y") && text.contains("f32"),
        "{text}"
    );

    let opaque = publisher(&domain, "opaque", "opaque");
    let info = domain.ctl_json(&["info", &service("opaque")]);
    assert!(info["layout"].is_null(), "{info}");
    let text = domain.ctl_ok(&["info", &service("opaque")]);
    assert!(text.contains("fields   unknown"), "{text}");
    let args = ["echo", &service("opaque"), "--count", "1", "--json"];
    let (status, lines, stderr) = ctl(&domain, &args);
    assert!(status.success(), "{status}: {stderr}");
    let sample: Value = serde_json::from_str(&lines[0]).expect("a JSON line");
    assert!(sample["fields"].is_null(), "{sample}");
    assert_eq!(
        sample["payload"].as_str().map(str::len),
        Some(32),
        "{sample}"
    );
    let mut opaque = opaque;
    opaque.close_stdin();
    opaque.expect_success(WAIT);
    stop(domain, pose);
}

mod roles {
    use std::time::Duration;

    use crate::Pose;
    use crate::e2e_support::{arg, say, service, stop_flag};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    /// Publishes `Pose::of(seq)` (`pose`) or `seq` as a `u128` (`opaque`)
    /// on `E2E/<instance>/Event` every 10 ms until its stdin closes.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn paced_publisher() {
        let Some(args) = role_args("roles::paced_publisher") else {
            return;
        };
        let (instance, kind): (String, String) = (arg(&args, 0), arg(&args, 1));
        let rt = Runtime::builder("e2e-layout-pub")
            .reconnect(false)
            .init()
            .expect("init");
        let svc = service(&instance);
        let stop = stop_flag();
        let mut publish: Box<dyn FnMut(u64)> = if kind == "pose" {
            let publisher = rt.publisher::<Pose>(&svc).create().expect("publisher");
            Box::new(move |seq| {
                let loan = publisher.loan_uninit().expect("loan");
                loan.write(Pose::of(seq)).publish().expect("publish");
            })
        } else {
            let publisher = rt.publisher::<u128>(&svc).create().expect("publisher");
            Box::new(move |seq| {
                let loan = publisher.loan_uninit().expect("loan");
                loan.write(u128::from(seq)).publish().expect("publish");
            })
        };
        say("publishing");
        let mut seq = 0;
        while !stop.load(std::sync::atomic::Ordering::Acquire) {
            publish(seq);
            seq += 1;
            std::thread::sleep(Duration::from_millis(10));
        }
        say("stopped");
    }
}
