//! Rendering query answers: aligned tables for people, JSON for programs.
//!
//! The JSON shapes are part of the CLI contract (tests check them); keys appear in
//! the order the structs declare them:
//!
//! - `status`: `{"domain", "socket", "daemon_pid", "uptime_ms", "epoch", "processes",
//!   "publishers", "subscribers", "services", "mgmt_size", "data_size",
//!   "control_size", "refused_connections", "evicted_connections",
//!   "expired_connections", "audit":{"audits", "mgmt_header", "group_header",
//!   "freelist_header", "freelist_chain", "subscriber_queue", "port_control",
//!   "lost_chunks", "over_referenced", "heartbeat"}}` (`data_size` and
//!   `control_size`: every group's payload and control parts together;
//!   `refused_connections`, `evicted_connections`, `expired_connections`:
//!   connections turned away since the daemon started, refused by
//!   `[access]`, evicted for a newcomer, closed for not registering in
//!   time; `audit`: audits run and findings by kind)
//! - `processes`: `{"processes":[{"pid", "name", "state", "heartbeat_age_ms", "slot",
//!   "chunks_held"}]}`
//!   (`state` is `alive`; `late` when its heartbeat is older than half the timeout;
//!   `unresponsive` once it was dropped for missing heartbeats: unrouted, its chunks
//!   and slots kept until it exits; or `dead`; `chunks_held`: the chunk references
//!   its ports hold, queued samples included)
//! - `services`: `{"services":[{"service", "type_name", "payload_size", "payload_align",
//!   "publishers":[{"port", "pid", "timed_out"}], "subscribers":[{"port", "pid",
//!   "queue_len", "queue_capacity", "dropped", "timed_out"}], "group"}]}` (`group`:
//!   the service's segment group by index, `default` = 0; a `port` is an index in
//!   it; `timed_out`: samples a publisher gave up delivering, or a subscriber did
//!   not get, after a publish timeout)
//! - `mempools`: `{"mempools":[{"chunk_size", "chunk_count", "used", "min_free", "group",
//!   "process_quota", "port_quota"}]}` (the quotas in chunks)
//! - `groups`: `{"groups":[{"name", "services":[pattern…], "publish":{"everyone",
//!   "uids":[…], "gids":[…]}, "subscribe":{…}, "mempools":[{"chunk_size",
//!   "chunk_count", "used", "min_free", "group", "process_quota",
//!   "port_quota"}], "resets", "findings",
//!   "last_finding", "last_finding_detail"}]}` (`everyone` is true for
//!   `default`, whose lists are then empty: every peer that may connect;
//!   `resets`: how often the group was reset onto fresh memory; `findings`:
//!   what the audit found in the group's memory, `last_finding` the last
//!   one's kind as named in `status`'s `audit`, or null)
//! - `reset-group`: `{"group", "index", "incarnation", "revoked"}` (the
//!   group's name and index, the incarnation of its new memory, the ports
//!   revoked)
//! - `revoke-port`: `{"group", "kind", "port", "generation", "reason"}`
//!
//! **Derived shapes.** Where the JSON of an answer is exactly the fields of
//! its wire type, the wire type is serialised as it is (`zerocp-core`'s
//! feature `serde` derives `Serialize` for it): a [`Status`] after the domain
//! and the socket (flattened into one object), and each [`MempoolInfo`]. A
//! field added to those wire types thus appears in the JSON too, which the
//! tests below (exact strings) make a deliberate change.
//!
//! **Presentations.** Processes, services and groups are shown, not mirrored: a
//! process's `slot` is the wire's `process_slot` and its `state` a word, not
//! a code; services group the wire's flat list of ports under each service,
//! with the service as one string and the type's fields renamed; a group's
//! rule scope is a boolean `everyone`. Their JSON
//! structs stay here, so the shape does not follow the wire messages.

use serde::Serialize;
use zerocp_core::wire::{
    AccessRule, AuditCounts, FindingKind, GroupInfo, GroupReset, MempoolInfo, PortInfo, PortKind,
    PortRevoked, ProcessInfo, ProcessState, RuleScope, Status,
};

