//! End to end: the metadata a subscriber in another process reads from a
//! sample (sequence number, publisher id, publish time) is what the
//! publisher's process wrote.
//!
//! Two publisher processes each publish three samples; before each publish
//! they print their `Publisher::id()` and a `Timestamp::now()` reading. A
//! subscriber process prints, for each sample it takes, its metadata and a
//! `Timestamp::now()` reading taken after the take. The test checks that
//! each publisher's samples carry its id and the sequence numbers 0, 1, 2,
//! that the two ids differ, and that every publish time lies between the
//! publisher's reading before the publish and the subscriber's after the
//! take (`CLOCK_MONOTONIC` is one clock for every process).

mod e2e_support;
mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);
const SAMPLES: u64 = 3;

/// What a publisher process printed: its id, and its clock reading before
/// each publish (by sequence number).
struct Sent {
    id: String,
    before: Vec<u64>,
}

#[test]
fn a_subscriber_reads_the_sequence_publisher_and_publish_time_its_publishers_wrote() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut subscriber = spawn_child("roles::subscriber", &[], &domain.envs());
    subscriber.expect_line("ready", WAIT);
    let mut sent = HashMap::new();
    for _ in 0..2 {
        let mut publisher = spawn_child("roles::publisher", &[], &domain.envs());
        let id = publisher.expect_line("id ", WAIT);
        let before = (0..SAMPLES)
            .map(|seq| {
                let line = publisher.expect_line(&format!("before {seq} "), WAIT);
                line.parse::<u64>().expect("a clock reading")
            })
            .collect();
        publisher.expect_success(WAIT);
        assert!(
            sent.insert(id.clone(), Sent { id, before }).is_none(),
            "two publishers with one id"
        );
    }
    for _ in 0..2 * SAMPLES {
        let line = subscriber.expect_line("got ", WAIT);
        let words: Vec<&str> = line.split(' ').collect();
        let [seq, port, generation, published, after] = words[..] else {
            panic!("bad line {line:?}");
        };
        let id = format!("{port} {generation}");
        let publisher = sent
            .get(&id)
            .unwrap_or_else(|| panic!("sample from unknown publisher {id}"));
        let seq: usize = seq.parse().expect("a sequence number");
        let (published, after): (u64, u64) = (published.parse().unwrap(), after.parse().unwrap());
        let before = publisher.before[seq];
        assert!(
            before <= published && published <= after,
            "publisher {}: sample {seq} published at {published}, not between {before} and {after}",
            publisher.id
        );
    }
    subscriber.expect_success(WAIT);
    domain.expect_back_to_base(WAIT);
    domain.stop();
}

mod roles {
    use crate::e2e_support::{deadline, left, say, service};
    use zerocp::{Runtime, Timestamp};
    use zerocp_os_linux::testing::role::role_args;

    use super::SAMPLES;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = Runtime::init("meta-publisher").expect("init");
        let publisher = rt
            .publisher::<u64>(&service("metadata"))
            .create()
            .expect("publisher");
        let id = publisher.id();
        assert_ne!(id.generation(), 0, "a port the daemon created");
        assert_eq!(id.port_index(), publisher.port_index());
        say(format!("id {} {}", id.port_index(), id.generation()));
        for seq in 0..SAMPLES {
            let sample = publisher.loan_uninit().expect("loan").write(seq);
            say(format!("before {seq} {}", Timestamp::now().as_nanos()));
            sample.publish().expect("publish");
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn subscriber() {
        if role_args("roles::subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("meta-subscriber").expect("init");
        let subscriber = rt
            .subscriber::<u64>(&service("metadata"))
            .create()
            .expect("subscriber");
        say("ready");
        let deadline = deadline();
        let mut got = 0;
        while got < 2 * SAMPLES {
            let Some(sample) = subscriber.take().expect("take") else {
                // Also returns early when the first publisher leaves.
                subscriber
                    .wait(Some(left(deadline, "a sample")))
                    .expect("wait");
                continue;
            };
            let after = Timestamp::now();
            assert_eq!(
                *sample,
                sample.sequence(),
                "the payload is its sequence number"
            );
            assert!(sample.publish_time() <= after);
            let id = sample.publisher();
            assert_eq!(id.port_index(), sample.publisher_port());
            say(format!(
                "got {} {} {} {} {}",
                sample.sequence(),
                id.port_index(),
                id.generation(),
                sample.publish_time().as_nanos(),
                after.as_nanos()
            ));
            got += 1;
        }
    }
}
