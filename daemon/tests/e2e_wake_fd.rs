//! End to end: a subscriber's wake descriptor (`Subscriber::as_fd`) in a
//! raw `poll`, with the publisher in another process.
//!
//! - a `poll` on the descriptor sleeps until the other process publishes,
//!   and wakes then; after `take` until `None` it is not readable any more
//!   (the edge is re-armed), and readable again at the next publish;
//! - the daemon keeps one descriptor per armed port and closes it with the
//!   port (its descriptor count goes back), and with the process;
//! - the daemon stopping wakes a `poll` on it, and `take` says `DaemonGone`;
//! - `Subscriber::receive` (feature `tokio`) awaits samples from the other
//!   process on a current-thread tokio runtime, and wakes with `DaemonGone`
//!   when the daemon stops;
//! - a subscriber that sets its `armed` word without handing the daemon a
//!   descriptor (and keeps clearing `pending`) costs a publisher one
//!   `QueryWakeFd`, not one per publish;
//! - the daemon's refusals are typed: a port that is not the caller's, a
//!   second descriptor, something that is not the unnamed end of a
//!   `SOCK_SEQPACKET` socket pair (a file, an eventfd, a datagram pair), a
//!   query from a
//!   process with no route to the port (`NotRouted`) or for a port never
//!   armed (`NotArmed`); a listener's descriptor under the same rules (a
//!   publisher of a data service of the same name is not routed to it, a
//!   notifier of its service is), a sending port's is refused.

mod e2e_support;
mod support;

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::{MappedGroup, TestDomain};
use support::{REPLY_DEADLINE, RawClient};
use zerocp_core::wire::{ErrorCode, Message, PortKind, WakeFdPort};
use zerocp_os_linux::testing::role::spawn_child;
use zerocp_os_linux::wake_socket::{Notified, WakeSender, WakeSocket};
use zerocp_os_linux::wakeup::Wakeup;

const WAIT: Duration = Duration::from_secs(120);

fn daemon_fds(domain: &TestDomain) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", domain.daemon_pid()))
        .expect("the daemon's /proc/<pid>/fd")
        .count()
}

#[test]
fn a_raw_poll_wakes_on_a_publish_from_another_process() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut publisher = spawn_child("roles::publisher", &[], &domain.envs());
    publisher.expect_line("ready", WAIT);
    let mut poller = spawn_child("roles::poller", &[], &domain.envs());
    poller.expect_line("armed", WAIT);
    let armed = daemon_fds(&domain);

    poller.expect_line("polling", WAIT);
    publisher.send_line("publish 1");
    assert_eq!(publisher.expect_line("published ", WAIT), "1");
    assert_eq!(poller.expect_line("woken, took ", WAIT), "1");

    publisher.send_line("publish 5");
    assert_eq!(publisher.expect_line("published ", WAIT), "6");
    poller.send_line("take");
    assert_eq!(poller.expect_line("readable, took ", WAIT), "5");

    poller.send_line("drop");
    poller.expect_line("dropped", WAIT);
    assert!(
        domain.wait_until(WAIT, || daemon_fds(&domain) == armed - 1),
        "the daemon did not close the dropped port's wake descriptor ({} descriptors, {armed} \
         with it)",
        daemon_fds(&domain)
    );
    poller.send_line("again");
    poller.expect_line("armed again", WAIT);
    domain.stop_with(rustix::process::Signal::TERM);
    assert_eq!(poller.expect_line("woken: ", WAIT), "DaemonGone");
    poller.expect_success(WAIT);
    publisher.close_stdin();
    publisher.expect_success(WAIT);
}

