//! The audit of what the daemon owns in shared memory: when it runs, what
//! it covers, and the one place its findings go ([`ControlPlane::on_corruption`]).
//!
//! Processes may write memory the daemon owns: a group's control part is
//! writable by every process with a port in the group, a heartbeat file by
//! its process, and (for the daemon's own user or root, through `/proc`) the
//! mgmt segment. The daemon does not trust any of it; it audits it
//!
//! - **on a timer** (`[audit] interval_ms`, [`crate::audit_config`]): the
//!   mgmt header, every group ([`crate::group_audit`]) and every heartbeat
//!   slot ([`crate::heartbeat_audit`]);
//! - **right after it reclaims a process**: the groups that process had
//!   ports in (a dead process's last writes are final; a reclaim over
//!   scribbled lists shows at once);
//! - **right before it hands memory out**: the mgmt header before a
//!   `Registered` reply and a group's header and freelist headers before a
//!   `PortCreated` reply are repaired, so no scribbled header keeps a
//!   newcomer out (a runtime whose attach still fails on a header word asks
//!   once more before it reports the group as corrupt).
//!
//! Every finding passes the [`AuditLedger`] (confirmation, counted once
//! while it persists); what counts goes, with the ports it affects
//! ([`Detected`]), to [`ControlPlane::on_corruption`], the one place a
//! reaction belongs: it counts and logs the finding (rate-limited) and
//! responds ([`crate::audit_response`]): a corrupt subscriber queue or port
//! control block gets that port revoked (its owner told why, once), a
//! corrupt pool gets its group reset (at once or once it is empty, by
//! `[audit] on_corrupt_pool`). A restored header word needs nothing more,
//! and a heartbeat finding never leads to a revocation or a reclaim: memory
//! comes back on a process's exit only. A pass over a group that resets it
//! stops there: what else it found lies in memory the group no longer uses.

use zerocp_core::fixed_string::FixedString;
use zerocp_core::wire::{AuditCounts, FindingKind, MAX_FINDING_DETAIL_LEN, PortKind};
use zerocp_os_linux::clock::monotonic_ms;

use crate::audit_config::AuditConfig;
use crate::audit_findings::{AffectedPort, Detected, Finding};
use crate::audit_ledger::AuditLedger;
use crate::chunk_accounting::ChunkAccounting;
use crate::control_plane::ControlPlane;
use crate::group_audit;
use crate::group_memory::GroupMemory;
use crate::port_id::PortId;

/// The audit's timer, ledger and per-group chunk accounting.
#[derive(Debug)]
pub struct Audit {
    config: AuditConfig,
    next_ms: u64,
    ledger: AuditLedger,
    /// Each group's chunk accounting, by group index.
    chunks: Vec<ChunkAccounting>,
}

impl Audit {
    /// The audit of the groups whose memory is `parts` (by group index),
    /// its first timed pass one interval after `now_ms`.
    pub fn new(config: AuditConfig, parts: &[GroupMemory], now_ms: u64) -> Self {
        Self {
            config,
            next_ms: now_ms.saturating_add(config.interval_ms),
            ledger: AuditLedger::new(parts.len(), config.log_interval_ms()),
            chunks: parts
                .iter()
                .map(|p| ChunkAccounting::new(p.manager().refcounts().len()))
                .collect(),
        }
    }

    /// Forgets what the chunk accounting suspected in group `group`'s
    /// memory: the group was reset onto fresh memory
    /// ([`crate::group_reset`]), where nothing is suspect.
    pub fn forget_group(&mut self, group: u32) {
        if let Some(chunks) = self.chunks.get_mut(group as usize) {
            *chunks = ChunkAccounting::new(chunks.chunks());
        }
    }

    /// What was found so far, by kind.
    pub fn counts(&self) -> AuditCounts {
        self.ledger.counts()
    }

    /// The findings of group `group`: count, last kind and detail.
    pub fn group(&self, group: u32) -> (u64, FindingKind, FixedString<MAX_FINDING_DETAIL_LEN>) {
        self.ledger.group(group)
    }
}

