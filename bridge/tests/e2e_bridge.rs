//! End to end on this machine: private domains, each with its own daemon
//! and real `zerocp-zenoh` bridges, Zenoh peers over 127.0.0.1. Publishers
//! send slices from 64 B to 1 MiB, each carrying its sequence number and
//! bytes that follow from it; subscribers check every byte and that the
//! sequence numbers only ever go up: by exactly one where nothing may be
//! lost, and never back or twice anywhere, so a loop or an echo fails the
//! test as a sample seen twice.

mod support;

use support::{Domain, STEP, Ways, config, connect, counter, free_port, listen, stop_bridge};
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

/// Consecutive samples a subscriber must see (the first ones may go
/// before the bridges have met).
const NEEDED: &str = "30";

/// A publisher sending every 20 ms until its stdin closes.
fn publisher(domain: &Domain) -> TestChild {
    spawn_child("roles::publisher", &[], &domain.envs())
}

fn subscriber(domain: &Domain, mode: &str) -> TestChild {
    let mut child = spawn_child("roles::subscriber", &[mode, NEEDED], &domain.envs());
    child.expect_line("ready", STEP);
    child
}

/// A publisher of `from` sends until a subscriber in each of `to` has
/// seen `NEEDED` samples in a row, none twice.
fn send_and_check(from: &Domain, to: &[&Domain]) {
    let mut subscribers: Vec<TestChild> = to.iter().map(|d| subscriber(d, "strict")).collect();
    let mut stream = publisher(from);
    for s in &mut subscribers {
        s.expect_success(STEP);
    }
    stream.close_stdin();
    stream.expect_success(STEP);
}

/// The ports the process `pid` of `domain` owns, as the daemon lists them
/// to `zerocpctl`: `<service> <kind>`, sorted, comma-separated.
fn ports_of(domain: &Domain, pid: u32) -> String {
    let mut lister = spawn_child("roles::ports", &[&pid.to_string()], &domain.envs());
    let owned = lister.expect_line("owned: ", STEP);
    lister.expect_success(STEP);
    owned
}

#[test]
fn two_domains_exchange_checksummed_payloads_both_ways_without_loops() {
    let (a, b) = (Domain::start(), Domain::start());
    let port = free_port();
    let bridge_a = a.bridge("a", &config(&listen(port), Ways::Both));
    let bridge_b = b.bridge("b", &config(&connect(port), Ways::Both));
    assert_eq!(
        ports_of(&a, bridge_a.pid()),
        "Bridge/Test/Blob Publisher, Bridge/Test/Blob Subscriber, ZeroCP/Bridge/Mark Publisher",
        "the bridge is a process of its domain with its ports"
    );
    send_and_check(&a, &[&a, &b]);
    send_and_check(&b, &[&a, &b]);
    let (counters_a, counters_b) = (stop_bridge(bridge_a), stop_bridge(bridge_b));
    for (counters, who) in [(&counters_a, "a"), (&counters_b, "b")] {
        let (sent, received) = (counter(counters, "sent"), counter(counters, "received"));
        assert!(sent >= 30 && received >= 30, "bridge {who}: {counters}");
    }
    a.stop();
    b.stop();
}

/// Bridges `in` and `out` share domain A and a Zenoh network with domain
/// B's bridge. Without the origin check `in` would publish again what
/// `out` sent; without the mark `out` would send on what `in` published.
#[test]
fn two_bridges_of_one_domain_never_echo_each_other() {
    let (a, b) = (Domain::start(), Domain::start());
    let ports = [free_port(), free_port(), free_port()];
    let zenoh = |me: usize| {
        let others: Vec<String> = ports[..me]
            .iter()
            .map(|p| format!("\"tcp/127.0.0.1:{p}\""))
            .collect();
        format!("{}\nconnect = [{}]", listen(ports[me]), others.join(","))
    };
    let bridge_in = a.bridge("a-in", &config(&zenoh(0), Ways::In));
    let bridge_out = a.bridge("a-out", &config(&zenoh(1), Ways::Out));
    let bridge_b = b.bridge("b", &config(&zenoh(2), Ways::Both));
    send_and_check(&a, &[&a, &b]);
    send_and_check(&b, &[&a, &b]);
    let counters_in = stop_bridge(bridge_in);
    let counters_out = stop_bridge(bridge_out);
    stop_bridge(bridge_b);
    // Both guards were needed: `in` heard `out`'s puts of A's samples and
    // skipped them; `out` saw `in`'s samples from B and skipped them.
    assert!(counter(&counters_in, "skipped") >= 30, "{counters_in}");
    assert!(counter(&counters_out, "skipped") >= 30, "{counters_out}");
    a.stop();
    b.stop();
}

#[test]
fn a_bridge_killed_mid_stream_and_restarted_forwards_again() {
    let (a, b) = (Domain::start(), Domain::start());
    let port = free_port();
    let a_config = config(&listen(port), Ways::Both);
    let mut bridge_a = a.bridge("a", &a_config);
    let bridge_b = b.bridge("b", &config(&connect(port), Ways::Both));
    let mut far = subscriber(&b, "resume");
    let near = subscriber(&a, "watch");
    let stream = publisher(&a);
    far.expect_line("flowing", STEP);
    bridge_a.kill();
    let bridge_a = a.bridge("a", &a_config);
    far.send_line("mark");
    far.expect_success(STEP);
    finish(stream, near, [bridge_a, bridge_b], [a, b]);
}

