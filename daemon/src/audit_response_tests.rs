//! In-process tests of what the daemon does about the audit's findings
//! ([`crate::audit_response`]): a corrupt queue revokes its subscriber
//! once and no other port; a corrupt pool resets the group once it is
//! empty, or at once with `on_corrupt_pool = "reset-now"`.

use zerocp_core::port::PortState;
use zerocp_core::wire::{Message, PortKind, PortRevoked, RevokeReason};

use crate::audit_config::OnCorruptPool;
use crate::audit_tests::HostileMapping;
use crate::control_plane::{ControlPlane, Departure};
use crate::control_plane_tests::{
    Fixture, add_publisher, add_subscriber, generation, pools, register, test_config, topology,
};

/// The reasons of the `PortRevoked` notices queued so far, by port
/// (kind, index), taking them.
fn revocations(plane: &mut ControlPlane<'_>) -> Vec<(PortKind, u32, RevokeReason)> {
    plane
        .take_notices()
        .into_iter()
        .map(|(_, notice)| match notice {
            Message::PortRevoked(PortRevoked {
                kind,
                port_index,
                reason,
                ..
            }) => (kind, port_index, reason),
            other => panic!("not a revocation: {other:?}"),
        })
        .collect()
}

/// Sets subscriber `index`'s enqueue position (the first word of its
/// queue) to 6, a cell beyond its capacity of 4 (a lap is 8): damage no
/// push or pop produces.
fn scribble_enqueue_position(hostile: &HostileMapping, index: u32) {
    let view = hostile.attach().expect("a sound header");
    let queue = &view.subscriber(index).expect("the port").queue;
    hostile.scribble(hostile.offset_of(queue), 6);
}

#[test]
fn a_corrupt_queue_revokes_its_subscriber_once_and_no_other_port() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 1);
    let neighbour = register(&mut plane, 2);
    let publisher = add_publisher(&mut plane, owner);
    let victim = add_subscriber(&mut plane, owner);
    let other = add_subscriber(&mut plane, neighbour);
    let hostile = HostileMapping::of(&plane);
    scribble_enqueue_position(&hostile, victim);
    plane.audit_domain();
    assert_eq!(plane.audit.counts().subscriber_queue, 1);
    assert_eq!(
        revocations(&mut plane),
        [(PortKind::Subscriber, victim, RevokeReason::CorruptQueue)]
    );
    assert_eq!(
        topology(&plane, publisher),
        [other, generation(&plane, other)],
        "the victim unrouted, its neighbour served"
    );
    let view = hostile.attach().expect("a sound header");
    let state = |index| view.subscriber(index).expect("port").control.state();
    assert_eq!(state(victim), Some(PortState::Revoked));
    assert_eq!(state(other), Some(PortState::Active));
    // The damage persists, and is written again: told once all the same.
    plane.audit_domain();
    scribble_enqueue_position(&hostile, victim);
    let forged = &view.subscriber(victim).expect("port").control;
    forged.set_state(PortState::Active);
    plane.audit_domain();
    assert_eq!(
        state(victim),
        Some(PortState::Revoked),
        "restored as written"
    );
    assert_eq!(plane.audit.counts().port_control, 1);
    assert!(revocations(&mut plane).is_empty(), "revoked once");
}

#[test]
fn a_corrupt_pool_resets_the_group_once_it_is_empty() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 1);
    add_publisher(&mut plane, owner);
    add_subscriber(&mut plane, owner);
    let hostile = HostileMapping::of(&plane);
    // Free chunk 5 counted as held: its freelist stays whole, so only the
    // audit's finding can get the group reset.
    let refcounts = pools(&plane, 0).control().layout().refcounts_offset() as usize;
    hostile.scribble(refcounts + 5 * 4, 1);
    for _ in 0..3 {
        plane.audit_domain();
    }
    assert_eq!(plane.audit.counts().over_referenced, 1, "counted once");
    assert_eq!(plane.groups_page(0).entries[0].resets, 0, "the group works");
    assert!(revocations(&mut plane).is_empty(), "nobody interrupted");
    plane
        .remove_process(owner, Departure::Exited)
        .expect("removed");
    assert_eq!(
        plane.groups_page(0).entries[0].resets,
        1,
        "reset when empty"
    );
    let fresh = pools(&plane, 0).control().refcounts();
    assert_eq!(fresh.get(5).map(|r| r.read()).ok(), Some(0), "fresh memory");
}

#[test]
fn with_reset_now_a_corrupt_pool_resets_the_group_at_once() {
    let mut config = test_config(4);
    config.audit.on_corrupt_pool = OnCorruptPool::ResetNow;
    let fixture = Fixture::with_config(config);
    let mut plane = fixture.plane();
    let owner = register(&mut plane, 1);
    let publisher = add_publisher(&mut plane, owner);
    let subscriber = add_subscriber(&mut plane, owner);
    let hostile = HostileMapping::of(&plane);
    let head = pools(&plane, 0).control().layout().freelist_offset(0);
    hostile.scribble(head.expect("pool 0") as usize, 1000);
    plane.audit_domain();
    assert_eq!(plane.groups_page(0).entries[0].resets, 1);
    let mut told = revocations(&mut plane);
    told.sort_by_key(|&(kind, index, _)| (kind as u8, index));
    assert_eq!(
        told,
        [
            (PortKind::Publisher, publisher, RevokeReason::CorruptPool),
            (PortKind::Subscriber, subscriber, RevokeReason::CorruptPool)
        ]
    );
    plane.audit_domain();
    assert_eq!(
        plane.audit.counts().freelist_chain,
        1,
        "fresh memory is sound"
    );
    // The owner creates its ports again, on the fresh memory.
    add_subscriber(&mut plane, owner);
    assert_eq!(plane.status(0, Default::default()).subscribers, 1);
}
