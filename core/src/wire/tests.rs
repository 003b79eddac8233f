//! Unit tests of the wire format: a round trip of every message, the size
//! bounds, and one test per decode error.

use super::*;
use crate::fixed_string::{FixedString, FixedStringError};
use crate::service::{ServiceDescription, ServiceField, ServiceNameError};
use std::string::ToString;
use std::vec::Vec;

fn fs<const N: usize>(s: &str) -> FixedString<N> {
    FixedString::try_from_str(s).unwrap()
}

fn svc() -> ServiceDescription {
    ServiceDescription::new("Robot", "Base", "Pose").unwrap()
}

fn type_info() -> TypeInfo {
    TypeInfo::of::<[f64; 3]>()
}

/// A layout of the most fields, each of the longest name.
fn full_layout() -> crate::type_layout::TypeLayout {
    use crate::type_layout::{FieldKind, LayoutField, LayoutState, MAX_LAYOUT_FIELDS};
    let fields = (0..MAX_LAYOUT_FIELDS as u32).map(|i| LayoutField {
        name: FixedString::from_str_truncated(&std::format!("field_{i:0>26}")),
        offset: i * 8,
        kind: FieldKind::ALL[i as usize % FieldKind::ALL.len()],
        len: 1,
    });
    crate::type_layout::TypeLayout {
        state: LayoutState::Truncated,
        fields: fields.collect(),
    }
}

fn port_info(i: u32) -> PortInfo {
    PortInfo {
        service: svc(),
        kind: PortKind::Subscriber,
        port_index: i,
        group: i % 3,
        owner_pid: 4000 + i,
        queue_len: 3,
        queue_capacity: 8,
        dropped: u64::MAX - u64::from(i),
        timed_out: u64::from(i) << 40,
        published: u64::from(i) + 1,
        received: u64::MAX,
        loans_failed: 3,
        blocked_ns: u64::from(i) << 20,
        type_info: type_info(),
    }
}

