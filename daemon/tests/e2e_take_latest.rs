//! End to end: `Subscriber::take_latest` hands out the newest queued sample
//! and releases every older one.
//!
//! A publisher process publishes five samples into a subscriber process's
//! queue and exits; the five chunks stay in use (`zerocpctl mempools`),
//! held by the queue. The subscriber's `take_latest` returns the fifth
//! (sequence 4), counts four skipped, and only its chunk stays in use
//! while it is held; once dropped, the pools are back to their base and
//! the queue is empty.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);
const SAMPLES: u64 = 5;

#[test]
fn take_latest_returns_the_newest_sample_and_releases_the_older_ones() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut subscriber = spawn_child("roles::subscriber", &[], &domain.envs());
    subscriber.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::publisher", &[], &domain.envs());
    publisher.expect_success(WAIT);
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == SAMPLES),
        "the queue should hold {SAMPLES} chunks: {:?}",
        domain.mempools()
    );
    subscriber.send_line("take");
    assert_eq!(
        subscriber.expect_line("latest ", WAIT),
        format!("{} skipped {}", SAMPLES - 1, SAMPLES - 1)
    );
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == 1),
        "only the sample held should stay in use: {:?}",
        domain.mempools()
    );
    subscriber.send_line("drop");
    subscriber.expect_line("empty", WAIT);
    domain.expect_back_to_base(WAIT);
    subscriber.expect_success(WAIT);
    domain.stop();
}

mod roles {
    use crate::e2e_support::{deadline, expect_command, left, say, service};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    use super::SAMPLES;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = Runtime::init("latest-publisher").expect("init");
        let publisher = rt
            .publisher::<u64>(&service("latest"))
            .create()
            .expect("publisher");
        for seq in 0..SAMPLES {
            publisher
                .loan_uninit()
                .expect("loan")
                .write(seq)
                .publish()
                .expect("publish");
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn subscriber() {
        if role_args("roles::subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("latest-subscriber").expect("init");
        let subscriber = rt
            .subscriber::<u64>(&service("latest"))
            .queue_capacity(8)
            .create()
            .expect("subscriber");
        say("ready");
        expect_command("take");
        let deadline = deadline();
        while subscriber.queued() < SAMPLES as u32 {
            subscriber
                .wait(Some(left(deadline, "the samples")))
                .expect("wait");
        }
        let latest = subscriber
            .take_latest()
            .expect("take_latest")
            .expect("a sample");
        assert_eq!(*latest, latest.sequence());
        assert_eq!(subscriber.queued(), 0);
        say(format!(
            "latest {} skipped {}",
            latest.sequence(),
            subscriber.skipped()
        ));
        expect_command("drop");
        drop(latest);
        assert!(subscriber.take_latest().expect("take_latest").is_none());
        assert_eq!(subscriber.skipped(), SAMPLES - 1);
        say("empty");
    }
}