/// `status`: the domain and its socket, then the daemon's [`Status`]
/// (derived shape: its fields follow `socket` in the same JSON object).
#[derive(Debug, Serialize)]
pub struct StatusJson<'a> {
    /// The domain.
    pub domain: &'a str,
    /// The control socket.
    pub socket: String,
    /// The daemon's answer.
    #[serde(flatten)]
    pub status: &'a Status,
}

#[derive(Serialize)]
struct ProcessJson<'a> {
    pid: u32,
    name: &'a str,
    state: &'static str,
    heartbeat_age_ms: u32,
    slot: u32,
    chunks_held: u32,
}

#[derive(Serialize)]
struct PublisherJson {
    port: u32,
    pid: u32,
    timed_out: u64,
}

#[derive(Serialize)]
struct SubscriberJson {
    port: u32,
    pid: u32,
    queue_len: u32,
    queue_capacity: u32,
    dropped: u64,
    timed_out: u64,
}

#[derive(Serialize)]
struct ServiceJson {
    service: String,
    type_name: String,
    payload_size: u32,
    payload_align: u32,
    publishers: Vec<PublisherJson>,
    subscribers: Vec<SubscriberJson>,
    /// The service's segment group (its index, `default` = 0): its ports'
    /// `port` numbers are indices in that group.
    group: u32,
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serialising plain structs of strings and integers (a flattened one
    // included) cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// A table: a header row and rows, each column as wide as its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `status`, human-readable.
pub fn status_text(fields: &StatusJson<'_>) -> String {
    let s = fields.status;
    let rows = vec![
        vec!["domain".into(), fields.domain.to_owned()],
        vec!["socket".into(), fields.socket.clone()],
        vec!["daemon pid".into(), s.daemon_pid.to_string()],
        vec![
            "uptime".into(),
            format!("{:.3} s", s.uptime_ms as f64 / 1000.0),
        ],
        vec!["epoch".into(), s.epoch.to_string()],
        vec!["processes".into(), s.processes.to_string()],
        vec!["publishers".into(), s.publishers.to_string()],
        vec!["subscribers".into(), s.subscribers.to_string()],
        vec!["services".into(), s.services.to_string()],
        vec!["mgmt segment".into(), format!("{} bytes", s.mgmt_size)],
        vec!["data segment".into(), format!("{} bytes", s.data_size)],
        vec![
            "refused".into(),
            format!(
                "{} connections (not admitted by [access])",
                s.refused_connections
            ),
        ],
        vec![
            "evicted".into(),
            format!(
                "{} unregistered connections (for newcomers)",
                s.evicted_connections
            ),
        ],
        vec![
            "expired".into(),
            format!(
                "{} unregistered connections (not registered in time)",
                s.expired_connections
            ),
        ],
        vec!["audits".into(), s.audit.audits.to_string()],
        vec!["findings".into(), findings_text(&s.audit)],
    ];
    table(&["FIELD", "VALUE"], &rows)
}

/// The findings' total and the kinds found, e.g. `3 (group_header 2, heartbeat 1)`.
fn findings_text(counts: &AuditCounts) -> String {
    let found: Vec<String> = FindingKind::ALL
        .iter()
        .filter_map(|&kind| {
            let n = counts.get(kind);
            (n > 0).then(|| format!("{} {n}", finding_name(kind).unwrap_or("?")))
        })
        .collect();
    let total = counts.findings();
    match found.len() {
        0 => total.to_string(),
        _ => format!("{total} ({})", found.join(", ")),
    }
}

/// A finding kind as `status --json` names its counter (`None`: no finding).
fn finding_name(kind: FindingKind) -> Option<&'static str> {
    Some(match kind {
        FindingKind::None => return None,
        FindingKind::MgmtHeader => "mgmt_header",
        FindingKind::GroupHeader => "group_header",
        FindingKind::FreelistHeader => "freelist_header",
        FindingKind::FreelistChain => "freelist_chain",
        FindingKind::SubscriberQueue => "subscriber_queue",
        FindingKind::PortControl => "port_control",
        FindingKind::LostChunks => "lost_chunks",
        FindingKind::OverReferenced => "over_referenced",
        FindingKind::Heartbeat => "heartbeat",
    })
}

/// `status --json`: `{"domain", "socket"}` followed by the fields of
/// [`Status`], in one object.
pub fn status_json(fields: &StatusJson<'_>) -> String {
    to_json(fields)
}

/// The `status` fields of `domain` on `socket`.
pub fn status_fields<'a>(domain: &'a str, socket: String, status: &'a Status) -> StatusJson<'a> {
    StatusJson {
        domain,
        socket,
        status,
    }
}

fn state_name(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Alive => "alive",
        ProcessState::Unresponsive => "unresponsive",
        ProcessState::Dead => "dead",
        ProcessState::Late => "late",
    }
}