/// One message of every kind, in `MessageKind::ALL` order.
fn samples() -> Vec<Message> {
    let process = ProcessInfo {
        pid: 77,
        process_slot: 2,
        name: fs("planner"),
        state: ProcessState::Unresponsive,
        heartbeat_age_ms: 1500,
        chunks_held: 12,
    };
    let mempool = MempoolInfo {
        chunk_size: 1024,
        chunk_count: 64,
        used: 3,
        min_free: 60,
        group: fs("nav"),
        process_quota: 32,
        port_quota: 16,
    };
    let rule = AccessRule {
        scope: RuleScope::Listed,
        uids: heapless::Vec::from_slice(&[1000, 0]).unwrap(),
        gids: heapless::Vec::new(),
    };
    let group = GroupInfo {
        name: fs("nav"),
        patterns: heapless::Vec::from_slice(&[fs("Robot/Nav/*"), fs("*/*/Odom")]).unwrap(),
        publish: rule.clone(),
        subscribe: AccessRule {
            scope: RuleScope::Everyone,
            ..rule
        },
        pools: heapless::Vec::from_slice(core::slice::from_ref(&mempool)).unwrap(),
        resets: 2,
        findings: 3,
        last_finding: FindingKind::FreelistChain,
        last_finding_detail: fs("freelist of pool 0: head index 9 is out of range 0..4"),
    };
    std::vec![
        Message::Register(Register {
            protocol_version: PROTOCOL_VERSION,
            process_name: fs("planner"),
        }),
        Message::Unregister,
        Message::CreatePublisher(CreatePublisher {
            service: svc(),
            type_info: type_info(),
            history: 4,
            max_loans: 2,
            shape: PayloadShape::Slice,
            max_slice_len: 921_600,
            user_header: TypeInfo::of::<[u32; 2]>(),
            layout: full_layout(),
        }),
        Message::CreateSubscriber(CreateSubscriber {
            service: svc(),
            type_info: type_info(),
            queue_capacity: 16,
            full_policy: FullPolicy::BlockPublisher,
            history_request: 1,
            max_held: 3,
            shape: PayloadShape::Sized,
            user_header: TypeInfo::of::<()>(),
            layout: crate::type_layout::TypeLayout::unknown(),
        }),
        Message::RemovePort(RemovePort {
            kind: PortKind::Publisher,
            port_index: 9,
            group: 2,
            generation: 11,
        }),
        Message::QueryStatus,
        Message::QueryProcesses(PageRequest { start: 0 }),
        Message::QueryServices(PageRequest { start: 17 }),
        Message::QueryMempools,
        Message::QueryGroups(PageRequest { start: 1 }),
        Message::ResetGroup(ResetGroup { group: fs("nav") }),
        Message::RevokePort(RevokePort {
            kind: PortKind::Subscriber,
            port_index: 3,
            group: 1,
        }),
        Message::CreateNotifier(CreateNotifier { service: svc() }),
        Message::CreateListener(CreateListener { service: svc() }),
        Message::SetWakeFd(WakeFdPort {
            kind: PortKind::Subscriber,
            group: 1,
            port_index: 5,
            generation: 3,
        }),
        Message::QueryWakeFd(WakeFdPort {
            kind: PortKind::Subscriber,
            group: 0,
            port_index: 2,
            generation: 8,
        }),
        Message::QueryServiceLayout(svc()),
        Message::Registered(Registered {
            process_slot: 5,
            daemon_pid: 1234,
            epoch: 0x0123_4567_89AB_CDEF,
            mgmt_size: 1 << 20,
            heartbeat_size: 4096,
            group_count: 3,
            heartbeat_interval_ms: 100,
            heartbeat_timeout_ms: 1000,
        }),
        Message::Unregistered,
        Message::PublisherCreated(PortCreated {
            port_index: 3,
            group: 1,
            incarnation: 2,
            generation: 7,
            control_size: 1 << 16,
            payload_size: 1 << 33,
        }),
        Message::SubscriberCreated(PortCreated {
            port_index: 4,
            group: 0,
            incarnation: 0,
            generation: 1,
            control_size: 4096,
            payload_size: 8192,
        }),
        Message::PortRemoved,
        Message::Status(Status {
            daemon_pid: 1,
            uptime_ms: 99,
            epoch: 2,
            processes: 3,
            publishers: 4,
            subscribers: 5,
            services: 6,
            mgmt_size: 7,
            data_size: 8,
            control_size: 9,
            refused_connections: 10,
            evicted_connections: 11,
            expired_connections: 12,
            processes_registered: 13,
            processes_died: 14,
            heartbeat_timeouts: 15,
            chunks_reclaimed: u64::MAX,
            audit: AuditCounts {
                audits: 10,
                heartbeat: 11,
                ..AuditCounts::new()
            },
        }),
        Message::ProcessesPage(ProcessesPage {
            entries: heapless::Vec::from_slice(&[process.clone(), process]).unwrap(),
            next: PAGE_END,
        }),
        Message::PortsPage(PortsPage {
            entries: heapless::Vec::from_slice(&[port_info(1)]).unwrap(),
            next: 1,
        }),
        Message::Mempools(Mempools {
            pools: heapless::Vec::from_slice(&[mempool]).unwrap(),
        }),
        Message::GroupsPage(GroupsPage {
            entries: heapless::Vec::from_slice(&[group]).unwrap(),
            next: PAGE_END,
        }),
        Message::GroupReset(GroupReset {
            group: 1,
            incarnation: 3,
            revoked: 4,
        }),
        Message::PortRevoked(PortRevoked {
            kind: PortKind::Publisher,
            port_index: 2,
            group: 1,
            generation: 9,
            reason: RevokeReason::GroupReset,
        }),
        Message::NotifierCreated(PortCreated {
            port_index: 1,
            group: 0,
            incarnation: 0,
            generation: 2,
            control_size: 8192,
            payload_size: 0,
        }),
        Message::ListenerCreated(PortCreated {
            port_index: 0,
            group: 2,
            incarnation: 1,
            generation: 5,
            control_size: 8192,
            payload_size: 0,
        }),
        Message::HistoryWanted(HistoryWanted {
            group: 1,
            port_index: 3,
            generation: 7,
        }),
        Message::WakeFdSet,
        Message::WakeFd(WakeFdPort {
            kind: PortKind::Subscriber,
            group: 2,
            port_index: 1,
            generation: u32::MAX,
        }),
        Message::ServiceLayout(ServiceLayout {
            service: svc(),
            layout: full_layout(),
        }),
        Message::Error(ErrorReply::new(
            ErrorCode::TypeMismatch,
            "Robot/Base/Pose: u32 vs u64"
        )),
        Message::Shutdown,
    ]
}

