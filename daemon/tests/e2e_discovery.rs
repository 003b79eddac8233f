//! End to end: the discovery API against a real daemon and real processes.
//!
//! - A process lists the services (`Runtime::services`) and finds one
//!   whose publisher and subscriber live in two other processes, with its
//!   type, and not the daemon's own discovery event; no process may create
//!   anything but a listener on that event's name.
//! - A `ServiceWatcher` in one process, blocked in `wait`, reports a
//!   service appearing when another process creates a publisher, changing
//!   when a subscriber joins, disappearing when both are dropped, appearing
//!   again and disappearing once more when that process is `kill -9`ed
//!   (the daemon's cleanup raises the event). Each step is waited for with
//!   a deadline: a watcher that slept on fails the test.
//! - A watcher attached to a `WaitSet` wakes the wait set when a service
//!   appears.
//! - Across a daemon restart (`kill -9`, a new daemon) a watcher fails
//!   with the retryable `Disconnected` during the outage, then lists the
//!   new daemon's services by itself (the publisher that has not
//!   re-attached yet: disappeared) and sees it appear once it re-attaches.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

/// The service the roles create, as the watcher prints it.
const WATCHED: &str = "E2E/discovered/Event";

#[test]
fn a_process_lists_a_service_of_two_others_with_its_type() {
    let domain = TestDomain::builder().mempools(&[(128, 64)]).start();
    let mut publisher = spawn_child("roles::publisher", &[], &domain.envs());
    publisher.expect_line("ready", WAIT);
    let mut subscriber = spawn_child("roles::subscriber", &[], &domain.envs());
    subscriber.expect_line("ready", WAIT);
    let mut lister = spawn_child("roles::lister", &[], &domain.envs());
    assert_eq!(
        lister.expect_line("listed: ", WAIT),
        format!("{WATCHED} PublishSubscribe e2e::Msg 24 8 Sized 1 1 0 0")
    );
    assert_eq!(lister.expect_line("services: ", WAIT), "1");
    lister.expect_line("reserved: refused", WAIT);
    lister.expect_success(WAIT);
    publisher.kill();
    subscriber.kill();
    domain.stop();
}

#[test]
fn a_watcher_sees_a_service_appear_change_and_disappear_also_by_kill() {
    let domain = TestDomain::builder().mempools(&[(128, 64)]).start();
    let mut watcher = spawn_child("roles::watcher", &[], &domain.envs());
    watcher.expect_line("watching", WAIT);
    let mut ports = spawn_child("roles::ports_on_command", &[], &domain.envs());
    ports.expect_line("publishing", WAIT);
    assert_eq!(
        watcher.expect_line("service appeared: ", WAIT),
        format!("{WATCHED} 1 0")
    );
    ports.send_line("subscribe");
    ports.expect_line("subscribing", WAIT);
    assert_eq!(
        watcher.expect_line("service changed: ", WAIT),
        format!("{WATCHED} 1 1")
    );
    ports.send_line("drop");
    ports.expect_line("dropped", WAIT);
    assert_eq!(watcher.expect_line("service disappeared: ", WAIT), WATCHED);
    ports.send_line("publish");
    ports.expect_line("publishing", WAIT);
    assert_eq!(
        watcher.expect_line("service appeared: ", WAIT),
        format!("{WATCHED} 1 0")
    );
    ports.kill();
    assert_eq!(watcher.expect_line("service disappeared: ", WAIT), WATCHED);
    watcher.send_line("stop");
    watcher.expect_success(WAIT);
    domain.stop();
}

#[test]
fn a_watcher_in_a_waitset_wakes_it_when_a_service_appears() {
    let domain = TestDomain::builder().mempools(&[(128, 64)]).start();
    let mut watcher = spawn_child("roles::watcher_in_waitset", &[], &domain.envs());
    watcher.expect_line("waiting", WAIT);
    let mut publisher = spawn_child("roles::publisher", &[], &domain.envs());
    publisher.expect_line("ready", WAIT);
    assert_eq!(
        watcher.expect_line("woken: service appeared: ", WAIT),
        format!("{WATCHED} 1 0")
    );
    watcher.expect_success(WAIT);
    publisher.kill();
    domain.stop();
}