/// `processes`, human-readable.
pub fn processes_text(processes: &[ProcessInfo]) -> String {
    let rows: Vec<Vec<String>> = processes
        .iter()
        .map(|p| {
            vec![
                p.pid.to_string(),
                p.name.as_str().to_owned(),
                state_name(p.state).to_owned(),
                format!("{} ms", p.heartbeat_age_ms),
                p.process_slot.to_string(),
                p.chunks_held.to_string(),
            ]
        })
        .collect();
    table(
        &["PID", "NAME", "STATE", "HEARTBEAT AGE", "SLOT", "CHUNKS"],
        &rows,
    )
}

/// `processes --json`.
pub fn processes_json(processes: &[ProcessInfo]) -> String {
    #[derive(Serialize)]
    struct All<'a> {
        processes: Vec<ProcessJson<'a>>,
    }
    to_json(&All {
        processes: processes
            .iter()
            .map(|p| ProcessJson {
                pid: p.pid,
                name: p.name.as_str(),
                state: state_name(p.state),
                heartbeat_age_ms: p.heartbeat_age_ms,
                slot: p.process_slot,
                chunks_held: p.chunks_held,
            })
            .collect(),
    })
}

/// Groups ports (ordered by service, as the daemon sends them) by service.
fn services(ports: &[PortInfo]) -> Vec<ServiceJson> {
    let mut out: Vec<ServiceJson> = Vec::new();
    for port in ports {
        let name = port.service.to_string();
        if out.last().is_none_or(|s| s.service != name) {
            out.push(ServiceJson {
                service: name,
                type_name: port.type_info.name.as_str().to_owned(),
                payload_size: port.type_info.size,
                payload_align: port.type_info.align,
                publishers: Vec::new(),
                subscribers: Vec::new(),
                group: port.group,
            });
        }
        let Some(service) = out.last_mut() else {
            continue;
        };
        match port.kind {
            PortKind::Publisher => service.publishers.push(PublisherJson {
                port: port.port_index,
                pid: port.owner_pid,
                timed_out: port.timed_out,
            }),
            PortKind::Subscriber => service.subscribers.push(SubscriberJson {
                port: port.port_index,
                pid: port.owner_pid,
                queue_len: port.queue_len,
                queue_capacity: port.queue_capacity,
                dropped: port.dropped,
                timed_out: port.timed_out,
            }),
        }
    }
    out
}

/// `services`, human-readable: one line per service, its ports indented below.
pub fn services_text(ports: &[PortInfo]) -> String {
    let mut rows = Vec::new();
    for s in services(ports) {
        rows.push(vec![
            s.service.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!(
                "{} ({} B, align {}), group {}",
                s.type_name, s.payload_size, s.payload_align, s.group
            ),
        ]);
        for p in &s.publishers {
            rows.push(vec![
                "  publisher".into(),
                p.port.to_string(),
                p.pid.to_string(),
                "-".into(),
                "-".into(),
                p.timed_out.to_string(),
                String::new(),
            ]);
        }
        for p in &s.subscribers {
            rows.push(vec![
                "  subscriber".into(),
                p.port.to_string(),
                p.pid.to_string(),
                format!("{}/{}", p.queue_len, p.queue_capacity),
                p.dropped.to_string(),
                p.timed_out.to_string(),
                String::new(),
            ]);
        }
    }
    table(
        &[
            "SERVICE / PORT",
            "INDEX",
            "PID",
            "QUEUE",
            "DROPPED",
            "TIMED OUT",
            "TYPE",
        ],
        &rows,
    )
}

