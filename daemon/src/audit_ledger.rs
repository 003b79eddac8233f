//! [`AuditLedger`]: which findings count, how often they are logged, and
//! the counters `zerocpctl status` and `zerocpctl groups` show.
//!
//! The audit runs in passes, one per *scope* (the domain: the mgmt header
//! and the heartbeats; or one segment group). The ledger remembers what the
//! previous pass of each scope saw, so that
//!
//! - damage that one read cannot prove ([`Finding::needs_confirmation`]) is
//!   believed only when the next pass sees it again (a *suspect* first);
//! - damage that persists is counted once, when first believed, not at
//!   every pass while nobody repairs it;
//! - a repair (a word put back) counts every time: each is a new write.
//!
//! Counted findings are logged at most once per kind per scope per log
//! interval ([`crate::audit_config::AuditConfig::log_interval_ms`]); what
//! was left out meanwhile is summed up in one line (the last of them and
//! how many) once the interval has passed ([`AuditLedger::flush`], at every
//! timed audit). So a hostile process cannot flood the log, and the
//! counters still see everything.

use std::collections::{HashMap, HashSet};

use zerocp_core::fixed_string::FixedString;
use zerocp_core::wire::{AuditCounts, FindingKind, MAX_FINDING_DETAIL_LEN};

use crate::audit_findings::{Detected, Finding};

/// The scope of an audit pass: the domain (`None`) or a group.
pub type Scope = Option<u32>;

/// Findings of one segment group, for `zerocpctl groups`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFindings {
    /// Findings counted in the group's memory.
    pub findings: u64,
    /// The last one's kind (`None` before the first).
    pub last_kind: Option<FindingKind>,
    /// The last one, as logged.
    pub last_detail: String,
}

/// What the previous (or current) pass of one scope saw.
#[derive(Debug, Default)]
struct Pass {
    seen: HashSet<Finding>,
    counted: HashSet<Finding>,
}

/// When a kind of finding of one scope was last logged, and what was left
/// out since.
#[derive(Debug, Clone)]
struct LogState {
    at_ms: u64,
    left_out: u64,
    /// The last finding left out, as it would have been logged.
    last_left_out: String,
}

/// Counting, confirmation and rate-limited logging of findings (module docs).
#[derive(Debug, Default)]
pub struct AuditLedger {
    counts: AuditCounts,
    groups: Vec<GroupFindings>,
    previous: HashMap<Scope, Pass>,
    current: HashMap<Scope, Pass>,
    logged: HashMap<(FindingKind, Scope), LogState>,
    log_interval_ms: u64,
}

impl AuditLedger {
    /// A ledger for `groups` segment groups, logging each kind of finding
    /// of a scope at most once per `log_interval_ms`.
    pub fn new(groups: usize, log_interval_ms: u64) -> Self {
        Self {
            groups: vec![GroupFindings::default(); groups],
            log_interval_ms,
            ..Self::default()
        }
    }

    /// Starts a pass over `scope`.
    pub fn begin_pass(&mut self, scope: Scope) {
        self.current.insert(scope, Pass::default());
    }

    /// Ends the pass over `scope`: what it saw is what the next one
    /// compares with; counts one audit for the domain's pass.
    pub fn end_pass(&mut self, scope: Scope) {
        let pass = self.current.remove(&scope).unwrap_or_default();
        self.previous.insert(scope, pass);
        if scope.is_none() {
            self.counts.audits = self.counts.audits.saturating_add(1);
        }
    }

    /// Whether `finding`, seen in the current pass of its scope (or
    /// outside any pass, for a repair before a reply), counts now: a
    /// repair always; damage when believed (confirmed if it needs it) and
    /// not counted already while it persisted.
    pub fn admit(&mut self, finding: &Finding) -> bool {
        let scope = finding.group();
        let previous = self.previous.get(&scope);
        let seen_before = previous.is_some_and(|p| p.seen.contains(finding));
        let counted_before = previous.is_some_and(|p| p.counted.contains(finding));
        let pass = self.current.entry(scope).or_default();
        pass.seen.insert(*finding);
        if finding.is_repair() {
            return true;
        }
        if finding.needs_confirmation() && !seen_before {
            return false;
        }
        pass.counted.insert(*finding);
        !counted_before
    }

    /// Counts `detected` and logs it unless its kind was logged for its
    /// scope less than the log interval ago (then it is left out, and the
    /// next line says so).
    pub fn count_and_log(&mut self, detected: &Detected, now_ms: u64) {
        let finding = &detected.finding;
        let kind = finding.kind();
        self.counts.add(kind);
        let detail = finding.to_string();
        if let Some(group) = finding
            .group()
            .and_then(|g| self.groups.get_mut(g as usize))
        {
            group.findings = group.findings.saturating_add(1);
            group.last_kind = Some(kind);
            group.last_detail.clone_from(&detail);
        }
        let interval = self.log_interval_ms;
        let text = format!("{detail}{}", affected_text(detected));
        let state = self
            .logged
            .entry((kind, finding.group()))
            .or_insert(LogState {
                at_ms: now_ms.saturating_sub(interval),
                left_out: 0,
                last_left_out: String::new(),
            });
        if now_ms.saturating_sub(state.at_ms) < interval {
            state.left_out += 1;
            state.last_left_out = text;
            return;
        }
        state.at_ms = now_ms;
        let more = left_out_text(state, interval, false);
        log::warn!("audit: {text}{more}");
    }