#[test]
fn a_watcher_lists_again_after_a_daemon_restart() {
    let mut domain = TestDomain::builder().mempools(&[(128, 64)]).start();
    let mut publisher = spawn_child("roles::publisher_across_restart", &[], &domain.envs());
    publisher.expect_line("ready", WAIT);
    let mut watcher = spawn_child("roles::watcher_across_restart", &[], &domain.envs());
    assert_eq!(
        watcher.expect_line("watching: ", WAIT),
        format!("{WATCHED} 1 0")
    );
    domain.kill();
    watcher.expect_line("disconnected", WAIT);
    domain.spawn("debug");
    assert_eq!(watcher.expect_line("service disappeared: ", WAIT), WATCHED);
    publisher.send_line("publish");
    publisher.expect_line("published", WAIT);
    assert_eq!(
        watcher.expect_line("service appeared: ", WAIT),
        format!("{WATCHED} 1 0")
    );
    watcher.expect_success(WAIT);
    publisher.kill();
    domain.stop();
}

mod roles {
    use zerocp::{
        ConnectionState, MessagingPattern, Runtime, ServiceEvent, ServiceInfo, ServicesError,
        WaitError, WaitSet, WatchError,
    };
    use zerocp_core::discovery::discovery_service;
    use zerocp_os_linux::testing::role::role_args;

    use crate::e2e_support::{Msg, ROLE_DEADLINE, expect_command, say, service};

    fn watched() -> zerocp::ServiceDescription {
        service("discovered")
    }

    fn counts(info: &ServiceInfo) -> String {
        format!("{} {} {}", info.service, info.publishers, info.subscribers)
    }

