//! End to end: slice payloads and user headers through a real daemon,
//! between real processes.
//!
//! - A `[u16]` publisher with a `Scan` user header publishes slices of
//!   several lengths (0 and its maximum included); a subscriber in another
//!   process gets each as a `&[u16]` of that length with its values and
//!   header intact. The publisher is refused a slice longer than its
//!   maximum (`SliceTooLong`) and a slice publisher without maximum
//!   (`MissingMaxSliceLen`); copying a slice of another length into a loan
//!   is a `SliceLengthError` (and the loan's chunk goes back).
//! - Types that differ are refused with typed `TypeMismatch` errors:
//!   `[u8]` against `[u16]`, `u16` against `[u16]`, no header, or another
//!   header, against the `Scan` header; and a header where the service
//!   has none.
//! - A hostile participant writes chunk headers the slice subscriber must
//!   not trust (a payload size that is no whole number of elements, a
//!   payload offset that ignores the user header): each is refused with
//!   `CorruptChunk` naming what is wrong, and nothing stays held.

mod e2e_support;
mod support;

use std::time::Duration;

use support::{MappedGroup, TestDomain};
use zerocp::ZeroCopySafe;
use zerocp_core::chunk_header::ChunkInit;
use zerocp_os_linux::testing::role::spawn_child;

/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);
/// The slice lengths the publisher sends, in order.
const LENS: [usize; 5] = [0, 1, 7, 500, MAX];
/// The publisher's maximum slice length.
const MAX: usize = 1000;
/// Pool 0 is too small for a scan; pool 1 holds the longest one.
const MEMPOOLS: &[(u32, u32)] = &[(64, 8), (4096, 8)];

/// The user header of a scan.
#[derive(ZeroCopySafe, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Scan {
    frame: u64,
    exposure_us: u32,
    _pad: u32,
}

/// The header scan `k` carries.
fn scan(k: usize) -> Scan {
    Scan {
        frame: 1000 + k as u64,
        exposure_us: 250 * k as u32,
        _pad: 0,
    }
}

/// Element `i` of scan `k`.
fn range(k: usize, i: usize) -> u16 {
    (k * 7919 + i * 3) as u16
}

#[test]
fn slices_of_every_length_cross_processes_with_their_user_header() {
    let domain = TestDomain::builder().mempools(MEMPOOLS).start();
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::scan_subscriber", &["5"], &envs);
    subscriber.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::scan_publisher", &[], &envs);
    let missing = publisher.expect_line("no maximum: ", WAIT);
    assert!(missing.contains("max_slice_len"), "{missing}");
    let long = publisher.expect_line("too long: ", WAIT);
    assert!(long.contains("1001") && long.contains("1000"), "{long}");
    publisher.expect_line("published", WAIT);
    assert_eq!(
        subscriber.expect_line("received ", WAIT),
        LENS.len().to_string()
    );
    publisher.send_line("done");
    subscriber.send_line("done");
    assert!(publisher.wait(WAIT).success(), "the publisher failed");
    assert!(subscriber.wait(WAIT).success(), "the subscriber failed");
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == 0),
        "chunks still in use after both processes left"
    );
    domain.stop();
}

