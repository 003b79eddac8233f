//! Hostile clients on the control socket: garbage, truncated, oversized and
//! out-of-order frames, silent clients and connection floods. The daemon
//! answers with an error or drops that client, never crashes, and keeps
//! serving everyone else (checked with zerocpctl and a good client after).

mod support;

use std::time::Duration;

use support::{REPLY_DEADLINE, RawClient, TestDomain};
use zerocp_core::fixed_string::FixedString;
use zerocp_core::type_layout::{FieldKind, LayoutField, LayoutState, TypeLayout};
use zerocp_core::wire::{
    self, ErrorCode, HEADER_LEN, MAX_FRAME_SIZE, Message, PageRequest, RemovePort,
};
use zerocp_os_linux::control_client::ControlError;

fn error_code(reply: &Message) -> ErrorCode {
    match reply {
        Message::Error(e) => e.code,
        other => panic!("expected an Error reply, got {other:?}"),
    }
}

/// The daemon still serves: a fresh client registers and zerocpctl answers.
fn assert_serving(domain: &TestDomain) {
    let mut good = RawClient::connect(&domain.socket_path());
    let registered = good.register("good");
    assert!(registered.mgmt_size > 0);
    assert!(domain.process_pids().contains(&std::process::id()));
    assert_eq!(domain.mempools().len(), support::DEFAULT_MEMPOOLS.len());
}

fn hostile_domain() -> TestDomain {
    TestDomain::builder().heartbeat_timeout_ms(120_000).start()
}

#[test]
fn garbage_truncated_and_oversized_frames_get_errors() {
    let domain = hostile_domain();
    let mut client = RawClient::connect(&domain.socket_path());

    client.send_bytes(b"\xde\xad\xbe\xef garbage that is no frame at all");
    let (_, reply) = client.recv().expect("an error reply");
    assert_eq!(error_code(&reply), ErrorCode::Malformed);

    // A valid header announcing more body than follows.
    let mut frame = RawClient::encode(&Message::QueryProcesses(PageRequest { start: 0 }), 77);
    frame.truncate(frame.len() - 2);
    client.send_bytes(&frame);
    let (id, reply) = client.recv().expect("an error reply");
    assert_eq!(error_code(&reply), ErrorCode::Malformed);
    assert_eq!(
        id, 77,
        "the error echoes the request id of a readable header"
    );

    // Only half a header.
    client.send_bytes(&frame[..HEADER_LEN / 2]);
    assert_eq!(
        error_code(&client.recv().expect("reply").1),
        ErrorCode::Malformed
    );

    // Bigger than any frame.
    client.send_bytes(&vec![0x5a; MAX_FRAME_SIZE * 3]);
    let (_, reply) = client.recv().expect("an error reply");
    assert_eq!(error_code(&reply), ErrorCode::Malformed);

    // A future protocol version.
    let mut frame = RawClient::encode(&Message::QueryStatus, 5);
    frame[2] = wire::PROTOCOL_VERSION + 1;
    client.send_bytes(&frame);
    assert_eq!(
        error_code(&client.recv().expect("reply").1),
        ErrorCode::UnsupportedVersion
    );

    // A daemon-to-client message sent to the daemon.
    client.send_bytes(&RawClient::encode(&Message::Shutdown, 9));
    assert_eq!(
        error_code(&client.recv().expect("reply").1),
        ErrorCode::UnexpectedMessage
    );

    assert_serving(&domain);
    domain.stop();
}

#[test]
fn out_of_order_requests_are_refused() {
    let domain = hostile_domain();
    let mut client = RawClient::connect(&domain.socket_path());
    let remove = Message::RemovePort(RemovePort {
        kind: wire::PortKind::Publisher,
        port_index: 0,
        group: 0,
        generation: 1,
    });
    assert_eq!(
        error_code(&client.request(&remove)),
        ErrorCode::NotRegistered
    );
    assert_eq!(
        error_code(&client.request(&Message::Unregister)),
        ErrorCode::NotRegistered
    );

    let registered = client.register("twice");
    let again = Message::Register(wire::Register {
        protocol_version: wire::PROTOCOL_VERSION,
        process_name: zerocp_core::fixed_string::FixedString::from_str_truncated("again"),
    });
    assert_eq!(
        error_code(&client.request(&again)),
        ErrorCode::AlreadyRegistered
    );
    // Removing a port this process does not own.
    assert_eq!(error_code(&client.request(&remove)), ErrorCode::NoSuchPort);
    // Still registered exactly once.
    let pids = domain.process_pids();
    assert_eq!(
        pids,
        [std::process::id()],
        "slot {}",
        registered.process_slot
    );
    assert!(matches!(
        client.request(&Message::Unregister),
        Message::Unregistered
    ));
    assert!(domain.process_pids().is_empty());
    domain.stop();
}

