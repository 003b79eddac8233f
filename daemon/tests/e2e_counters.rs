//! End to end: the counters `zerocpctl` shows are exactly what happened.
//!
//! - a publisher publishes N samples and fails one loan, a subscriber takes
//!   M of them: `services --json` says N published, one failed loan, M
//!   received and N − M queued; `metrics` is valid Prometheus text with the
//!   same numbers, labelled by service and process name;
//! - a block-publisher subscriber that never takes makes a publish wait
//!   its timeout: the publisher's `blocked_ns` covers the wait;
//! - a process stopped until its heartbeat times out, then killed with
//!   `kill -9` while it holds loans: `status --json` counts the heartbeat
//!   timeout, the death and the reclaimed chunk references, and a process
//!   that unregisters is not counted as dead.

mod e2e_support;
mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(60);
/// The daemon's heartbeat timeout in the death test.
const HEARTBEAT_TIMEOUT_MS: u64 = 3_000;
/// Slack on top of the heartbeat timeout for slow (emulated) CI machines.
const SLACK: Duration = Duration::from_secs(30);

/// The one entry of `services --json` for `E2E/<instance>/Event`.
fn service_json(domain: &TestDomain, instance: &str) -> serde_json::Value {
    let name = format!("E2E/{instance}/Event");
    let services = domain.ctl_json(&["services"]);
    assert_eq!(services["schema"], 1, "{services}");
    services["services"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["service"] == name.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not listed: {services}"))
}

/// A counter of `status --json`.
fn status_counter(domain: &TestDomain, key: &str) -> u64 {
    let status = domain.ctl_json(&["status"]);
    status[key]
        .as_u64()
        .unwrap_or_else(|| panic!("status has no counter {key}: {status}"))
}

/// One sample of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// Parses `text` as the Prometheus text exposition format 0.0.4 (the
/// parts `metrics` writes: `# HELP`, `# TYPE`, samples with labels) and
/// checks its rules: valid names, one `# TYPE` before a family's samples,
/// counters ending in `_total`, escaped label values, numeric values.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let valid_name = |name: &str| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            assert!(valid_name(name), "bad HELP line {line:?}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(valid_name(name), "bad TYPE line {line:?}");
            assert!(
                ["counter", "gauge"].contains(&kind),
                "unexpected type {line:?}"
            );
            if kind == "counter" {
                assert!(name.ends_with("_total"), "counter without _total: {line:?}");
            }
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "family {name} typed twice"
            );
        } else {
            assert!(!line.starts_with('#'), "unexpected comment {line:?}");
            samples.push(parse_sample(line, &valid_name));
        }
    }
    for sample in &samples {
        assert!(
            types.contains_key(&sample.name),
            "{} has no # TYPE line",
            sample.name
        );
    }
    samples
}

/// `name{label="value",…} value`.
fn parse_sample(line: &str, valid_name: &impl Fn(&str) -> bool) -> Sample {
    let (name, rest) = line.split_at(line.find(['{', ' ']).expect("a sample line"));
    assert!(valid_name(name), "bad sample name in {line:?}");
    let mut labels = HashMap::new();
    let mut chars = rest.chars().peekable();
    if chars.peek() == Some(&'{') {
        chars.next();
        loop {
            let label: String = chars.by_ref().take_while(|&c| c != '=').collect();
            assert!(valid_name(&label), "bad label name in {line:?}");
            assert_eq!(chars.next(), Some('"'), "unquoted label value in {line:?}");
            let mut value = String::new();
            loop {
                match chars.next().expect("an unterminated label value") {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => panic!("bad escape {other:?} in {line:?}"),
                    },
                    c => value.push(c),
                }
            }
            labels.insert(label, value);
            match chars.next() {
                Some(',') => continue,
                Some('}') => break,
                other => panic!("unexpected {other:?} after a label in {line:?}"),
            }
        }
    }
    let value: String = chars.collect();
    let value = value
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no value in {line:?}"));
    Sample {
        name: name.to_owned(),
        labels,
        value: value
            .parse()
            .unwrap_or_else(|e| panic!("value {value:?}: {e}")),
    }
}

/// The value of the one sample of `name` whose labels include `wanted`.
fn metric(samples: &[Sample], name: &str, wanted: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            wanted
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} {wanted:?}: {found:?}");
    found[0].value
}

