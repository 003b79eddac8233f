//! Resetting a segment group onto fresh memory: how the daemon gets back
//! chunks lost to corruption, and a group out of memory it cannot trust,
//! without restarting the domain.
//!
//! [`ControlPlane::reset_group`] creates new control and payload memory
//! files for the group ([`GroupMemory`], the next incarnation: freshly laid
//! out, every chunk free, held by no process yet), revokes every port of
//! the group (each owner is told, [`crate::revocation`], and the daemon
//! forgets the port: it lived in the old memory), frees all the group's
//! port slots, and from then on hands the new memory to every new port of
//! the group (`PortCreated` carries the incarnation, so a runtime maps it
//! beside the old memory its older ports keep). The daemon drops its own
//! mappings and descriptors of the old memory; the processes that still map
//! it keep it, nobody faults and what they hold stays readable, and the
//! kernel frees it when the last of them lets go. Processes recreate their
//! ports and traffic flows again. Until the old memory is freed the group
//! needs its memory twice.
//!
//! A reset happens:
//!
//! - when an operator asks (`zerocpctl reset-group NAME`, [`crate::operator`]);
//! - when the last port of a group goes and its freelists do not hold every
//!   chunk once ([`zerocp_core::freelist::FreeListWalk::is_whole`]: a chain cut short leaked
//!   the rest, a chain that loops lists a chunk twice): then nobody can
//!   hold a chunk, so every chunk should be free; the lost (or doubly
//!   listed) chunks are counted and logged and the group reset, so chunks
//!   lost to corruption come back at the latest when every process of the
//!   group has gone. A port of a process dropped as unresponsive still
//!   counts: its chunks are its own until it exits;
//! - when the audit reports a corrupt pool ([`ControlPlane::on_corrupt_pool`]),
//!   by the policy `[audit] on_corrupt_pool` ([`crate::audit_config`]): at
//!   once, or when the group has no port left.
//!
//! **Why not rebuild the freelist in place.** A freelist cannot be rebuilt
//! from "the chunks no port holds" while processes work the group: between
//! a publisher's pop of a chunk and its store of the refcount and of the
//! loan record, the chunk is neither free nor listed anywhere, so it looks
//! lost and a rebuild would hand it out a second time. Nor once the group
//! has no port: a hostile former member may still map the old control part
//! (nothing makes a process unmap it) and write into a freelist after it
//! was rebuilt. Fresh memory has neither problem: no process has ever held
//! a descriptor of it, and the daemon hands it only to processes that
//! create ports after the reset, each checked again by the group's rules.
//! What a former member still writes lands in the old memory, which no
//! port of the group uses any more.

use std::fmt;

use zerocp_core::freelist::FreeListWalk;
use zerocp_core::wire::RevokeReason;

use crate::audit_config::OnCorruptPool;
use crate::control_plane::ControlPlane;
use crate::group_memory::GroupMemory;
use crate::port_id::PortId;
use crate::segment_owner::SegmentOwnerError;

/// Why a group is reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetCause {
    /// An operator asked (`zerocpctl reset-group`).
    Operator {
        /// The uid that asked.
        uid: u32,
    },
    /// The audit found a mempool of the group corrupt.
    CorruptPool {
        /// The pool's index in the group.
        pool: u32,
    },
    /// The group had no port left and a freelist did not hold every chunk.
    ChunksLost {
        /// The pool's index in the group.
        pool: u32,
        /// What the walk of its freelist's chain found.
        walk: FreeListWalk,
    },
}

impl ResetCause {
    /// What the group's ports are told.
    pub fn revoke_reason(&self) -> RevokeReason {
        match self {
            Self::Operator { .. } => RevokeReason::GroupReset,
            Self::CorruptPool { .. } | Self::ChunksLost { .. } => RevokeReason::CorruptPool,
        }
    }
}

impl fmt::Display for ResetCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Operator { uid } => write!(f, "uid {uid} asked (zerocpctl reset-group)"),
            Self::CorruptPool { pool } => write!(f, "the audit found mempool {pool} corrupt"),
            Self::ChunksLost { pool, walk } => write!(
                f,
                "its last port went and the freelist of mempool {pool} is not whole: {walk} \
                 ({} lost)",
                walk.missing()
            ),
        }
    }
}

/// What a reset did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetDone {
    /// The group.
    pub group: u32,
    /// The incarnation of its new memory.
    pub incarnation: u32,
    /// Ports revoked.
    pub revoked: u32,
}

/// A group could not be reset (nothing was changed).
#[derive(Debug)]
pub enum ResetGroupError {
    /// There is no such group.
    NoSuchGroup(u32),
    /// Its new memory could not be created (e.g. too little memory).
    Memory {
        /// The group's name.
        group: String,
        /// What failed.
        source: SegmentOwnerError,
    },
}

impl fmt::Display for ResetGroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchGroup(group) => write!(f, "there is no segment group {group}"),
            Self::Memory { group, source } => write!(
                f,
                "cannot reset group \"{group}\": its new memory: {source}; the group keeps its \
                 memory"
            ),
        }
    }
}

impl std::error::Error for ResetGroupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Memory { source, .. } => Some(source),
            Self::NoSuchGroup(_) => None,
        }
    }
}