fn encoded(msg: &Message, request_id: u32) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME_SIZE];
    let len = encode(msg, request_id, &mut buf).unwrap();
    buf[..len].to_vec()
}

#[test]
fn every_message_round_trips() {
    let samples = samples();
    let kinds: Vec<_> = samples.iter().map(Message::kind).collect();
    assert_eq!(kinds, MessageKind::ALL);
    for (id, msg) in (100u32..).zip(&samples) {
        let frame = encoded(msg, id);
        let (header, decoded) = decode(&frame).unwrap();
        assert_eq!(&decoded, msg);
        assert_eq!(header.request_id, id);
        assert_eq!(header.kind, msg.kind());
        assert_eq!(usize::from(header.body_len), frame.len() - HEADER_LEN);
    }
}

#[test]
fn header_layout_is_little_endian() {
    let frame = encoded(
        &Message::RemovePort(RemovePort {
            kind: PortKind::Subscriber,
            port_index: 0x0A0B_0C0D,
            group: 0x0102_0304,
            generation: 0x1122_3344,
        }),
        0x0102_0304,
    );
    assert_eq!(
        frame,
        [
            0x43,
            0x5A,
            PROTOCOL_VERSION,
            0x05,
            4,
            3,
            2,
            1,
            13,
            0,
            0,
            0,
            1,
            0x0D,
            0x0C,
            0x0B,
            0x0A,
            4,
            3,
            2,
            1,
            0x44,
            0x33,
            0x22,
            0x11
        ]
    );
}

#[test]
fn notices_are_shutdown_port_revoked_and_history_wanted() {
    let notices: Vec<_> = samples()
        .into_iter()
        .filter(Message::is_notice)
        .map(|m| m.kind())
        .collect();
    assert_eq!(
        notices,
        [
            MessageKind::PortRevoked,
            MessageKind::HistoryWanted,
            MessageKind::Shutdown
        ]
    );
}

#[test]
fn directions_follow_the_high_bit() {
    for msg in samples() {
        let expected = if (msg.kind() as u8) < 0x80 {
            Direction::ClientToDaemon
        } else {
            Direction::DaemonToClient
        };
        assert_eq!(msg.direction(), expected);
    }
}

#[test]
fn largest_messages_fit_and_match_the_bounds() {
    let long = "x".repeat(64);
    let name = "n".repeat(128);
    let big_svc = ServiceDescription::new(&long, &long, &long).unwrap();
    let big_type = TypeInfo {
        size: 1,
        align: 1,
        name: fs(&name),
    };
    let mut port = port_info(0);
    port.service = big_svc;
    port.type_info = big_type;
    let ports = PortsPage {
        entries: core::iter::repeat_n(port, PORTS_PER_PAGE).collect(),
        next: 0,
    };
    let process = ProcessInfo {
        pid: 0,
        process_slot: 0,
        name: fs(&"p".repeat(32)),
        state: ProcessState::Dead,
        heartbeat_age_ms: 0,
        chunks_held: u32::MAX,
    };
    let processes = ProcessesPage {
        entries: core::iter::repeat_n(process, PROCESSES_PER_PAGE).collect(),
        next: 0,
    };
    let big = [
        (Message::PortsPage(ports), PortsPage::MAX_LEN),
        (Message::ProcessesPage(processes), ProcessesPage::MAX_LEN),
        (
            Message::Error(ErrorReply::new(ErrorCode::Internal, &name)),
            ErrorReply::MAX_LEN,
        ),
        (
            Message::ServiceLayout(ServiceLayout {
                service: big_svc,
                layout: full_layout(),
            }),
            ServiceLayout::MAX_LEN,
        ),
    ];
    for (msg, max) in big {
        let frame = encoded(&msg, 1);
        assert_eq!(frame.len(), HEADER_LEN + max);
        assert!(frame.len() <= MAX_FRAME_SIZE);
        assert_eq!(decode(&frame).unwrap().1, msg);
    }
}