    /// Prints `event` for the parent.
    fn report(prefix: &str, event: &ServiceEvent) {
        match event {
            ServiceEvent::Appeared(info) => {
                say(format!("{prefix}service appeared: {}", counts(info)))
            }
            ServiceEvent::Changed(info) => {
                say(format!("{prefix}service changed: {}", counts(info)))
            }
            ServiceEvent::Disappeared(service) => {
                say(format!("{prefix}service disappeared: {service}"))
            }
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = Runtime::init("disc-publisher").expect("init");
        let _publisher = rt.publisher::<Msg>(&watched()).create().expect("publisher");
        say("ready");
        // Killed by the test.
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn subscriber() {
        if role_args("roles::subscriber").is_none() {
            return;
        }
        let rt = Runtime::init("disc-subscriber").expect("init");
        let _subscriber = rt
            .subscriber::<Msg>(&watched())
            .create()
            .expect("subscriber");
        say("ready");
        // Killed by the test.
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn lister() {
        if role_args("roles::lister").is_none() {
            return;
        }
        let rt = Runtime::init("disc-lister").expect("init");
        // A listener of the discovery event of its own, which the list
        // must not show.
        let _watcher = rt.service_watcher().expect("watcher");
        let services = rt.services().expect("services");
        let info = services
            .iter()
            .find(|i| i.service == watched())
            .expect("the watched service is listed");
        assert_eq!(info.pattern, MessagingPattern::PublishSubscribe);
        say(format!(
            "listed: {} {:?} {} {} {} {:?} {} {} {} {}",
            info.service,
            info.pattern,
            info.payload.name.as_str(),
            info.payload.size,
            info.payload.align,
            info.shape,
            info.publishers,
            info.subscribers,
            info.notifiers,
            info.listeners
        ));
        say(format!("services: {}", services.len()));
        let refused = rt
            .notifier(&discovery_service())
            .create()
            .expect_err("a notifier of the discovery event");
        assert!(refused.is_access_denied(), "{refused}");
        let refused = rt
            .publisher::<u64>(&discovery_service())
            .create()
            .expect_err("a publisher on the discovery event's name");
        assert!(refused.is_access_denied(), "{refused}");
        say("reserved: refused");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn ports_on_command() {
        if role_args("roles::ports_on_command").is_none() {
            return;
        }
        let rt = Runtime::init("disc-ports").expect("init");
        let publisher = rt.publisher::<Msg>(&watched()).create().expect("publisher");
        say("publishing");
        expect_command("subscribe");
        let subscriber = rt
            .subscriber::<Msg>(&watched())
            .create()
            .expect("subscriber");
        say("subscribing");
        expect_command("drop");
        drop(subscriber);
        drop(publisher);
        say("dropped");
        expect_command("publish");
        let _publisher = rt.publisher::<Msg>(&watched()).create().expect("publisher");
        say("publishing");
        // Killed by the test.
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn watcher() {
        if role_args("roles::watcher").is_none() {
            return;
        }
        let rt = Runtime::init("disc-watcher").expect("init");
        let watcher = rt.service_watcher().expect("watcher");
        assert!(watcher.services().is_empty(), "{:?}", watcher.services());
        say("watching");
        // Reads commands beside the wait: "stop" ends it.
        let (stop_tx, stop_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            expect_command("stop");
            let _ = stop_tx.send(());
        });
        let mut disappeared = 0;
        while disappeared < 2 {
            let events = watcher.wait(Some(ROLE_DEADLINE)).expect("wait");
            assert!(!events.is_empty(), "no change within {ROLE_DEADLINE:?}");
            for event in &events {
                report("", event);
                disappeared += usize::from(matches!(event, ServiceEvent::Disappeared(_)));
            }
        }
        stop_rx
            .recv_timeout(ROLE_DEADLINE)
            .expect("the parent's stop");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn watcher_in_waitset() {
        if role_args("roles::watcher_in_waitset").is_none() {
            return;
        }
        let rt = Runtime::init("disc-waitset").expect("init");
        let watcher = rt.service_watcher().expect("watcher");
        let waitset = WaitSet::new().expect("waitset");
        let attachment = waitset.attach(&watcher).expect("attach");
        say("waiting");
        let deadline = std::time::Instant::now() + ROLE_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let fired = waitset.wait(Some(left)).expect("wait");
            assert!(fired.contains(&attachment), "the wait set timed out");
            let events = watcher.try_wait().expect("try_wait");
            if let Some(event) = events.first() {
                report("woken: ", event);
                return;
            }
        }
    }

    /// Blocks until `rt` is connected again.
    fn until_connected(rt: &Runtime) {
        let watch = rt.connection_watcher();
        let deadline = std::time::Instant::now() + ROLE_DEADLINE;
        let mut state = watch.state();
        while !matches!(state, ConnectionState::Connected { .. }) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "still {state:?}");
            state = watch.wait_change(state, Some(left));
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher_across_restart() {
        if role_args("roles::publisher_across_restart").is_none() {
            return;
        }
        let rt = Runtime::init("disc-restart-pub").expect("init");
        let publisher = rt.publisher::<Msg>(&watched()).create().expect("publisher");
        say("ready");
        expect_command("publish");
        until_connected(&rt);
        // The loan re-attaches the port to the new daemon.
        let sample = publisher.loan_uninit().expect("loan").write(Msg::new(1, 0));
        sample.publish().expect("publish");
        say("published");
        // Killed by the test.
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn watcher_across_restart() {
        if role_args("roles::watcher_across_restart").is_none() {
            return;
        }
        let rt = Runtime::init("disc-restart-watch").expect("init");
        let watcher = rt.service_watcher().expect("watcher");
        let listed = watcher.services();
        assert_eq!(listed.len(), 1, "{listed:?}");
        say(format!("watching: {}", counts(&listed[0])));
        let mut seen_gone = false;
        loop {
            match watcher.wait(Some(ROLE_DEADLINE)) {
                Ok(events) => {
                    assert!(!events.is_empty(), "no change within {ROLE_DEADLINE:?}");
                    for event in &events {
                        report("", event);
                        if seen_gone && matches!(event, ServiceEvent::Appeared(_)) {
                            return;
                        }
                        seen_gone |= matches!(event, ServiceEvent::Disappeared(_));
                    }
                }
                Err(
                    WatchError::Wait(WaitError::Disconnected)
                    | WatchError::Services(ServicesError::Disconnected),
                ) => {
                    say("disconnected");
                    until_connected(&rt);
                }
                Err(e) => panic!("watching: {e}"),
            }
        }
    }
}
