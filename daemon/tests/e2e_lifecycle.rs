//! End to end: the life cycle of a runtime and its ports.
//!
//! Ports hold the runtime's internals, so they keep working after the
//! `Runtime` handle is dropped; dropping a port removes it from the daemon
//! (`RemovePort`), and dropping the last of them unregisters the process
//! while it keeps running.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

/// Publishers and subscribers `zerocpctl services --json` lists for `service`.
fn port_counts(domain: &TestDomain, service: &str) -> (usize, usize) {
    let json = domain.ctl_json(&["services"]);
    let entry = json["services"]
        .as_array()
        .expect("services array")
        .iter()
        .find(|s| s["service"] == service);
    entry.map_or((0, 0), |s| {
        let count = |key: &str| s[key].as_array().map_or(0, Vec::len);
        (count("publishers"), count("subscribers"))
    })
}

#[test]
fn ports_outlive_the_handle_and_drops_unregister() {
    let domain = TestDomain::builder().mempools(&[(64, 16)]).start();
    let mut app = spawn_child("roles::lifecycle", &[], &domain.envs());
    app.expect_line("works without the handle", WAIT);
    let pid = app.pid();
    assert!(domain.process_pids().contains(&pid));
    assert_eq!(port_counts(&domain, "E2E/lifecycle/Event"), (1, 1));

    app.send_line("drop publisher");
    app.expect_line("publisher dropped", WAIT);
    assert_eq!(port_counts(&domain, "E2E/lifecycle/Event"), (0, 1));

    app.send_line("drop subscriber");
    app.expect_line("subscriber dropped", WAIT);
    assert!(
        domain.wait_until(WAIT, || !domain.process_pids().contains(&pid)),
        "the process is still registered after its last port was dropped"
    );
    assert_eq!(port_counts(&domain, "E2E/lifecycle/Event"), (0, 0));
    assert_eq!(domain.used_chunks(), 0);
    app.send_line("quit");
    assert!(app.wait(WAIT).success());
    domain.stop();
}

mod roles {
    use crate::e2e_support::{Msg, expect_command, say, service};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn lifecycle() {
        if role_args("roles::lifecycle").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-lifecycle").expect("init");
        let svc = service("lifecycle");
        let publisher = rt.publisher::<Msg>(&svc).create().expect("publisher");
        let subscriber = rt.subscriber::<Msg>(&svc).create().expect("subscriber");
        drop(rt);
        publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(1, 0))
            .publish()
            .expect("publish");
        let sample = subscriber.take().expect("take").expect("the sample");
        assert_eq!(sample.seq, 0);
        drop(sample);
        say("works without the handle");
        expect_command("drop publisher");
        drop(publisher);
        say("publisher dropped");
        expect_command("drop subscriber");
        drop(subscriber);
        say("subscriber dropped");
        expect_command("quit");
    }
}