#[test]
fn services_and_metrics_count_exactly_what_was_published_and_taken() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::taker", &["counted", "32"], &envs);
    subscriber.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::publisher", &["counted"], &envs);
    publisher.expect_line("ready", WAIT);

    publisher.send_line("publish 10");
    publisher.expect_line("sent 10", WAIT);
    publisher.send_line("exhaust");
    publisher.expect_line("loan refused", WAIT);
    subscriber.send_line("take 4");
    subscriber.expect_line("took 4", WAIT);

    let service = service_json(&domain, "counted");
    let (p, s) = (&service["publishers"][0], &service["subscribers"][0]);
    assert_eq!(p["pid"], publisher.pid(), "{service}");
    assert_eq!(p["published"], 10, "{service}");
    assert_eq!(p["loans_failed"], 1, "{service}");
    assert_eq!(p["blocked_ns"], 0, "{service}");
    assert_eq!(s["received"], 4, "{service}");
    assert_eq!(s["queue_len"], 6, "{service}");
    assert_eq!(s["dropped"], 0, "{service}");
    let human = domain.ctl_ok(&["services"]);
    assert!(
        human.contains("SAMPLES") && human.contains("LOANS FAILED"),
        "{human}"
    );

    let text = domain.ctl_ok(&["metrics"]);
    let samples = parse_prometheus(&text);
    let service_label = ("service", "E2E/counted/Event");
    let of_publisher = [
        service_label,
        ("kind", "publisher"),
        ("process", "e2e-counted-pub"),
    ];
    let of_subscriber = [
        service_label,
        ("kind", "subscriber"),
        ("process", "e2e-counted-sub"),
    ];
    assert_eq!(
        metric(&samples, "zerocp_port_published_total", &of_publisher),
        10.0
    );
    assert_eq!(
        metric(&samples, "zerocp_port_loans_failed_total", &of_publisher),
        1.0
    );
    assert_eq!(
        metric(&samples, "zerocp_port_received_total", &of_subscriber),
        4.0
    );
    assert_eq!(
        metric(&samples, "zerocp_port_queue_length", &of_subscriber),
        6.0
    );
    let pid = publisher.pid().to_string();
    let port = p["port"].to_string();
    let exact = [
        service_label,
        ("pid", pid.as_str()),
        ("port", port.as_str()),
    ];
    assert_eq!(
        metric(&samples, "zerocp_port_published_total", &exact),
        10.0
    );
    let domain_label = [("domain", domain.domain())];
    assert_eq!(
        metric(&samples, "zerocp_processes_registered_total", &domain_label),
        2.0
    );
    let pool = [("group", "default"), ("chunk_size", "64")];
    assert_eq!(metric(&samples, "zerocp_mempool_chunks", &pool), 64.0);
    let json = domain.ctl_json(&["metrics"]);
    assert_eq!(json["schema"], 1, "{json}");
    assert!(
        json["metrics"].as_array().is_some_and(|m| m.len() > 20),
        "{json}"
    );

    for child in [&mut publisher, &mut subscriber] {
        child.send_line("quit");
        assert!(child.wait(WAIT).success());
    }
    assert_eq!(status_counter(&domain, "processes_died"), 0);
    domain.stop();
}

#[test]
fn a_publish_waiting_for_a_full_block_publisher_queue_counts_its_time() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::taker", &["blocked", "1", "block"], &envs);
    subscriber.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::publisher", &["blocked"], &envs);
    publisher.expect_line("ready", WAIT);
    // The first fills the queue, the second waits its 50 ms timeout.
    publisher.send_line("publish 2");
    publisher.expect_line("sent 2", WAIT);

    let service = service_json(&domain, "blocked");
    let (p, s) = (&service["publishers"][0], &service["subscribers"][0]);
    assert_eq!(p["published"], 2, "{service}");
    assert_eq!(p["timed_out"], 1, "{service}");
    assert_eq!(s["timed_out"], 1, "{service}");
    let blocked = p["blocked_ns"].as_u64().expect("blocked_ns");
    assert!(
        blocked >= 50_000_000,
        "blocked only {blocked} ns: {service}"
    );

    for child in [&mut publisher, &mut subscriber] {
        child.send_line("quit");
        assert!(child.wait(WAIT).success());
    }
    domain.stop();
}

