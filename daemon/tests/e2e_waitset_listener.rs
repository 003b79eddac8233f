//! End to end: listeners waited on through their wake descriptor, with the
//! publisher and the notifier in other processes.
//!
//! - one thread waits on a `WaitSet` over a subscriber, a listener, an
//!   interval and a deadline on the listener: the samples, the ids and the
//!   ticks are reported by attachment, and the deadline fires once the
//!   notifier is silent; with the subscriber and the interval detached, the
//!   daemon's stop wakes `wait(None)` on the listener alone, which fails
//!   with `DaemonGone`;
//! - `Listener::as_fd` in a raw `poll`: it turns readable when the other
//!   process notifies, `try_wait` takes the ids, and after the empty take
//!   that follows it is not readable until the next notify; the daemon's
//!   stop makes it readable, and `try_wait` then says `DaemonGone`;
//! - `Listener::receive` (feature `tokio`) awaits ids from the other
//!   process and wakes with `DaemonGone` when the daemon stops.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);

fn domain() -> TestDomain {
    TestDomain::builder().mempools(&[(64, 256)]).start()
}

fn notifier(domain: &TestDomain) -> TestChild {
    let mut notifier = spawn_child("roles::notifier", &[], &domain.envs());
    notifier.expect_line("ready", WAIT);
    notifier
}

/// Has `notifier` raise `ids` (e.g. `3,5`) and checks it reached one listener.
fn notify(notifier: &mut TestChild, ids: &str) {
    notifier.send_line(&format!("notify {ids}"));
    assert_eq!(notifier.expect_line("reached ", WAIT), "1");
}

#[test]
fn one_thread_waits_on_a_subscriber_a_listener_and_an_interval() {
    let mut domain = domain();
    let mut waiter = spawn_child("roles::waiter", &[], &domain.envs());
    waiter.expect_line("attached", WAIT);
    let mut publisher = spawn_child("roles::ticker", &[], &domain.envs());
    publisher.expect_line("publishing", WAIT);
    let mut notifier = notifier(&domain);
    // One id per step: ids raised together may be taken apart.
    for id in ["3", "7", "9"] {
        notify(&mut notifier, id);
        assert_eq!(waiter.expect_line("got ", WAIT), id);
    }
    waiter.expect_line("all seen", WAIT);
    waiter.expect_line("listener deadline missed", WAIT);

    publisher.close_stdin();
    publisher.expect_success(WAIT);
    waiter.send_line("quiet");
    waiter.expect_line("sleeping", WAIT);
    domain.stop_with(rustix::process::Signal::TERM);
    assert_eq!(waiter.expect_line("woken: ", WAIT), "DaemonGone");
    waiter.expect_success(WAIT);
    notifier.close_stdin();
    notifier.expect_success(WAIT);
}

#[test]
fn a_listener_descriptor_in_a_raw_poll() {
    let mut domain = domain();
    let mut poller = spawn_child("roles::poller", &[], &domain.envs());
    poller.expect_line("armed", WAIT);
    let mut notifier = notifier(&domain);
    poller.expect_line("polling", WAIT);
    notify(&mut notifier, "3");
    assert_eq!(poller.expect_line("woken, took ", WAIT), "3");
    poller.expect_line("not readable after the empty take", WAIT);

    notify(&mut notifier, "9");
    poller.send_line("poll");
    assert_eq!(poller.expect_line("readable, took ", WAIT), "9");

    poller.send_line("forever");
    poller.expect_line("polling", WAIT);
    domain.stop_with(rustix::process::Signal::TERM);
    assert_eq!(poller.expect_line("woken: ", WAIT), "DaemonGone");
    poller.expect_success(WAIT);
    notifier.close_stdin();
    notifier.expect_success(WAIT);
}

