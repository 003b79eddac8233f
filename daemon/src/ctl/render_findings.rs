//! How `zerocpctl` words the audit's findings: the name of each kind (as
//! `status --json` names its counter, and `groups --json` the last
//! finding's kind), the counters as one `status` line and a group's
//! findings as one `groups` line.

use zerocp_core::wire::{AuditCounts, FindingKind, GroupInfo};

/// The findings' total and the kinds found, e.g. `3 (group_header 2, heartbeat 1)`.
pub(crate) fn findings_text(counts: &AuditCounts) -> String {
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
pub(crate) fn finding_name(kind: FindingKind) -> Option<&'static str> {
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

/// A group's audit findings: their number and the last one.
pub(crate) fn group_findings_text(g: &GroupInfo) -> String {
    match finding_name(g.last_finding) {
        None => g.findings.to_string(),
        Some(kind) => format!(
            "{} (last: {kind}: {})",
            g.findings,
            g.last_finding_detail.as_str()
        ),
    }
}