#[test]
fn status_counts_heartbeat_timeouts_deaths_and_reclaimed_chunks() {
    let domain = TestDomain::builder()
        .heartbeat_timeout_ms(HEARTBEAT_TIMEOUT_MS)
        .mempools(&[(64, 64)])
        .start();
    let envs = domain.envs();
    let mut leaver = spawn_child("roles::publisher", &["leaver"], &envs);
    leaver.expect_line("ready", WAIT);
    leaver.send_line("quit");
    assert!(leaver.wait(WAIT).success());

    let mut victim = spawn_child("roles::publisher", &["victim"], &envs);
    victim.expect_line("ready", WAIT);
    victim.send_line("hold 3");
    victim.expect_line("holding 3", WAIT);
    stop(&victim);
    let timeout = Duration::from_millis(HEARTBEAT_TIMEOUT_MS) + SLACK;
    assert!(
        domain.wait_until(timeout, || status_counter(&domain, "heartbeat_timeouts")
            == 1),
        "no heartbeat timeout counted: {}",
        domain.ctl_json(&["status"])
    );
    assert_eq!(status_counter(&domain, "processes_died"), 0);
    victim.kill();
    assert!(
        domain.wait_until(WAIT, || status_counter(&domain, "processes_died") == 1),
        "the death was not counted: {}",
        domain.ctl_json(&["status"])
    );
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["processes_registered"], 2, "{status}");
    assert_eq!(status["chunks_reclaimed"], 3, "{status}");
    assert_eq!(status["processes"], 0, "{status}");

    let samples = parse_prometheus(&domain.ctl_ok(&["metrics"]));
    let domain_label = [("domain", domain.domain())];
    assert_eq!(
        metric(&samples, "zerocp_processes_died_total", &domain_label),
        1.0
    );
    assert_eq!(
        metric(&samples, "zerocp_heartbeat_timeouts_total", &domain_label),
        1.0
    );
    assert_eq!(
        metric(&samples, "zerocp_chunks_reclaimed_total", &domain_label),
        3.0
    );
    domain.stop();
}

/// Stops `child` (`SIGSTOP`): it no longer beats.
fn stop(child: &TestChild) {
    let pid = rustix::process::Pid::from_raw(child.pid() as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).expect("SIGSTOP");
}

mod roles {
    use std::io::BufRead;
    use std::time::Duration;

    use crate::e2e_support::{Msg, arg, say, service};
    use zerocp::{FullPolicy, LoanError, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    /// A publisher named `e2e-<instance>-pub` (4 loans at most, a publish
    /// timeout of 50 ms) working commands: `publish N`, `exhaust` (a loan
    /// past its 4, which is refused), `hold N` (loans N and keeps them),
    /// `quit`.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        let Some(args) = role_args("roles::publisher") else {
            return;
        };
        let rt = Runtime::init(&format!("e2e-{}-pub", args[0])).expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&args[0]))
            .max_loans(4)
            .publish_timeout(Duration::from_millis(50))
            .create()
            .expect("publisher");
        let id = u64::from(std::process::id());
        let mut seq = 0;
        let mut held = Vec::new();
        say("ready");
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("command");
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["publish", n] => {
                    let n: u64 = n.parse().expect("count");
                    for _ in 0..n {
                        let sample = publisher.loan_uninit().expect("loan");
                        sample.write(Msg::new(id, seq)).publish().expect("publish");
                        seq += 1;
                    }
                    say(format!("sent {n}"));
                }
                ["exhaust"] => {
                    let loans: Vec<_> = (0..4)
                        .map(|_| publisher.loan_uninit().expect("loan"))
                        .collect();
                    match publisher.loan_uninit() {
                        Err(LoanError::TooManyLoans { .. }) => say("loan refused"),
                        other => panic!("a fifth loan: {:?}", other.map(|_| ())),
                    }
                    drop(loans);
                }
                ["hold", n] => {
                    let n: usize = n.parse().expect("count");
                    held.extend((0..n).map(|_| publisher.loan_uninit().expect("loan")));
                    say(format!("holding {n}"));
                }
                ["quit"] => return,
                other => panic!("unknown command {other:?}"),
            }
        }
    }

    /// A subscriber named `e2e-<instance>-sub` with a queue of `args[1]`
    /// (block-publisher when `args[2]` is `block`) that takes on command:
    /// `take M` takes M queued samples (each checked) and drops them.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn taker() {
        let Some(args) = role_args("roles::taker") else {
            return;
        };
        let capacity: u32 = arg(&args, 1);
        let policy = match args.get(2).map(String::as_str) {
            Some("block") => FullPolicy::BlockPublisher,
            _ => FullPolicy::DiscardOldest,
        };
        let rt = Runtime::init(&format!("e2e-{}-sub", args[0])).expect("init");
        let sub = rt
            .subscriber::<Msg>(&service(&args[0]))
            .queue_capacity(capacity)
            .full_policy(policy)
            .create()
            .expect("subscriber");
        say("ready");
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("command");
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["take", m] => {
                    let m: u64 = m.parse().expect("count");
                    for _ in 0..m {
                        let msg = sub.take().expect("take").expect("a queued sample");
                        assert!(msg.is_valid(), "corrupt {:?}", *msg);
                    }
                    assert_eq!(sub.received(), m);
                    say(format!("took {m}"));
                }
                ["quit"] => return,
                other => panic!("unknown command {other:?}"),
            }
        }
    }
}
