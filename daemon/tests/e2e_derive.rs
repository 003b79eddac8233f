//! End to end: payload types made with `#[derive(ZeroCopySafe)]` through a
//! real daemon, between two processes that each declare the type in their
//! own module, as two programs would in their own crates.
//!
//! The publisher's `planner::Pose` and the subscriber's `driver::Pose` have
//! the same fields; the derive names both `Pose` (no module path), so the
//! daemon accepts them as one type and every pose arrives intact. A type of
//! the same layout under another name (`driver::Heading`) is refused with a
//! type mismatch that names both types.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

/// Poses the publisher sends (fewer than the subscriber's queue holds).
const POSES: u32 = 5;
/// How long the parent waits for a child's line or exit.
const WAIT: Duration = Duration::from_secs(120);

#[test]
fn derived_types_declared_apart_meet_by_name() {
    let domain = TestDomain::builder().mempools(&[(128, 32)]).start();
    let envs = domain.envs();
    let mut subscriber = spawn_child("roles::driver", &[], &envs);
    let refused = subscriber.expect_line("refused: ", WAIT);
    assert!(
        refused.contains("Heading") && refused.contains("Pose"),
        "the mismatch does not name both types: {refused}"
    );
    subscriber.expect_line("ready", WAIT);
    let mut publisher = spawn_child("roles::planner", &[], &envs);
    publisher.expect_line("published", WAIT);
    assert_eq!(subscriber.expect_line("received ", WAIT), POSES.to_string());
    publisher.send_line("done");
    assert!(publisher.wait(WAIT).success(), "the publisher failed");
    assert!(subscriber.wait(WAIT).success(), "the subscriber failed");
    assert!(
        domain.wait_until(WAIT, || domain.used_chunks() == 0),
        "chunks still in use after both processes left"
    );
    domain.stop();
}

/// The publisher's program.
mod planner {
    use zerocp::ZeroCopySafe;

    /// A pose, as the planner declares it.
    #[derive(ZeroCopySafe, Clone, Copy)]
    #[repr(C)]
    pub struct Pose {
        pub x: f64,
        pub y: f64,
        pub theta: f32,
        pub frame: u32,
    }
}

/// The subscriber's program.
mod driver {
    use zerocp::ZeroCopySafe;

    /// The same pose, declared again.
    #[derive(ZeroCopySafe, Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    pub struct Pose {
        pub x: f64,
        pub y: f64,
        pub theta: f32,
        pub frame: u32,
    }

    /// Another type with the layout of `Pose`.
    #[derive(ZeroCopySafe, Clone, Copy)]
    #[repr(C)]
    pub struct Heading {
        pub north: f64,
        pub east: f64,
        pub angle: f32,
        pub frame: u32,
    }
}

mod roles {
    use crate::POSES;
    use crate::e2e_support::{deadline, expect_command, left, say, service};
    use zerocp::Runtime;
    use zerocp_os_linux::testing::role::role_args;

    /// Pose `i` as the planner sends it and the driver expects it.
    fn pose(i: u32) -> crate::driver::Pose {
        crate::driver::Pose {
            x: f64::from(i),
            y: -f64::from(i),
            theta: 0.5 * i as f32,
            frame: 100 + i,
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn planner() {
        if role_args("roles::planner").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-derive-planner").expect("init");
        let publisher = rt
            .publisher::<crate::planner::Pose>(&service("derive"))
            .create()
            .expect("the planner's Pose is the driver's Pose");
        for i in 0..POSES {
            let p = pose(i);
            let sample = crate::planner::Pose {
                x: p.x,
                y: p.y,
                theta: p.theta,
                frame: p.frame,
            };
            let loan = publisher.loan_uninit().expect("loan");
            loan.write(sample).publish().expect("publish");
        }
        say("published");
        expect_command("done");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn driver() {
        if role_args("roles::driver").is_none() {
            return;
        }
        let rt = Runtime::init("e2e-derive-driver").expect("init");
        let svc = service("derive");
        let subscriber = rt
            .subscriber::<crate::driver::Pose>(&svc)
            .queue_capacity(2 * POSES)
            .create()
            .expect("subscriber");
        let refused = rt
            .publisher::<crate::driver::Heading>(&svc)
            .create()
            .expect_err("a Heading is not a Pose");
        assert!(refused.is_type_mismatch(), "{refused}");
        say(format!("refused: {refused}"));
        say("ready");
        let deadline = deadline();
        let mut received = 0;
        while received < POSES {
            match subscriber.take().expect("take") {
                Some(sample) => {
                    assert_eq!(*sample, pose(received), "pose {received} differs");
                    received += 1;
                }
                None => {
                    let wait = left(deadline, "the poses");
                    subscriber.wait(Some(wait)).expect("wait");
                }
            }
        }
        say(format!("received {received}"));
    }
}