    /// Logs, for each kind and scope whose log interval has passed since
    /// findings were left out, the last of them and how many there were
    /// (one line each), so that what was counted also shows in the log.
    pub fn flush(&mut self, now_ms: u64) {
        let interval = self.log_interval_ms;
        for state in self.logged.values_mut() {
            if state.left_out == 0 || now_ms.saturating_sub(state.at_ms) < interval {
                continue;
            }
            state.at_ms = now_ms;
            let last = std::mem::take(&mut state.last_left_out);
            let summary = left_out_text(state, interval, true);
            log::warn!("audit: {last}{summary}");
        }
    }

    /// The counters of every kind.
    pub fn counts(&self) -> AuditCounts {
        self.counts.clone()
    }

    /// The findings of group `group`: count, last kind and detail (cut to
    /// fit a `GroupInfo`).
    pub fn group(&self, group: u32) -> (u64, FindingKind, FixedString<MAX_FINDING_DETAIL_LEN>) {
        let found = self.groups.get(group as usize).cloned().unwrap_or_default();
        (
            found.findings,
            found.last_kind.unwrap_or(FindingKind::None),
            FixedString::from_str_truncated(&found.last_detail),
        )
    }
}

fn affected_text(detected: &Detected) -> String {
    let ports = &detected.affected;
    match ports.as_slice() {
        [] => String::new(),
        [one] => format!("; affects {} of process {}", one.port, one.owner_pid),
        [first, ..] => format!(
            "; affects {} ports, e.g. {} of process {}",
            ports.len(),
            first.port,
            first.owner_pid
        ),
    }
}

/// What a log line adds about the findings of its kind and scope left out
/// since the last line (taking their count): after a new finding
/// (`summary` false) how many more there were; in a summary line (`summary`
/// true) that it shows the last of them.
fn left_out_text(state: &mut LogState, interval_ms: u64, summary: bool) -> String {
    match (std::mem::take(&mut state.left_out), summary) {
        (0, _) => String::new(),
        (n, false) => format!(" ({n} more of this kind in the last {interval_ms} ms not logged)"),
        (n, true) => format!(
            " (the last of {n} of this kind in the last {interval_ms} ms not logged one by one)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::freelist::ChainDamage;
    use zerocp_core::word_repair::WordRepair;

    fn detected(finding: Finding) -> Detected {
        Detected {
            finding,
            affected: Vec::new(),
        }
    }

    fn cycle() -> Finding {
        Finding::FreelistChain {
            group: 1,
            pool: 0,
            head: 3,
            damage: ChainDamage::Cycle { capacity: 4 },
        }
    }

    fn lost() -> Finding {
        Finding::LostChunks {
            group: 1,
            pool: 0,
            chunks: 2,
            first: 5,
        }
    }

    /// Runs one pass of group 1 seeing `findings`; returns which counted.
    fn pass(ledger: &mut AuditLedger, findings: &[Finding]) -> Vec<bool> {
        ledger.begin_pass(Some(1));
        let admitted = findings.iter().map(|f| ledger.admit(f)).collect();
        ledger.end_pass(Some(1));
        admitted
    }

    #[test]
    fn damage_needing_confirmation_counts_on_its_second_sighting_only() {
        let mut ledger = AuditLedger::new(2, 1000);
        assert_eq!(pass(&mut ledger, &[cycle()]), [false]);
        assert_eq!(pass(&mut ledger, &[cycle()]), [true]);
        assert_eq!(pass(&mut ledger, &[cycle()]), [false], "persists: once");
        assert_eq!(pass(&mut ledger, &[]), Vec::<bool>::new());
        assert_eq!(pass(&mut ledger, &[cycle()]), [false], "a suspect again");
    }

    #[test]
    fn proven_damage_counts_once_while_it_persists_and_repairs_always() {
        let mut ledger = AuditLedger::new(2, 1000);
        let repair = Finding::GroupHeader {
            group: 1,
            repair: WordRepair::new(),
        };
        assert_eq!(pass(&mut ledger, &[lost(), repair]), [true, true]);
        assert_eq!(pass(&mut ledger, &[lost(), repair]), [false, true]);
    }

    #[test]
    fn counts_every_finding_and_keeps_the_last_per_group() {
        let mut ledger = AuditLedger::new(2, 1000);
        for now in [10_000, 10_001, 10_002] {
            ledger.count_and_log(&detected(lost()), now);
        }
        ledger.begin_pass(None);
        ledger.end_pass(None);
        let counts = ledger.counts();
        assert_eq!((counts.lost_chunks, counts.audits), (3, 1));
        let (findings, kind, detail) = ledger.group(1);
        assert_eq!((findings, kind), (3, FindingKind::LostChunks));
        assert!(detail.as_str().starts_with("pool 0 of group 1: 2 chunks"));
        assert_eq!(ledger.group(0).0, 0);
        let state = &ledger.logged[&(FindingKind::LostChunks, Some(1))];
        assert_eq!((state.at_ms, state.left_out), (10_000, 2));
        assert!(state.last_left_out.starts_with("pool 0 of group 1"));
        ledger.flush(10_500);
        let state = &ledger.logged[&(FindingKind::LostChunks, Some(1))];
        assert_eq!(state.left_out, 2, "not before the interval passed");
        ledger.flush(11_000);
        let state = &ledger.logged[&(FindingKind::LostChunks, Some(1))];
        assert_eq!((state.at_ms, state.left_out), (11_000, 0));
    }
}
