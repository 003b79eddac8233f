//! End to end: a C process killed with SIGKILL is cleaned up like a Rust
//! one. The C publisher holds its port and the chunks of its history when
//! it is killed; the daemon sees the death, removes the process and its
//! port and reclaims every chunk (the pools' `used` back to 0, as
//! `zerocpctl mempools` reports it), and stops clean afterwards. A C
//! subscriber killed while it holds samples leaves no reference behind:
//! once the publisher goes too, every chunk is free.

mod support;

use support::{CProgram, Daemon, STEP, compile, scratch_dir, wait_until};
use zerocp_daemon::ctl::client::CtlClient;

/// Chunks in use in every pool, and whether a process named `name` is
/// registered.
fn used_and_registered(ctl: &mut CtlClient, name: &str) -> (u64, bool) {
    let used = ctl
        .mempools()
        .expect("mempools")
        .iter()
        .map(|p| u64::from(p.used))
        .sum();
    let registered = ctl
        .processes()
        .expect("processes")
        .iter()
        .any(|p| p.name.as_str() == name);
    (used, registered)
}

#[test]
fn a_killed_c_publisher_is_cleaned_up_by_the_daemon() {
    let dir = scratch_dir();
    let publisher = compile("c_publisher", &dir);
    let daemon = Daemon::start("roles::daemon");
    let mut ctl = CtlClient::connect_path(&daemon.socket()).expect("a control connection");
    assert_eq!(used_and_registered(&mut ctl, "c-publisher"), (0, false));

    let mut publ = CProgram::spawn(&publisher, &["5"], &daemon.envs());
    publ.expect_line("published 5");
    // Its history: the 5 samples it published, in chunks it holds.
    assert_eq!(used_and_registered(&mut ctl, "c-publisher"), (5, true));

    publ.kill();
    let cleaned = wait_until(STEP, || {
        used_and_registered(&mut ctl, "c-publisher") == (0, false)
    });
    assert!(
        cleaned,
        "the daemon did not clean up after the killed C process: {:?}",
        used_and_registered(&mut ctl, "c-publisher")
    );
    drop(ctl);
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

#[test]
fn a_c_subscriber_killed_holding_samples_leaves_no_reference() {
    let dir = scratch_dir();
    let publisher = compile("c_publisher", &dir);
    let subscriber = compile("c_subscriber", &dir);
    let daemon = Daemon::start("roles::daemon");
    let mut ctl = CtlClient::connect_path(&daemon.socket()).expect("a control connection");

    let mut publ = CProgram::spawn(&publisher, &["5"], &daemon.envs());
    publ.expect_line("published 5");
    let mut sub = CProgram::spawn(&subscriber, &["5", "hold"], &daemon.envs());
    sub.expect_line("holding 5");
    // The same 5 chunks: the publisher's history, each also held by the
    // subscriber.
    assert_eq!(used_and_registered(&mut ctl, "c-subscriber"), (5, true));

    sub.kill();
    let gone = wait_until(STEP, || !used_and_registered(&mut ctl, "c-subscriber").1);
    assert!(gone, "the killed C subscriber is still registered");
    publ.close_stdin();
    publ.expect_success();
    let free = wait_until(STEP, || {
        used_and_registered(&mut ctl, "c-publisher") == (0, false)
    });
    assert!(
        free,
        "chunks the killed subscriber held stayed in use: {:?}",
        used_and_registered(&mut ctl, "c-publisher")
    );
    drop(ctl);
    daemon.stop();
    std::fs::remove_dir_all(dir).expect("remove the scratch dir");
}

mod roles {
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn daemon() {
        let Some(args) = role_args("roles::daemon") else {
            return;
        };
        crate::support::run_daemon_role(&args);
    }
}
