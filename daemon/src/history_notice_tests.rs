//! In-process tests of [`crate::history_notice`]: routing a subscriber
//! that asks for history queues `HistoryWanted` for the owners of the
//! service's history-keeping publishers, and for nobody else.

use zerocp_core::service::TypeInfo;
use zerocp_core::wire::{CreatePublisher, CreateSubscriber, HistoryWanted, Message};

use crate::control_plane::ControlPlane;
use crate::control_plane_tests::{Fixture, publisher_msg, register, subscriber_msg};
use crate::process_manager::ConnId;

fn publisher(history: u32) -> CreatePublisher {
    CreatePublisher {
        history,
        ..publisher_msg(TypeInfo::of::<u64>())
    }
}

fn subscriber(history_request: u32) -> CreateSubscriber {
    CreateSubscriber {
        history_request,
        ..subscriber_msg(TypeInfo::of::<u64>())
    }
}

/// The notices queued so far (taking them), by connection.
fn notices(plane: &mut ControlPlane<'_>) -> Vec<(ConnId, Message)> {
    plane.take_notices()
}

#[test]
fn a_subscriber_wanting_history_is_announced_to_history_keeping_publishers_only() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let keeper = register(&mut plane, 1);
    let plain = register(&mut plane, 2);
    let late = register(&mut plane, 3);
    let kept = plane
        .create_publisher(keeper, &publisher(2))
        .expect("publisher");
    plane
        .create_publisher(plain, &publisher(0))
        .expect("publisher");
    assert_eq!(notices(&mut plane), [], "creating publishers tells nobody");
    plane
        .create_subscriber(late, &subscriber(0))
        .expect("subscriber");
    assert_eq!(notices(&mut plane), [], "a subscriber without history");
    plane
        .create_subscriber(late, &subscriber(3))
        .expect("subscriber");
    let wanted = Message::HistoryWanted(HistoryWanted {
        group: kept.group,
        port_index: kept.port_index,
        generation: kept.generation,
    });
    assert_eq!(notices(&mut plane), [(1, wanted)]);
}

#[test]
fn a_subscriber_before_any_publisher_tells_nobody() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    plane
        .create_subscriber(slot, &subscriber(3))
        .expect("subscriber");
    assert_eq!(notices(&mut plane), []);
    plane
        .create_publisher(slot, &publisher(2))
        .expect("publisher");
    assert_eq!(
        notices(&mut plane),
        [],
        "a new publisher's history is empty"
    );
}
