//! In-process tests of the audit of shared memory ([`crate::audit`]) over
//! the heap-backed segments of [`crate::control_plane_tests`]: a sound group
//! at work audits clean; words only the daemon writes are restored; lost and
//! over-referenced chunks count from their second sighting; a forged
//! heartbeat is noticed and never reclaimed.

use zerocp_core::group_control::GroupControl;
use zerocp_core::port::PortState;

use crate::control_plane::ControlPlane;
use crate::control_plane_tests::{
    Fixture, Region, add_publisher, add_subscriber, register, u64_spec,
};

/// Stores `value` into the `u32` word at `offset` of `region`, as a
/// hostile process of the group could.
fn scribble(region: &Region, offset: usize, value: u32) {
    assert!(offset.is_multiple_of(4) && offset + 4 <= region.layout.size());
    let word = region.ptr.as_ptr().wrapping_add(offset).cast();
    // SAFETY: in bounds and aligned (asserted); every access to the word is atomic.
    unsafe { std::sync::atomic::AtomicU32::from_ptr(word) }
        .store(value, std::sync::atomic::Ordering::Relaxed);
}

#[test]
fn a_sound_group_at_work_audits_clean() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let publisher = add_publisher(&mut plane, slot);
    let subscriber = add_subscriber(&mut plane, slot);
    let control = *plane.parts[0].control();
    let spec = u64_spec(publisher);
    let [loaned, queued, held] = [0; 3].map(|_| plane.parts[0].loan(0, spec).expect("loan"));
    let sub_port = control.subscriber(subscriber).expect("port");
    control
        .publisher(publisher)
        .expect("port")
        .loans
        .record(0, loaned)
        .expect("record");
    sub_port.queue.push(queued).expect("push");
    sub_port.held.record(0, held).expect("record");
    for _ in 0..3 {
        plane.audit_domain();
    }
    assert!(plane.drop_unresponsive(slot, 5_000).is_some());
    plane.audit_domain();
    let counts = plane.status(0).audit;
    assert_eq!((counts.audits, counts.findings()), (4, 0), "{counts:?}");
}

#[test]
fn the_audit_restores_the_words_only_the_daemon_writes() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let subscriber = add_subscriber(&mut plane, slot);
    let control = *plane.parts[0].control();
    let port = control.subscriber(subscriber).expect("port");
    scribble(&fixture.control, 12, 2); // the group header's state word
    let freelist = control.layout().freelist_offset(0).expect("pool 0") as usize;
    scribble(&fixture.control, freelist + 16, 99); // its capacity word
    port.control.set_state(PortState::Retiring);
    port.queue.init(1).expect("a capacity of 1");
    plane.audit_domain();
    let counts = plane.status(0).audit;
    assert_eq!(
        (counts.group_header, counts.freelist_header),
        (1, 1),
        "{counts:?}"
    );
    assert_eq!((counts.port_control, counts.subscriber_queue), (1, 1));
    assert_eq!(port.control.state(), Some(PortState::Active));
    assert_eq!(port.queue.capacity(), 4);
    // SAFETY: the control region, alive and laid out for the group.
    let attached =
        unsafe { GroupControl::attach(fixture.control.ptr, fixture.control.layout.size(), 0) };
    assert!(attached.is_ok(), "a newcomer attaches: {attached:?}");
    plane.audit_domain();
    assert_eq!(plane.status(0).audit.findings(), 4, "nothing new");
    let group = &plane.groups_page(0).entries[0];
    assert_eq!(group.findings, 4);
}

#[test]
fn lost_and_over_referenced_chunks_count_from_their_second_sighting() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let subscriber = add_subscriber(&mut plane, slot);
    let port = plane.parts[0]
        .control()
        .subscriber(subscriber)
        .expect("port");
    let spec = u64_spec(0);
    plane.parts[0].loan(0, spec).expect("a loan nobody lists");
    let twice = plane.parts[0].loan(0, spec).expect("loan");
    port.held.record(0, twice).expect("record");
    port.held
        .record(1, twice)
        .expect("listed twice, counted once");
    plane.audit_domain();
    assert_eq!(plane.status(0).audit.findings(), 0, "suspects only");
    plane.audit_domain();
    plane.audit_domain();
    let counts = plane.status(0).audit;
    assert_eq!(
        (counts.lost_chunks, counts.over_referenced),
        (1, 1),
        "counted once while they persist: {counts:?}"
    );
    let group = &plane.groups_page(0).entries[0];
    assert_eq!(
        group.last_finding,
        zerocp_core::wire::FindingKind::OverReferenced
    );
}

#[test]
fn a_forged_heartbeat_is_noticed_and_restored_never_reclaimed() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    add_subscriber(&mut plane, slot);
    let generation = plane.processes().get(slot).expect("registered").generation;
    let beat = |plane: &ControlPlane<'_>| {
        let heartbeat = plane
            .processes()
            .get(slot)
            .expect("registered")
            .heartbeat
            .slot();
        heartbeat.beat(1);
        heartbeat.beat(2);
    };
    beat(&plane);
    plane.audit_domain();
    assert_eq!(plane.status(0).audit.findings(), 0);
    let heartbeat = plane
        .processes()
        .get(slot)
        .expect("registered")
        .heartbeat
        .slot();
    heartbeat.assign(1, generation + 9, u64::MAX / 2); // beats back to 0, a future beat
    plane.audit_domain();
    let counts = plane.status(0).audit;
    assert_eq!(counts.heartbeat, 3, "{counts:?}");
    let heartbeat = plane
        .processes()
        .get(slot)
        .expect("still registered")
        .heartbeat
        .slot();
    assert_eq!(
        (heartbeat.pid(), heartbeat.generation()),
        (std::process::id(), generation)
    );
    assert_eq!(plane.status(0).subscribers, 1, "nothing reclaimed");
}
