//! End to end: a publisher's death wakes the waiters of its subscribers.
//!
//! A publisher process is `kill -9`ed while three subscriber processes
//! wait on its service: one in a `WaitSet`, one in a raw `poll` on its
//! descriptor, one in `Subscriber::wait` (no timeout). The daemon sees the
//! process die, takes its port out of the routes, writes the new count of
//! publishers into each subscriber's port and wakes it: every waiter wakes
//! (a waiter that slept on would fail the test by its deadline) and
//! reports that no publisher is left (`Readiness::PublisherGone` with
//! `publishers() == 0`; `publisher_gone()` after the poll; `wait`
//! returning `Ok(false)` with `publishers() == 0`).

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(120);

#[test]
fn a_killed_publisher_wakes_a_waitset_a_poll_and_a_wait() {
    let domain = TestDomain::builder().mempools(&[(64, 64)]).start();
    let mut publisher = spawn_child("roles::publisher", &[], &domain.envs());
    publisher.expect_line("ready", WAIT);
    let mut waiters: Vec<_> = ["roles::in_waitset", "roles::in_poll", "roles::in_wait"]
        .into_iter()
        .map(|role| {
            let mut child = spawn_child(role, &[], &domain.envs());
            assert_eq!(child.expect_line("publishers ", WAIT), "1", "{role}");
            child
        })
        .collect();
    for waiter in &mut waiters {
        waiter.expect_line("waiting", WAIT);
    }
    publisher.kill();
    for waiter in &mut waiters {
        assert_eq!(waiter.expect_line("woken, publishers ", WAIT), "0");
        waiter.expect_success(WAIT);
    }
    domain.stop();
}

mod roles {
    use std::os::fd::BorrowedFd;

    use crate::e2e_support::{ROLE_DEADLINE, say, service};
    use rustix::event::{PollFd, PollFlags, poll};
    use zerocp::{Readiness, Runtime, Subscriber, WaitSet};
    use zerocp_os_linux::testing::role::role_args;

    fn subscriber(rt: &Runtime) -> Subscriber<u64> {
        let subscriber = rt
            .subscriber::<u64>(&service("gone"))
            .create()
            .expect("subscriber");
        say(format!("publishers {}", subscriber.publishers()));
        subscriber
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn publisher() {
        if role_args("roles::publisher").is_none() {
            return;
        }
        let rt = Runtime::init("gone-publisher").expect("init");
        let _publisher = rt
            .publisher::<u64>(&service("gone"))
            .create()
            .expect("publisher");
        say("ready");
        // Killed by the test.
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn in_waitset() {
        if role_args("roles::in_waitset").is_none() {
            return;
        }
        let rt = Runtime::init("gone-waitset").expect("init");
        let subscriber = subscriber(&rt);
        let waitset = WaitSet::new().expect("waitset");
        let attachment = waitset.attach(&subscriber).expect("attach");
        say("waiting");
        let events = waitset.wait(Some(ROLE_DEADLINE)).expect("wait");
        assert_eq!(
            events.readiness(&attachment),
            Some(Readiness::PublisherGone)
        );
        say(format!("woken, publishers {}", subscriber.publishers()));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn in_poll() {
        if role_args("roles::in_poll").is_none() {
            return;
        }
        let rt = Runtime::init("gone-poll").expect("init");
        let subscriber = subscriber(&rt);
        let fd: BorrowedFd<'_> = subscriber.as_fd().expect("as_fd");
        say("waiting");
        let limit = rustix::time::Timespec {
            tv_sec: ROLE_DEADLINE.as_secs() as _,
            tv_nsec: 0,
        };
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        assert_eq!(poll(&mut fds, Some(&limit)).expect("poll"), 1, "no wake-up");
        assert!(subscriber.take().expect("take").is_none());
        assert!(subscriber.publisher_gone());
        say(format!("woken, publishers {}", subscriber.publishers()));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn in_wait() {
        if role_args("roles::in_wait").is_none() {
            return;
        }
        let rt = Runtime::init("gone-wait").expect("init");
        let subscriber = subscriber(&rt);
        say("waiting");
        assert!(!subscriber.wait(None).expect("wait"));
        say(format!("woken, publishers {}", subscriber.publishers()));
    }
}
