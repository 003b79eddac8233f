//! End to end: a process that only subscribes never writes the data segment.
//!
//! A publisher process publishes samples (keeping some in its history ring)
//! and exits; then a subscriber process takes them all, holds them, and drops
//! them, which releases the last reference of every chunk. The data segment's
//! bytes before and after must be identical: references, held lists and
//! freelists are all in the mgmt segment, which is what lets such a process
//! map the data segment read-only.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

/// Samples published (fewer than the queue and the held limit: none dropped).
const COUNT: u64 = 6;
/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);

#[test]
fn taking_and_dropping_samples_leaves_the_data_segment_unchanged() {
    let domain = TestDomain::builder().mempools(&[(64, 16)]).start();
    let envs = domain.envs();
    let count = COUNT.to_string();
    let mut subscriber = spawn_child("roles::subscriber", &[&count], &envs);
    subscriber.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::publisher", &[&count], &envs);
    publisher.expect_success(WAIT);
    subscriber.send_line("take");
    assert_eq!(subscriber.expect_line("unchanged ", WAIT), count);
    subscriber.expect_success(WAIT);
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == 0),
        "chunks still in use after every process ended: {:?}",
        domain.mempools()
    );
    domain.stop();
}

mod roles {
    use std::io::{Read, Seek, SeekFrom};

    use crate::e2e_support::{
        Msg, arg, data_mapping, deadline, domain, expect_command, left, publish_seq, say, service,
    };
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    /// The bytes of this process's mapping of the data segment, read
    /// through `/proc/self/mem` (the segment has no name to open).
    fn data_segment() -> Vec<u8> {
        let (start, end) = data_mapping(&domain()).expect("the data segment is mapped");
        let mut mem = std::fs::File::open("/proc/self/mem").expect("open /proc/self/mem");
        mem.seek(SeekFrom::Start(start as u64))
            .expect("seek to the mapping");
        let mut bytes = vec![0; end - start];
        mem.read_exact(&mut bytes).expect("read the data segment");
        bytes
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        let Some(args) = role_args("roles::publisher") else {
            return;
        };
        let count: u64 = arg(&args, 0);
        let rt = Runtime::init("ro-publisher").expect("init");
        let publisher = rt
            .publisher::<Msg>(&service("read-only"))
            .history(2)
            .create()
            .expect("publisher");
        publish_seq(&publisher, 1, 0..count);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn subscriber() {
        let Some(args) = role_args("roles::subscriber") else {
            return;
        };
        let count: u64 = arg(&args, 0);
        let rt = Runtime::init("ro-subscriber").expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service("read-only"))
            .create()
            .expect("subscriber");
        say("ready");
        expect_command("take");
        let before = data_segment();
        let until = deadline();
        let mut held = Vec::new();
        while (held.len() as u64) < count {
            match subscriber.take().expect("take") {
                Some(sample) => held.push(sample),
                None => {
                    subscriber
                        .wait(Some(left(until, "the published samples")))
                        .expect("wait");
                }
            }
        }
        for (seq, sample) in held.iter().enumerate() {
            assert!(sample.is_valid() && sample.seq == seq as u64, "{sample:?}");
        }
        drop(held);
        assert!(
            data_segment() == before,
            "taking and dropping samples wrote the data segment"
        );
        say(format!("unchanged {count}"));
    }
}