#[test]
fn type_mismatch_names_both_types() {
    let domain = hostile_domain();
    let mut client = RawClient::connect(&domain.socket_path());
    client.register("types");
    client.create_publisher::<u64>("Robot/Base/Pose", 0);
    let msg = Message::CreateSubscriber(wire::CreateSubscriber {
        service: support::parse_service("Robot/Base/Pose"),
        type_info: zerocp_core::service::TypeInfo::of::<[u8; 3]>(),
        queue_capacity: 4,
        full_policy: wire::FullPolicy::DiscardOldest,
        history_request: 0,
        max_held: 4,
        shape: zerocp_core::wire::PayloadShape::Sized,
        user_header: zerocp_core::service::TypeInfo::of::<()>(),
        layout: zerocp_core::type_layout::TypeLayout::unknown(),
    });
    match client.request(&msg) {
        Message::Error(e) => {
            assert_eq!(e.code, ErrorCode::TypeMismatch);
            let detail = e.detail.as_str();
            assert!(
                detail.contains("u64") && detail.contains("[u8; 3]"),
                "{detail}"
            );
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    // Too large for every mempool, and a queue capacity out of range.
    let big = Message::CreatePublisher(wire::CreatePublisher {
        service: support::parse_service("Big/Big/Big"),
        type_info: zerocp_core::service::TypeInfo::of::<[u8; 1 << 20]>(),
        history: 0,
        max_loans: 1,
        shape: zerocp_core::wire::PayloadShape::Sized,
        max_slice_len: 0,
        user_header: zerocp_core::service::TypeInfo::of::<()>(),
        layout: zerocp_core::type_layout::TypeLayout::unknown(),
    });
    assert_eq!(
        error_code(&client.request(&big)),
        ErrorCode::PayloadTooLarge
    );
    let Message::CreateSubscriber(mut sub) = msg else {
        unreachable!()
    };
    sub.type_info = zerocp_core::service::TypeInfo::of::<u64>();
    sub.queue_capacity = 0;
    let zero = Message::CreateSubscriber(sub);
    assert_eq!(
        error_code(&client.request(&zero)),
        ErrorCode::InvalidArgument
    );
    domain.stop();
}

/// A publisher request of a `u64` service carrying `layout`.
fn described_publisher(service: &str, layout: TypeLayout) -> Message {
    Message::CreatePublisher(wire::CreatePublisher {
        service: support::parse_service(service),
        type_info: zerocp_core::service::TypeInfo::of::<u64>(),
        history: 0,
        max_loans: 1,
        shape: zerocp_core::wire::PayloadShape::Sized,
        max_slice_len: 0,
        user_header: zerocp_core::service::TypeInfo::of::<()>(),
        layout,
    })
}

fn one_field(name: &str, offset: u32, kind: FieldKind, len: u32) -> TypeLayout {
    let field = LayoutField {
        name: FixedString::from_str_truncated(name),
        offset,
        kind,
        len,
    };
    TypeLayout {
        state: LayoutState::Complete,
        fields: heapless::Vec::from_slice(&[field]).unwrap(),
    }
}

#[test]
fn hostile_type_layouts_are_refused_naming_the_field() {
    let domain = hostile_domain();
    let mut client = RawClient::connect(&domain.socket_path());
    client.register("layouts");
    let refused = |client: &mut RawClient, layout: TypeLayout| match client
        .request(&described_publisher("Robot/Base/Odom", layout))
    {
        Message::Error(e) => {
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{}", e.detail);
            e.detail.as_str().to_owned()
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    };
    let past = refused(&mut client, one_field("x", 4, FieldKind::F64, 1));
    assert!(
        past.contains("`x`") && past.contains("past the type's size 8"),
        "{past}"
    );
    let overflow = refused(&mut client, one_field("y", 8, FieldKind::U32, u32::MAX));
    assert!(overflow.contains("ends past u32::MAX"), "{overflow}");
    let empty = refused(&mut client, one_field("z", 0, FieldKind::U8, 0));
    assert!(empty.contains("0 elements"), "{empty}");
    let mut unknown = one_field("w", 0, FieldKind::U8, 1);
    unknown.state = LayoutState::Unknown;
    assert!(refused(&mut client, unknown).contains("state Unknown with 1 fields"));

    // A kind code no version defines does not decode: the last field's
    // kind is the fifth byte from the end (then its u32 length).
    let good = one_field("v", 0, FieldKind::U64, 1);
    let mut frame = RawClient::encode(&described_publisher("Robot/Base/Odom", good.clone()), 5);
    let at = frame.len() - 5;
    assert_eq!(frame[at], FieldKind::U64 as u8);
    frame[at] = 0xEE;
    client.send_bytes(&frame);
    assert_eq!(
        error_code(&client.recv().expect("a reply").1),
        ErrorCode::Malformed
    );

    // None of that created the service; a fitting layout does, and is what
    // tools are told, also after a port with another layout joined.
    let odom = support::parse_service("Robot/Base/Odom");
    let query = Message::QueryServiceLayout(odom);
    assert_eq!(error_code(&client.request(&query)), ErrorCode::NoSuchPort);
    let created = client.request(&described_publisher("Robot/Base/Odom", good.clone()));
    assert!(
        matches!(created, Message::PublisherCreated(_)),
        "{created:?}"
    );
    let other = one_field("count", 0, FieldKind::I64, 1);
    let second = client.request(&described_publisher("Robot/Base/Odom", other));
    assert!(matches!(second, Message::PublisherCreated(_)), "{second:?}");
    match client.request(&query) {
        Message::ServiceLayout(reply) => {
            assert_eq!(reply.service, odom);
            assert_eq!(reply.layout, good);
        }
        other => panic!("expected ServiceLayout, got {other:?}"),
    }
    assert_serving(&domain);
    domain.stop();
}

#[test]
fn silent_and_flooding_clients_do_not_block_others() {
    let domain = hostile_domain();
    // Connects and says nothing.
    let mut silent = RawClient::connect(&domain.socket_path());
    assert_serving(&domain);
    // A flood of one uid beyond `limits.max_pending_per_uid` (8 by
    // default): every newcomer gets in, the oldest unregistered connection
    // of its uid gives way and is told why. So `silent` and the 16 oldest
    // of the flood go, the 8 newest stay.
    let mut flood: Vec<RawClient> = (0..24)
        .map(|_| RawClient::connect(&domain.socket_path()))
        .collect();
    for client in std::iter::once(&mut silent).chain(flood.iter_mut().take(16)) {
        match client.recv() {
            Some((0, Message::Error(e))) => {
                assert_eq!(e.code, ErrorCode::LimitReached, "{}", e.detail.as_str());
                assert!(
                    e.detail.as_str().contains("limits.max_pending_per_uid"),
                    "{}",
                    e.detail.as_str()
                );
            }
            other => panic!("an evicted connection read {other:?}"),
        }
        assert!(client.recv().is_none(), "closed after the reason");
    }
    for client in &mut flood[16..] {
        let waiting = client.client.recv(Duration::ZERO);
        assert!(matches!(waiting, Ok(None)), "{waiting:?}");
    }
    // The registering client of `assert_serving` finds its uid at the
    // limit and evicts one more; zerocpctl then finds room (one left).
    assert_serving(&domain);
    let status = domain.ctl_json(&["status"]);
    assert_eq!(status["evicted_connections"], 17 + 1, "{status}");
    drop(flood);
    domain.stop();
}

#[test]
fn unregistered_connections_expire_from_their_accept_however_often_they_query() {
    // Long enough that even an emulated, loaded machine gets its first
    // query answered before the connection expires.
    let text = "[limits]\nregister_timeout_ms = 1500\n\n[heartbeat]\ninterval_ms = 50\ntimeout_ms = 60000\n\n\
                [[mempool]]\nsize = 64\ncount = 4\n";
    let domain = TestDomain::builder().config_toml(text).start();
    let mut chatty = RawClient::connect(&domain.socket_path());
    let mut answered = 0;
    let refused = domain.wait_until(support::DEADLINE, || {
        match chatty.client.request(&Message::QueryStatus, REPLY_DEADLINE) {
            Ok(Message::Status(_)) => {
                answered += 1;
                false
            }
            Err(ControlError::Refused { code, detail }) => {
                assert_eq!(code, ErrorCode::LimitReached, "{detail}");
                assert!(detail.contains("limits.register_timeout_ms"), "{detail}");
                true
            }
            other => panic!("a query was answered with {other:?}"),
        }
    });
    assert!(refused, "queries kept an unregistered connection alive");
    assert!(answered > 0, "the queries before the timeout were answered");
    // The daemon answers the connection before it writes its log line.
    assert!(
        domain.wait_for_log(
            "not registered within 1500 ms of connecting",
            support::DEADLINE
        ),
        "{}",
        domain.daemon_log()
    );
    assert_eq!(domain.ctl_json(&["status"])["expired_connections"], 1);
    domain.stop();
}

#[test]
fn registrations_beyond_max_processes_are_refused() {
    let domain = TestDomain::builder()
        .max_processes(2)
        .heartbeat_timeout_ms(120_000)
        .start();
    let mut first = RawClient::connect(&domain.socket_path());
    first.register("first");
    let mut second = RawClient::connect(&domain.socket_path());
    second.register("second");
    let mut third = RawClient::connect(&domain.socket_path());
    let register = Message::Register(wire::Register {
        protocol_version: wire::PROTOCOL_VERSION,
        process_name: zerocp_core::fixed_string::FixedString::from_str_truncated("third"),
    });
    match third.request(&register) {
        Message::Error(e) => {
            assert_eq!(e.code, ErrorCode::LimitReached);
            assert!(
                e.detail.as_str().contains("limits.max_processes"),
                "{}",
                e.detail.as_str()
            );
        }
        other => panic!("a third registration was answered with {other:?}"),
    }
    assert!(matches!(
        first.request(&Message::Unregister),
        Message::Unregistered
    ));
    assert!(matches!(third.request(&register), Message::Registered(_)));
    assert_eq!(domain.process_pids().len(), 2);
    domain.stop();
}
