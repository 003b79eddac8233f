//! In-process tests of the audit of shared memory ([`crate::audit`]) over
//! the planes of [`crate::control_plane_tests`]: a sound group at work
//! audits clean; words only the daemon writes are restored (and a port
//! whose control block was overwritten revoked); lost and
//! over-referenced chunks count from their second sighting; a forged
//! heartbeat is noticed and never reclaimed; a subscriber's count of
//! routed publishers is restored like its settings.

use std::ptr::NonNull;

use zerocp_core::group_control::{GroupControl, GroupControlError};
use zerocp_core::port::PortState;
use zerocp_core::wire::{Message, PortKind, PortRevoked, RevokeReason};
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{CONTROL_PART, DomainName, SegmentName};
use zerocp_os_linux::shm::SharedMemory;

use crate::control_plane::ControlPlane;
use crate::control_plane_tests::{
    Fixture, add_publisher, add_subscriber, pools, register, u64_spec,
};

/// The default group's control part of `plane`, mapped read-write from
/// the descriptor a port reply carries, as a hostile member maps it.
pub(crate) struct HostileMapping(Mapping);

impl HostileMapping {
    pub(crate) fn of(plane: &ControlPlane<'_>) -> Self {
        let [control, _] = plane.port_fds(0, PortKind::Publisher).expect("group 0");
        let fd = control.try_clone_to_owned().expect("dup");
        let domain = DomainName::new("plane-test").expect("valid");
        let name = SegmentName::group_part(&domain, "default", CONTROL_PART);
        let shm = SharedMemory::from_fd(fd, name).expect("a sealed memory file");
        Self(Mapping::map(&shm, true).expect("map"))
    }

    /// Stores `value` into the `u32` word at `offset`.
    pub(crate) fn scribble(&self, offset: usize, value: u32) {
        assert!(offset.is_multiple_of(4) && offset + 4 <= self.0.len());
        let word = self.0.as_ptr().wrapping_add(offset).cast();
        // SAFETY: in bounds and aligned (asserted); every access to the word is atomic.
        unsafe { std::sync::atomic::AtomicU32::from_ptr(word) }
            .store(value, std::sync::atomic::Ordering::Relaxed);
    }

    /// The offset in the part of `record`, a reference into this mapping
    /// (from [`attach`](Self::attach)).
    pub(crate) fn offset_of<T>(&self, record: &T) -> usize {
        let offset = std::ptr::from_ref(record) as usize - self.0.as_ptr() as usize;
        assert!(offset < self.0.len(), "not in this mapping");
        offset
    }

    /// Attaches to the part as a newcomer would.
    pub(crate) fn attach(&self) -> Result<GroupControl<'_>, GroupControlError> {
        let base = NonNull::new(self.0.as_ptr()).expect("mapped");
        // SAFETY: the mapping stays mapped while the view borrows `self`.
        unsafe { GroupControl::attach(base, self.0.len(), 0) }
    }
}

#[test]
fn a_sound_group_at_work_audits_clean() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let publisher = add_publisher(&mut plane, slot);
    let subscriber = add_subscriber(&mut plane, slot);
    let control = *pools(&plane, 0).control();
    let spec = u64_spec(publisher);
    let [loaned, queued, held] = [0; 3].map(|_| pools(&plane, 0).loan(0, spec).expect("loan"));
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
    let counts = plane.status(0, Default::default()).audit;
    assert_eq!((counts.audits, counts.findings()), (4, 0), "{counts:?}");
}

