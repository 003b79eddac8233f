//! End to end: event services (a `Notifier` and a `Listener` per process).
//!
//! - a listener asleep in `wait` gets the ids a notifier process raises;
//!   ids raised several times before a take come out once (they coalesce);
//! - a pub/sub port on an event service's name is refused (one messaging
//!   pattern per name);
//! - a listener whose group's `subscribe` rule excludes its uid is refused
//!   with an access error naming the service (run as another uid: root only);
//! - a notifier killed with `kill -9` is removed (`zerocpctl services` no
//!   longer lists it) and the listener's later waits return, ids from a new
//!   notifier still arrive;
//! - a listener beyond `max_listeners` is refused naming the limit;
//! - the same notifier and listener go on after the daemon was killed and
//!   started again (`Disconnected` meanwhile);
//! - stopping the daemon wakes a listener asleep in `wait(None)` with
//!   `Disconnected`.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::{TestChild, spawn_child};

const WAIT: Duration = Duration::from_secs(120);
/// The service `E2E/<instance>/Event`, as `zerocpctl services` names it.
const SERVICE: &str = "E2E/events/Event";

fn domain() -> TestDomain {
    TestDomain::builder().mempools(&[(64, 8)]).start()
}

fn listener(domain: &TestDomain) -> TestChild {
    let mut listener = spawn_child("roles::listener", &["events"], &domain.envs());
    listener.expect_line("ready", WAIT);
    listener
}

fn notifier(domain: &TestDomain) -> TestChild {
    let mut notifier = spawn_child("roles::notifier", &["events"], &domain.envs());
    notifier.expect_line("ready", WAIT);
    notifier
}

