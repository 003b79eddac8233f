//! Answers to the introspection queries `zerocpctl` (or any client) sends:
//! `QueryStatus`, `QueryProcesses`, `QueryServices`, `QueryMempools` and
//! `QueryGroups`.
//!
//! Queries are read-only and are answered on any connection that passed the
//! access check, registered or not, so a tool can look at a domain without
//! taking a process slot. Lists come in pages (a page fits one frame): the
//! client asks from position 0 and then from each page's `next` until
//! [`PAGE_END`]. Ports are listed ordered by service, then publishers before
//! subscribers, each in creation order.
//!
//! Values read from shared memory (queue fill, the ports' counters of
//! samples published, received, dropped and timed out, failed loans and
//! time blocked, chunks held, heartbeat ages) are what an application
//! wrote there and are only displayed, never used as indices or sizes.
//! `Status` adds the daemon's own counters of processes registered, died
//! and dropped for missing heartbeats, and chunk references reclaimed
//! ([`crate::process_counters`]). A process's chunks held
//! are the references its ports list in the group control parts: loans,
//! history entries, taken samples, and samples queued for its subscribers.
//! Each pool shows its process and port quotas (`crate::quota_config`).
//!
//! A process dropped for missing heartbeats is listed as `Unresponsive`
//! until it exits (it still holds its slot and chunks); its ports are no
//! longer in the route table, so `QueryServices` does not list them, while
//! `Status` still counts them (their slots are not free yet).
//!
//! `QueryGroups` lists the segment groups one per page, `default` first:
//! name, service patterns, the publish and subscribe rules (`Everyone` for
//! `default`), the group's pools with their usage (of its current memory),
//! how often it was reset onto fresh memory ([`crate::group_reset`]) and
//! what the audit of shared memory found in the group ([`crate::audit`]);
//! `Status` carries the audit's counters by kind. Every pool in
//! `QueryMempools` names its group.

use zerocp_core::fixed_string::FixedString;
use zerocp_core::sync::Ordering;
use zerocp_core::wire::{
    AccessRule, GROUPS_PER_PAGE, GroupInfo, GroupsPage, MempoolInfo, Mempools, PAGE_END,
    PORTS_PER_PAGE, PROCESSES_PER_PAGE, PortInfo, PortKind, PortsPage, ProcessInfo, ProcessState,
    ProcessesPage, RuleScope, Status,
};

use crate::connection_refusals::ConnectionCounters;
use crate::control_plane::ControlPlane;
use crate::group_config::AccessRuleSpec;
use crate::group_memory::GroupMemory;
use crate::port_id::PortId;
use crate::segment_groups::SegmentGroup;

