//! [`Finding`]: what the audit of shared memory found inconsistent, and
//! [`AffectedPort`]: whose ports it concerns.
//!
//! The audit ([`crate::audit`]) compares what the daemon owns in shared
//! memory with its own bookkeeping and reports each inconsistency as one
//! typed finding: its kind ([`FindingKind`], what `zerocpctl status`
//! counts), where (the group, the pool or the port, the process) and what
//! was read. Two kinds of finding:
//!
//! - **repairs**: a word only the daemon writes held another value and was
//!   put back (the mgmt header, a group header, a freelist header's
//!   capacity, a port's control block, a heartbeat's owner words). Each one
//!   is a new write by someone else, so each is counted;
//! - **damage**: a structure the group's processes share is broken in a way
//!   no race explains (a freelist's head, links or count, a subscriber
//!   queue's positions or entries, chunks lost or held more often than
//!   counted, a heartbeat from the future). It stays until someone repairs
//!   or resets the group, so it is counted once while it persists; what a
//!   single read cannot prove ([`Finding::needs_confirmation`]) is believed
//!   only when the next audit sees it again.
//!
//! [`Detected`] pairs a finding with the ports it affects, which
//! [`crate::control_plane::ControlPlane::on_corruption`] receives.

use std::fmt;

use zerocp_core::chunk_queue::QueueDamage;
use zerocp_core::freelist::ChainDamage;
use zerocp_core::wire::FindingKind;
use zerocp_core::word_repair::WordRepair;

use crate::port_id::PortId;

/// What is wrong with a subscriber's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueProblem {
    /// Its capacity word held another value; restored.
    Capacity {
        /// The value found.
        found: u32,
        /// The capacity the daemon laid out.
        capacity: u32,
    },
    /// Its positions are damaged.
    Structure(QueueDamage),
    /// An entry names no chunk of the group.
    Entry {
        /// The chunk index found.
        chunk: u32,
        /// The group's chunk count.
        chunks: u32,
    },
}

/// What is wrong with a process's heartbeat slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeartbeatProblem {
    /// Words the daemon wrote (pid, generation, dropped mark) held other
    /// values; restored.
    Owner(WordRepair),
    /// The last beat lies in the future of the daemon's clock (read after
    /// the beat).
    FutureBeat {
        /// The beat's `CLOCK_MONOTONIC` ms.
        beat_ms: u64,
    },
    /// The beat counter went backwards.
    BeatsBackwards {
        /// The count seen before.
        before: u64,
        /// The count now.
        now: u64,
    },
}

/// One inconsistency the audit found (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Finding {
    /// Words of the mgmt header differed from the daemon's; restored.
    MgmtHeader {
        /// The words restored.
        repair: WordRepair,
    },
    /// Words of a group's header differed from the daemon's; restored.
    GroupHeader {
        /// The group.
        group: u32,
        /// The words restored.
        repair: WordRepair,
    },
    /// A freelist header's capacity word differed; restored.
    FreelistHeader {
        /// The group.
        group: u32,
        /// The mempool.
        pool: u32,
        /// The capacity found.
        found: u32,
        /// The pool's chunk count.
        capacity: u32,
    },
    /// A freelist's chain is damaged.
    FreelistChain {
        /// The group.
        group: u32,
        /// The mempool.
        pool: u32,
        /// The head word (index and tag) the walk started from.
        head: u64,
        /// What is damaged.
        damage: ChainDamage,
    },
    /// A subscriber's queue is damaged.
    SubscriberQueue {
        /// The subscriber port.
        port: PortId,
        /// What is damaged.
        problem: QueueProblem,
    },
    /// Daemon-written words of a port's control block (or of its queue's
    /// or history's sizes) differed; restored.
    PortControl {
        /// The port (its slot may be free: then `generation` is the last one).
        port: PortId,
        /// The words restored.
        repair: WordRepair,
    },
    /// Chunks of a pool neither free nor held (or counted more often than
    /// held), in two audits in a row.
    LostChunks {
        /// The group.
        group: u32,
        /// The mempool.
        pool: u32,
        /// How many.
        chunks: u32,
        /// The first one (group-wide index).
        first: u32,
    },
    /// Chunks of a pool held more often than counted, or free while held
    /// or counted, in two audits in a row.
    OverReferenced {
        /// The group.
        group: u32,
        /// The mempool.
        pool: u32,
        /// How many.
        chunks: u32,
        /// The first one (group-wide index).
        first: u32,
    },
    /// A process's heartbeat slot was written inconsistently (only that
    /// process holds it). Never a reason to reclaim anything.
    Heartbeat {
        /// The process's slot.
        slot: u32,
        /// Its pid.
        pid: u32,
        /// What is wrong.
        problem: HeartbeatProblem,
    },
}