/// The pids of the notifiers `zerocpctl services --json` lists for the service.
fn notifier_pids(domain: &TestDomain) -> Vec<u64> {
    let json = domain.ctl_json(&["services"]);
    let services = json["services"].as_array().cloned().unwrap_or_default();
    services
        .iter()
        .filter(|s| s["service"] == SERVICE)
        .flat_map(|s| s["notifiers"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n["pid"].as_u64())
        .collect()
}

fn quit(child: &mut TestChild) {
    child.send_line("quit");
    child.expect_success(WAIT);
}

#[test]
fn a_waiting_listener_gets_the_ids_and_they_coalesce() {
    let domain = domain();
    let mut listener = listener(&domain);
    let mut notifier = notifier(&domain);
    let json = domain.ctl_json(&["services"]);
    let text = json.to_string();
    assert!(
        text.contains("\"listeners\"") && text.contains("zerocp::event"),
        "{text}"
    );
    assert_eq!(notifier_pids(&domain), [u64::from(notifier.pid())]);

    listener.send_line("wait-for 7,200");
    listener.expect_line("waiting", WAIT);
    notifier.send_line("notify 7,200");
    assert_eq!(notifier.expect_line("reached ", WAIT), "1");
    assert_eq!(listener.expect_line("got ", WAIT), "7,200");

    // Raised five times before the listener looks: taken once.
    notifier.send_line("notify 9,9,9,9,9,3");
    assert_eq!(notifier.expect_line("reached ", WAIT), "1");
    listener.send_line("take");
    assert_eq!(listener.expect_line("took ", WAIT), "3,9");
    listener.send_line("take");
    assert_eq!(listener.expect_line("took ", WAIT), "");

    quit(&mut notifier);
    quit(&mut listener);
    domain.stop();
}

#[test]
fn an_event_service_name_refuses_pub_sub_ports() {
    let domain = domain();
    let mut listener = listener(&domain);
    let mut app = spawn_child("roles::pub_sub_on_events", &["events"], &domain.envs());
    let line = app.expect_line("refused ", WAIT);
    for part in [SERVICE, "is an event service", "publisher"] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
    app.expect_success(WAIT);
    quit(&mut listener);
    domain.stop();
}

#[test]
fn listeners_beyond_the_limit_are_refused_naming_it() {
    let domain = TestDomain::builder()
        .config_toml("[limits]\nmax_listeners = 1\n\n[[mempool]]\nsize = 64\ncount = 8\n")
        .start();
    let mut app = spawn_child("roles::two_listeners", &["events"], &domain.envs());
    let line = app.expect_line("refused ", WAIT);
    assert!(line.contains("limits.max_listeners"), "{line}");
    app.expect_success(WAIT);
    domain.stop();
}

#[test]
fn the_same_notifier_and_listener_go_on_after_the_daemon_was_killed() {
    let mut domain = domain();
    let mut app = spawn_child("roles::event_carrier", &["events"], &domain.envs());
    app.expect_line("ready", WAIT);
    domain.kill();
    assert_eq!(
        app.expect_line("during the outage ", WAIT),
        "Disconnected Disconnected"
    );
    domain.spawn("debug");
    app.send_line("restarted");
    assert_eq!(app.expect_line("after the restart ", WAIT), "5");
    assert_eq!(notifier_pids(&domain), [u64::from(app.pid())]);
    quit(&mut app);
    domain.stop();
}

const NOBODY: u32 = 65534;

#[test]
fn a_listener_outside_the_subscribe_rule_is_refused() {
    if !rustix::process::getuid().is_root() {
        eprintln!("skipped: running a child as another uid needs root");
        return;
    }
    let config = format!(
        "[access]\nuids = [{NOBODY}]\nsocket_mode = 0o666\n\n\
         [[mempool]]\nsize = 64\ncount = 8\n\n\
         [[group]]\nname = \"locked\"\nservices = [\"E2E/locked/*\"]\n\
         publish = {{ uids = [{NOBODY}], gids = [] }}\n\
         subscribe = {{ uids = [], gids = [] }}\n\
         [[group.mempool]]\nsize = 64\ncount = 2\n"
    );
    let domain = TestDomain::builder().config_toml(&config).start();
    let uid = NOBODY.to_string();
    let mut app = spawn_child("roles::locked_out", &[&uid], &domain.envs());
    let line = app.expect_line("denied ", WAIT);
    for part in [
        "access denied",
        "E2E/locked/Event",
        "listen to",
        "group \"locked\"",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
    app.expect_line("ok notifier", WAIT);
    app.expect_success(WAIT);
    domain.stop();
}

#[test]
fn a_killed_notifier_is_removed_and_the_listener_goes_on() {
    let domain = domain();
    let mut listener = listener(&domain);
    let mut victim = notifier(&domain);
    assert_eq!(notifier_pids(&domain), [u64::from(victim.pid())]);
    victim.kill();
    assert!(
        domain.wait_until(WAIT, || notifier_pids(&domain).is_empty()),
        "zerocpctl services still lists the killed notifier"
    );
    listener.send_line("wait-briefly");
    assert_eq!(listener.expect_line("timed out with ", WAIT), "");

    let mut notifier = notifier(&domain);
    listener.send_line("wait-for 1");
    listener.expect_line("waiting", WAIT);
    notifier.send_line("notify 1");
    assert_eq!(listener.expect_line("got ", WAIT), "1");
    quit(&mut notifier);
    quit(&mut listener);
    domain.stop();
}

#[test]
fn stopping_the_daemon_wakes_a_waiting_listener_with_disconnected() {
    let mut domain = domain();
    let mut listener = listener(&domain);
    listener.send_line("wait-forever");
    listener.expect_line("waiting", WAIT);
    domain.stop_with(rustix::process::Signal::TERM);
    assert_eq!(
        listener.expect_line("wait(None) returned ", WAIT),
        "Disconnected"
    );
    listener.expect_success(WAIT);
}

mod roles {
    use std::time::Duration;

    use crate::e2e_support::{Msg, arg, deadline, left, say, service};
    use zerocp::{EventId, EventSet, Runtime, WaitError};
    use zerocp_os_linux::testing::role::role_args;

    fn ids(list: &str) -> Vec<EventId> {
        list.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| EventId::new(s.parse().expect("a number")).expect("an id"))
            .collect()
    }

    fn show(set: &EventSet) -> String {
        let ids: Vec<String> = set.iter().map(|id| id.value().to_string()).collect();
        ids.join(",")
    }

    fn commands() -> impl Iterator<Item = String> {
        std::io::stdin().lines().map(|l| l.expect("a command"))
    }

    /// Raises the ids of each `notify a,b,c` command; prints how many
    /// listeners the last one reached.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn notifier() {
        let Some(args) = role_args("roles::notifier") else {
            return;
        };
        let rt = Runtime::init("e2e-notifier").expect("init");
        let notifier = rt.notifier(&service(&args[0])).create().expect("notifier");
        say("ready");
        for command in commands() {
            match command.split_once(' ') {
                Some(("notify", list)) => {
                    let reached = ids(list)
                        .into_iter()
                        .map(|id| notifier.notify(id).expect("notify"))
                        .last();
                    say(format!("reached {}", reached.unwrap_or(0)));
                }
                _ if command == "quit" => return,
                _ => panic!("unknown command {command:?}"),
            }
        }
    }

    /// `wait-for a,b`: waits until those ids came; `take`: `try_wait` once;
    /// `wait-briefly`: one wait with a short timeout; `wait-forever`:
    /// `wait(None)`, which only the daemon's stop ends.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn listener() {
        let Some(args) = role_args("roles::listener") else {
            return;
        };
        let rt = Runtime::init("e2e-listener").expect("init");
        let listener = rt.listener(&service(&args[0])).create().expect("listener");
        say("ready");
        for command in commands() {
            match command.split_once(' ').unwrap_or((&command, "")) {
                ("wait-for", list) => {
                    let wanted = ids(list);
                    let mut got = EventSet::default();
                    let deadline = deadline();
                    say("waiting");
                    while !wanted.iter().all(|id| got.contains(*id)) {
                        let set = listener
                            .wait(Some(left(deadline, "the ids")))
                            .expect("wait");
                        got.extend_from(&set);
                    }
                    say(format!("got {}", show(&got)));
                }
                ("take", _) => say(format!(
                    "took {}",
                    show(&listener.try_wait().expect("take"))
                )),
                ("wait-briefly", _) => {
                    let set = listener
                        .wait(Some(Duration::from_millis(50)))
                        .expect("wait");
                    say(format!("timed out with {}", show(&set)));
                }
                ("wait-forever", _) => {
                    say("waiting");
                    match listener.wait(None) {
                        Err(WaitError::Disconnected) => say("wait(None) returned Disconnected"),
                        other => panic!("wait(None) returned {other:?}"),
                    }
                    return;
                }
                ("quit", _) => return,
                _ => panic!("unknown command {command:?}"),
            }
        }
    }

    /// A publisher on an event service's name is refused.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn pub_sub_on_events() {
        let Some(args) = role_args("roles::pub_sub_on_events") else {
            return;
        };
        let rt = Runtime::init("e2e-pub-sub").expect("init");
        let e = rt
            .publisher::<Msg>(&service(&args[0]))
            .create()
            .map(drop)
            .unwrap_err();
        say(format!("refused {e}"));
    }

    /// Calls `f` until it stops failing with `Disconnected` (the runtime
    /// registered again and the port re-attached), within the role's deadline.
    fn reattached<T, E: std::fmt::Debug>(mut f: impl FnMut() -> Result<T, E>) -> T {
        let deadline = deadline();
        loop {
            match f() {
                Ok(value) => return value,
                Err(e) if format!("{e:?}") == "Disconnected" => {
                    left(deadline, "the re-attachment");
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    }

    /// A notifier and a listener of one process, through a daemon killed
    /// and started again: `Disconnected` during the outage, then the same
    /// handles re-attach and an id goes through.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn event_carrier() {
        let Some(args) = role_args("roles::event_carrier") else {
            return;
        };
        let rt = Runtime::init("e2e-event-carrier").expect("init");
        let notifier = rt.notifier(&service(&args[0])).create().expect("notifier");
        let listener = rt.listener(&service(&args[0])).create().expect("listener");
        say("ready");
        let deadline = deadline();
        let notified = loop {
            match notifier.notify(EventId::new(1).expect("an id")) {
                Ok(_) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => break e,
            }
            left(deadline, "the daemon's loss");
        };
        let waited = listener.wait(Some(Duration::from_secs(5))).unwrap_err();
        say(format!("during the outage {notified:?} {waited:?}"));
        crate::e2e_support::expect_command("restarted");
        reattached(|| listener.try_wait());
        let five = EventId::new(5).expect("an id");
        while reattached(|| notifier.notify(five)) == 0 {
            left(deadline, "the listener in the notifier's topology");
            std::thread::sleep(Duration::from_millis(10));
        }
        let got = listener.wait(Some(left(deadline, "id 5"))).expect("wait");
        say(format!("after the restart {}", show(&got)));
        crate::e2e_support::expect_command("quit");
    }

    /// A second listener is refused when `max_listeners` is 1.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn two_listeners() {
        let Some(args) = role_args("roles::two_listeners") else {
            return;
        };
        let rt = Runtime::init("e2e-two-listeners").expect("init");
        let _first = rt.listener(&service(&args[0])).create().expect("listener");
        let e = rt
            .listener(&service(&args[0]))
            .create()
            .map(drop)
            .unwrap_err();
        say(format!("refused {e}"));
    }

    /// Becomes `uid` on this thread (the daemon reads the connecting
    /// thread's credentials), is refused a listener of `E2E/locked/Event`
    /// and given a notifier.
    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn locked_out() {
        let Some(args) = role_args("roles::locked_out") else {
            return;
        };
        let uid: u32 = arg(&args, 0);
        use rustix::process::{Gid, Uid};
        let gid = Gid::from_raw(uid);
        rustix::thread::set_thread_res_gid(gid, gid, gid).expect("setresgid");
        let uid = Uid::from_raw(uid);
        rustix::thread::set_thread_res_uid(uid, uid, uid).expect("setresuid");
        let rt = Runtime::init("e2e-locked").expect("init");
        let svc = service("locked");
        let e = rt.listener(&svc).create().map(drop).unwrap_err();
        assert!(e.is_access_denied(), "{e}");
        say(format!("denied {e}"));
        let notifier = rt.notifier(&svc).create().expect("the publish rule admits");
        notifier
            .notify(EventId::new(1).expect("an id"))
            .expect("notify");
        say("ok notifier");
    }
}
