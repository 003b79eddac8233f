//! Property tests of the wire format: the decoder never panics on random or
//! corrupted frames, whatever it accepts re-encodes to the same bytes
//! (the encoding is canonical), and every generated message round-trips.
//!
//! Not run under Miri: proptest needs the file system (its failure
//! persistence), which Miri's isolation forbids; the decoder's unit tests run
//! there instead, and the fuzz target covers it natively.
#![cfg(not(miri))]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use zerocp_core::fixed_string::FixedString;
use zerocp_core::mempool::MAX_MEMPOOLS;
use zerocp_core::service::ServiceDescription;
use zerocp_core::type_layout::{
    FieldKind, LayoutField, LayoutState, MAX_LAYOUT_FIELDS, TypeLayout,
};
use zerocp_core::wire::{
    self, AccessRule, AuditCounts, CreateListener, CreateNotifier, CreatePublisher,
    CreateSubscriber, ErrorCode, ErrorReply, FindingKind, FullPolicy, GroupInfo, GroupReset,
    GroupsPage, HEADER_LEN, HistoryWanted, MAX_FRAME_SIZE, MAX_GROUP_PATTERNS, MAX_RULE_IDS,
    MempoolInfo, Mempools, Message, MessageKind, PORTS_PER_PAGE, PROCESSES_PER_PAGE, PageRequest,
    PayloadShape, PortCreated, PortInfo, PortKind, PortRevoked, PortsPage, ProcessInfo,
    ProcessState, ProcessesPage, Register, Registered, RemovePort, ResetGroup, RevokePort,
    RevokeReason, RuleScope, ServiceLayout, Status, TypeInfo,
};

fn fixed<const N: usize>() -> impl Strategy<Value = FixedString<N>> {
    any::<String>().prop_map(|s| FixedString::from_str_truncated(&s))
}

fn service() -> impl Strategy<Value = ServiceDescription> {
    let part = "[A-Za-z0-9_.:/-]{1,64}";
    (part, part, part).prop_map(|(s, i, e)| ServiceDescription::new(&s, &i, &e).unwrap())
}

/// Any layout the wire carries, whether or not it fits a type (the
/// receiver checks that).
fn layout() -> impl Strategy<Value = TypeLayout> {
    let field = (fixed::<32>(), any::<[u32; 2]>(), select(FieldKind::ALL)).prop_map(
        |(name, [offset, len], kind)| LayoutField {
            name,
            offset,
            kind,
            len,
        },
    );
    (select(LayoutState::ALL), vec(field, 0..=MAX_LAYOUT_FIELDS)).prop_map(|(state, fields)| {
        TypeLayout {
            state,
            fields: fields.into_iter().collect(),
        }
    })
}

fn type_info() -> impl Strategy<Value = TypeInfo> {
    (any::<u32>(), any::<u32>(), fixed::<128>()).prop_map(|(size, align, name)| TypeInfo {
        size,
        align,
        name,
    })
}

fn port_kind() -> impl Strategy<Value = PortKind> {
    select(PortKind::ALL)
}

fn process_info() -> impl Strategy<Value = ProcessInfo> {
    (any::<[u32; 4]>(), fixed::<32>(), select(ProcessState::ALL)).prop_map(
        |([pid, process_slot, heartbeat_age_ms, chunks_held], name, state)| ProcessInfo {
            pid,
            process_slot,
            name,
            state,
            heartbeat_age_ms,
            chunks_held,
        },
    )
}

fn port_created() -> impl Strategy<Value = PortCreated> {
    (any::<[u32; 4]>(), any::<[u64; 2]>()).prop_map(
        |([port_index, group, incarnation, generation], [control_size, payload_size])| {
            PortCreated {
                port_index,
                group,
                incarnation,
                generation,
                control_size,
                payload_size,
            }
        },
    )
}