#[test]
fn an_async_listener_receive_on_tokio() {
    let mut domain = domain();
    let mut receiver = spawn_child("roles::async_listener", &[], &domain.envs());
    receiver.expect_line("awaiting", WAIT);
    let mut notifier = notifier(&domain);
    notify(&mut notifier, "4");
    assert_eq!(receiver.expect_line("received ", WAIT), "4");
    domain.stop_with(rustix::process::Signal::TERM);
    assert_eq!(receiver.expect_line("woken: ", WAIT), "DaemonGone");
    receiver.expect_success(WAIT);
    notifier.close_stdin();
    notifier.expect_success(WAIT);
}

mod roles {
    use std::os::fd::BorrowedFd;
    use std::sync::mpsc;

    use super::*;
    use crate::e2e_support::{
        Msg, ROLE_DEADLINE, deadline, expect_command, left, publish_until_stopped, say, service,
        stop_flag,
    };
    use rustix::event::{PollFd, PollFlags, poll};
    use zerocp::error::ListenerReceiveError;
    use zerocp::{EventId, EventSet, Readiness, Runtime, WaitError, WaitSet, WaitSetWaitError};
    use zerocp_os_linux::testing::role::role_args;

    const DATA: &str = "wsl-data";
    const EVENTS: &str = "wsl-events";

    fn runtime(name: &str) -> Runtime {
        Runtime::builder(name)
            .reconnect(false)
            .init()
            .expect("init")
    }

    fn show(set: &EventSet) -> String {
        let ids: Vec<String> = set.iter().map(|id| id.value().to_string()).collect();
        ids.join(",")
    }

