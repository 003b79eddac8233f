//! End to end: `UntypedSubscriber`, a subscriber whose type is a value
//! (`ServiceType`): it gets the typed publisher's bytes, user header and
//! metadata, the daemon refuses it any type but the service's, and its
//! queue drops its oldest sample instead of holding the publisher.

mod e2e_support;
mod support;

use std::time::Duration;

use support::TestDomain;
use zerocp_os_linux::testing::role::spawn_child;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn an_untyped_subscriber_reads_a_typed_publishers_samples() {
    let domain = TestDomain::start();
    let mut child = spawn_child("roles::untyped", &[], &domain.envs());
    child.expect_success(WAIT);
    domain.stop();
}

mod roles {
    use std::time::Duration;

    use crate::e2e_support::service;
    use zerocp::error::{CreatePortReason, PortRequestError};
    use zerocp::{
        FullPolicy, PayloadShape, Runtime, ServiceType, TypeInfo, UntypedSubscriber, ZeroCopySafe,
    };
    use zerocp_os_linux::testing::role::role_args;

    #[repr(C)]
    #[derive(Clone, Copy, ZeroCopySafe)]
    #[zerocp(type_name = "e2e::Frame")]
    struct Frame {
        id: u32,
        flags: u32,
    }

    fn refused(created: Result<UntypedSubscriber, zerocp::CreatePortError>) -> String {
        match created {
            Err(e) => match e.reason {
                CreatePortReason::Request(PortRequestError::TypeMismatch { detail, .. }) => detail,
                other => panic!("refused otherwise: {other:?}"),
            },
            Ok(s) => panic!("a subscriber of the wrong type was created: {s:?}"),
        }
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn untyped() {
        if role_args("roles::untyped").is_none() {
            return;
        }
        let rt = Runtime::builder("e2e-untyped")
            .reconnect(false)
            .init()
            .expect("init");
        let svc = service("untyped");
        let publisher = rt
            .publisher::<[u16]>(&svc)
            .user_header::<Frame>()
            .max_slice_len(8)
            .create()
            .expect("publisher");
        // A block-publisher subscriber with room for every sample: the
        // observer beside it still drops rather than holds the publisher.
        let blocking = rt
            .subscriber::<[u16]>(&svc)
            .user_header::<Frame>()
            .queue_capacity(8)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .expect("a block-publisher subscriber");
        let service_type = ServiceType::of::<[u16], Frame>();
        assert_eq!(service_type.shape, PayloadShape::Slice);
        let observer = rt
            .untyped_subscriber(&svc, service_type)
            .queue_capacity(2)
            .create()
            .expect("an untyped subscriber of the service's type");
        assert_eq!(observer.publishers(), 1);

        // Any other type is refused by the daemon.
        let no_header = ServiceType::slice(service_type.payload);
        assert!(refused(rt.untyped_subscriber(&svc, no_header).create()).contains("user header"));
        let sized =
            ServiceType::sized(service_type.payload).with_user_header(service_type.user_header);
        refused(rt.untyped_subscriber(&svc, sized).create());
        let wider =
            ServiceType::slice(TypeInfo::of::<u32>()).with_user_header(service_type.user_header);
        refused(rt.untyped_subscriber(&svc, wider).create());

        for round in 0..5u16 {
            let mut sample = publisher
                .loan_slice_uninit(usize::from(round) + 1)
                .expect("loan")
                .write_with(|values| {
                    for (i, v) in values.iter_mut().enumerate() {
                        *v = round * 100 + i as u16;
                    }
                });
            *sample.user_header_mut() = Frame {
                id: u32::from(round),
                flags: 0xabcd,
            };
            sample.publish().expect("publish");
        }
        // Queue of 2: the three oldest were dropped, not waited for.
        assert_eq!(observer.dropped(), 3);
        for round in 3..5u16 {
            let sample = observer.take().expect("take").expect("a sample");
            assert_eq!(sample.sequence(), u64::from(round));
            assert_eq!(sample.len(), usize::from(round) + 1);
            let expected: Vec<u8> = (0..=round)
                .flat_map(|i| (round * 100 + i).to_ne_bytes())
                .collect();
            assert_eq!(sample.payload(), expected.as_slice());
            let mut header = u32::from(round).to_ne_bytes().to_vec();
            header.extend(0xabcd_u32.to_ne_bytes());
            assert_eq!(sample.user_header(), header.as_slice());
            assert_eq!(sample.publisher(), publisher.id());
        }
        assert!(observer.take().expect("take").is_none());
        assert!(!observer.wait(Some(Duration::from_millis(1))).expect("wait"));
        assert_eq!((blocking.queued(), blocking.dropped()), (5, 0));
    }
}