fn port_info() -> impl Strategy<Value = PortInfo> {
    (
        service(),
        port_kind(),
        any::<[u32; 5]>(),
        any::<[u64; 6]>(),
        type_info(),
    )
        .prop_map(
            |(
                service,
                kind,
                [port_index, group, owner_pid, queue_len, queue_capacity],
                [
                    dropped,
                    timed_out,
                    published,
                    received,
                    loans_failed,
                    blocked_ns,
                ],
                type_info,
            )| {
                PortInfo {
                    service,
                    kind,
                    port_index,
                    group,
                    owner_pid,
                    queue_len,
                    queue_capacity,
                    dropped,
                    timed_out,
                    published,
                    received,
                    loans_failed,
                    blocked_ns,
                    type_info,
                }
            },
        )
}

fn mempool_info() -> impl Strategy<Value = MempoolInfo> {
    (any::<[u32; 6]>(), fixed::<32>()).prop_map(
        |(
            [
                chunk_size,
                chunk_count,
                used,
                min_free,
                process_quota,
                port_quota,
            ],
            group,
        )| {
            MempoolInfo {
                chunk_size,
                chunk_count,
                used,
                min_free,
                group,
                process_quota,
                port_quota,
            }
        },
    )
}

fn access_rule() -> impl Strategy<Value = AccessRule> {
    (
        select(RuleScope::ALL),
        vec(any::<u32>(), 0..=MAX_RULE_IDS),
        vec(any::<u32>(), 0..=MAX_RULE_IDS),
    )
        .prop_map(|(scope, uids, gids)| AccessRule {
            scope,
            uids: uids.into_iter().collect(),
            gids: gids.into_iter().collect(),
        })
}

fn group_info() -> impl Strategy<Value = GroupInfo> {
    (
        fixed::<32>(),
        vec(fixed::<194>(), 0..=MAX_GROUP_PATTERNS),
        access_rule(),
        access_rule(),
        vec(mempool_info(), 0..=MAX_MEMPOOLS),
        any::<u32>(),
        (any::<u64>(), select(FindingKind::ALL), fixed::<96>()),
    )
        .prop_map(
            |(name, patterns, publish, subscribe, pools, resets, (findings, last, detail))| {
                GroupInfo {
                    name,
                    patterns: patterns.into_iter().collect(),
                    publish,
                    subscribe,
                    pools: pools.into_iter().collect(),
                    resets,
                    findings,
                    last_finding: last,
                    last_finding_detail: detail,
                }
            },
        )
}

fn audit_counts() -> impl Strategy<Value = AuditCounts> {
    any::<[u64; 10]>().prop_map(|[a, m, g, fh, fc, q, p, l, o, h]| AuditCounts {
        audits: a,
        mgmt_header: m,
        group_header: g,
        freelist_header: fh,
        freelist_chain: fc,
        subscriber_queue: q,
        port_control: p,
        lost_chunks: l,
        over_referenced: o,
        heartbeat: h,
    })
}