#[test]
fn an_async_receive_on_tokio_wakes_on_samples_and_on_the_daemon_stop() {
    let mut domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut publisher = spawn_child("roles::publisher", &[], &domain.envs());
    publisher.expect_line("ready", WAIT);
    let mut receiver = spawn_child("roles::async_receiver", &[], &domain.envs());
    receiver.expect_line("awaiting", WAIT);
    publisher.send_line("publish 3");
    assert_eq!(publisher.expect_line("published ", WAIT), "3");
    assert_eq!(receiver.expect_line("received ", WAIT), "3");
    domain.stop_with(rustix::process::Signal::TERM);
    assert_eq!(receiver.expect_line("woken: ", WAIT), "DaemonGone");
    receiver.expect_success(WAIT);
    publisher.close_stdin();
    publisher.expect_success(WAIT);
}

#[test]
fn a_process_gone_takes_its_wake_descriptors_with_it() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    // One round first: what the daemon opens once (or qemu-user, which runs
    // it on the cross targets, opens for its emulation) is in the base then.
    let armed_and_killed = || {
        let mut poller = spawn_child("roles::armed_then_exit", &[], &domain.envs());
        poller.expect_line("armed", WAIT);
        let (pid, armed) = (poller.pid(), daemon_fds(&domain));
        poller.kill();
        let removed = |log: String| {
            log.lines()
                .any(|l| l.contains(&format!("process {pid} ")) && l.contains(" removed: "))
        };
        assert!(domain.wait_until(WAIT, || removed(domain.daemon_log())));
        assert!(domain.wait_until(WAIT, || daemon_fds(&domain) <= armed - 3));
        daemon_fds(&domain)
    };
    let base = armed_and_killed();
    armed_and_killed();
    // At most the base: fewer is no leak (under qemu-user the emulator's
    // own descriptors in the base come and go).
    assert!(
        domain.wait_until(WAIT, || daemon_fds(&domain) <= base),
        "descriptors left in the daemon after a second round: {} (base {base})",
        daemon_fds(&domain)
    );
    domain.stop();
}

#[test]
fn a_lying_armed_word_costs_a_publisher_one_request() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut liar = RawClient::connect(&domain.socket_path());
    liar.register("wake-liar");
    let (created, fds) = liar.create_subscriber_with_segments::<u64>("E2E/liar/Event", 8);
    let names = domain.group_segment_names("default");
    let group = MappedGroup::from_reply(created.group, fds, names, false);
    let control = group.control();
    let port = control.subscriber(created.port_index).expect("its port");
    // Armed without a descriptor, and `pending` cleared again and again:
    // without the publisher's cached refusal, every publish would ask.
    port.notify.armed.store(1, Ordering::SeqCst);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Acquire) {
                port.notify.pending.store(0, Ordering::SeqCst);
                std::thread::yield_now();
            }
        });
        let mut publisher = spawn_child("roles::u64_publisher", &["50"], &domain.envs());
        assert_eq!(publisher.expect_line("published ", WAIT), "50");
        publisher.expect_success(WAIT);
        done.store(true, Ordering::Release);
    });
    let log = domain.daemon_log();
    let refusals = log
        .lines()
        .filter(|l| l.contains("NotArmed: QueryWakeFd"))
        .count();
    assert_eq!(refusals, 1, "QueryWakeFd refusals for 50 publishes:\n{log}");
    drop(liar);
    domain.stop();
}

fn set_wake_fd(client: &mut RawClient, port: &WakeFdPort, fd: Option<&OwnedFd>) -> Message {
    let fds: Vec<_> = fd.iter().map(|f| f.as_fd()).collect();
    client
        .client
        .request_sending_fds(&Message::SetWakeFd(port.clone()), &fds, REPLY_DEADLINE)
        .expect("SetWakeFd")
        .0
}

