//! End to end: one publisher process, 1, 4 and 16 subscriber processes.
//!
//! Every subscriber checks that it receives every small message in order
//! with valid content, and every 1 MiB payload with the exact bytes published
//! (checksum and regenerated content). Zero copy is shown, not assumed: the
//! publisher reports where in the data segment it wrote each large payload
//! and every subscriber reports where (in its own mapping of the segment) it
//! read it; the offsets and chunk indices must be the same. At the end every
//! chunk is back in its pool and the daemon stops leaving nothing behind.

mod e2e_support;
mod support;

use std::collections::HashMap;
use std::time::Duration;

use e2e_support::{BIG, Big, Msg};
use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

/// Small messages per run (fewer than the subscriber queue holds: no drops).
const SMALL: u64 = 200;
/// 1 MiB messages per run.
const LARGE: u64 = 4;
/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);

/// A large payload as reported by a process: offset in the data segment and chunk index.
fn parse_big(line: &str) -> (u64, (usize, u32)) {
    let parts: Vec<&str> = line.split_whitespace().collect();
    match parts.as_slice() {
        [seq, "offset", offset, "chunk", chunk] => (
            seq.parse().expect("seq"),
            (
                offset.parse().expect("offset"),
                chunk.parse().expect("chunk"),
            ),
        ),
        _ => panic!("malformed big line {line:?}"),
    }
}

fn read_bigs(child: &mut TestChild) -> HashMap<u64, (usize, u32)> {
    (0..LARGE)
        .map(|_| parse_big(&child.expect_line("big ", WAIT)))
        .collect()
}

fn fan_out(subscribers: usize) {
    let domain = TestDomain::builder()
        .max_processes(subscribers as u32 + 4)
        .mempools(&[(64, 512), (BIG as u32, 8)])
        .start();
    let envs = domain.envs();
    let counts = [SMALL.to_string(), LARGE.to_string()];
    let counts = [counts[0].as_str(), counts[1].as_str()];
    let mut subs: Vec<TestChild> = (0..subscribers)
        .map(|_| spawn_child("roles::subscriber", &counts, &envs))
        .collect();
    for sub in &mut subs {
        sub.expect_line("ready", WAIT);
    }
    let mut publisher = spawn_child("roles::publisher", &counts, &envs);
    let written = read_bigs(&mut publisher);
    publisher.expect_line("published", WAIT);
    assert!(publisher.wait(WAIT).success(), "the publisher failed");
    for sub in &mut subs {
        let read = read_bigs(sub);
        assert_eq!(
            read, written,
            "the subscriber read other memory than the publisher wrote"
        );
        assert_eq!(
            sub.expect_line("received ", WAIT),
            format!("{SMALL} {LARGE}")
        );
        assert!(sub.wait(WAIT).success(), "a subscriber failed");
    }
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == 0),
        "chunks still in use after every process ended: {:?}",
        domain.mempools()
    );
    domain.stop();
}

#[test]
fn one_publisher_to_one_subscriber() {
    fan_out(1);
}

#[test]
fn one_publisher_to_four_subscribers() {
    fan_out(4);
}

#[test]
fn one_publisher_to_sixteen_subscribers() {
    fan_out(16);
}

mod roles {
    use super::*;
    use crate::e2e_support::{
        arg, check_big, data_mappings, deadline, domain, fill_big, left, offset_in_data_segment,
        say, service,
    };
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        let Some(args) = role_args("roles::publisher") else {
            return;
        };
        let (small, large): (u64, u64) = (arg(&args, 0), arg(&args, 1));
        let rt = Runtime::init("e2e-publisher").expect("init");
        let id = u64::from(std::process::id());
        let small_pub = rt
            .publisher::<Msg>(&service("small"))
            .create()
            .expect("publisher");
        let big_pub = rt
            .publisher::<Big>(&service("big"))
            .create()
            .expect("publisher");
        for seq in 0..small {
            let sample = small_pub
                .loan_uninit()
                .expect("loan")
                .write(Msg::new(id, seq));
            sample.publish().expect("publish");
        }
        let domain = domain();
        for seq in 0..large {
            // Filled in place: 1 MiB is never built on the stack.
            let sample =
                big_pub
                    .loan_uninit()
                    .expect("loan 1 MiB")
                    .write_with(|bytes: &mut Big| {
                        fill_big(bytes, seq);
                    });
            let addr = std::ptr::from_ref::<Big>(&sample) as usize;
            let offset = offset_in_data_segment(&domain, addr, BIG);
            assert!(
                data_mappings(&domain)
                    .iter()
                    .any(|m| m.writable && addr >= m.start && addr + BIG <= m.end),
                "a loan is not in the writable data mapping"
            );
            let chunk = sample.chunk_index();
            sample.publish().expect("publish 1 MiB");
            say(format!("big {seq} offset {offset} chunk {chunk}"));
        }
        say("published");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn subscriber() {
        let Some(args) = role_args("roles::subscriber") else {
            return;
        };
        let (small, large): (u64, u64) = (arg(&args, 0), arg(&args, 1));
        let rt = Runtime::init("e2e-subscriber").expect("init");
        let small_sub = rt
            .subscriber::<Msg>(&service("small"))
            .queue_capacity(256)
            .create()
            .expect("subscriber");
        let big_sub = rt
            .subscriber::<Big>(&service("big"))
            .queue_capacity(8)
            .max_held(2)
            .create()
            .expect("subscriber");
        say("ready");
        let deadline = deadline();
        let mut next = 0;
        let mut publisher = None;
        while next < small {
            small_sub
                .wait(Some(left(deadline, "small messages")))
                .expect("wait");
            while let Some(msg) = small_sub.take().expect("take") {
                assert!(msg.is_valid(), "corrupt message {:?}", *msg);
                assert_eq!(msg.seq, next, "out of order or lost");
                assert_eq!(
                    msg.seq,
                    msg.sequence(),
                    "header sequence differs from payload"
                );
                assert_eq!(*publisher.get_or_insert(msg.publisher), msg.publisher);
                next += 1;
            }
        }
        let domain = domain();
        let mut next_big = 0;
        while next_big < large {
            big_sub
                .wait(Some(left(deadline, "1 MiB messages")))
                .expect("wait");
            while let Some(sample) = big_sub.take().expect("take") {
                let seq = check_big(&sample).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(seq, next_big, "1 MiB messages out of order or lost");
                let addr = std::ptr::from_ref::<Big>(&sample) as usize;
                let offset = offset_in_data_segment(&domain, addr, BIG);
                let mappings = data_mappings(&domain);
                assert!(
                    mappings.iter().all(|m| !m.writable),
                    "a process that only subscribes maps the data segment writable: {mappings:?}"
                );
                say(format!(
                    "big {seq} offset {offset} chunk {}",
                    sample.chunk_index()
                ));
                next_big += 1;
            }
        }
        assert_eq!(
            small_sub.dropped() + big_sub.dropped(),
            0,
            "samples were dropped"
        );
        say(format!("received {next} {next_big}"));
    }
}