impl ControlPlane<'_> {
    /// The `Status` reply at `now_ms`, with the event loop's `connections`
    /// counters (it owns the connections).
    pub fn status(&self, now_ms: u64, connections: ConnectionCounters) -> Status {
        let lifecycle = self.processes.counters();
        Status {
            daemon_pid: self.identity.pid,
            uptime_ms: now_ms.saturating_sub(self.identity.started_ms),
            epoch: self.identity.epoch,
            processes: self.processes.count(),
            publishers: self.ports.used(PortKind::Publisher),
            subscribers: self.ports.used(PortKind::Subscriber),
            services: u32::try_from(self.routes.len()).unwrap_or(u32::MAX),
            mgmt_size: self.identity.mgmt_size,
            data_size: self.identity.data_size,
            control_size: self.identity.control_size,
            refused_connections: connections.refused,
            evicted_connections: connections.evicted,
            expired_connections: connections.expired,
            processes_registered: lifecycle.registered,
            processes_died: lifecycle.died,
            heartbeat_timeouts: lifecycle.heartbeat_timeouts,
            chunks_reclaimed: lifecycle.chunks_reclaimed,
            audit: self.audit.counts(),
        }
    }

    /// The page of processes from position `start`.
    pub fn processes_page(&self, start: u32, now_ms: u64) -> ProcessesPage {
        let timeout = self.config.heartbeat.timeout_ms;
        let mut entries = heapless::Vec::new();
        let mut all = self.processes.iter().skip(start as usize);
        for process in all.by_ref().take(PROCESSES_PER_PAGE) {
            let age = process.heartbeat.slot().age_ms(now_ms);
            let state = if process.unresponsive_since_ms.is_some() {
                ProcessState::Unresponsive
            } else if age > timeout / 2 {
                ProcessState::Late
            } else {
                ProcessState::Alive
            };
            let info = ProcessInfo {
                pid: process.creds.pid,
                process_slot: process.slot,
                name: FixedString::from_str_truncated(&process.name),
                state,
                heartbeat_age_ms: u32::try_from(age).unwrap_or(u32::MAX),
                chunks_held: process
                    .ports
                    .iter()
                    .map(|id| self.chunks_held(*id))
                    .fold(0, u32::saturating_add),
            };
            // Cannot fail: at most PROCESSES_PER_PAGE entries are taken.
            let _ = entries.push(info);
        }
        ProcessesPage {
            next: next_position(start, entries.len(), all.next().is_some()),
            entries,
        }
    }

    /// The chunk references port `id` lists now (see the module docs).
    fn chunks_held(&self, id: PortId) -> u32 {
        let Some(control) = self.pool_manager(id.group).map(|p| p.control()) else {
            return 0;
        };
        match id.kind {
            PortKind::Publisher => control
                .publisher(id.index)
                .map_or(0, |p| p.loans.count() + p.history.len()),
            PortKind::Subscriber => control
                .subscriber(id.index)
                .map_or(0, |s| s.held.count() + s.queue.len()),
            PortKind::Notifier | PortKind::Listener => 0,
        }
    }

    /// The page of ports from position `start`.
    pub fn ports_page(&self, start: u32) -> PortsPage {
        let mut all = self
            .routes
            .iter()
            .flat_map(|routes| {
                routes
                    .publishers
                    .iter()
                    .chain(&routes.subscribers)
                    .map(move |id| (routes, *id))
            })
            .skip(start as usize);
        let mut entries = heapless::Vec::new();
        for (routes, id) in all.by_ref().take(PORTS_PER_PAGE) {
            let info = self.port_info(id, routes.service, routes.port_type.shown());
            // Cannot fail: at most PORTS_PER_PAGE entries are taken.
            let _ = entries.push(info);
        }
        PortsPage {
            next: next_position(start, entries.len(), all.next().is_some()),
            entries,
        }
    }

    fn port_info(
        &self,
        id: PortId,
        service: zerocp_core::service::ServiceDescription,
        type_info: zerocp_core::service::TypeInfo,
    ) -> PortInfo {
        let owner_pid = self
            .processes
            .iter()
            .find(|p| p.ports.contains(&id))
            .map_or(0, |p| p.creds.pid);
        let mut info = PortInfo::new(service, id.kind, id.index, id.group, owner_pid, type_info);
        let Some(control) = self.pool_manager(id.group).map(|p| p.control()) else {
            return info;
        };
        match id.kind {
            PortKind::Subscriber => {
                if let Some(port) = control.subscriber(id.index) {
                    info.queue_len = port.queue.len();
                    info.queue_capacity = port.queue.capacity();
                    // Relaxed: statistics, displayed only.
                    info.dropped = port.stats.dropped.load(Ordering::Relaxed);
                    info.timed_out = port.stats.timed_out.load(Ordering::Relaxed);
                    info.received = port.stats.received.load(Ordering::Relaxed);
                }
            }
            PortKind::Publisher => {
                if let Some(port) = control.publisher(id.index) {
                    // Relaxed: statistics, displayed only.
                    let stats = &port.stats;
                    info.timed_out = stats.timed_out.load(Ordering::Relaxed);
                    info.published = stats.published.load(Ordering::Relaxed);
                    info.loans_failed = stats.loans_failed.load(Ordering::Relaxed);
                    info.blocked_ns = stats.blocked_ns.load(Ordering::Relaxed);
                }
            }
            // An event port has no queue and no statistics.
            PortKind::Notifier | PortKind::Listener => {}
        }
        info
    }

    /// The `Mempools` reply: usage of every pool, by group (`default`
    /// first), smallest chunks first.
    pub fn mempools(&self) -> Mempools {
        Mempools {
            pools: self.pool_infos(|_| true),
        }
    }

    /// Usage of the pools whose group index passes `wanted`.
    fn pool_infos(
        &self,
        wanted: impl Fn(u32) -> bool,
    ) -> heapless::Vec<MempoolInfo, { zerocp_core::mempool::MAX_MEMPOOLS }> {
        let mut pools = heapless::Vec::new();
        let wanted_parts = (0u32..)
            .zip(self.parts.iter().map(GroupMemory::manager))
            .filter(|(group, _)| wanted(*group));
        for (group, part) in wanted_parts {
            let count = part.control().config().mempools().len() as u32;
            for pool in 0..count {
                let Some(stats) = part.pool_stats(pool) else {
                    continue;
                };
                let quota = self.mgmt.config().quotas().get(group, pool);
                let info = MempoolInfo {
                    chunk_size: stats.chunk_size,
                    chunk_count: stats.chunk_count,
                    used: stats.used,
                    min_free: stats.min_free,
                    group: FixedString::from_str_truncated(self.groups.name(group)),
                    process_quota: quota.map_or(0, |q| q.process()),
                    port_quota: quota.map_or(0, |q| q.port()),
                };
                // Cannot fail: the configuration holds at most MAX_MEMPOOLS
                // pools over all groups.
                let _ = pools.push(info);
            }
        }
        pools
    }

    /// The page of segment groups from position `start` (`default` is 0).
    pub fn groups_page(&self, start: u32) -> GroupsPage {
        let mut entries = heapless::Vec::new();
        let mut all = self.groups.iter().enumerate().skip(start as usize);
        for (index, group) in all.by_ref().take(GROUPS_PER_PAGE) {
            // Cannot fail: at most GROUPS_PER_PAGE entries are taken.
            let _ = entries.push(self.group_info(index as u32, group));
        }
        GroupsPage {
            next: next_position(start, entries.len(), all.next().is_some()),
            entries,
        }
    }

    fn group_info(&self, index: u32, group: &SegmentGroup) -> GroupInfo {
        // The configuration bounds patterns and ids (MAX_GROUP_PATTERNS,
        // MAX_RULE_IDS), so every list fits; a pattern fits MAX_PATTERN_LEN.
        let patterns = group
            .patterns
            .iter()
            .map(|p| FixedString::from_str_truncated(&p.to_string()))
            .take(zerocp_core::wire::MAX_GROUP_PATTERNS)
            .collect();
        let (findings, last_finding, last_finding_detail) = self.audit.group(index);
        GroupInfo {
            name: FixedString::from_str_truncated(&group.name),
            patterns,
            publish: access_rule(group.publish.as_ref()),
            subscribe: access_rule(group.subscribe.as_ref()),
            pools: self.pool_infos(|g| g == index),
            resets: self
                .parts
                .get(index as usize)
                .map_or(0, GroupMemory::incarnation),
            findings,
            last_finding,
            last_finding_detail,
        }
    }
}

/// A rule on the wire: `None` (the `default` group's) is `Everyone`.
fn access_rule(rule: Option<&AccessRuleSpec>) -> AccessRule {
    let ids = |ids: &[u32]| {
        ids.iter()
            .copied()
            .take(zerocp_core::wire::MAX_RULE_IDS)
            .collect()
    };
    match rule {
        None => AccessRule {
            scope: RuleScope::Everyone,
            uids: heapless::Vec::new(),
            gids: heapless::Vec::new(),
        },
        Some(rule) => AccessRule {
            scope: RuleScope::Listed,
            uids: ids(&rule.uids),
            gids: ids(&rule.gids),
        },
    }
}

/// `next` of a page that started at `start` and holds `len` entries.
fn next_position(start: u32, len: usize, more: bool) -> u32 {
    if more {
        start.saturating_add(len as u32)
    } else {
        PAGE_END
    }
}