impl Finding {
    /// Its kind, as `zerocpctl status` counts it.
    pub fn kind(&self) -> FindingKind {
        match self {
            Self::MgmtHeader { .. } => FindingKind::MgmtHeader,
            Self::GroupHeader { .. } => FindingKind::GroupHeader,
            Self::FreelistHeader { .. } => FindingKind::FreelistHeader,
            Self::FreelistChain { .. } => FindingKind::FreelistChain,
            Self::SubscriberQueue { .. } => FindingKind::SubscriberQueue,
            Self::PortControl { .. } => FindingKind::PortControl,
            Self::LostChunks { .. } => FindingKind::LostChunks,
            Self::OverReferenced { .. } => FindingKind::OverReferenced,
            Self::Heartbeat { .. } => FindingKind::Heartbeat,
        }
    }

    /// The segment group whose memory it is in (`None`: the mgmt segment
    /// or a heartbeat file).
    pub fn group(&self) -> Option<u32> {
        match *self {
            Self::MgmtHeader { .. } | Self::Heartbeat { .. } => None,
            Self::GroupHeader { group, .. }
            | Self::FreelistHeader { group, .. }
            | Self::FreelistChain { group, .. }
            | Self::LostChunks { group, .. }
            | Self::OverReferenced { group, .. } => Some(group),
            Self::SubscriberQueue { port, .. } | Self::PortControl { port, .. } => Some(port.group),
        }
    }

    /// The mempool it concerns, if one.
    pub fn pool(&self) -> Option<u32> {
        match *self {
            Self::FreelistHeader { pool, .. }
            | Self::FreelistChain { pool, .. }
            | Self::LostChunks { pool, .. }
            | Self::OverReferenced { pool, .. } => Some(pool),
            _ => None,
        }
    }

    /// Whether a word was put back (counted every time: each is a new
    /// write), rather than damage found (counted once while it persists).
    pub fn is_repair(&self) -> bool {
        matches!(
            self,
            Self::MgmtHeader { .. }
                | Self::GroupHeader { .. }
                | Self::FreelistHeader { .. }
                | Self::PortControl { .. }
                | Self::SubscriberQueue {
                    problem: QueueProblem::Capacity { .. },
                    ..
                }
                | Self::Heartbeat {
                    problem: HeartbeatProblem::Owner(_) | HeartbeatProblem::BeatsBackwards { .. },
                    ..
                }
        )
    }

    /// Whether one read cannot prove it: damage judged from values that
    /// held still between two reads, which a weakly ordered machine can
    /// fool for a moment (`zerocp_core::freelist::ChainDamage::proven_by_value`).
    /// Such a finding is believed when the next audit sees it again.
    pub fn needs_confirmation(&self) -> bool {
        match self {
            Self::FreelistChain { damage, .. } => !damage.proven_by_value(),
            Self::SubscriberQueue {
                problem: QueueProblem::Structure(damage),
                ..
            } => !damage.proven_by_value(),
            _ => false,
        }
    }
}

impl fmt::Display for QueueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Capacity { found, capacity } => {
                write!(f, "capacity word {found} restored to {capacity}")
            }
            Self::Structure(damage) => damage.fmt(f),
            Self::Entry { chunk, chunks } => {
                write!(f, "an entry names chunk {chunk}, the group has {chunks}")
            }
        }
    }
}

impl fmt::Display for HeartbeatProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Owner(repair) => write!(f, "{} the daemon wrote", Words(repair)),
            Self::FutureBeat { beat_ms } => write!(
                f,
                "last beat at {beat_ms} ms (CLOCK_MONOTONIC) is ahead of the daemon's clock"
            ),
            Self::BeatsBackwards { before, now } => {
                write!(f, "beat count went back from {before} to {now}")
            }
        }
    }
}

