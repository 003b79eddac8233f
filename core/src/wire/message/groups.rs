//! Segment groups as the introspection answers describe them: their
//! patterns, access rules, pools, resets and findings ([`GroupInfo`]), paged
//! ([`GroupsPage`]), and the limits on their names, patterns and rules.

use super::{FindingKind, MAX_FINDING_DETAIL_LEN, MempoolInfo};
use crate::fixed_string::FixedString;
use crate::mempool::MAX_MEMPOOLS;
use crate::service::MAX_NAME_LEN;
use crate::wire::codec::{wire_enum, wire_struct};

/// Entries per [`GroupsPage`]: one group (with its patterns, rules and
/// pools) per page, so a page fits [`MAX_FRAME_SIZE`](crate::wire::MAX_FRAME_SIZE)
/// (asserted at compile time).
pub const GROUPS_PER_PAGE: usize = 1;

/// Longest segment group name, in bytes (`[[group]] name`).
pub const MAX_GROUP_NAME_LEN: usize = 32;

/// Longest service pattern (`service/instance/event`, each part a name or `*`).
pub const MAX_PATTERN_LEN: usize = 3 * MAX_NAME_LEN + 2;

/// Most service patterns of one segment group.
pub const MAX_GROUP_PATTERNS: usize = 8;

/// Most uids (and, separately, gids) of one access rule.
pub const MAX_RULE_IDS: usize = 16;

wire_enum! {
    /// Whom an [`AccessRule`] admits.
    pub enum RuleScope: u8 {
        /// Only the listed uids and gids (and root and the daemon's uid).
        Listed = 0,
        /// Every process allowed to connect (the `default` group's rules).
        Everyone = 1,
    }
}

wire_struct! {
    /// Who may create one kind of port (publishers or subscribers) in a
    /// segment group.
    pub struct AccessRule {
        /// Everyone, or only the listed ids.
        pub scope: RuleScope,
        /// Uids admitted (besides root and the daemon's own uid).
        pub uids: heapless::Vec<u32, MAX_RULE_IDS>,
        /// Primary gids admitted.
        pub gids: heapless::Vec<u32, MAX_RULE_IDS>,
    }
}

wire_struct! {
    /// One segment group: the services it claims, its access rules and its
    /// mempools.
    pub struct GroupInfo {
        /// Its name (`default` for the implicit group).
        pub name: FixedString<MAX_GROUP_NAME_LEN>,
        /// Its service patterns (`service/instance/event`, `*` for a whole
        /// part); empty for `default`, which holds every service no other
        /// group claims.
        pub patterns: heapless::Vec<FixedString<MAX_PATTERN_LEN>, MAX_GROUP_PATTERNS>,
        /// Who may create publishers.
        pub publish: AccessRule,
        /// Who may create subscribers.
        pub subscribe: AccessRule,
        /// Its pools, smallest chunk size first.
        pub pools: heapless::Vec<MempoolInfo, MAX_MEMPOOLS>,
        /// How often the daemon reset the group onto fresh memory since it
        /// started (by an operator, or to recover chunks lost to corruption).
        pub resets: u32,
        /// Findings of the daemon's audit in the group's memory so far.
        pub findings: u64,
        /// The kind of the last one ([`FindingKind::None`]: none yet).
        pub last_finding: FindingKind,
        /// What the last one was (cut to fit), empty when none.
        pub last_finding_detail: FixedString<MAX_FINDING_DETAIL_LEN>,
    }
}

wire_struct! {
    /// Daemon → client: a page of segment groups, `default` first.
    pub struct GroupsPage {
        /// The groups.
        pub entries: heapless::Vec<GroupInfo, GROUPS_PER_PAGE>,
        /// Where the next page starts, or [`PAGE_END`](super::PAGE_END).
        pub next: u32,
    }
}