/// The groups waiting to be reset once they have no port left, and why.
#[derive(Debug, Clone, Default)]
pub struct PendingResets(Vec<Option<ResetCause>>);

impl PendingResets {
    /// None pending, for `groups` groups.
    pub fn new(groups: usize) -> Self {
        Self(vec![None; groups])
    }
}

impl ControlPlane<'_> {
    /// Resets `group` onto fresh memory for `cause` (module docs).
    pub fn reset_group(
        &mut self,
        group: u32,
        cause: ResetCause,
    ) -> Result<ResetDone, ResetGroupError> {
        let memory = self
            .parts
            .get(group as usize)
            .ok_or(ResetGroupError::NoSuchGroup(group))?;
        let name = self.groups.name(group).to_owned();
        let config = *memory.manager().control().config();
        let incarnation = memory.incarnation().wrapping_add(1);
        let commit = self.config.memory.commit_pools;
        let fresh = GroupMemory::create(&self.identity.domain, &name, &config, incarnation, commit)
            .map_err(|source| ResetGroupError::Memory {
                group: name.clone(),
                source,
            })?;
        let revoked = self.revoke_group_ports(group, cause.revoke_reason());
        self.ports.reset_group(group);
        // The old memory goes with the daemon's last mapping of it; the
        // processes that map it keep it.
        self.parts[group as usize] = fresh;
        self.pending_resets.0[group as usize] = None;
        self.audit.forget_group(group);
        log::warn!(
            "group \"{name}\" reset onto fresh memory (incarnation {incarnation}): {cause}; \
             {revoked} ports revoked"
        );
        Ok(ResetDone {
            group,
            incarnation,
            revoked,
        })
    }

    /// Revokes every port of `group` (in its current memory) with
    /// `reason`; the daemon forgets them (each owner keeps a note to answer
    /// its `RemovePort`). Returns how many.
    fn revoke_group_ports(&mut self, group: u32, reason: RevokeReason) -> u32 {
        let mut revoked = Vec::new();
        for process in self.processes.iter_mut() {
            let (gone, kept): (Vec<PortId>, Vec<PortId>) =
                process.ports.iter().partition(|id| id.group == group);
            process.ports = kept;
            process.reset_ports.extend(&gone);
            revoked.extend(gone.into_iter().map(|id| (id, process.conn)));
        }
        for &(id, conn) in &revoked {
            self.unroute_port(id);
            self.mark_revoked(id, reason, conn);
        }
        revoked.len() as u32
    }

    /// After a port of `group` went: when the group has no port left and a
    /// reset is pending or its freelists do not hold every chunk, resets it.
    /// The freelists are checked either way, so the chunks lost are logged
    /// also when the audit's finding is the cause.
    pub(crate) fn reset_if_quiet(&mut self, group: u32) {
        if self.ports.used_in(group) > 0 {
            return;
        }
        let lost = self.lost_chunks(group);
        let pending = self
            .pending_resets
            .0
            .get_mut(group as usize)
            .and_then(Option::take);
        let Some(cause) = pending.or(lost) else {
            return;
        };
        if let Err(e) = self.reset_group(group, cause) {
            log::error!("{e}");
        }
    }

    /// The first pool of `group` whose freelist does not hold every chunk
    /// once, as a reset cause (each such pool is logged).
    fn lost_chunks(&self, group: u32) -> Option<ResetCause> {
        let part = self.pool_manager(group)?;
        let pools = part.control().config().mempools().len() as u32;
        let mut first = None;
        for pool in 0..pools {
            let Some(walk) = part.control().freelist(pool).map(|list| list.walk(|_| {})) else {
                log::warn!(
                    "group \"{}\": the freelist header of mempool {pool} is corrupt",
                    self.groups.name(group)
                );
                first.get_or_insert(ResetCause::CorruptPool { pool });
                continue;
            };
            if !walk.is_whole() {
                log::warn!(
                    "group \"{}\" has no port left, but the freelist of mempool {pool} is not \
                     whole: {walk}; {} chunks lost",
                    self.groups.name(group),
                    walk.missing()
                );
                first.get_or_insert(ResetCause::ChunksLost { pool, walk });
            }
        }
        first
    }

    /// The audit found mempool `pool` of `group` corrupt: resets the group
    /// now or once it has no port left, by `[audit] on_corrupt_pool` (a
    /// group already waiting keeps its first cause and is not logged again).
    pub fn on_corrupt_pool(&mut self, group: u32, pool: u32) -> Result<(), ResetGroupError> {
        let cause = ResetCause::CorruptPool { pool };
        match self.config.audit.on_corrupt_pool {
            OnCorruptPool::ResetNow => self.reset_group(group, cause).map(drop),
            OnCorruptPool::ResetWhenEmpty => {
                let slot = self
                    .pending_resets
                    .0
                    .get_mut(group as usize)
                    .ok_or(ResetGroupError::NoSuchGroup(group))?;
                if slot.is_none() {
                    *slot = Some(cause);
                    log::warn!(
                        "group \"{}\": {cause}; resetting it once it has no port left \
                         ([audit] on_corrupt_pool = \"reset-when-empty\")",
                        self.groups.name(group)
                    );
                }
                self.reset_if_quiet(group);
                Ok(())
            }
        }
    }
}
