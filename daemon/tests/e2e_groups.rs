//! End to end: segment groups with real processes under real uids.
//!
//! The domain has a group `nav` (`Robot/Nav/*`) whose publishers must be uid
//! 65533 and whose subscribers must be uid 65534 (`nobody`), with its own
//! 64-byte pool of 2 chunks; everything else is in `default`. Children
//! switch their thread's uid and gid (`setresuid`/`setresgid`) before they
//! connect, so the daemon sees them through `SO_PEERCRED` like any other
//! user's process. The tests that switch uids need root and print
//! `skipped: …` otherwise.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);
const NOBODY: u32 = 65534;
const OTHER: u32 = 65533;

/// `nav` publishers: uid 65533; `nav` subscribers: uid 65534; both may
/// connect (`[access]`), through a socket everyone may open. No chunk
/// quota: one process empties `nav`'s pool on purpose.
fn config() -> String {
    format!(
        "[limits]\nmax_processes = 16\nmax_publishers = 32\nmax_subscribers = 64\n\
         register_timeout_ms = 20000\n\n[heartbeat]\ninterval_ms = 50\ntimeout_ms = 5000\n\n\
         [access]\nuids = [{NOBODY}, {OTHER}]\nsocket_mode = 0o666\n\n\
         [quota]\nprocess_percent = 100\nport_percent = 100\n\n\
         [[mempool]]\nsize = 64\ncount = 8\n\n[[mempool]]\nsize = 1024\ncount = 4\n\n\
         [[group]]\nname = \"nav\"\nservices = [\"Robot/Nav/*\"]\n\
         publish = {{ uids = [{OTHER}], gids = [] }}\n\
         subscribe = {{ uids = [{NOBODY}], gids = [] }}\n\
         [[group.mempool]]\nsize = 64\ncount = 2\n"
    )
}

fn is_root() -> bool {
    rustix::process::getuid().is_root()
}