    /// Whether `fd` turns readable within `timeout`.
    fn readable(fd: BorrowedFd<'_>, timeout: Duration) -> bool {
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        let limit = rustix::time::Timespec {
            tv_sec: timeout.as_secs() as _,
            tv_nsec: timeout.subsec_nanos() as _,
        };
        poll(&mut fds, Some(&limit)).expect("poll") == 1
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn ticker() {
        if role_args("roles::ticker").is_none() {
            return;
        }
        let rt = runtime("wsl-ticker");
        let publisher = rt
            .publisher::<Msg>(&service(DATA))
            .create()
            .expect("publisher");
        publish_until_stopped(&publisher, Duration::from_millis(5), &stop_flag());
    }

    /// Raises the ids of each `notify a,b` command; says how many listeners
    /// it reached.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn notifier() {
        if role_args("roles::notifier").is_none() {
            return;
        }
        let rt = runtime("wsl-notifier");
        let notifier = rt.notifier(&service(EVENTS)).create().expect("notifier");
        say("ready");
        for line in std::io::stdin().lines() {
            let line = line.expect("a command");
            let list = line.strip_prefix("notify ").expect("a notify command");
            let mut reached = 0;
            for id in list.split(',') {
                let id = EventId::new(id.parse().expect("a number")).expect("an id");
                reached = notifier.notify(id).expect("notify");
            }
            say(format!("reached {reached}"));
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn waiter() {
        if role_args("roles::waiter").is_none() {
            return;
        }
        let rt = runtime("wsl-waiter");
        let subscriber = rt
            .subscriber::<Msg>(&service(DATA))
            .queue_capacity(64)
            .create()
            .expect("subscriber");
        let listener = rt.listener(&service(EVENTS)).create().expect("listener");
        let waitset = WaitSet::new().expect("wait set");
        let data = waitset.attach(&subscriber).expect("attach the subscriber");
        let events = waitset.attach(&listener).expect("attach the listener");
        let tick = waitset
            .attach_interval(Duration::from_millis(20))
            .expect("interval");
        let dog = waitset
            .attach_deadline(&listener, Duration::from_millis(300))
            .expect("a deadline on the listener");
        say("attached");

        let until = deadline();
        let (mut received, mut ticks, mut ids) = (0u64, 0u64, Vec::new());
        while received < 20 || ticks < 5 || ids.len() < 3 {
            let ready = waitset
                .wait(Some(left(until, "the wait set's events")))
                .expect("wait");
            if ready.readiness(&data) == Some(Readiness::Data) {
                while let Some(msg) = subscriber.take().expect("take") {
                    assert!(msg.is_valid());
                    received += 1;
                }
            }
            if ready.readiness(&events) == Some(Readiness::Data) {
                let set = listener.try_wait().expect("try_wait");
                if !set.is_empty() {
                    say(format!("got {}", show(&set)));
                    ids.extend(set.iter().map(|id| id.value()));
                }
            }
            if ready.readiness(&tick) == Some(Readiness::Tick) {
                ticks += 1;
            }
        }
        assert_eq!(ids, [3, 7, 9]);
        say("all seen");
        // The notifier is silent now: the listener's deadline fires.
        loop {
            let ready = waitset
                .wait(Some(left(until, "the listener's deadline")))
                .expect("wait");
            while subscriber.take().expect("take").is_some() {}
            if ready.readiness(&dog) == Some(Readiness::Missed) {
                break;
            }
        }
        say("listener deadline missed");

        expect_command("quiet");
        drop((data, tick, dog));
        say("sleeping");
        match waitset.wait(None) {
            Err(WaitSetWaitError::DaemonGone) => say("woken: DaemonGone"),
            other => panic!("wait(None) on a listener with the daemon stopping: {other:?}"),
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn poller() {
        if role_args("roles::poller").is_none() {
            return;
        }
        let rt = runtime("wsl-poller");
        let listener = rt.listener(&service(EVENTS)).create().expect("listener");
        let fd = listener.as_fd().expect("as_fd");
        say("armed");
        let (tx, commands) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                tx.send(line.expect("a command")).expect("send");
            }
        });

        say("polling");
        assert!(readable(fd, ROLE_DEADLINE), "no notify woke the poll");
        let set = listener.try_wait().expect("try_wait");
        say(format!("woken, took {}", show(&set)));
        assert!(listener.try_wait().expect("the empty take").is_empty());
        assert!(
            !readable(fd, Duration::ZERO),
            "readable with nothing pending"
        );
        say("not readable after the empty take");

        assert_eq!(commands.recv().expect("a command"), "poll");
        assert!(
            readable(fd, ROLE_DEADLINE),
            "the second notify did not arrive"
        );
        let set = listener.try_wait().expect("try_wait");
        say(format!("readable, took {}", show(&set)));
        assert!(listener.try_wait().expect("the empty take").is_empty());

        assert_eq!(commands.recv().expect("a command"), "forever");
        say("polling");
        // The protocol: readable → try_wait until empty → poll again. The
        // daemon signals before it closes this process's connection, which
        // confirms its stop, so a first try_wait may still find nothing.
        loop {
            assert!(
                readable(fd, ROLE_DEADLINE),
                "the daemon's stop did not wake the poll"
            );
            match listener.try_wait().map(|set| set.is_empty()) {
                Err(WaitError::DaemonGone) => break say("woken: DaemonGone"),
                Ok(true) => {}
                other => panic!("try_wait with the daemon stopped: {other:?}"),
            }
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn async_listener() {
        if role_args("roles::async_listener").is_none() {
            return;
        }
        let rt = runtime("wsl-async");
        let listener = rt.listener(&service(EVENTS)).create().expect("listener");
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .expect("a tokio runtime");
        tokio.block_on(async {
            say("awaiting");
            let set = tokio::time::timeout(ROLE_DEADLINE, listener.receive())
                .await
                .expect("ids in time")
                .expect("receive");
            say(format!("received {}", show(&set)));
            match tokio::time::timeout(ROLE_DEADLINE, listener.receive()).await {
                Ok(Err(ListenerReceiveError::Wait(WaitError::DaemonGone))) => {
                    say("woken: DaemonGone")
                }
                other => panic!("receive with the daemon stopping: {other:?}"),
            }
        });
    }
}
