//! [`Response`]: what the daemon does about a finding of its audit of
//! shared memory, once the finding counts ([`crate::audit`]), and
//! `ControlPlane::respond`, which does it through the recovery the daemon
//! has: revoking a port ([`crate::revocation`]) and resetting a group onto
//! fresh memory ([`crate::group_reset`]).
//!
//! | finding | response |
//! |---|---|
//! | a subscriber's queue (positions, entries, its capacity word) | revoke that subscriber: `CorruptQueue` |
//! | a port's control block (or its queue's or history's sizes) | revoke that port: `CorruptPort` |
//! | a freelist's chain, chunks lost or held more often than counted | the pool is corrupt: [`ControlPlane::on_corrupt_pool`], by `[audit] on_corrupt_pool` |
//! | the mgmt header, a group header, a freelist's capacity word | nothing more: the words are back, and nothing was built on them |
//! | a heartbeat slot | nothing more: a heartbeat never revokes, unroutes or reclaims |
//!
//! **Why revoke the port, not repair the queue.** Its owner and every
//! publisher of its service work the queue without a lock; the daemon
//! cannot put positions or entries back under them, and what was queued
//! may be lost or garbage. Revoking tells the owner, with a typed reason,
//! instead of leaving its subscriber spinning on a queue that never yields
//! (or a publisher skipping a port whose state word was overwritten); the
//! owner creates the port again on a sound slot. A control block is put
//! back by the audit, yet its port is revoked too: its owner and its
//! publishers may have acted on the forged words (a capacity, a state, a
//! generation) in between.
//!
//! **Once per port.** A revoked port is unrouted, so revoking it again
//! ([`ControlPlane::revoke_port`]) is refused as `NotRouted`: the damage
//! the audit keeps seeing in a revoked port's memory (counted once while
//! it persists, a restored word each time it is written again) neither
//! tells its owner twice nor logs a revocation each audit. The same holds
//! for a port whose owner was dropped as unresponsive: it is unrouted
//! already, and its memory comes back when the owner exits.
//!
//! **A pool** is repaired only by a group reset; `on_corrupt_pool` resets
//! the group at once (`reset-now`) or marks it to be reset once it has no
//! port left (`reset-when-empty`, the default).

use zerocp_core::wire::RevokeReason;

use crate::audit_findings::{Detected, Finding};
use crate::control_plane::ControlPlane;
use crate::port_id::PortId;
use crate::revocation::RevokeError;

/// What the daemon does about a counted finding (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// Nothing beyond counting and logging it.
    Nothing,
    /// Revoke the ports the finding affects, for this reason.
    Revoke(RevokeReason),
    /// Mempool `pool` of group `group` is corrupt.
    CorruptPool {
        /// The group.
        group: u32,
        /// The mempool.
        pool: u32,
    },
}

impl Response {
    /// The response to `finding` (module docs).
    ///
    /// ```
    /// use zerocp_core::freelist::ChainDamage;
    /// use zerocp_core::word_repair::WordRepair;
    /// use zerocp_daemon::audit_findings::Finding;
    /// use zerocp_daemon::audit_response::Response;
    ///
    /// let chain = Finding::FreelistChain {
    ///     group: 1,
    ///     pool: 0,
    ///     head: 9,
    ///     damage: ChainDamage::HeadOutOfRange { index: 9, capacity: 4 },
    /// };
    /// assert_eq!(Response::to(&chain), Response::CorruptPool { group: 1, pool: 0 });
    /// let header = Finding::GroupHeader { group: 1, repair: WordRepair::new() };
    /// assert_eq!(Response::to(&header), Response::Nothing);
    /// ```
    pub fn to(finding: &Finding) -> Self {
        match *finding {
            Finding::SubscriberQueue { .. } => Self::Revoke(RevokeReason::CorruptQueue),
            Finding::PortControl { .. } => Self::Revoke(RevokeReason::CorruptPort),
            Finding::FreelistChain { group, pool, .. }
            | Finding::LostChunks { group, pool, .. }
            | Finding::OverReferenced { group, pool, .. } => Self::CorruptPool { group, pool },
            Finding::MgmtHeader { .. }
            | Finding::GroupHeader { .. }
            | Finding::FreelistHeader { .. }
            | Finding::Heartbeat { .. } => Self::Nothing,
        }
    }
}

impl ControlPlane<'_> {
    /// Does what [`Response::to`] says about `detected`.
    pub(crate) fn respond(&mut self, detected: &Detected) {
        match Response::to(&detected.finding) {
            Response::Nothing => {}
            Response::Revoke(reason) => {
                for affected in &detected.affected {
                    self.revoke_once(affected.port, reason);
                }
            }
            Response::CorruptPool { group, pool } => {
                if let Err(e) = self.on_corrupt_pool(group, pool) {
                    log::error!("audit: {e}");
                }
            }
        }
    }

    /// Revokes `port` for `reason` unless it is out of service already
    /// (module docs: once per port).
    fn revoke_once(&mut self, port: PortId, reason: RevokeReason) {
        match self.revoke_port(port, reason) {
            Ok(()) | Err(RevokeError::NotRouted(_)) => {}
            Err(e @ RevokeError::NoSuchPort(_)) => log::debug!("audit: not revoked: {e}"),
        }
    }
}
