//! End to end: `UntypedPublisher`, a publisher whose type is a value
//! (`ServiceType`, what the C API builds from a name, size and alignment):
//! a typed subscriber of the same type reads its bytes as the Rust value,
//! the daemon refuses it any type but the service's, slices are bounded
//! by `max_slice_len`, and a loan dropped unpublished goes back to the
//! pool; an untyped subscriber may opt into the block-publisher policy.
//! A slice type with a user header: a typed `[u16]` subscriber with that
//! header reads both, and every loan's header starts zero-filled.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn an_untyped_publisher_reaches_typed_and_untyped_subscribers() {
    let domain = TestDomain::start();
    let mut child = spawn_child("roles::untyped_publisher", &[], &domain.envs());
    child.expect_success(WAIT);
    domain.stop();
}

#[test]
fn an_untyped_slice_publisher_writes_user_headers() {
    let domain = TestDomain::start();
    let mut child = spawn_child("roles::untyped_headers", &[], &domain.envs());
    child.expect_success(WAIT);
    domain.stop();
}

mod roles {
    use std::time::Duration;

    use crate::e2e_support::service;
    use zerocp::error::{CreatePortReason, PortRequestError};
    use zerocp::{
        FullPolicy, LoanError, Runtime, ServiceType, TypeInfo, UntypedPublisher, ZeroCopySafe,
    };
    use zerocp_os_linux::testing::role::role_args;

    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, ZeroCopySafe)]
    #[zerocp(type_name = "e2e::Pose")]
    struct Pose {
        x: u32,
        y: u32,
    }

    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, ZeroCopySafe)]
    #[zerocp(type_name = "e2e::Frame")]
    struct Frame {
        id: u32,
        exposure_us: u32,
    }

    fn refused(created: Result<UntypedPublisher, zerocp::CreatePortError>) {
        match created {
            Err(e) => assert!(
                matches!(
                    e.reason,
                    CreatePortReason::Request(PortRequestError::TypeMismatch { .. })
                ),
                "refused otherwise: {e}"
            ),
            Ok(p) => panic!("a publisher of the wrong type was created: {p:?}"),
        }
    }

    fn write_pose(publisher: &UntypedPublisher, pose: Pose) {
        let mut loan = publisher.loan().expect("loan");
        assert_eq!(loan.len_bytes(), size_of::<Pose>());
        let bytes = [pose.x.to_ne_bytes(), pose.y.to_ne_bytes()].concat();
        for (to, from) in loan.payload_mut().iter_mut().zip(bytes) {
            to.write(from);
        }
        loan.publish().expect("publish");
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn untyped_publisher() {
        if role_args("roles::untyped_publisher").is_none() {
            return;
        }
        let rt = Runtime::builder("e2e-untyped-pub")
            .reconnect(false)
            .init()
            .expect("init");
        let svc = service("untyped-pub");
        let typed = rt
            .subscriber::<Pose>(&svc)
            .queue_capacity(4)
            .create()
            .expect("typed subscriber");
        let pose_type = ServiceType::of::<Pose, ()>();
        let blocking = rt
            .untyped_subscriber(&svc, pose_type)
            .full_policy(FullPolicy::BlockPublisher)
            .queue_capacity(4)
            .create()
            .expect("an untyped block-publisher subscriber");
        let publisher = rt
            .untyped_publisher(&svc, pose_type)
            .max_loans(1)
            .create()
            .expect("untyped publisher");

        // Another name, size or alignment is refused.
        let named = |name: &str, size, align| TypeInfo {
            name: zerocp_core::fixed_string::FixedString::from_str_truncated(name),
            size,
            align,
        };
        refused(
            rt.untyped_publisher(&svc, ServiceType::sized(named("e2e::Other", 8, 4)))
                .create(),
        );
        refused(
            rt.untyped_publisher(&svc, ServiceType::sized(named("e2e::Pose", 12, 4)))
                .create(),
        );
        refused(
            rt.untyped_publisher(&svc, ServiceType::sized(named("e2e::Pose", 8, 8)))
                .create(),
        );

        // A dropped loan goes back: max_loans 1 still loans again.
        let first = publisher.loan().expect("loan");
        assert!(matches!(
            publisher.loan(),
            Err(LoanError::TooManyLoans { max: 1 })
        ));
        drop(first);
        assert!(matches!(
            publisher.loan_slice(2),
            Err(LoanError::SliceTooLong { len: 2, max: 1 })
        ));
        // No value of a sized type is no payload; a byte loan is the size.
        assert!(matches!(
            publisher.loan_slice(0),
            Err(LoanError::PayloadSize { bytes: 0, .. })
        ));
        assert!(matches!(
            publisher.loan_bytes(size_of::<Pose>() - 1),
            Err(LoanError::PayloadSize { .. })
        ));
        let loan = publisher
            .loan_bytes(size_of::<Pose>())
            .expect("a loan of the type's size");
        assert_eq!(loan.len_bytes(), size_of::<Pose>());
        drop(loan);

        for i in 0..3u32 {
            write_pose(&publisher, Pose { x: i, y: 10 * i });
        }
        assert_eq!(publisher.published(), 3);
        for i in 0..3u32 {
            let sample = typed.take().expect("take").expect("a sample");
            assert_eq!(*sample, Pose { x: i, y: 10 * i });
            assert_eq!(sample.sequence(), u64::from(i));
        }
        // The block-publisher queue held all three (nothing dropped).
        assert_eq!(blocking.dropped(), 0);
        for i in 0..3u32 {
            let sample = blocking.take().expect("take").expect("a sample");
            assert_eq!(sample.payload()[..4], i.to_ne_bytes());
        }
        assert!(!blocking.wait(Some(Duration::from_millis(1))).expect("wait"));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn untyped_headers() {
        if role_args("roles::untyped_headers").is_none() {
            return;
        }
        let rt = Runtime::builder("e2e-untyped-headers")
            .reconnect(false)
            .init()
            .expect("init");
        let svc = service("untyped-headers");
        let typed = rt
            .subscriber::<[u16]>(&svc)
            .user_header::<Frame>()
            .create()
            .expect("typed subscriber");
        let framed = ServiceType::of::<[u16], Frame>();
        let publisher = rt
            .untyped_publisher(&svc, framed)
            .max_slice_len(8)
            .max_loans(1)
            .create()
            .expect("untyped publisher");
        for i in 0..6u16 {
            let mut loan = publisher.loan_slice(usize::from(i)).expect("loan");
            assert_eq!(loan.len_bytes(), 2 * usize::from(i));
            let header = loan.user_header_mut();
            assert_eq!(header, &[0; 8], "loan {i}: the header starts zeroed");
            header[..4].copy_from_slice(&u32::from(i).to_ne_bytes());
            header[4..].copy_from_slice(&(100 * u32::from(i)).to_ne_bytes());
            let values = (0..i).flat_map(|v| (i * 10 + v).to_ne_bytes());
            for (to, from) in loan.payload_mut().iter_mut().zip(values) {
                to.write(from);
            }
            loan.publish().expect("publish");
            let sample = typed.take().expect("take").expect("a sample");
            let expected: Vec<u16> = (0..i).map(|v| i * 10 + v).collect();
            assert_eq!(&*sample, expected.as_slice());
            let frame = Frame {
                id: u32::from(i),
                exposure_us: 100 * u32::from(i),
            };
            assert_eq!(*sample.user_header(), frame);
        }
        // Byte loans: whole elements up to the maximum.
        assert!(matches!(
            publisher.loan_bytes(3),
            Err(LoanError::PayloadSize {
                bytes: 3,
                type_size: 2
            })
        ));
        assert!(matches!(
            publisher.loan_bytes(18),
            Err(LoanError::SliceTooLong { len: 9, max: 8 })
        ));
        let loan = publisher.loan_bytes(16).expect("a loan of 8 elements");
        assert_eq!(loan.len_bytes(), 16);
    }
}
