//! End to end: one thread waits on a `WaitSet` over three subscribers, a
//! listener, an interval and a deadline, with the publishers and the
//! notifier in four other processes.
//!
//! - every subscriber's samples, the listener's ids and the interval's
//!   ticks are reported, by attachment, from one `wait` loop in one thread;
//! - the deadline on the third subscriber fires once its publisher is
//!   stopped (SIGSTOP);
//! - with every publisher and the notifier gone and the interval and
//!   deadline detached (dropped), `wait(None)` reports only `PublisherGone` (the
//!   publishers' exits, with no publisher left) until the daemon stops,
//!   and then fails with `DaemonGone`.

mod e2e_support;
mod support;

use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};
use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

/// The id the notifier raises.
const ID: u32 = 4;

const WAIT: Duration = Duration::from_secs(120);

fn signal(pid: u32, signal: Signal) {
    let pid = Pid::from_raw(pid as i32).expect("a pid");
    kill_process(pid, signal).expect("kill");
}

#[test]
fn one_thread_waits_on_three_publishers_a_notifier_an_interval_and_a_deadline() {
    let mut domain = TestDomain::builder().mempools(&[(64, 256)]).start();
    let mut waiter = spawn_child("roles::waiter", &[], &domain.envs());
    waiter.expect_line("attached", WAIT);
    let mut publishers: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            let mut p = spawn_child("roles::ticker", &[name], &domain.envs());
            p.expect_line("publishing", WAIT);
            p
        })
        .collect();
    let mut notifier = spawn_child("roles::notifier", &[], &domain.envs());
    notifier.expect_line("notifying", WAIT);
    waiter.expect_line("all seen", WAIT);

    signal(publishers[2].pid(), Signal::STOP);
    waiter.send_line("stopped");
    waiter.expect_line("missed c", WAIT);
    signal(publishers[2].pid(), Signal::CONT);

    for child in publishers.iter_mut().chain([&mut notifier]) {
        child.close_stdin();
        child.expect_success(WAIT);
    }
    waiter.send_line("quiet");
    waiter.expect_line("sleeping", WAIT);
    domain.stop_with(Signal::TERM);
    assert_eq!(waiter.expect_line("woken: ", WAIT), "DaemonGone");
    waiter.expect_success(WAIT);
}

mod roles {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::e2e_support::{
        Msg, arg, deadline, expect_command, left, publish_until_stopped, say, service, stop_flag,
    };
    use zerocp::{EventId, Readiness, Runtime, WaitSet, WaitSetWaitError};
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn ticker() {
        let Some(args) = role_args("roles::ticker") else {
            return;
        };
        let name: String = arg(&args, 0);
        let rt = Runtime::builder("waitset-ticker")
            .reconnect(false)
            .init()
            .expect("init");
        let publisher = rt
            .publisher::<Msg>(&service(&format!("ws-{name}")))
            .create()
            .expect("publisher");
        publish_until_stopped(&publisher, Duration::from_millis(5), &stop_flag());
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn notifier() {
        if role_args("roles::notifier").is_none() {
            return;
        }
        let rt = Runtime::builder("waitset-notifier")
            .reconnect(false)
            .init()
            .expect("init");
        let notifier = rt
            .notifier(&service("ws-events"))
            .create()
            .expect("notifier");
        let id = EventId::new(ID).expect("an id");
        let stop = stop_flag();
        say("notifying");
        while !stop.load(Ordering::Acquire) {
            notifier.notify(id).expect("notify");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn waiter() {
        if role_args("roles::waiter").is_none() {
            return;
        }
        let rt = Runtime::builder("waitset-waiter")
            .reconnect(false)
            .init()
            .expect("init");
        let subscriber = |name: &str| {
            rt.subscriber::<Msg>(&service(&format!("ws-{name}")))
                .queue_capacity(64)
                .create()
                .expect("subscriber")
        };
        let subscribers = [subscriber("a"), subscriber("b"), subscriber("c")];
        let listener = rt
            .listener(&service("ws-events"))
            .create()
            .expect("listener");
        let waitset = WaitSet::new().expect("wait set");
        let data: Vec<_> = subscribers
            .iter()
            .map(|s| waitset.attach(s).expect("attach"))
            .collect();
        let events_in = waitset.attach(&listener).expect("attach the listener");
        let tick = waitset
            .attach_interval(Duration::from_millis(20))
            .expect("interval");
        let dog = waitset
            .attach_deadline(&subscribers[2], Duration::from_millis(500))
            .expect("deadline");
        say("attached");

        let stopped = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopped);
        let commands = std::thread::spawn(move || {
            expect_command("stopped");
            flag.store(true, Ordering::Release);
        });
        let until = deadline();
        let (mut received, mut ticks, mut said_all) = ([0u64; 3], 0u64, false);
        let mut raised = 0u64;
        loop {
            let events = waitset
                .wait(Some(left(until, "the wait set's events")))
                .expect("wait");
            for (i, attachment) in data.iter().enumerate() {
                if events.contains(attachment) {
                    while let Some(msg) = subscribers[i].take().expect("take") {
                        assert!(msg.is_valid());
                        received[i] += 1;
                    }
                }
            }
            if events.contains(&events_in) {
                let ids = listener.try_wait().expect("the listener's ids");
                assert!(ids.iter().all(|id| id.value() == ID), "{ids:?}");
                raised += u64::from(!ids.is_empty());
            }
            if events.readiness(&tick) == Some(Readiness::Tick) {
                ticks += 1;
            }
            if !said_all && received.iter().all(|&n| n >= 20) && raised >= 5 && ticks >= 5 {
                said_all = true;
                say("all seen");
            }
            if events.readiness(&dog) == Some(Readiness::Missed) && stopped.load(Ordering::Acquire)
            {
                say("missed c");
                break;
            }
        }
        commands.join().expect("the command thread");

        expect_command("quiet");
        drop((tick, dog));
        for s in &subscribers {
            while s.take().expect("take").is_some() {}
        }
        while !listener.try_wait().expect("the listener's ids").is_empty() {}
        say("sleeping");
        // The publishers' exits may still be reported (once per change),
        // then nothing until the daemon stops.
        loop {
            match waitset.wait(None) {
                Err(WaitSetWaitError::DaemonGone) => break say("woken: DaemonGone"),
                Ok(events)
                    if events
                        .iter()
                        .all(|(_, why)| why == Readiness::PublisherGone) =>
                {
                    assert!(subscribers.iter().all(|s| s.publishers() == 0));
                }
                other => panic!("wait(None) with the daemon stopping: {other:?}"),
            }
        }
    }
}