#[test]
fn a_bridge_survives_its_daemon_restarting() {
    let (mut a, b) = (Domain::start(), Domain::start());
    let port = free_port();
    let bridge_a = a.bridge("a", &config(&listen(port), Ways::Both));
    let bridge_b = b.bridge("b", &config(&connect(port), Ways::Both));
    let near = subscriber(&b, "watch");
    let mut far = subscriber(&a, "resume");
    let stream = publisher(&b);
    far.expect_line("flowing", STEP);
    a.restart_daemon();
    far.send_line("mark");
    far.expect_success(STEP);
    // B's own subscriber saw B's samples strictly in order: nothing came
    // back from A across the restart.
    finish(stream, near, [bridge_a, bridge_b], [a, b]);
}

/// Ends a streaming test: the publisher stops, the watching subscriber
/// must have seen samples only ever going up, then the bridges and the
/// daemons stop cleanly.
fn finish(
    mut stream: TestChild,
    mut near: TestChild,
    bridges: [TestChild; 2],
    domains: [Domain; 2],
) {
    stream.close_stdin();
    stream.expect_success(STEP);
    near.close_stdin();
    near.expect_success(STEP);
    for bridge in bridges {
        stop_bridge(bridge);
    }
    for domain in domains {
        domain.stop();
    }
}

mod roles {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use zerocp::{FullPolicy, LoanError, Runtime, ServiceDescription};
    use zerocp_os_linux::testing::role::role_args;

    use super::support::{MAX_LEN, SERVICE, check, fill, payload_len, watch_stdin};

    fn service() -> ServiceDescription {
        let (s, i, e) = SERVICE;
        ServiceDescription::new(s, i, e).expect("service")
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn daemon() {
        super::support::daemon_role();
    }

    /// Sends samples 20 ms apart until stdin closes. A loan is retried
    /// while the pool's chunks are all in flight or the daemon restarts.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let closed = watch_stdin().closed;
        let rt = Runtime::init("bridge-test-pub").expect("init");
        let publisher = rt
            .publisher::<[u8]>(&service())
            .max_slice_len(MAX_LEN as u32)
            .create()
            .expect("publisher");
        let mut seq = 0;
        while !closed.load(Ordering::Relaxed) {
            let deadline = Instant::now() + Duration::from_secs(20);
            let loan = loop {
                match publisher.loan_slice_uninit(payload_len(seq)) {
                    Ok(loan) => break loan,
                    Err(e @ (LoanError::Mempool(_) | LoanError::Disconnected)) => {
                        assert!(Instant::now() < deadline, "loan {seq}: {e}");
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => panic!("loan {seq}: {e}"),
                }
            };
            let sample = loan.write_with(|bytes| fill(seq, bytes));
            if let Err(e) = sample.publish() {
                eprintln!("publish {seq}: {e}");
            }
            seq += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Prints `owned: ` and the ports of the process whose pid is its
    /// argument (`ports_of`).
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn ports() {
        let Some(args) = role_args("roles::ports") else {
            return;
        };
        let pid: u32 = args[0].parse().expect("a pid");
        let rt = Runtime::init("bridge-test-ports").expect("init");
        let mut owned: Vec<String> = (rt.ports().expect("the ports").iter())
            .filter(|p| p.owner_pid == pid)
            .map(|p| format!("{} {:?}", p.service, p.kind))
            .collect();
        owned.sort();
        println!("owned: {}", owned.join(", "));
    }

    /// What a subscriber requires (its first argument).
    #[derive(PartialEq)]
    enum Mode {
        /// `NEEDED` samples in a row, each one more than the last.
        Strict,
        /// Going up always; done after `NEEDED` in a row since the test
        /// wrote a line (after it broke and mended the path).
        Resume,
        /// Going up always, until stdin closes.
        Watch,
    }

    /// Receives and checks samples as its mode says; prints `flowing`
    /// after ten in a row. Only ever going up: a sample seen twice fails.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn subscriber() {
        let Some(args) = role_args("roles::subscriber") else {
            return;
        };
        let mode = match args[0].as_str() {
            "strict" => Mode::Strict,
            "resume" => Mode::Resume,
            _ => Mode::Watch,
        };
        let needed: u64 = args[1].parse().expect("a count");
        let stdin = watch_stdin();
        let mut counting_since_mark = false;
        let rt = Runtime::init("bridge-test-sub").expect("init");
        let subscriber = rt
            .subscriber::<[u8]>(&service())
            .queue_capacity(16)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        println!("ready");
        let deadline = Instant::now() + Duration::from_secs(90);
        let (mut last, mut run, mut gaps, mut seen) = (None::<u64>, 0, 0, 0);
        loop {
            if !counting_since_mark && stdin.marked.load(Ordering::Relaxed) {
                counting_since_mark = true;
                run = 0;
            }
            match mode {
                Mode::Strict if run >= needed => return,
                Mode::Resume if counting_since_mark && run >= needed => return,
                Mode::Watch if stdin.closed.load(Ordering::Relaxed) => {
                    assert!(seen > 0, "no sample at all");
                    return;
                }
                _ => assert!(Instant::now() < deadline, "{run} in a row, {gaps} gaps"),
            }
            let sample = match subscriber.take() {
                Ok(Some(sample)) => sample,
                Ok(None) | Err(_) => {
                    let _ = subscriber.wait(Some(Duration::from_millis(100)));
                    continue;
                }
            };
            let seq = check(&sample);
            seen += 1;
            match last {
                Some(prev) if seq == prev + 1 => run += 1,
                Some(prev) => {
                    assert!(mode != Mode::Strict && seq > prev, "{seq} after {prev}");
                    gaps += 1;
                    run = 1;
                }
                None => run = 1,
            }
            if run == 10 {
                println!("flowing");
            }
            last = Some(seq);
        }
    }
}