#[test]
fn the_audit_restores_the_words_only_the_daemon_writes() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let subscriber = add_subscriber(&mut plane, slot);
    let hostile = HostileMapping::of(&plane);
    let control = hostile.attach().expect("a sound part attaches");
    let port = control.subscriber(subscriber).expect("port");
    hostile.scribble(12, 2); // the group header's state word
    let freelist = control.layout().freelist_offset(0).expect("pool 0") as usize;
    hostile.scribble(freelist + 16, 99); // its capacity word
    port.control.set_state(PortState::Retiring);
    port.queue.init(1).expect("a capacity of 1");
    plane.audit_domain();
    let counts = plane.status(0, Default::default()).audit;
    assert_eq!(
        (counts.group_header, counts.freelist_header),
        (1, 1),
        "{counts:?}"
    );
    assert_eq!((counts.port_control, counts.subscriber_queue), (1, 1));
    // Restored, and then revoked (`audit_response`): its owner is told once.
    assert_eq!(port.control.state(), Some(PortState::Revoked));
    assert_eq!(port.queue.capacity(), 4);
    let notices = plane.take_notices();
    assert!(
        matches!(
            notices.as_slice(),
            [(1, Message::PortRevoked(PortRevoked { reason: RevokeReason::CorruptPort, port_index, .. }))]
                if *port_index == subscriber
        ),
        "{notices:?}"
    );
    let attached = hostile.attach();
    assert!(attached.is_ok(), "a newcomer attaches: {attached:?}");
    plane.audit_domain();
    assert_eq!(
        plane.status(0, Default::default()).audit.findings(),
        4,
        "nothing new"
    );
    assert_eq!(port.control.state(), Some(PortState::Revoked), "kept");
    assert!(plane.take_notices().is_empty(), "told once");
    let group = &plane.groups_page(0).entries[0];
    assert_eq!(group.findings, 4);
}

#[test]
fn lost_and_over_referenced_chunks_count_from_their_second_sighting() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let subscriber = add_subscriber(&mut plane, slot);
    let port = pools(&plane, 0)
        .control()
        .subscriber(subscriber)
        .expect("port");
    let spec = u64_spec(0);
    pools(&plane, 0).loan(0, spec).expect("a loan nobody lists");
    let twice = pools(&plane, 0).loan(0, spec).expect("loan");
    port.held.record(0, twice).expect("record");
    port.held
        .record(1, twice)
        .expect("listed twice, counted once");
    plane.audit_domain();
    assert_eq!(
        plane.status(0, Default::default()).audit.findings(),
        0,
        "suspects only"
    );
    plane.audit_domain();
    plane.audit_domain();
    let counts = plane.status(0, Default::default()).audit;
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
    assert_eq!(plane.status(0, Default::default()).audit.findings(), 0);
    let heartbeat = plane
        .processes()
        .get(slot)
        .expect("registered")
        .heartbeat
        .slot();
    heartbeat.assign(1, generation + 9, u64::MAX / 2); // beats back to 0, a future beat
    plane.audit_domain();
    let counts = plane.status(0, Default::default()).audit;
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
    assert_eq!(
        plane.status(0, Default::default()).subscribers,
        1,
        "nothing reclaimed"
    );
    assert!(plane.take_notices().is_empty(), "nothing revoked");
}

#[test]
fn a_scribbled_listener_record_is_restored_and_the_listener_revoked() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let events =
        zerocp_core::service::ServiceDescription::new("Robot", "Map", "Updated").expect("valid");
    let message = zerocp_core::wire::CreateListener { service: events };
    let listener = plane
        .create_listener(slot, &message)
        .expect("listener")
        .port_index;
    let hostile = HostileMapping::of(&plane);
    let control = hostile.attach().expect("a sound part attaches");
    let port = control.listener(listener).expect("port");
    plane.audit_domain();
    assert_eq!(plane.status(0, Default::default()).audit.findings(), 0);
    port.control.set_state(PortState::Retiring);
    plane.audit_domain();
    assert_eq!(plane.status(0, Default::default()).audit.port_control, 1);
    assert_eq!(port.control.state(), Some(PortState::Revoked));
    let notices = plane.take_notices();
    assert!(
        matches!(
            notices.as_slice(),
            [(1, Message::PortRevoked(PortRevoked { kind: PortKind::Listener, port_index, .. }))]
                if *port_index == listener
        ),
        "{notices:?}"
    );
}

#[test]
fn the_audit_restores_a_subscribers_count_of_publishers() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let subscriber = add_subscriber(&mut plane, slot);
    add_publisher(&mut plane, slot);
    let hostile = HostileMapping::of(&plane);
    let control = hostile.attach().expect("a sound part attaches");
    let port = control.subscriber(subscriber).expect("port");
    assert_eq!(
        (port.control.senders(), port.control.senders_gone()),
        (1, 0)
    );
    // A member of the group claims two publishers left, and none is routed.
    port.control.set_senders(0, 2);
    plane.audit_domain();
    assert_eq!(plane.status(0, Default::default()).audit.port_control, 1);
    assert_eq!(
        (port.control.senders(), port.control.senders_gone()),
        (1, 0)
    );
}
