//! The `status` answer: the domain, its socket and the daemon's [`Status`].
//!
//! JSON shape (a **derived shape**: after `domain` and `socket`, the
//! [`Status`] as it is serialised, flattened into one object, so a field
//! added to [`Status`] appears here too, which the exact-string test below
//! makes a deliberate change):
//!
//! `{"schema", "domain", "socket", "daemon_pid", "uptime_ms", "epoch", "processes",
//! "publishers", "subscribers", "services", "mgmt_size", "data_size",
//! "control_size", "refused_connections", "evicted_connections",
//! "expired_connections", "processes_registered", "processes_died",
//! "heartbeat_timeouts", "chunks_reclaimed", "audit":{"audits", "mgmt_header", "group_header",
//! "freelist_header", "freelist_chain", "subscriber_queue", "port_control",
//! "lost_chunks", "over_referenced", "heartbeat"}}` (`data_size` and
//! `control_size`: every group's payload and control parts together;
//! `refused_connections`, `evicted_connections`, `expired_connections`:
//! connections turned away since the daemon started, refused by
//! `[access]`, evicted for a newcomer, closed for not registering in
//! time; `processes_registered`, `processes_died`, `heartbeat_timeouts`,
//! `chunks_reclaimed`: registrations accepted, processes removed without
//! unregistering, processes dropped for missing heartbeats, chunk
//! references released for removed processes, since the daemon started;
//! `audit`: audits run and findings by kind)
//!
//! The names of the audit's finding kinds (`finding_name`) are this
//! answer's counter names; `groups` reuses them for a group's last finding.

use serde::Serialize;
use zerocp_core::wire::{AuditCounts, FindingKind, Status};

use super::{table, to_json};

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
        vec![
            "registered".into(),
            format!("{} processes since start", s.processes_registered),
        ],
        vec![
            "died".into(),
            format!(
                "{} processes (left without unregistering)",
                s.processes_died
            ),
        ],
        vec![
            "timeouts".into(),
            format!("{} processes (missed heartbeats)", s.heartbeat_timeouts),
        ],
        vec![
            "reclaimed".into(),
            format!("{} chunk references", s.chunks_reclaimed),
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
pub(super) fn finding_name(kind: FindingKind) -> Option<&'static str> {
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

/// `status --json`: `{"schema", "domain", "socket"}` followed by the fields of
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

#[cfg(test)]
mod tests {
    use super::*;

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
            processes_registered: 9,
            processes_died: 2,
            heartbeat_timeouts: 1,
            chunks_reclaimed: 17,
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
            r#"{"schema":1,"domain":"demo","socket":"/run/zerocp/demo.sock","daemon_pid":42,"uptime_ms":1500,"#
                .to_owned()
                + r#""epoch":7,"processes":2,"publishers":3,"subscribers":4,"services":1,"#
                + r#""mgmt_size":65536,"data_size":1048576,"control_size":8192,"#
                + r#""refused_connections":3,"evicted_connections":1204,"expired_connections":5,"#
                + r#""processes_registered":9,"processes_died":2,"heartbeat_timeouts":1,"#
                + r#""chunks_reclaimed":17,"#
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
        assert!(
            text.contains("died          2 processes (left without unregistering)"),
            "{text}"
        );
    }
}