fn requests() -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<u8>(), fixed::<32>()).prop_map(|(protocol_version, process_name)| {
            Message::Register(Register {
                protocol_version,
                process_name,
            })
        }),
        Just(Message::Unregister),
        (
            service(),
            type_info(),
            any::<[u32; 3]>(),
            select(PayloadShape::ALL),
            type_info(),
            layout()
        )
            .prop_map(
                |(service, type_info, [h, m, len], shape, user_header, layout)| {
                    Message::CreatePublisher(CreatePublisher {
                        service,
                        type_info,
                        history: h,
                        max_loans: m,
                        shape,
                        max_slice_len: len,
                        user_header,
                        layout,
                    })
                }
            ),
        (
            service(),
            type_info(),
            select(FullPolicy::ALL),
            any::<[u32; 3]>(),
            select(PayloadShape::ALL),
            type_info(),
            layout()
        )
            .prop_map(
                |(service, type_info, full_policy, [q, h, m], shape, user_header, layout)| {
                    Message::CreateSubscriber(CreateSubscriber {
                        service,
                        type_info,
                        queue_capacity: q,
                        full_policy,
                        history_request: h,
                        max_held: m,
                        shape,
                        user_header,
                        layout,
                    })
                }
            ),
        (port_kind(), any::<[u32; 3]>()).prop_map(|(kind, [port_index, group, generation])| {
            Message::RemovePort(RemovePort {
                kind,
                port_index,
                group,
                generation,
            })
        }),
        Just(Message::QueryStatus),
        any::<u32>().prop_map(|start| Message::QueryProcesses(PageRequest { start })),
        any::<u32>().prop_map(|start| Message::QueryServices(PageRequest { start })),
        Just(Message::QueryMempools),
        any::<u32>().prop_map(|start| Message::QueryGroups(PageRequest { start })),
        fixed::<32>().prop_map(|group| Message::ResetGroup(ResetGroup { group })),
        (port_kind(), any::<[u32; 2]>()).prop_map(|(kind, [port_index, group])| {
            Message::RevokePort(RevokePort {
                kind,
                port_index,
                group,
            })
        }),
        service().prop_map(|service| Message::CreateNotifier(CreateNotifier { service })),
        service().prop_map(|service| Message::CreateListener(CreateListener { service })),
        service().prop_map(Message::QueryServiceLayout),
    ]
}