impl ControlPlane<'_> {
    /// Milliseconds until the next timed audit (`None`: the timer is off).
    pub fn millis_until_audit(&self, now_ms: u64) -> Option<u64> {
        let audit = &self.audit;
        audit
            .config
            .enabled()
            .then(|| audit.next_ms.saturating_sub(now_ms))
    }

    /// Runs the timed audit if it is due at `now_ms`.
    pub fn audit_if_due(&mut self, now_ms: u64) {
        let audit = &mut self.audit;
        if !audit.config.enabled() || now_ms < audit.next_ms {
            return;
        }
        audit.next_ms = now_ms.saturating_add(audit.config.interval_ms);
        self.audit_domain();
    }

    /// Audits the mgmt header, every heartbeat slot and every group.
    pub fn audit_domain(&mut self) {
        self.audit.ledger.flush(monotonic_ms());
        self.audit.ledger.begin_pass(None);
        let mut findings: Vec<Finding> = self.repair_mgmt_header().into_iter().collect();
        findings.extend(self.audit_heartbeats());
        for finding in findings {
            self.report(finding);
        }
        for group in 0..self.parts.len() as u32 {
            self.audit_group(group);
        }
        self.audit.ledger.end_pass(None);
    }

    /// Audits the groups in `groups` (e.g. those of a process just reclaimed).
    pub fn audit_groups(&mut self, groups: &[u32]) {
        for &group in groups {
            self.audit_group(group);
        }
    }

    fn audit_group(&mut self, group: u32) {
        let (Some(part), Some(chunks)) = (
            self.parts.get(group as usize),
            self.audit.chunks.get_mut(group as usize),
        ) else {
            return;
        };
        self.audit.ledger.begin_pass(Some(group));
        let findings = group_audit::audit_group(part.manager(), group, &self.ports, chunks);
        let incarnation = part.incarnation();
        for finding in findings {
            if self.parts.get(group as usize).map(GroupMemory::incarnation) != Some(incarnation) {
                // Reset by an earlier finding: the rest lies in old memory.
                break;
            }
            self.report(finding);
        }
        self.audit.ledger.end_pass(Some(group));
    }

    /// Repairs group `group`'s header and freelist headers right before a
    /// `PortCreated` reply hands the group out.
    pub(crate) fn repair_before_port_reply(&mut self, group: u32) {
        let Some(part) = self.pool_manager(group) else {
            return;
        };
        for finding in group_audit::repair_headers(part, group) {
            self.report(finding);
        }
    }

    /// Repairs the mgmt header right before a `Registered` reply hands it out.
    pub(crate) fn repair_before_registration_reply(&mut self) {
        if let Some(finding) = self.repair_mgmt_header() {
            self.report(finding);
        }
    }

    fn repair_mgmt_header(&self) -> Option<Finding> {
        let repair = self
            .mgmt
            .repair_header(self.identity.pid, self.identity.epoch);
        (!repair.is_clean()).then_some(Finding::MgmtHeader { repair })
    }

    /// Passes `finding` through the ledger; what counts goes to
    /// [`on_corruption`](Self::on_corruption) with the ports it affects.
    fn report(&mut self, finding: Finding) {
        if self.audit.ledger.admit(&finding) {
            let detected = Detected {
                affected: self.affected(&finding),
                finding,
            };
            self.on_corruption(&detected);
        }
    }

    /// What the daemon does about a counted finding: the one place to react
    /// (module docs). It counts it (`zerocpctl status`, `groups`), logs it
    /// (at most once per kind per group per log interval) and responds
    /// ([`crate::audit_response`]).
    pub fn on_corruption(&mut self, detected: &Detected) {
        self.audit.ledger.count_and_log(detected, monotonic_ms());
        self.respond(detected);
    }

    /// The ports in use that `finding` concerns (see [`Detected::affected`]).
    fn affected(&self, finding: &Finding) -> Vec<AffectedPort> {
        match *finding {
            Finding::MgmtHeader { .. }
            | Finding::GroupHeader { .. }
            | Finding::FreelistHeader { .. } => Vec::new(),
            Finding::FreelistChain { group, pool, .. }
            | Finding::LostChunks { group, pool, .. }
            | Finding::OverReferenced { group, pool, .. } => {
                // Event ports take no chunk from any pool.
                self.ports_in_use(group, |w| {
                    !w.id.kind.is_event() && w.settings.is_some_and(|s| s.mempool == pool)
                })
            }
            Finding::SubscriberQueue { port, .. } | Finding::PortControl { port, .. } => {
                self.ports_in_use(port.group, |w| w.id == port)
            }
            Finding::Heartbeat { slot, .. } => self
                .processes
                .get(slot)
                .map(|p| p.ports.iter().filter_map(|&id| self.in_use(id)).collect())
                .unwrap_or_default(),
        }
    }

    /// The ports in use of `group` (every kind) that `wanted` picks.
    fn ports_in_use(
        &self,
        group: u32,
        wanted: impl Fn(&crate::port_registry::WrittenPort) -> bool,
    ) -> Vec<AffectedPort> {
        PortKind::ALL
            .iter()
            .copied()
            .flat_map(|kind| self.ports.written(group, kind))
            .filter(|w| wanted(w))
            .filter_map(|w| self.in_use(w.id))
            .collect()
    }

    /// `id` and its owner, if it is the current allocation of its slot.
    fn in_use(&self, id: PortId) -> Option<AffectedPort> {
        let settings = self.ports.settings_in_use(id)?;
        Some(AffectedPort {
            port: id,
            owner_slot: settings.owner_slot,
            owner_pid: settings.owner_pid,
        })
    }
}
