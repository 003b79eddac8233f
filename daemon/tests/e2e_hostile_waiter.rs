//! End to end: a hostile waiter cannot block its publishers.
//!
//! The waiter (this test process, speaking the raw protocol) hands the
//! daemon the sending end of its wake socket, keeps a duplicate of it,
//! clears `O_NONBLOCK` on that duplicate (the same socket the publishers
//! get), fills the socket's buffer and never drains it, and keeps clearing
//! its port's `pending` word so that every publish tries to send. A
//! publisher in another process still publishes all its samples: its sends
//! are `MSG_DONTWAIT` whatever the socket's file flags (an eventfd shared
//! with the waiter, saturated and made blocking, stopped it in `write`).
//! The test fails by its deadline if a publisher ever blocks.

mod e2e_support;
mod support;

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::{MappedGroup, REPLY_DEADLINE, RawClient, TestDomain};
use zerocp_core::wire::{Message, PortKind, WakeFdPort};
use zerocp_os_linux::testing::role::spawn_child;
use zerocp_os_linux::wake_socket::{Notified, WakeSender, WakeSocket};

const WAIT: Duration = Duration::from_secs(120);
const PUBLISHES: &str = "200";

/// Makes `fd` blocking, as a hostile holder of the socket may.
fn clear_nonblock(fd: &OwnedFd) {
    let flags = rustix::fs::fcntl_getfl(fd).expect("F_GETFL");
    rustix::fs::fcntl_setfl(fd, flags - rustix::fs::OFlags::NONBLOCK).expect("F_SETFL");
    assert!(
        !rustix::fs::fcntl_getfl(fd)
            .expect("F_GETFL")
            .contains(rustix::fs::OFlags::NONBLOCK)
    );
}

/// Sends on `sender` until its buffer is full; returns the bytes queued.
fn fill(sender: &WakeSender) -> usize {
    let mut sent = 0;
    while sender.notify().expect("send") == Notified::Sent {
        sent += 1;
    }
    sent
}

#[test]
fn a_waiter_that_blocks_and_fills_its_wake_socket_cannot_stop_a_publisher() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut waiter = RawClient::connect(&domain.socket_path());
    waiter.register("hostile-waiter");
    let (created, fds) = waiter.create_subscriber_with_segments::<u64>("E2E/hostile/Event", 8);
    let names = domain.group_segment_names("default");
    let group = MappedGroup::from_reply(created.group, fds, names, false);
    let control = group.control();
    let port = control.subscriber(created.port_index).expect("its port");

    let wake = WakeSocket::new().expect("socket pair");
    let kept = wake.sender().as_fd().try_clone_to_owned().expect("dup");
    let request = Message::SetWakeFd(WakeFdPort {
        kind: PortKind::Subscriber,
        group: created.group,
        port_index: created.port_index,
        generation: created.generation,
    });
    let (reply, _) = waiter
        .client
        .request_sending_fds(&request, &[kept.as_fd()], REPLY_DEADLINE)
        .expect("SetWakeFd");
    assert_eq!(reply, Message::WakeFdSet);
    clear_nonblock(&kept);
    let kept = WakeSender::adopt(kept).expect("our own sending end");
    assert!(fill(&kept) > 0, "nothing fit into the wake socket");
    port.notify.armed.store(1, Ordering::SeqCst);

    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Acquire) {
                port.notify.pending.store(0, Ordering::SeqCst);
                std::thread::yield_now();
            }
        });
        let mut publisher = spawn_child("roles::publisher", &[PUBLISHES], &domain.envs());
        assert_eq!(publisher.expect_line("published ", WAIT), PUBLISHES);
        publisher.expect_success(WAIT);
        done.store(true, Ordering::Release);
    });
    // The buffer is still full (the publisher's sends found it so), and
    // the waiter's end is readable: a wake was pending all along.
    assert_eq!(kept.notify().expect("send"), Notified::Pending);
    assert!(wake.wait_readable(Some(Duration::ZERO)).expect("poll"));
    assert!(wake.drain().expect("drain"));
    assert!(
        domain
            .daemon_log()
            .lines()
            .all(|l| !l.contains("QueryWakeFd: ")),
        "the publisher was refused the wake descriptor:\n{}",
        domain.daemon_log()
    );
    drop(waiter);
    domain.stop();
}

mod roles {
    use std::time::Duration;

    use crate::e2e_support::{arg, say, service};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        let Some(args) = role_args("roles::publisher") else {
            return;
        };
        let n: u64 = arg(&args, 0);
        let rt = Runtime::init("hostile-publisher").expect("init");
        let publisher = rt
            .publisher::<u64>(&service("hostile"))
            .create()
            .expect("publisher");
        for i in 0..n {
            publisher
                .loan_uninit()
                .expect("loan")
                .write(i)
                .publish()
                .expect("publish");
            // Lets the waiter's thread clear `pending` between publishes.
            std::thread::sleep(Duration::from_micros(200));
        }
        say(format!("published {n}"));
    }
}