#[test]
fn encode_reports_the_size_needed() {
    let msg = &samples()[0];
    let needed = encoded(msg, 1).len();
    let mut small = [0u8; 16];
    assert_eq!(
        encode(msg, 1, &mut small),
        Err(EncodeError::BufferTooSmall {
            needed,
            available: 16
        })
    );
    let mut exact = std::vec![0u8; needed];
    assert_eq!(encode(msg, 1, &mut exact), Ok(exact.len()));
}

/// A valid `RemovePort` frame to corrupt.
fn remove_port_frame() -> Vec<u8> {
    encoded(&samples()[4], 9)
}

#[test]
fn header_errors() {
    let good = remove_port_frame();
    assert_eq!(decode(&good[..11]), Err(DecodeError::TooShort { len: 11 }));
    assert_eq!(decode(&[]), Err(DecodeError::TooShort { len: 0 }));
    let mut f = good.clone();
    f[0] = 0;
    assert_eq!(decode(&f), Err(DecodeError::BadMagic { found: 0x5A00 }));
    let mut f = good.clone();
    f[2] = PROTOCOL_VERSION + 1;
    assert_eq!(
        decode(&f),
        Err(DecodeError::UnsupportedVersion {
            found: PROTOCOL_VERSION + 1
        })
    );
    let mut f = good.clone();
    f[3] = 0x7F;
    assert_eq!(decode(&f), Err(DecodeError::UnknownKind { kind: 0x7F }));
    let mut f = good.clone();
    f[11] = 1;
    assert_eq!(
        decode(&f),
        Err(DecodeError::ReservedNonZero { value: 0x100 })
    );
    assert_eq!(
        decode(&good[..good.len() - 1]),
        Err(DecodeError::LengthMismatch {
            header: 13,
            actual: 12
        })
    );
    let mut long = good.clone();
    long.resize(MAX_FRAME_SIZE + 1, 0);
    assert_eq!(
        decode(&long),
        Err(DecodeError::TooLong {
            len: MAX_FRAME_SIZE + 1
        })
    );
}