/// Runs `roles::port_rights` as `uid`, expecting `refused` (`publish` or
/// `subscribe`) to be denied in `nav` and everything else served.
fn check_rights(domain: &TestDomain, uid: u32, refused: &str) {
    let args = [uid.to_string(), refused.to_owned()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut app = spawn_child("roles::port_rights", &args, &domain.envs());
    let line = app.expect_line("denied ", WAIT);
    for part in [
        "access denied",
        &format!("uid {uid}"),
        "Robot/Nav/Pose",
        "group \"nav\"",
        refused,
    ] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
    app.expect_line("ok served", WAIT);
    app.expect_success(WAIT);
}

#[test]
fn a_foreign_uid_is_refused_by_the_group_rule_and_served_elsewhere() {
    if !is_root() {
        eprintln!("skipped: running a child as another uid needs root");
        return;
    }
    let domain = TestDomain::builder().config_toml(&config()).start();
    check_rights(&domain, NOBODY, "publish");
    check_rights(&domain, OTHER, "subscribe");
    let log = domain.daemon_log();
    for (uid, kind) in [(NOBODY, "publisher"), (OTHER, "subscriber")] {
        let refusals = log
            .lines()
            .filter(|l| l.contains(&format!("refused a {kind}: access denied: uid {uid}")))
            .count();
        assert_eq!(refusals, 1, "one warning per refusal:\n{log}");
    }
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn root_passes_every_rule_and_a_groups_exhaustion_spares_default() {
    let domain = TestDomain::builder().config_toml(&config()).start();
    let mut app = spawn_child("roles::exhaust_nav", &[], &domain.envs());
    app.expect_line("ok exhausted", WAIT);
    let pools = domain.mempools();
    let used = |group: &str, size: u64| {
        pools
            .iter()
            .find(|p| p.group == group && p.chunk_size == size)
            .unwrap_or_else(|| panic!("no {size}-byte pool of {group}: {pools:?}"))
            .used
    };
    assert_eq!(used("nav", 64), 2, "{pools:?}");
    assert_eq!(used("default", 64), 1, "{pools:?}");
    let groups = domain.ctl_json(&["groups"]);
    let list = groups["groups"].as_array().expect("groups array");
    assert_eq!(list.len(), 2, "{groups}");
    let (default, nav) = (&list[0], &list[1]);
    assert_eq!(default["name"], "default");
    assert_eq!(default["publish"]["everyone"], true);
    assert_eq!(default["mempools"].as_array().map(Vec::len), Some(2));
    assert_eq!(nav["name"], "nav");
    assert_eq!(nav["services"], serde_json::json!(["Robot/Nav/*"]));
    assert_eq!(
        nav["publish"],
        serde_json::json!({"everyone": false, "uids": [OTHER], "gids": []})
    );
    assert_eq!(
        nav["subscribe"],
        serde_json::json!({"everyone": false, "uids": [NOBODY], "gids": []})
    );
    assert_eq!(
        nav["mempools"],
        serde_json::json!([{"chunk_size": 64, "chunk_count": 2, "used": 2, "min_free": 0,
                            "group": "nav", "process_quota": 2, "port_quota": 2}])
    );
    let text = domain.ctl_ok(&["groups"]);
    assert!(
        text.contains("group nav") && text.contains("Robot/Nav/*"),
        "{text}"
    );
    app.send_line("exit");
    app.expect_success(WAIT);
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

#[test]
fn an_allowed_uid_gets_through_and_samples_flow() {
    if !is_root() {
        eprintln!("skipped: running a child as another uid needs root");
        return;
    }
    let domain = TestDomain::builder().config_toml(&config()).start();
    let mut subscriber = spawn_child(
        "roles::nav_subscriber",
        &[&NOBODY.to_string()],
        &domain.envs(),
    );
    subscriber.expect_line("ok subscribed", WAIT);
    let mut publisher = spawn_child(
        "roles::nav_publisher",
        &[&OTHER.to_string()],
        &domain.envs(),
    );
    publisher.expect_line("ok published", WAIT);
    subscriber.expect_line("ok received", WAIT);
    subscriber.expect_success(WAIT);
    publisher.send_line("exit");
    publisher.expect_success(WAIT);
    assert!(domain.wait_until(WAIT, || domain.used_chunks() == 0));
    domain.stop();
}

mod roles {
    use crate::e2e_support::{Msg, arg, deadline, expect_command, left, publish_seq, say};
    use zerocp::{LoanError, Runtime, ServiceDescription};
    use zerocp_os_linux::testing::role::role_args;

    fn nav() -> ServiceDescription {
        ServiceDescription::new("Robot", "Nav", "Pose").expect("valid")
    }

    fn arm() -> ServiceDescription {
        ServiceDescription::new("Robot", "Arm", "Pose").expect("valid")
    }

    /// Becomes `uid` (and the same gid) on this thread, before connecting:
    /// the daemon reads the connecting thread's credentials.
    fn become_user(uid: u32) {
        use rustix::process::{Gid, Uid};
        let gid = Gid::from_raw(uid);
        rustix::thread::set_thread_res_gid(gid, gid, gid).expect("setresgid");
        let uid = Uid::from_raw(uid);
        rustix::thread::set_thread_res_uid(uid, uid, uid).expect("setresuid");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn port_rights() {
        let Some(args) = role_args("roles::port_rights") else {
            return;
        };
        become_user(arg(&args, 0));
        let refused: String = arg(&args, 1);
        let rt = Runtime::init("e2e-groups").expect("init");
        let (denied, allowed) = if refused == "publish" {
            let e = rt.publisher::<Msg>(&nav()).create().map(drop).unwrap_err();
            (e, rt.subscriber::<Msg>(&nav()).create().map(drop))
        } else {
            let e = rt.subscriber::<Msg>(&nav()).create().map(drop).unwrap_err();
            (e, rt.publisher::<Msg>(&nav()).create().map(drop))
        };
        assert!(denied.is_access_denied(), "{denied}");
        say(format!("denied {denied}"));
        allowed.expect("the other kind of port is allowed");
        let publisher = rt.publisher::<Msg>(&arm()).create().expect("default group");
        let _subscriber = rt.subscriber::<Msg>(&arm()).create().expect("default");
        drop(publisher.loan_uninit().expect("a default chunk"));
        say("ok served");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn exhaust_nav() {
        if role_args("roles::exhaust_nav").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-groups-root").expect("init");
        let _subscriber = rt
            .subscriber::<Msg>(&nav())
            .create()
            .expect("root subscribes");
        let greedy = rt
            .publisher::<Msg>(&nav())
            .max_loans(8)
            .create()
            .expect("root publishes");
        let held: Vec<_> = (0..2)
            .map(|_| greedy.loan_uninit().expect("a nav chunk"))
            .collect();
        let out = greedy.loan_uninit().map(drop).unwrap_err();
        assert!(
            matches!(out, LoanError::OutOfChunks { chunk_size: 64, .. }),
            "{out}"
        );
        let default = rt.publisher::<Msg>(&arm()).create().expect("default");
        let spared = default.loan_uninit().expect("default's pool is untouched");
        say("ok exhausted");
        expect_command("exit");
        drop((held, spared));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn nav_subscriber() {
        let Some(args) = role_args("roles::nav_subscriber") else {
            return;
        };
        become_user(arg(&args, 0));
        let rt = Runtime::init("e2e-groups-sub").expect("init");
        let subscriber = rt.subscriber::<Msg>(&nav()).create().expect("allowed");
        say("ok subscribed");
        let deadline = deadline();
        let sample = loop {
            if let Some(sample) = subscriber.take().expect("take") {
                break sample;
            }
            subscriber
                .wait(Some(left(deadline, "a nav sample")))
                .expect("wait");
        };
        assert!(sample.is_valid());
        say("ok received");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn nav_publisher() {
        let Some(args) = role_args("roles::nav_publisher") else {
            return;
        };
        become_user(arg(&args, 0));
        let rt = Runtime::init("e2e-groups-pub").expect("init");
        let publisher = rt.publisher::<Msg>(&nav()).create().expect("allowed");
        publish_seq(&publisher, u64::from(std::process::id()), 0..1);
        say("ok published");
        expect_command("exit");
    }
}