/// `services --json`.
pub fn services_json(ports: &[PortInfo]) -> String {
    #[derive(Serialize)]
    struct All {
        services: Vec<ServiceJson>,
    }
    to_json(&All {
        services: services(ports),
    })
}

/// `mempools`, human-readable.
pub fn mempools_text(pools: &[MempoolInfo]) -> String {
    let rows: Vec<Vec<String>> = pools
        .iter()
        .map(|p| {
            vec![
                p.group.as_str().to_owned(),
                p.chunk_size.to_string(),
                p.chunk_count.to_string(),
                p.used.to_string(),
                p.min_free.to_string(),
                p.process_quota.to_string(),
                p.port_quota.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "GROUP",
            "CHUNK SIZE",
            "COUNT",
            "USED",
            "MIN FREE",
            "PROCESS QUOTA",
            "PORT QUOTA",
        ],
        &rows,
    )
}

/// `mempools --json`: exactly
/// `{"mempools":[{"chunk_size":N,"chunk_count":N,"used":N,"min_free":N,"group":"NAME",
/// "process_quota":N,"port_quota":N}, …]}`.
///
/// ```
/// use zerocp_core::fixed_string::FixedString;
/// use zerocp_core::wire::MempoolInfo;
/// let group = FixedString::try_from_str("default").unwrap();
/// let pools = [MempoolInfo {
///     chunk_size: 128, chunk_count: 4, used: 1, min_free: 2, group,
///     process_quota: 2, port_quota: 1,
/// }];
/// assert_eq!(
///     zerocp_daemon::ctl::render::mempools_json(&pools),
///     r#"{"mempools":[{"chunk_size":128,"chunk_count":4,"used":1,"min_free":2,"group":"default","#
///         .to_owned()
///         + r#""process_quota":2,"port_quota":1}]}"#
/// );
/// ```
pub fn mempools_json(pools: &[MempoolInfo]) -> String {
    #[derive(Serialize)]
    struct All<'a> {
        mempools: &'a [MempoolInfo],
    }
    to_json(&All { mempools: pools })
}

#[derive(Serialize)]
struct RuleJson<'a> {
    everyone: bool,
    uids: &'a [u32],
    gids: &'a [u32],
}

#[derive(Serialize)]
struct GroupJson<'a> {
    name: &'a str,
    services: Vec<&'a str>,
    publish: RuleJson<'a>,
    subscribe: RuleJson<'a>,
    mempools: &'a [MempoolInfo],
    resets: u32,
    findings: u64,
    last_finding: Option<&'static str>,
    last_finding_detail: &'a str,
}

fn rule_json(rule: &AccessRule) -> RuleJson<'_> {
    RuleJson {
        everyone: rule.scope == RuleScope::Everyone,
        uids: &rule.uids,
        gids: &rule.gids,
    }
}

fn rule_text(rule: &AccessRule) -> String {
    match rule.scope {
        RuleScope::Everyone => "everyone allowed to connect".into(),
        RuleScope::Listed => format!("uids {:?} gids {:?}", &rule.uids[..], &rule.gids[..]),
    }
}

/// `groups`, human-readable: one block per group, its pools as a table.
pub fn groups_text(groups: &[GroupInfo]) -> String {
    let mut out = String::new();
    for g in groups {
        let services: Vec<&str> = g.patterns.iter().map(|p| p.as_str()).collect();
        let services = if services.is_empty() {
            "(every service no other group claims)".to_owned()
        } else {
            services.join(", ")
        };
        out.push_str(&format!(
            "group {}
",
            g.name.as_str()
        ));
        out.push_str(&format!(
            "  services   {services}
"
        ));
        out.push_str(&format!(
            "  publish    {}
",
            rule_text(&g.publish)
        ));
        out.push_str(&format!(
            "  subscribe  {}
",
            rule_text(&g.subscribe)
        ));
        out.push_str(&format!(
            "  resets     {}
",
            g.resets
        ));
        let rows: Vec<Vec<String>> = g
            .pools
            .iter()
            .map(|p| {
                vec![
                    format!("  {}", p.chunk_size),
                    p.chunk_count.to_string(),
                    p.used.to_string(),
                    p.process_quota.to_string(),
                    p.port_quota.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "  CHUNK SIZE",
                "COUNT",
                "USED",
                "PROCESS QUOTA",
                "PORT QUOTA",
            ],
            &rows,
        ));
        out.push_str(&format!("  findings   {}\n", group_findings_text(g)));
    }
    out
}