fn replies() -> impl Strategy<Value = Message> {
    prop_oneof![
        (any::<[u32; 6]>(), any::<[u64; 2]>()).prop_map(
            |([slot, pid, hi, ht, groups, hs], [epoch, ms])| {
                Message::Registered(Registered {
                    process_slot: slot,
                    daemon_pid: pid,
                    epoch,
                    mgmt_size: ms,
                    heartbeat_size: hs,
                    group_count: groups,
                    heartbeat_interval_ms: hi,
                    heartbeat_timeout_ms: ht,
                })
            }
        ),
        Just(Message::Unregistered),
        port_created().prop_map(Message::PublisherCreated),
        port_created().prop_map(Message::SubscriberCreated),
        port_created().prop_map(Message::NotifierCreated),
        port_created().prop_map(Message::ListenerCreated),
        any::<[u32; 3]>().prop_map(|[group, port_index, generation]| {
            Message::HistoryWanted(HistoryWanted {
                group,
                port_index,
                generation,
            })
        }),
        Just(Message::PortRemoved),
        (service(), layout()).prop_map(|(service, layout)| Message::ServiceLayout(ServiceLayout {
            service,
            layout
        })),
        (any::<[u32; 5]>(), any::<[u64; 12]>(), audit_counts()).prop_map(
            |([pid, p, pb, s, sv], [up, ep, m, d, c, rf, ev, ex, pr, pd, ht, cr], audit)| {
                Message::Status(Status {
                    daemon_pid: pid,
                    uptime_ms: up,
                    epoch: ep,
                    processes: p,
                    publishers: pb,
                    subscribers: s,
                    services: sv,
                    mgmt_size: m,
                    data_size: d,
                    control_size: c,
                    refused_connections: rf,
                    evicted_connections: ev,
                    expired_connections: ex,
                    processes_registered: pr,
                    processes_died: pd,
                    heartbeat_timeouts: ht,
                    chunks_reclaimed: cr,
                    audit,
                })
            }
        ),
        (vec(process_info(), 0..=PROCESSES_PER_PAGE), any::<u32>()).prop_map(|(e, next)| {
            Message::ProcessesPage(ProcessesPage {
                entries: e.into_iter().collect(),
                next,
            })
        }),
        (vec(port_info(), 0..=PORTS_PER_PAGE), any::<u32>()).prop_map(|(e, next)| {
            Message::PortsPage(PortsPage {
                entries: e.into_iter().collect(),
                next,
            })
        }),
        vec(mempool_info(), 0..=MAX_MEMPOOLS).prop_map(|p| Message::Mempools(Mempools {
            pools: p.into_iter().collect(),
        })),
        (vec(group_info(), 0..=1), any::<u32>()).prop_map(|(e, next)| {
            Message::GroupsPage(GroupsPage {
                entries: e.into_iter().collect(),
                next,
            })
        }),
        any::<[u32; 3]>().prop_map(|[group, incarnation, revoked]| {
            Message::GroupReset(GroupReset {
                group,
                incarnation,
                revoked,
            })
        }),
        (port_kind(), any::<[u32; 3]>(), select(RevokeReason::ALL)).prop_map(
            |(kind, [port_index, group, generation], reason)| {
                Message::PortRevoked(PortRevoked {
                    kind,
                    port_index,
                    group,
                    generation,
                    reason,
                })
            }
        ),
        (select(ErrorCode::ALL), any::<String>())
            .prop_map(|(code, detail)| Message::Error(ErrorReply::new(code, &detail))),
        Just(Message::Shutdown),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![requests(), replies()]
}

/// Decodes `bytes`; when accepted, the encoding must reproduce them exactly.
fn check_decode(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok((header, msg)) = wire::decode(bytes) {
        let mut buf = [0u8; MAX_FRAME_SIZE];
        let len = wire::encode(&msg, header.request_id, &mut buf).unwrap();
        prop_assert_eq!(&buf[..len], bytes);
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Extend(Vec<u8>),
    Overwrite(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1..=u8::MAX).prop_map(|(i, x)| Mutation::Flip(i, x)),
        vec(any::<u8>(), 1..64).prop_map(Mutation::Extend),
        (any::<usize>(), vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
    ]
}

fn apply(frame: &mut Vec<u8>, m: &Mutation) {
    let len = frame.len();
    match m {
        Mutation::Truncate(i) => frame.truncate(i % len),
        Mutation::Flip(i, x) => frame[i % len] ^= x,
        Mutation::Extend(bytes) => frame.extend_from_slice(bytes),
        Mutation::Overwrite(i, bytes) => {
            for (k, b) in bytes.iter().enumerate() {
                if let Some(slot) = frame.get_mut((i % len) + k) {
                    *slot = *b;
                }
            }
        }
    }
}

/// Rewrites the header's body length to match, so corruption reaches the body.
fn fix_length(frame: &mut [u8]) {
    if frame.len() >= HEADER_LEN {
        let body = u16::try_from(frame.len() - HEADER_LEN).unwrap_or(u16::MAX);
        frame[8..10].copy_from_slice(&body.to_le_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..2 * MAX_FRAME_SIZE)) {
        check_decode(&bytes)?;
    }

    #[test]
    fn random_bodies_behind_valid_headers_never_panic(
        kind in select(MessageKind::ALL),
        request_id in any::<u32>(),
        body in vec(any::<u8>(), 0..1024),
    ) {
        let mut frame = vec![0x43, 0x5A, wire::PROTOCOL_VERSION, kind as u8];
        frame.extend_from_slice(&request_id.to_le_bytes());
        frame.extend_from_slice(&(body.len() as u16).to_le_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(&body);
        check_decode(&frame)?;
    }

    #[test]
    fn mutated_frames_never_panic(
        msg in message(),
        mutations in vec(mutation(), 1..4),
        fix in any::<bool>(),
    ) {
        let mut frame = vec![0u8; MAX_FRAME_SIZE];
        let len = wire::encode(&msg, 1, &mut frame).unwrap();
        frame.truncate(len);
        for m in &mutations {
            if !frame.is_empty() {
                apply(&mut frame, m);
            }
        }
        if fix {
            fix_length(&mut frame);
        }
        check_decode(&frame)?;
    }

    #[test]
    fn generated_messages_round_trip(msg in message(), request_id in any::<u32>()) {
        let mut buf = [0u8; MAX_FRAME_SIZE];
        let len = wire::encode(&msg, request_id, &mut buf).unwrap();
        let (header, decoded) = wire::decode(&buf[..len]).unwrap();
        prop_assert_eq!(header.request_id, request_id);
        prop_assert_eq!(header.kind, msg.kind());
        prop_assert_eq!(decoded, msg);
    }
}
