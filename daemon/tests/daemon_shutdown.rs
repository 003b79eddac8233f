//! What a stopping daemon does for its clients: `Shutdown` to every
//! connection, the mgmt segment marked `SHUTTING_DOWN`, sleeping subscribers
//! woken; and who may connect at all (peer credentials against `[access]`).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rustix::process::Signal;
use support::{DEADLINE, MappedGroup, MappedMgmt, RawClient, TestDomain};
use zerocp_core::mgmt::STATE_SHUTTING_DOWN;
use zerocp_core::wire::Message;
use zerocp_os_linux::futex::{WaitOutcome, futex_wait};

#[test]
fn shutdown_tells_clients_marks_mgmt_and_wakes_sleepers() {
    let mut domain = TestDomain::builder().heartbeat_timeout_ms(120_000).start();
    let mut client = RawClient::connect(&domain.socket_path());
    let (_, fds) = client.register_with_segments("sleeper");
    let (created, port_fds) = client.create_subscriber_with_segments::<u32>("Sleep/Raw/Wake", 2);
    let [mgmt_name, control_name, payload_name] = domain.segment_names();
    let mapped = MappedMgmt::from_registration(fds, mgmt_name);
    let mgmt = mapped.view();
    let group = MappedGroup::from_reply(0, port_fds, [control_name, payload_name], false);
    let control = group.control();
    let wake = &control
        .subscriber(created.port_index)
        .expect("subscriber port")
        .wake;

    let ready = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // Sleeps like a runtime's `wait()`: announce, read the word, sleep on it.
        let sleeper = scope.spawn(|| {
            wake.sleepers.fetch_add(1, Ordering::SeqCst);
            let seen = wake.data_seq.load(Ordering::SeqCst);
            ready.store(true, Ordering::SeqCst);
            let start = Instant::now();
            while wake.data_seq.load(Ordering::SeqCst) == seen && start.elapsed() < DEADLINE {
                let left = DEADLINE.saturating_sub(start.elapsed());
                if futex_wait(&wake.data_seq, seen, Some(left)).expect("futex")
                    == WaitOutcome::TimedOut
                {
                    break;
                }
            }
            wake.sleepers.fetch_sub(1, Ordering::SeqCst);
            (seen, start.elapsed())
        });
        assert!(support::wait_until(DEADLINE, || ready.load(Ordering::SeqCst)));
        domain.stop_with(Signal::TERM);
        let (seen, slept) = sleeper.join().expect("sleeper thread");
        assert_ne!(
            wake.data_seq.load(Ordering::SeqCst),
            seen,
            "data_seq was not bumped"
        );
        assert!(slept < DEADLINE, "the sleeper was not woken");
    });
    assert_eq!(mgmt.state(), STATE_SHUTTING_DOWN);
    let (id, msg) = client.recv().expect("a Shutdown frame");
    assert_eq!((id, msg), (0, Message::Shutdown));
    assert!(
        client.recv().is_none(),
        "the connection is closed after Shutdown"
    );
}

#[test]
fn access_is_checked_against_peer_credentials() {
    if rustix::process::getuid().as_raw() != 0 {
        eprintln!("skipped: connecting as other uids needs root");
        return;
    }
    let text =
        "[access]\nsocket_mode = 0o666\nuids = [65533]\n\n[[mempool]]\nsize = 64\ncount = 4\n";
    let domain = TestDomain::builder().config_toml(text).start();
    let mode = std::fs::metadata(domain.socket_path())
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o666);
    let ctl_as = |uid: u32| {
        std::process::Command::new(support::ZEROCPCTL)
            .arg("status")
            .envs(domain.envs())
            .uid(uid)
            .gid(uid)
            .output()
            .expect("run zerocpctl")
    };
    let denied = ctl_as(65534);
    assert!(!denied.status.success());
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(
        stderr.contains("AccessDenied") && stderr.contains("uid 65534"),
        "{stderr}"
    );
    let allowed = ctl_as(65533);
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    domain.stop();
}