/// A group's audit findings: their number and the last one.
fn group_findings_text(g: &GroupInfo) -> String {
    match finding_name(g.last_finding) {
        None => g.findings.to_string(),
        Some(kind) => format!(
            "{} (last: {kind}: {})",
            g.findings,
            g.last_finding_detail.as_str()
        ),
    }
}

/// `groups --json` (shape in the [module docs](self)).
pub fn groups_json(groups: &[GroupInfo]) -> String {
    #[derive(Serialize)]
    struct All<'a> {
        groups: Vec<GroupJson<'a>>,
    }
    to_json(&All {
        groups: groups
            .iter()
            .map(|g| GroupJson {
                name: g.name.as_str(),
                services: g.patterns.iter().map(|p| p.as_str()).collect(),
                publish: rule_json(&g.publish),
                subscribe: rule_json(&g.subscribe),
                mempools: &g.pools,
                resets: g.resets,
                findings: g.findings,
                last_finding: finding_name(g.last_finding),
                last_finding_detail: g.last_finding_detail.as_str(),
            })
            .collect(),
    })
}

/// `reset-group`: what the daemon did to group `name`.
pub fn reset_text(name: &str, done: &GroupReset) -> String {
    format!(
        "group {name} (index {}) reset onto fresh memory (incarnation {}): {} ports revoked\n",
        done.group, done.incarnation, done.revoked
    )
}

/// `reset-group --json` (shape in the [module docs](self)).
pub fn reset_json(name: &str, done: &GroupReset) -> String {
    #[derive(Serialize)]
    struct Reset<'a> {
        group: &'a str,
        index: u32,
        incarnation: u32,
        revoked: u32,
    }
    to_json(&Reset {
        group: name,
        index: done.group,
        incarnation: done.incarnation,
        revoked: done.revoked,
    })
}

/// `revoke-port`: the port revoked.
pub fn revoked_text(port: &PortRevoked) -> String {
    format!(
        "revoked {} port {} of group {} (generation {}): {}\n",
        port.kind.noun(),
        port.port_index,
        port.group,
        port.generation,
        port.reason.explanation()
    )
}

