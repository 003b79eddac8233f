//! What the daemon's audit of shared memory found, as the introspection
//! answers report it: the [`FindingKind`]s and their [`AuditCounts`].

use crate::wire::codec::{wire_enum, wire_struct};

/// Longest detail of a finding in a [`GroupInfo`](super::GroupInfo), in bytes.
pub const MAX_FINDING_DETAIL_LEN: usize = 96;

wire_enum! {
    /// What the daemon's audit of shared memory found inconsistent (the
    /// daemon's log says which word, pool or port; `zerocpd`'s
    /// `audit_findings` module describes each kind).
    pub enum FindingKind: u8 {
        /// Nothing found (yet).
        None = 0,
        /// A word of the mgmt header differed from the daemon's; restored.
        MgmtHeader = 1,
        /// A word of a group's header differed from the daemon's; restored.
        GroupHeader = 2,
        /// A freelist header's capacity differed; restored.
        FreelistHeader = 3,
        /// A freelist's head, links or count are damaged.
        FreelistChain = 4,
        /// A subscriber's queue has positions or entries out of range.
        SubscriberQueue = 5,
        /// A daemon-written word of a port's control block differed; restored.
        PortControl = 6,
        /// Chunks neither free nor held by anyone (or counted more often
        /// than held): they will not come back by themselves.
        LostChunks = 7,
        /// Chunks held more often than counted, or free while held: one
        /// chunk can reach two owners.
        OverReferenced = 8,
        /// A process's heartbeat slot was written inconsistently.
        Heartbeat = 9,
    }
}

wire_struct! {
    /// How many findings of each kind the daemon's audit made since it
    /// started, and how many audits ran.
    ///
    /// With the feature `serde`, `Serialize` writes exactly these fields, in
    /// this order (`zerocpctl status --json` shows them as `audit`).
    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
    pub struct AuditCounts {
        /// Audits run (timer and reclaims).
        pub audits: u64,
        /// [`FindingKind::MgmtHeader`] findings.
        pub mgmt_header: u64,
        /// [`FindingKind::GroupHeader`] findings.
        pub group_header: u64,
        /// [`FindingKind::FreelistHeader`] findings.
        pub freelist_header: u64,
        /// [`FindingKind::FreelistChain`] findings.
        pub freelist_chain: u64,
        /// [`FindingKind::SubscriberQueue`] findings.
        pub subscriber_queue: u64,
        /// [`FindingKind::PortControl`] findings.
        pub port_control: u64,
        /// [`FindingKind::LostChunks`] findings.
        pub lost_chunks: u64,
        /// [`FindingKind::OverReferenced`] findings.
        pub over_referenced: u64,
        /// [`FindingKind::Heartbeat`] findings.
        pub heartbeat: u64,
    }
}

impl AuditCounts {
    /// No audit run, nothing found.
    pub const fn new() -> Self {
        Self {
            audits: 0,
            mgmt_header: 0,
            group_header: 0,
            freelist_header: 0,
            freelist_chain: 0,
            subscriber_queue: 0,
            port_control: 0,
            lost_chunks: 0,
            over_referenced: 0,
            heartbeat: 0,
        }
    }

    fn counter(&mut self, kind: FindingKind) -> Option<&mut u64> {
        Some(match kind {
            FindingKind::None => return None,
            FindingKind::MgmtHeader => &mut self.mgmt_header,
            FindingKind::GroupHeader => &mut self.group_header,
            FindingKind::FreelistHeader => &mut self.freelist_header,
            FindingKind::FreelistChain => &mut self.freelist_chain,
            FindingKind::SubscriberQueue => &mut self.subscriber_queue,
            FindingKind::PortControl => &mut self.port_control,
            FindingKind::LostChunks => &mut self.lost_chunks,
            FindingKind::OverReferenced => &mut self.over_referenced,
            FindingKind::Heartbeat => &mut self.heartbeat,
        })
    }

    /// Counts one finding of `kind` (nothing for [`FindingKind::None`]).
    ///
    /// ```
    /// use zerocp_core::wire::{AuditCounts, FindingKind};
    /// let mut counts = AuditCounts::new();
    /// counts.add(FindingKind::Heartbeat);
    /// counts.add(FindingKind::None);
    /// assert_eq!((counts.get(FindingKind::Heartbeat), counts.findings()), (1, 1));
    /// ```
    pub fn add(&mut self, kind: FindingKind) {
        if let Some(counter) = self.counter(kind) {
            *counter = counter.saturating_add(1);
        }
    }

    /// Findings of `kind` (0 for [`FindingKind::None`]).
    pub fn get(&self, kind: FindingKind) -> u64 {
        match kind {
            FindingKind::None => 0,
            FindingKind::MgmtHeader => self.mgmt_header,
            FindingKind::GroupHeader => self.group_header,
            FindingKind::FreelistHeader => self.freelist_header,
            FindingKind::FreelistChain => self.freelist_chain,
            FindingKind::SubscriberQueue => self.subscriber_queue,
            FindingKind::PortControl => self.port_control,
            FindingKind::LostChunks => self.lost_chunks,
            FindingKind::OverReferenced => self.over_referenced,
            FindingKind::Heartbeat => self.heartbeat,
        }
    }

    /// Findings of every kind together.
    pub fn findings(&self) -> u64 {
        FindingKind::ALL
            .iter()
            .map(|&kind| self.get(kind))
            .fold(0, u64::saturating_add)
    }
}

impl Default for AuditCounts {
    fn default() -> Self {
        Self::new()
    }
}
