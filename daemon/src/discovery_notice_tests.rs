//! In-process tests of [`crate::discovery_notice`]: the discovery event is
//! raised in its listeners when any other service's routes change (a port
//! created, removed, its process gone), not when a watcher comes, and no
//! port but a listener may join it.

use zerocp_core::discovery::{SERVICES_CHANGED, discovery_service};
use zerocp_core::event::EventSet;
use zerocp_core::service::TypeInfo;
use zerocp_core::wire::{
    CreateListener, CreateNotifier, CreatePublisher, ErrorCode, PortKind, RemovePort,
};

use crate::control_plane::{ControlPlane, Departure};
use crate::control_plane_tests::{Fixture, add_publisher, add_subscriber, publisher_msg, register};

/// Creates a listener of the discovery event for the process in `slot`;
/// its port index.
fn watch(plane: &mut ControlPlane<'_>, slot: u32) -> u32 {
    let msg = CreateListener {
        service: discovery_service(),
    };
    plane
        .create_listener(slot, &msg)
        .expect("listener")
        .port_index
}

/// The ids pending in listener `index` of group 0 (taking them).
fn taken(plane: &ControlPlane<'_>, index: u32) -> EventSet {
    let part = plane.pool_manager(0).expect("group 0");
    part.control()
        .listener(index)
        .expect("listener")
        .events
        .take()
}

fn raised() -> EventSet {
    let mut set = EventSet::default();
    set.insert(SERVICES_CHANGED);
    set
}

#[test]
fn every_route_change_raises_the_event_in_every_watcher_and_watchers_raise_none() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let watcher = register(&mut plane, 1);
    let first = watch(&mut plane, watcher);
    let second = watch(&mut plane, watcher);
    assert!(taken(&plane, first).is_empty(), "a watcher raised it");

    let node = register(&mut plane, 2);
    let publisher = add_publisher(&mut plane, node);
    assert_eq!(taken(&plane, first), raised());
    assert_eq!(taken(&plane, second), raised());

    add_subscriber(&mut plane, node);
    assert_eq!(taken(&plane, first), raised());
    let part = plane.pool_manager(0).expect("group 0");
    let generation = part
        .control()
        .publisher(publisher)
        .expect("port")
        .control
        .generation();
    let remove = RemovePort {
        kind: PortKind::Publisher,
        group: 0,
        port_index: publisher,
        generation,
    };
    plane.remove_port(node, &remove).expect("remove");
    assert_eq!(taken(&plane, first), raised());

    plane.remove_process(node, Departure::ConnectionClosed);
    assert_eq!(taken(&plane, first), raised());
    assert_eq!(taken(&plane, second), raised());
}

#[test]
fn only_listeners_may_join_the_discovery_event() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let notifier = CreateNotifier {
        service: discovery_service(),
    };
    let refused = plane
        .create_notifier(slot, &notifier)
        .expect_err("notifier");
    assert_eq!(refused.code, ErrorCode::AccessDenied);
    assert!(
        refused.detail.contains("only listeners"),
        "{}",
        refused.detail
    );
    let publisher = CreatePublisher {
        service: discovery_service(),
        ..publisher_msg(TypeInfo::of::<u64>())
    };
    let refused = plane
        .create_publisher(slot, &publisher)
        .expect_err("publisher");
    assert_eq!(refused.code, ErrorCode::AccessDenied);
    watch(&mut plane, slot);
}