/// `frame` with its body replaced by `body` (header length fixed up).
fn with_body(frame: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = frame[..HEADER_LEN].to_vec();
    out[8..10].copy_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn body_errors() {
    let good = remove_port_frame();
    assert_eq!(
        decode(&with_body(&good, &[1, 2, 3])),
        Err(DecodeError::BodyTruncated {
            kind: MessageKind::RemovePort,
            needed: 4,
            available: 2
        })
    );
    assert_eq!(
        decode(&with_body(
            &good,
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xEE]
        )),
        Err(DecodeError::TrailingBytes {
            kind: MessageKind::RemovePort,
            count: 1
        })
    );
    assert_eq!(
        decode(&with_body(&good, &[7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
        Err(DecodeError::InvalidEnum {
            field: "RemovePort.kind",
            value: 7
        })
    );
    let shutdown = encoded(&Message::Shutdown, 0);
    assert_eq!(
        decode(&with_body(&shutdown, &[0])),
        Err(DecodeError::TrailingBytes {
            kind: MessageKind::Shutdown,
            count: 1
        })
    );
}

#[test]
fn string_and_name_errors() {
    let register = encoded(&samples()[0], 1);
    // protocol_version, then a 2-byte string that is not UTF-8.
    assert_eq!(
        decode(&with_body(&register, &[1, 2, 0, 0xC3, 0x28])),
        Err(DecodeError::InvalidString {
            field: "Register.process_name",
            error: FixedStringError::InvalidUtf8 { valid_up_to: 0 }
        })
    );
    // A 33-byte name for a 32-byte field.
    let mut body = std::vec![1, 33, 0];
    body.extend_from_slice(&[b'a'; 33]);
    assert_eq!(
        decode(&with_body(&register, &body)),
        Err(DecodeError::InvalidString {
            field: "Register.process_name",
            error: FixedStringError::TooLong {
                len: 33,
                capacity: 32
            }
        })
    );
    // A length that runs past the body.
    assert_eq!(
        decode(&with_body(&register, &[1, 0xFF, 0xFF, b'a'])),
        Err(DecodeError::BodyTruncated {
            kind: MessageKind::Register,
            needed: 0xFFFF,
            available: 1
        })
    );
    let mut publisher = encoded(&samples()[2], 1);
    // Service part starts the body: `02 00` then "Ro"..., turn 'o' into ' '.
    let Some(pos) = publisher.windows(5).position(|w| w == b"Robot") else {
        panic!("service name not found in the frame");
    };
    publisher[pos + 1] = b' ';
    assert_eq!(
        decode(&publisher),
        Err(DecodeError::InvalidServiceName {
            field: "CreatePublisher.service",
            error: ServiceNameError::InvalidChar {
                field: ServiceField::Service,
                ch: ' ',
                position: 1
            }
        })
    );
}

#[test]
fn list_errors() {
    let sample = |kind| samples().into_iter().find(|m| m.kind() == kind).unwrap();
    let pools = encoded(&sample(MessageKind::Mempools), 1);
    let mut body = std::vec![33, 0];
    body.extend_from_slice(&[0; 18 * 33]);
    assert_eq!(
        decode(&with_body(&pools, &body)),
        Err(DecodeError::TooManyEntries {
            field: "Mempools.pools",
            count: 33,
            max: 32
        })
    );
    let groups = encoded(&sample(MessageKind::GroupsPage), 1);
    assert_eq!(
        decode(&with_body(&groups, &[2, 0])),
        Err(DecodeError::TooManyEntries {
            field: "GroupsPage.entries",
            count: 2,
            max: 1
        })
    );
    assert_eq!(
        decode(&with_body(&pools, &[2, 0, 1, 0, 0, 0])),
        Err(DecodeError::BodyTruncated {
            kind: MessageKind::Mempools,
            needed: 4,
            available: 0
        })
    );
}

#[test]
fn enum_codes_round_trip() {
    for code in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_code(*code as u16), Some(*code));
    }
    assert_eq!(ErrorCode::from_code(0), None);
    assert_eq!(ErrorCode::NoSuchPort.to_string(), "NoSuchPort");
    for reason in RevokeReason::ALL {
        assert_eq!(RevokeReason::from_code(*reason as u8), Some(*reason));
        assert!(!reason.explanation().is_empty());
    }
    assert_eq!(RevokeReason::from_code(0), None);
    for kind in MessageKind::ALL {
        assert_eq!(MessageKind::from_u8(*kind as u8), Some(*kind));
    }
    for shape in PayloadShape::ALL {
        assert_eq!(PayloadShape::from_code(*shape as u8), Some(*shape));
    }
    assert_eq!(PayloadShape::from_code(2), None);
}

#[test]
fn errors_display_what_was_wrong() {
    let e = DecodeError::InvalidEnum {
        field: "RemovePort.kind",
        value: 7,
    };
    assert_eq!(e.to_string(), "RemovePort.kind: invalid value 7");
    let e = DecodeError::BadMagic { found: 0x1234 };
    assert_eq!(e.to_string(), "bad frame magic 0x1234, expected 0x5a43");
}
