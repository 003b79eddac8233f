//! In-process tests of revoking ports and resetting segment groups
//! ([`crate::revocation`], [`crate::group_reset`], [`crate::operator`]):
//! the records in shared memory, the routes, the notices for the owners and
//! the group's memory before and after.

use zerocp_core::fixed_string::FixedString;
use zerocp_core::port::PortState;
use zerocp_core::service::{ServiceDescription, TypeInfo};
use zerocp_core::sync::Ordering;
use zerocp_core::wire::{
    ErrorCode, Message, PortKind, PortRevoked, RemovePort, ResetGroup, RevokePort, RevokeReason,
};
use zerocp_os_linux::seqpacket::PeerCredentials;

use crate::audit_config::OnCorruptPool;
use crate::config::DaemonConfig;
use crate::control_plane::{ControlPlane, Departure};
use crate::control_plane_tests::{
    Fixture, add_publisher, add_subscriber, generation, me, pools, publisher_msg, register,
    test_config, topology, u64_spec,
};
use crate::group_reset::ResetCause;
use crate::port_id::PortId;

fn subscriber_id(plane: &ControlPlane<'_>, index: u32) -> PortId {
    PortId {
        group: 0,
        kind: PortKind::Subscriber,
        index,
        generation: generation(plane, index),
    }
}

fn revoked(id: PortId, reason: RevokeReason) -> Message {
    Message::PortRevoked(PortRevoked {
        kind: id.kind,
        port_index: id.index,
        group: id.group,
        generation: id.generation,
        reason,
    })
}

fn reset_request(name: &str) -> ResetGroup {
    ResetGroup {
        group: FixedString::from_str_truncated(name),
    }
}

#[test]
fn a_revoked_subscriber_is_unrouted_woken_and_its_owner_told() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 7);
    let publisher = add_publisher(&mut plane, owner);
    let subscriber = add_subscriber(&mut plane, owner);
    let id = subscriber_id(&plane, subscriber);
    assert_eq!(
        plane.live_port(0, PortKind::Subscriber, subscriber),
        Some(id)
    );
    assert_eq!(
        plane.live_port(0, PortKind::Subscriber, subscriber + 1),
        None
    );
    let queued = pools(&plane, 0).loan(0, u64_spec(publisher)).expect("loan");
    let port = pools(&plane, 0)
        .control()
        .subscriber(subscriber)
        .expect("port");
    port.queue.push(queued).expect("push");
    let woken = port.wake.data_seq.load(Ordering::Relaxed);

    plane
        .revoke_port(id, RevokeReason::CorruptQueue)
        .expect("revoked");
    assert!(topology(&plane, publisher).is_empty());
    let port = pools(&plane, 0)
        .control()
        .subscriber(subscriber)
        .expect("port");
    assert_eq!(port.control.state(), Some(PortState::Revoked));
    assert_ne!(port.wake.data_seq.load(Ordering::Relaxed), woken);
    assert_eq!(
        plane.take_notices(),
        [(7, revoked(id, RevokeReason::CorruptQueue))]
    );
    // Nothing is released while the owner lives: it may still take it.
    assert_eq!(pools(&plane, 0).pool_stats(0).expect("stats").used, 1);
    assert_eq!(
        plane.revoke_port(id, RevokeReason::Operator),
        Err(crate::revocation::RevokeError::NotRouted(id))
    );
    assert!(plane.take_notices().is_empty());

    // Its owner removes it: reclaimed as usual.
    let remove = RemovePort {
        kind: PortKind::Subscriber,
        port_index: subscriber,
        group: 0,
        generation: id.generation,
    };
    plane.remove_port(owner, &remove).expect("removed");
    assert_eq!(pools(&plane, 0).pool_stats(0).expect("stats").used, 0);
    let stale = PortId {
        generation: id.generation + 1,
        ..id
    };
    assert_eq!(
        plane.revoke_port(stale, RevokeReason::Operator),
        Err(crate::revocation::RevokeError::NoSuchPort(stale))
    );
}

#[test]
fn a_reset_revokes_every_port_and_hands_out_fresh_memory() {
    let config = DaemonConfig::from_toml_str(
        "[limits]\nmax_processes = 4\nmax_publishers = 2\nmax_subscribers = 2\n\
         [[mempool]]\nsize = 64\ncount = 4\n\
         [[group]]\nname = \"nav\"\nservices = [\"Nav/*/*\"]\n\
         [[group.mempool]]\nsize = 64\ncount = 4\n",
    )
    .expect("config");
    let fixture = Fixture::with_config(config);
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 3);
    let kept = add_publisher(&mut plane, owner);
    let mut nav = publisher_msg(TypeInfo::of::<u64>());
    nav.service = ServiceDescription::new("Nav", "Odom", "Pose").expect("valid");
    let old = plane.create_publisher(owner, &nav).expect("nav publisher");
    assert_eq!((old.group, old.incarnation), (1, 0));
    let lost = pools(&plane, 1)
        .loan(0, u64_spec(old.port_index))
        .expect("loan");
    assert_eq!(pools(&plane, 1).pool_stats(0).expect("stats").used, 1);

    let done = plane
        .reset_group_request(&me(), &reset_request("nav"))
        .expect("reset");
    assert_eq!((done.group, done.incarnation, done.revoked), (1, 1, 1));
    let old_id = PortId {
        group: 1,
        kind: PortKind::Publisher,
        index: old.port_index,
        generation: old.generation,
    };
    assert_eq!(
        plane.take_notices(),
        [(3, revoked(old_id, RevokeReason::GroupReset))]
    );
    // Fresh memory: the chunk the old port held is free in the new memory,
    // and `default` is untouched.
    assert_eq!(pools(&plane, 1).pool_stats(0).expect("stats").used, 0);
    assert_eq!(plane.status(0, Default::default()).publishers, 1);
    assert_eq!(plane.groups_page(1).entries[0].resets, 1);
    assert_eq!(plane.groups_page(0).entries[0].resets, 0);
    assert!(topology(&plane, kept).is_empty());
    assert!(lost < 4);

    // The old port is only forgotten when its owner removes it, once.
    let remove = RemovePort {
        kind: PortKind::Publisher,
        port_index: old.port_index,
        group: 1,
        generation: old.generation,
    };
    plane.remove_port(owner, &remove).expect("forgotten");
    let again = plane.remove_port(owner, &remove).map_err(|e| e.code);
    assert_eq!(again, Err(ErrorCode::NoSuchPort));
    let new = plane.create_publisher(owner, &nav).expect("again");
    assert_eq!((new.group, new.incarnation), (1, 1));
    assert_eq!(new.port_index, old.port_index);
    assert_ne!(new.generation, old.generation);
}