#[test]
fn mismatched_slices_and_user_headers_are_refused() {
    let domain = TestDomain::builder().mempools(MEMPOOLS).start();
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::scan_subscriber", &["0"], &envs);
    subscriber.expect_line("ready", WAIT);
    let mut mismatches = spawn_child("roles::mismatches", &[], &envs);
    let expect = [
        ("[u8]", "a slice `[u16]`"),
        ("u16", "a slice `[u16]`"),
        ("no header", "this port declares no user header"),
        ("other header", "this port declares user header `u64`"),
        (
            "publisher without header",
            "this port declares no user header",
        ),
        ("header on a plain service", "carries no user header"),
    ];
    for (case, detail) in expect {
        let line = mismatches.expect_line(&format!("refused {case}: "), WAIT);
        assert!(line.contains(detail), "{case}: {line}");
    }
    assert!(mismatches.wait(WAIT).success(), "the mismatches failed");
    subscriber.send_line("done");
    assert!(subscriber.wait(WAIT).success(), "the subscriber failed");
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn hostile_slice_lengths_and_offsets_are_typed_errors() {
    let domain = TestDomain::builder().mempools(MEMPOOLS).start();
    let envs = domain.envs();
    let mut sub = spawn_child("roles::taking_subscriber", &[], &envs);
    let port: u32 = sub.expect_line("ready ", WAIT).parse().expect("a port");
    let [_, control, payload] = domain.segment_names();
    let group = MappedGroup::of_daemon(domain.daemon_pid(), 0, [control, payload]);
    let pools = group.pools();
    let pool = &pools.layout().pools()[1];
    let first = pool.first_chunk();
    let header = |chunk: u32, payload_size: u32, user_header_size: u32| {
        let init = ChunkInit {
            chunk_size: pool.stride(),
            payload_size,
            payload_align: 2,
            user_header_size,
            origin_port: 0,
            origin_generation: 1,
            sequence: 0,
            mempool: 1,
            chunk_index: chunk,
        };
        pools
            .chunk(chunk)
            .expect("a chunk of the segment")
            .init(&init)
            .expect("a header that fits its chunk");
    };
    let scan_header = size_of::<Scan>() as u32;
    header(first, 3, scan_header);
    header(first + 1, 6, 0);
    let queue = &group.control().subscriber(port).expect("the port").queue;
    let cases = [
        (
            first,
            "corrupt",
            "payload size differs from the port's type",
        ),
        (
            first + 1,
            "corrupt",
            "payload offset differs from the port's user header",
        ),
    ];
    for (chunk, outcome, detail) in cases {
        queue.push(chunk).expect("room in the queue");
        sub.send_line("take");
        let line = sub.expect_line("take: ", WAIT);
        assert!(
            line == format!("{outcome} {chunk}: {detail}"),
            "chunk {chunk}: {line}"
        );
    }
    sub.send_line("take");
    assert_eq!(sub.expect_line("take: ", WAIT), "none");
    let held = &group.control().subscriber(port).expect("the port").held;
    assert_eq!(held.drain(|c| panic!("chunk {c} still held")), 0);
    sub.send_line("quit");
    assert!(sub.wait(WAIT).success(), "the subscriber failed");
    domain.stop();
}

mod roles {
    use std::io::BufRead;

    use crate::e2e_support::{arg, deadline, expect_command, left, say, service};
    use crate::{LENS, MAX, Scan, range, scan};
    use zerocp::error::{CreatePortReason, LoanError, TakeError};
    use zerocp::{FullPolicy, Runtime};
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn scan_publisher() {
        if role_args("roles::scan_publisher").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-slices-pub").expect("init");
        let svc = service("slices");
        let missing = rt
            .publisher::<[u16]>(&svc)
            .user_header::<Scan>()
            .create()
            .expect_err("no maximum");
        assert!(matches!(
            missing.reason,
            CreatePortReason::MissingMaxSliceLen
        ));
        say(format!("no maximum: {missing}"));
        let publisher = rt
            .publisher::<[u16]>(&svc)
            .user_header::<Scan>()
            .max_slice_len(MAX as u32)
            .create()
            .expect("publisher");
        let long = publisher.loan_slice_uninit(MAX + 1).expect_err("too long");
        assert_eq!(
            long,
            LoanError::SliceTooLong {
                len: MAX + 1,
                max: MAX as u32
            }
        );
        say(format!("too long: {long}"));
        let short = publisher.loan_slice_uninit(3).expect("loan");
        let mismatch = short.write_from_slice(&[1, 2]).expect_err("2 into 3");
        assert_eq!((mismatch.loaned, mismatch.given), (3, 2));
        for (k, len) in LENS.into_iter().enumerate() {
            let mut sample = match k % 4 {
                0 => {
                    let ranges: Vec<u16> = (0..len).map(|i| range(k, i)).collect();
                    let loan = publisher.loan_slice_uninit(len).expect("loan");
                    loan.write_from_slice(&ranges).expect("same length")
                }
                1 => publisher
                    .loan_slice_uninit(len)
                    .expect("loan")
                    .write_with(|slice| {
                        for (i, r) in slice.iter_mut().enumerate() {
                            *r = range(k, i);
                        }
                    }),
                2 => {
                    let mut filled = publisher.loan_slice_uninit(len).expect("loan").fill(0);
                    for (i, r) in filled.iter_mut().enumerate() {
                        *r = range(k, i);
                    }
                    filled
                }
                _ => {
                    let mut zeroed = publisher.loan_slice_uninit(len).expect("loan").zeroed();
                    assert!(zeroed.iter().all(|&r| r == 0));
                    for (i, r) in zeroed.iter_mut().enumerate() {
                        *r = range(k, i);
                    }
                    zeroed
                }
            };
            assert_eq!(
                *sample.user_header(),
                Scan {
                    frame: 0,
                    exposure_us: 0,
                    _pad: 0
                }
            );
            *sample.user_header_mut() = scan(k);
            sample.publish().expect("publish");
        }
        say("published");
        expect_command("done");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn scan_subscriber() {
        let Some(args) = role_args("roles::scan_subscriber") else {
            return;
        };
        let expected: usize = arg(&args, 0);
        let rt = Runtime::init("e2e-slices-sub").expect("init");
        let subscriber = rt
            .subscriber::<[u16]>(&service("slices"))
            .user_header::<Scan>()
            // Every scan arrives: the pool's port quota (4 of its 8 chunks)
            // would otherwise drop the oldest of a burst.
            .queue_capacity(2)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("subscriber");
        say("ready");
        let deadline = deadline();
        let mut received = 0;
        while received < expected {
            let Some(sample) = subscriber.take().expect("take") else {
                let wait = left(deadline, "the scans");
                subscriber.wait(Some(wait)).expect("wait");
                continue;
            };
            let k = received;
            assert_eq!(sample.len(), LENS[k], "scan {k}: length");
            assert_eq!(*sample.user_header(), scan(k), "scan {k}: header");
            for (i, r) in sample.iter().enumerate() {
                assert_eq!(*r, range(k, i), "scan {k}: element {i}");
            }
            received += 1;
        }
        say(format!("received {received}"));
        // Stay until the parent ends the test (the service keeps its type).
        expect_command("done");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn mismatches() {
        if role_args("roles::mismatches").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-slices-mismatch").expect("init");
        let svc = service("slices");
        let report = |case: &str, refused: zerocp::CreatePortError| {
            assert!(refused.is_type_mismatch(), "{case}: {refused}");
            say(format!("refused {case}: {refused}"));
        };
        let bytes = rt.subscriber::<[u8]>(&svc).user_header::<Scan>().create();
        report("[u8]", bytes.expect_err("[u8] is not [u16]"));
        let sized = rt.subscriber::<u16>(&svc).user_header::<Scan>().create();
        report("u16", sized.expect_err("u16 is not [u16]"));
        let bare = rt.subscriber::<[u16]>(&svc).create();
        report("no header", bare.expect_err("the service has a header"));
        let other = rt.subscriber::<[u16]>(&svc).user_header::<u64>().create();
        report("other header", other.expect_err("u64 is not Scan"));
        let publisher = rt.publisher::<[u16]>(&svc).max_slice_len(8).create();
        report(
            "publisher without header",
            publisher.expect_err("the service has a header"),
        );
        let plain = service("slices-plain");
        let _plain = rt.publisher::<u64>(&plain).create().expect("publisher");
        let headed = rt.subscriber::<u64>(&plain).user_header::<u32>().create();
        report(
            "header on a plain service",
            headed.expect_err("the service has no header"),
        );
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn taking_subscriber() {
        if role_args("roles::taking_subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-slices-hostile").expect("init");
        let sub = rt
            .subscriber::<[u16]>(&service("slices-hostile"))
            .user_header::<Scan>()
            .create()
            .expect("subscriber");
        say(format!("ready {}", sub.port_index()));
        let commands = std::io::stdin().lock().lines();
        for command in commands.map(|l| l.expect("a command")) {
            if command == "quit" {
                break;
            }
            let outcome = match sub.take() {
                Ok(Some(sample)) => format!("took {}", sample.len()),
                Ok(None) => "none".to_owned(),
                Err(TakeError::CorruptChunk { index, reason }) => {
                    format!("corrupt {index}: {reason}")
                }
                Err(e) => format!("error {e}"),
            };
            say(format!("take: {outcome}"));
        }
    }
}