fn refused(reply: Message) -> (ErrorCode, String) {
    match reply {
        Message::Error(e) => (e.code, e.detail.as_str().to_owned()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn refusals_are_typed() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut owner = RawClient::connect(&domain.socket_path());
    owner.register("wake-owner");
    let (created, _fds) = owner.create_subscriber_with_segments::<u64>("E2E/wake/Event", 4);
    let port = WakeFdPort {
        kind: PortKind::Subscriber,
        group: created.group,
        port_index: created.port_index,
        generation: created.generation,
    };
    let wake = WakeSocket::new().expect("socket pair");
    let sender: OwnedFd = wake.sender().as_fd().try_clone_to_owned().expect("dup");
    let file: OwnedFd = std::fs::File::open("/dev/null").expect("/dev/null").into();
    let eventfd: OwnedFd = Wakeup::new()
        .expect("eventfd")
        .as_fd()
        .try_clone_to_owned()
        .expect("dup");
    let (datagram, _peer) = rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::DGRAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .expect("datagram pair");

    let mut other = RawClient::connect(&domain.socket_path());
    other.register("wake-stranger");
    let (code, detail) = refused(set_wake_fd(&mut other, &port, Some(&sender)));
    assert_eq!(code, ErrorCode::NoSuchPort, "{detail}");
    let (code, detail) = refused(set_wake_fd(&mut owner, &port, None));
    assert_eq!(code, ErrorCode::InvalidArgument, "{detail}");
    assert!(detail.contains("0 descriptors"), "{detail}");
    for (fd, what) in [
        (&file, "ENOTSOCK"),
        (&eventfd, "ENOTSOCK"),
        (&datagram, "an AF_UNIX SOCK_DGRAM socket"),
    ] {
        let (code, detail) = refused(set_wake_fd(&mut owner, &port, Some(fd)));
        assert_eq!(code, ErrorCode::InvalidArgument, "{detail}");
        assert!(detail.contains("refused a wake descriptor"), "{detail}");
        assert!(detail.contains(what), "{what}: {detail}");
    }

    // A publisher of the service, not armed yet: NotArmed; a stranger: NotRouted.
    let mut publisher = RawClient::connect(&domain.socket_path());
    publisher.register("wake-publisher");
    publisher.create_publisher::<u64>("E2E/wake/Event", 0);
    let query = Message::QueryWakeFd(port.clone());
    let (code, detail) = refused(publisher.request(&query));
    assert_eq!(code, ErrorCode::NotArmed, "{detail}");
    let (code, detail) = refused(other.request(&query));
    assert_eq!(code, ErrorCode::NotRouted, "{detail}");

    assert_eq!(
        set_wake_fd(&mut owner, &port, Some(&sender)),
        Message::WakeFdSet
    );
    let (code, detail) = refused(set_wake_fd(&mut owner, &port, Some(&sender)));
    assert_eq!(code, ErrorCode::InvalidArgument, "{detail}");
    assert!(detail.contains("already"), "{detail}");
    let (reply, fds) = publisher
        .client
        .request_with_fds(&query, REPLY_DEADLINE)
        .expect("QueryWakeFd");
    assert_eq!(reply, Message::WakeFd(port.clone()));
    assert_eq!(fds.len(), 1);
    let theirs = WakeSender::adopt(fds.into_iter().next().expect("one fd")).expect("a wake socket");
    assert_eq!(theirs.notify().expect("signal"), Notified::Sent);
    assert!(
        wake.drain().expect("drain"),
        "the daemon handed out another descriptor"
    );
    let (code, detail) = refused(other.request(&query));
    assert_eq!(code, ErrorCode::NotRouted, "{detail}");
    drop((owner, other, publisher));
    domain.stop();
}

/// Creates a listener (`notifier == false`) or a notifier on `service`.
fn create_event_port(client: &mut RawClient, service: &str, notifier: bool) -> WakeFdPort {
    use zerocp_core::wire::{CreateListener, CreateNotifier};
    let service = support::parse_service(service);
    let (msg, kind) = if notifier {
        (
            Message::CreateNotifier(CreateNotifier { service }),
            PortKind::Notifier,
        )
    } else {
        (
            Message::CreateListener(CreateListener { service }),
            PortKind::Listener,
        )
    };
    match client.client.request_with_fds(&msg, REPLY_DEADLINE) {
        Ok((Message::ListenerCreated(p) | Message::NotifierCreated(p), _)) => WakeFdPort {
            kind,
            group: p.group,
            port_index: p.port_index,
            generation: p.generation,
        },
        other => panic!("{:?} answered with {other:?}", msg.kind()),
    }
}

#[test]
fn a_listener_descriptor_goes_to_its_notifiers_only() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut owner = RawClient::connect(&domain.socket_path());
    owner.register("wake-listener");
    let port = create_event_port(&mut owner, "E2E/wake/Map", false);
    let wake = WakeSocket::new().expect("socket pair");
    let sending_end = || -> OwnedFd { wake.sender().as_fd().try_clone_to_owned().expect("dup") };
    let mut sender = RawClient::connect(&domain.socket_path());
    sender.register("wake-sender");
    sender.create_publisher::<u64>("E2E/wake/Other", 0);
    let query = Message::QueryWakeFd(port.clone());
    let (code, detail) = refused(sender.request(&query));
    assert_eq!(code, ErrorCode::NotRouted, "{detail}");

    let notifier = create_event_port(&mut sender, "E2E/wake/Map", true);
    let (code, detail) = refused(set_wake_fd(&mut sender, &notifier, Some(&sending_end())));
    assert_eq!(code, ErrorCode::InvalidArgument, "{detail}");
    assert!(detail.contains("only receiving ports"), "{detail}");
    let (code, detail) = refused(sender.request(&query));
    assert_eq!(code, ErrorCode::NotArmed, "{detail}");

    let (code, detail) = refused(set_wake_fd(&mut sender, &port, Some(&sending_end())));
    assert_eq!(code, ErrorCode::NoSuchPort, "{detail}");
    assert_eq!(
        set_wake_fd(&mut owner, &port, Some(&sending_end())),
        Message::WakeFdSet
    );
    let (reply, fds) = sender
        .client
        .request_with_fds(&query, REPLY_DEADLINE)
        .expect("QueryWakeFd");
    assert_eq!(reply, Message::WakeFd(port.clone()));
    assert_eq!(fds.len(), 1);
    drop((owner, sender));
    domain.stop();
}

mod roles {
    use std::io::BufRead;
    use std::os::fd::BorrowedFd;

    use super::*;
    use crate::e2e_support::{Msg, ROLE_DEADLINE, expect_command, publish_seq, say, service};
    use rustix::event::{PollFd, PollFlags, poll};
    use zerocp::{Runtime, TakeError};
    use zerocp_os_linux::testing::role::role_args;

    /// Whether `fd` turns readable within `timeout`.
    fn readable(fd: BorrowedFd<'_>, timeout: Duration) -> bool {
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        let limit = rustix::time::Timespec {
            tv_sec: timeout.as_secs() as _,
            tv_nsec: timeout.subsec_nanos() as _,
        };
        poll(&mut fds, Some(&limit)).expect("poll") == 1
    }

    fn take_all(subscriber: &zerocp::Subscriber<Msg>) -> usize {
        let mut n = 0;
        while let Some(msg) = subscriber.take().expect("take") {
            assert!(msg.is_valid());
            n += 1;
        }
        n
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = Runtime::builder("wake-publisher")
            .reconnect(false)
            .init()
            .expect("init");
        let publisher = rt
            .publisher::<Msg>(&service("wake"))
            .create()
            .expect("publisher");
        say("ready");
        let mut seq = 0;
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("a line");
            let n: u64 = line
                .strip_prefix("publish ")
                .and_then(|n| n.parse().ok())
                .expect("publish <n>");
            publish_seq(&publisher, 1, seq..seq + n);
            seq += n;
            say(format!("published {seq}"));
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn u64_publisher() {
        let Some(args) = role_args("roles::u64_publisher") else {
            return;
        };
        let n: u64 = crate::e2e_support::arg(&args, 0);
        let rt = Runtime::init("wake-u64").expect("init");
        let publisher = rt
            .publisher::<u64>(&service("liar"))
            .create()
            .expect("publisher");
        for i in 0..n {
            publisher
                .loan_uninit()
                .expect("loan")
                .write(i)
                .publish()
                .expect("publish");
            std::thread::sleep(Duration::from_millis(1));
        }
        say(format!("published {n}"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn poller() {
        if role_args("roles::poller").is_none() {
            return;
        }
        let rt = Runtime::builder("wake-poller")
            .reconnect(false)
            .init()
            .expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service("wake"))
            .queue_capacity(16)
            .create()
            .expect("subscriber");
        let fd = subscriber.as_fd().expect("as_fd");
        assert!(!readable(fd, Duration::ZERO), "readable before any publish");
        say("armed");
        say("polling");
        assert!(readable(fd, ROLE_DEADLINE), "no wake-up");
        // Checked before the line: the test publishes again on reading it.
        let took = take_all(&subscriber);
        assert!(!readable(fd, Duration::ZERO), "still readable after take");
        say(format!("woken, took {took}"));

        expect_command("take");
        assert!(
            readable(fd, Duration::ZERO),
            "not readable with samples queued"
        );
        let took = take_all(&subscriber);
        assert!(!readable(fd, Duration::ZERO), "still readable after take");
        say(format!("readable, took {took}"));

        expect_command("drop");
        drop(subscriber);
        say("dropped");
        expect_command("again");
        let subscriber = rt
            .subscriber::<Msg>(&service("silent"))
            .create()
            .expect("subscriber");
        let fd = subscriber.as_fd().expect("as_fd");
        say("armed again");
        // The protocol: readable → take until `None` → poll again. The
        // daemon signals before it closes this process's connection, which
        // confirms its stop, so a first take may still find nothing.
        loop {
            assert!(
                readable(fd, ROLE_DEADLINE),
                "the daemon's stop did not wake the poll"
            );
            match subscriber.take().map(|s| s.is_some()) {
                Err(TakeError::DaemonGone) => break say("woken: DaemonGone"),
                Ok(false) => {}
                other => panic!("take after the wake-up: {other:?}"),
            }
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn async_receiver() {
        if role_args("roles::async_receiver").is_none() {
            return;
        }
        let rt = Runtime::builder("wake-async")
            .reconnect(false)
            .init()
            .expect("init");
        let subscriber = rt
            .subscriber::<Msg>(&service("wake"))
            .create()
            .expect("subscriber");
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .expect("a tokio runtime");
        tokio.block_on(async {
            say("awaiting");
            let mut received = 0;
            while received < 3 {
                let sample = tokio::time::timeout(ROLE_DEADLINE, subscriber.receive())
                    .await
                    .expect("a sample in time")
                    .expect("receive");
                assert!(sample.is_valid());
                received += 1;
            }
            say(format!("received {received}"));
            match tokio::time::timeout(ROLE_DEADLINE, subscriber.receive()).await {
                Ok(Err(zerocp::error::ReceiveError::Take(TakeError::DaemonGone))) => {
                    say("woken: DaemonGone")
                }
                other => panic!("receive with the daemon stopping: {other:?}"),
            }
        });
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn armed_then_exit() {
        if role_args("roles::armed_then_exit").is_none() {
            return;
        }
        let rt = Runtime::init("wake-armed").expect("init");
        let subscribers: Vec<_> = (0..3)
            .map(|i| {
                let s = rt
                    .subscriber::<Msg>(&service(&format!("armed{i}")))
                    .create()
                    .expect("subscriber");
                s.as_fd().expect("as_fd");
                s
            })
            .collect();
        say("armed");
        expect_command("never");
        drop(subscribers);
    }
}