/// `revoke-port --json` (shape in the [module docs](self)).
pub fn revoked_json(port: &PortRevoked) -> String {
    #[derive(Serialize)]
    struct Revoked {
        group: u32,
        kind: &'static str,
        port: u32,
        generation: u32,
        reason: &'static str,
    }
    to_json(&Revoked {
        group: port.group,
        kind: port.kind.noun(),
        port: port.port_index,
        generation: port.generation,
        reason: port.reason.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let text = table(
            &["A", "LONG HEADER"],
            &[
                vec!["wide cell".into(), "x".into()],
                vec!["y".into(), "z".into()],
            ],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "A          LONG HEADER");
        assert_eq!(lines[1], "wide cell  x");
        assert_eq!(lines[2], "y          z");
    }

    #[test]
    fn groups_json_shows_patterns_rules_and_pools() {
        use zerocp_core::fixed_string::FixedString;
        fn fs<const N: usize>(s: &str) -> FixedString<N> {
            FixedString::try_from_str(s).unwrap()
        }
        let group = GroupInfo {
            name: fs("nav"),
            patterns: heapless::Vec::from_slice(&[fs("Robot/Nav/*")]).unwrap(),
            publish: AccessRule {
                scope: RuleScope::Listed,
                uids: heapless::Vec::from_slice(&[1000]).unwrap(),
                gids: heapless::Vec::new(),
            },
            subscribe: AccessRule {
                scope: RuleScope::Everyone,
                uids: heapless::Vec::new(),
                gids: heapless::Vec::new(),
            },
            pools: heapless::Vec::from_slice(&[MempoolInfo {
                chunk_size: 64,
                chunk_count: 2,
                used: 1,
                min_free: 1,
                group: fs("nav"),
                process_quota: 1,
                port_quota: 1,
            }])
            .unwrap(),
            resets: 3,
            findings: 2,
            last_finding: FindingKind::GroupHeader,
            last_finding_detail: fs("header of group 1: 1 word (first `state`) restored"),
        };
        assert_eq!(
            groups_json(std::slice::from_ref(&group)),
            r#"{"groups":[{"name":"nav","services":["Robot/Nav/*"],"#.to_owned()
                + r#""publish":{"everyone":false,"uids":[1000],"gids":[]},"#
                + r#""subscribe":{"everyone":true,"uids":[],"gids":[]},"#
                + r#""mempools":[{"chunk_size":64,"chunk_count":2,"used":1,"min_free":1,"group":"nav","#
                + r#""process_quota":1,"port_quota":1}],"#
                + r#""resets":3,"findings":2,"last_finding":"group_header","#
                + r#""last_finding_detail":"header of group 1: 1 word (first `state`) restored"}]}"#
        );
        let text = groups_text(&[group]);
        assert!(text.contains("resets     3"), "{text}");
        assert!(text.contains("group nav"), "{text}");
        assert!(text.contains("uids [1000] gids []"), "{text}");
        assert!(text.contains("everyone allowed to connect"), "{text}");
        assert!(
            text.contains("findings   2 (last: group_header: header of group 1"),
            "{text}"
        );
    }

    #[test]
    fn reset_and_revoke_answers_name_what_was_done() {
        use zerocp_core::wire::RevokeReason;
        let done = GroupReset {
            group: 2,
            incarnation: 1,
            revoked: 4,
        };
        assert_eq!(
            reset_json("nav", &done),
            r#"{"group":"nav","index":2,"incarnation":1,"revoked":4}"#
        );
        assert_eq!(
            reset_text("nav", &done),
            "group nav (index 2) reset onto fresh memory (incarnation 1): 4 ports revoked\n"
        );
        let port = PortRevoked {
            kind: PortKind::Subscriber,
            port_index: 3,
            group: 1,
            generation: 9,
            reason: RevokeReason::Operator,
        };
        assert_eq!(
            revoked_json(&port),
            r#"{"group":1,"kind":"subscriber","port":3,"generation":9,"reason":"Operator"}"#
        );
        assert!(
            revoked_text(&port).starts_with("revoked subscriber port 3 of group 1 (generation 9)")
        );
    }

    #[test]
    fn status_json_is_domain_socket_then_the_status_fields() {
        let status = Status {
            daemon_pid: 42,
            uptime_ms: 1500,
            epoch: 7,
            processes: 2,
            publishers: 3,
            subscribers: 4,
            services: 1,
            mgmt_size: 65536,
            data_size: 1048576,
            control_size: 8192,
            refused_connections: 3,
            evicted_connections: 1204,
            expired_connections: 5,
            audit: AuditCounts {
                audits: 5,
                group_header: 2,
                heartbeat: 1,
                ..AuditCounts::new()
            },
        };
        let fields = status_fields("demo", "/run/zerocp/demo.sock".into(), &status);
        assert_eq!(
            status_json(&fields),
            r#"{"domain":"demo","socket":"/run/zerocp/demo.sock","daemon_pid":42,"uptime_ms":1500,"#
                .to_owned()
                + r#""epoch":7,"processes":2,"publishers":3,"subscribers":4,"services":1,"#
                + r#""mgmt_size":65536,"data_size":1048576,"control_size":8192,"#
                + r#""refused_connections":3,"evicted_connections":1204,"expired_connections":5,"#
                + r#""audit":{"audits":5,"mgmt_header":0,"group_header":2,"freelist_header":0,"#
                + r#""freelist_chain":0,"subscriber_queue":0,"port_control":0,"lost_chunks":0,"#
                + r#""over_referenced":0,"heartbeat":1}}"#
        );
        let text = status_text(&fields);
        assert!(
            text.contains("evicted       1204 unregistered connections (for newcomers)"),
            "{text}"
        );
        assert!(
            text.contains("findings      3 (group_header 2, heartbeat 1)"),
            "{text}"
        );
    }
}
