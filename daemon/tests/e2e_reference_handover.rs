//! End to end: a publisher without history hands its loan's reference to
//! its subscribers instead of adding one per subscriber and dropping its
//! own. Every reference must still come back exactly once:
//!
//! - three subscribers, one of them with a one-sample queue that discards
//!   (every push after the first releases the evicted chunk), one dropped
//!   halfway with samples queued (later publishes go to two);
//! - a publisher with no subscriber at all (it drops its own reference);
//! - a discarding and a block-publisher subscriber, in both orders (the
//!   reference goes over only when the last one discards);
//! - beside them a publisher with history, which keeps the old path.
//!
//! While the process still lives (so the daemon's reclaim cannot hide a
//! leak), `zerocpctl mempools` must show exactly the history ring's chunks
//! in use, and none once it is gone.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);
/// Samples the publisher with history keeps.
const HISTORY: u64 = 2;

#[test]
fn every_handed_over_reference_comes_back_once() {
    // Pools big enough that no quota (half the pool by default) trims a queue.
    let domain = TestDomain::builder().mempools(&[(64, 256)]).start();
    let envs = domain.envs();
    let mut child = spawn_child("roles::handover", &["handover"], &envs);
    child.expect_line("idle", WAIT);
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == HISTORY),
        "chunks in use besides the history ring's {HISTORY}: {:?}\n{}",
        domain.mempools(),
        domain.daemon_log()
    );
    child.send_line("quit");
    assert!(child.wait(WAIT).success());
    domain.expect_back_to_base(WAIT);
    assert!(
        !domain.daemon_log().contains("audit:"),
        "the audit found something: {}",
        domain.daemon_log()
    );
    domain.stop();
}

mod roles {
    use zerocp::{FullPolicy, Runtime, Subscriber};
    use zerocp_os_linux::testing::role::role_args;

    use crate::e2e_support::{Msg, expect_command, publish_seq, say, service};

    /// Takes everything queued at `sub`, checking each sample; returns the
    /// sequence numbers taken.
    fn drain(sub: &Subscriber<Msg>) -> Vec<u64> {
        let mut seqs = Vec::new();
        while let Some(msg) = sub.take().expect("take") {
            assert!(msg.is_valid(), "corrupt {:?}", *msg);
            seqs.push(msg.seq);
        }
        seqs
    }

    /// Runs the three publishers of the module docs, then says `idle` and
    /// holds nothing until told to quit.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn handover() {
        let Some(args) = role_args("roles::handover") else {
            return;
        };
        let rt = Runtime::init("e2e-handover").expect("init");
        let id = u64::from(std::process::id());
        let fan_out = service(&args[0]);
        let publisher = rt.publisher::<Msg>(&fan_out).create().expect("publisher");
        let all = rt
            .subscriber::<Msg>(&fan_out)
            .queue_capacity(64)
            .create()
            .expect("subscriber");
        let latest = rt
            .subscriber::<Msg>(&fan_out)
            .queue_capacity(1)
            .full_policy(FullPolicy::DiscardOldest)
            .create()
            .expect("subscriber");
        let leaving = rt
            .subscriber::<Msg>(&fan_out)
            .queue_capacity(64)
            .create()
            .expect("subscriber");
        publish_seq(&publisher, id, 0..20);
        assert_eq!(leaving.take().expect("take").expect("a sample").seq, 0);
        // Nineteen samples still queued: dropping the port releases them.
        drop(leaving);
        publish_seq(&publisher, id, 20..40);
        assert_eq!(drain(&all), (0..40).collect::<Vec<_>>());
        assert_eq!(drain(&latest), [39]);

        for order in [
            [FullPolicy::DiscardOldest, FullPolicy::BlockPublisher],
            [FullPolicy::BlockPublisher, FullPolicy::DiscardOldest],
        ] {
            let mixed = service(&format!("{}-{:?}", args[0], order[0]));
            let publisher = rt.publisher::<Msg>(&mixed).create().expect("publisher");
            let subs: Vec<_> = order
                .iter()
                .map(|&policy| {
                    rt.subscriber::<Msg>(&mixed)
                        .queue_capacity(64)
                        .full_policy(policy)
                        .create()
                        .expect("subscriber")
                })
                .collect();
            publish_seq(&publisher, id, 0..20);
            for sub in &subs {
                assert_eq!(drain(sub), (0..20).collect::<Vec<_>>());
            }
        }

        let lonely = rt
            .publisher::<Msg>(&service(&format!("{}-lonely", args[0])))
            .create()
            .expect("publisher");
        publish_seq(&lonely, id, 0..20);

        let remembered = service(&format!("{}-history", args[0]));
        let keeper = rt
            .publisher::<Msg>(&remembered)
            .history(super::HISTORY as u32)
            .create()
            .expect("publisher");
        let reader = rt
            .subscriber::<Msg>(&remembered)
            .queue_capacity(64)
            .create()
            .expect("subscriber");
        publish_seq(&keeper, id, 0..20);
        assert_eq!(drain(&reader), (0..20).collect::<Vec<_>>());

        say("idle");
        expect_command("quit");
    }
}