/// "N words (first: NAME) restored" for a repair.
struct Words<'a>(&'a WordRepair);

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.words();
        let plural = if n == 1 { "" } else { "s" };
        write!(
            f,
            "{n} word{plural} (first `{}`) restored to what",
            self.0.first().unwrap_or("?")
        )
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MgmtHeader { repair } => {
                write!(f, "mgmt header: {} the daemon wrote", Words(repair))
            }
            Self::GroupHeader { group, repair } => write!(
                f,
                "header of group {group}: {} the daemon wrote",
                Words(repair)
            ),
            Self::FreelistHeader {
                group,
                pool,
                found,
                capacity,
            } => write!(
                f,
                "freelist header of pool {pool} of group {group}: capacity {found} restored to \
                 {capacity}"
            ),
            Self::FreelistChain {
                group,
                pool,
                damage,
                ..
            } => write!(f, "freelist of pool {pool} of group {group}: {damage}"),
            Self::SubscriberQueue { port, problem } => write!(f, "queue of {port}: {problem}"),
            Self::PortControl { port, repair } => {
                write!(
                    f,
                    "control block of {port}: {} the daemon wrote",
                    Words(repair)
                )
            }
            Self::LostChunks {
                group,
                pool,
                chunks,
                first,
            } => write!(
                f,
                "pool {pool} of group {group}: {chunks} chunks (first {first}) are neither free \
                 nor held as counted: they will not come back by themselves"
            ),
            Self::OverReferenced {
                group,
                pool,
                chunks,
                first,
            } => write!(
                f,
                "pool {pool} of group {group}: {chunks} chunks (first {first}) are held more \
                 often than counted, or free while held: one chunk can reach two owners"
            ),
            Self::Heartbeat { slot, pid, problem } => write!(
                f,
                "heartbeat of process {pid} (slot {slot}) written inconsistently: {problem}"
            ),
        }
    }
}

/// A port a finding concerns, and its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AffectedPort {
    /// The port.
    pub port: PortId,
    /// Its owner's process slot.
    pub owner_slot: u32,
    /// Its owner's pid.
    pub owner_pid: u32,
}

/// A finding that was counted, with the ports it affects: what
/// [`crate::control_plane::ControlPlane::on_corruption`] receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// What was found.
    pub finding: Finding,
    /// The ports in use that it concerns: for damage to a pool, every port
    /// using that pool; for a queue or a control block, that port; for a
    /// heartbeat, the process's ports; for a repaired header, none (the
    /// repair is complete and no attached process reads those words again).
    pub affected: Vec<AffectedPort>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::wire::PortKind;

    fn port() -> PortId {
        PortId {
            group: 1,
            kind: PortKind::Subscriber,
            index: 3,
            generation: 2,
        }
    }

    #[test]
    fn kinds_groups_and_counting_rules() {
        let lost = Finding::LostChunks {
            group: 2,
            pool: 1,
            chunks: 4,
            first: 17,
        };
        assert_eq!(
            (lost.kind(), lost.group(), lost.pool()),
            (FindingKind::LostChunks, Some(2), Some(1))
        );
        assert!(!lost.is_repair() && !lost.needs_confirmation());
        let cycle = Finding::FreelistChain {
            group: 0,
            pool: 0,
            head: 5,
            damage: ChainDamage::Cycle { capacity: 8 },
        };
        assert!(cycle.needs_confirmation());
        let queue = Finding::SubscriberQueue {
            port: port(),
            problem: QueueProblem::Capacity {
                found: 0,
                capacity: 4,
            },
        };
        assert!(queue.is_repair());
        assert_eq!(queue.group(), Some(1));
        let text = queue.to_string();
        assert!(text.contains("subscriber port 3 of group 1"), "{text}");
    }

    #[test]
    fn the_text_names_the_word_and_the_process() {
        let mut repair = WordRepair::new();
        let word = zerocp_core::sync::AtomicU32::new(9);
        repair.u32("generation", &word, 1);
        let finding = Finding::Heartbeat {
            slot: 4,
            pid: 4242,
            problem: HeartbeatProblem::Owner(repair),
        };
        let text = finding.to_string();
        assert!(
            text.starts_with("heartbeat of process 4242 (slot 4)"),
            "{text}"
        );
        assert!(
            text.contains("1 word (first `generation`) restored"),
            "{text}"
        );
        assert_eq!(finding.group(), None);
    }
}