#[test]
fn operator_requests_need_root_or_the_daemon_uid() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 1);
    let subscriber = add_subscriber(&mut plane, owner);
    let stranger = PeerCredentials { uid: 1000, ..me() };
    let refused = plane
        .reset_group_request(&stranger, &reset_request("default"))
        .expect_err("refused");
    assert_eq!(refused.code, ErrorCode::AccessDenied);
    assert_eq!(
        refused.detail,
        "access denied: uid 1000 may not reset group \"default\": only root and the daemon's \
         uid 0 may"
    );
    let revoke = RevokePort {
        kind: PortKind::Subscriber,
        port_index: subscriber,
        group: 0,
    };
    let refused = plane
        .revoke_port_request(&stranger, &revoke)
        .expect_err("refused");
    assert_eq!(refused.code, ErrorCode::AccessDenied);
    assert!(plane.take_notices().is_empty(), "nothing was done");
    let unknown = plane
        .reset_group_request(&me(), &reset_request("nav"))
        .expect_err("no such group");
    assert_eq!(unknown.code, ErrorCode::InvalidArgument);
    assert!(
        unknown.detail.contains("(the groups: default)"),
        "{unknown}"
    );
    let done = plane.revoke_port_request(&me(), &revoke).expect("revoked");
    assert_eq!(done.reason, RevokeReason::Operator);
    let twice = plane
        .revoke_port_request(&me(), &revoke)
        .expect_err("twice");
    assert_eq!(twice.code, ErrorCode::InvalidArgument);
    let none = RevokePort {
        port_index: 3,
        ..revoke
    };
    let missing = plane
        .revoke_port_request(&me(), &none)
        .expect_err("no port");
    assert_eq!(missing.code, ErrorCode::NoSuchPort);
}

#[test]
fn chunks_lost_come_back_when_the_group_empties() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 1);
    add_subscriber(&mut plane, owner);
    // Popped and listed nowhere: what a process killed between its pop and
    // its loan record leaves, or a freelist cut short.
    pools(&plane, 0).loan(0, u64_spec(0)).expect("loan");
    let walk = pools(&plane, 0)
        .control()
        .freelist(0)
        .expect("list")
        .walk(|_| {});
    assert!(!walk.is_whole(), "{walk}");
    plane
        .remove_process(owner, Departure::Exited)
        .expect("removed");
    assert_eq!(plane.groups_page(0).entries[0].resets, 1);
    let walk = pools(&plane, 0)
        .control()
        .freelist(0)
        .expect("list")
        .walk(|_| {});
    assert!(walk.is_whole(), "fresh memory: {walk}");
    assert!(plane.take_notices().is_empty(), "no port was left to tell");

    // A group that empties whole is not reset.
    let owner = register(&mut plane, 2);
    add_subscriber(&mut plane, owner);
    plane
        .remove_process(owner, Departure::Exited)
        .expect("removed");
    assert_eq!(plane.groups_page(0).entries[0].resets, 1);
}

#[test]
fn a_corrupt_pool_resets_its_group_by_the_policy() {
    let mut config = test_config(4);
    config.audit.on_corrupt_pool = OnCorruptPool::ResetWhenEmpty;
    let fixture = Fixture::with_config(config.clone());
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 1);
    add_subscriber(&mut plane, owner);
    plane.on_corrupt_pool(0, 0).expect("noted");
    assert_eq!(plane.groups_page(0).entries[0].resets, 0, "not yet");
    plane
        .remove_process(owner, Departure::Exited)
        .expect("removed");
    assert_eq!(plane.groups_page(0).entries[0].resets, 1, "once empty");

    config.audit.on_corrupt_pool = OnCorruptPool::ResetNow;
    let fixture = Fixture::with_config(config);
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 5);
    let subscriber = add_subscriber(&mut plane, owner);
    let id = subscriber_id(&plane, subscriber);
    plane.on_corrupt_pool(0, 0).expect("reset");
    assert_eq!(plane.groups_page(0).entries[0].resets, 1, "at once");
    assert_eq!(
        plane.take_notices(),
        [(5, revoked(id, RevokeReason::CorruptPool))]
    );
    assert_eq!(plane.status(0, Default::default()).subscribers, 0);
    let cause = ResetCause::Operator { uid: 0 };
    assert_eq!(cause.revoke_reason(), RevokeReason::GroupReset);
}
