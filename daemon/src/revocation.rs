//! Revoking a port: taking it out of service while its owner lives, and
//! telling the owner why, so that none of its calls stalls on it.
//!
//! The daemon revokes a port when what it shares with its group can no
//! longer be trusted (the audit found its queue or its record corrupt, a
//! reset of its group, [`crate::group_reset`]) or when an operator asks
//! (`zerocpctl revoke-port`). [`ControlPlane::revoke_port`]:
//!
//! 1. unroutes it: out of the route table and every topology, so its
//!    publishers deliver to nobody and nobody delivers to it;
//! 2. writes `PortState::Revoked` into its record, so publishers that
//!    still hold an old topology skip it (they deliver only to `Active`
//!    ports of the routed generation);
//! 3. bumps and futex-wakes a subscriber's wake words: its sleeping threads
//!    wake (and, once told, return the typed error), and so does every
//!    publisher blocked on its full queue (it re-checks and finds it gone);
//! 4. queues [`Message::PortRevoked`] (kind, group, index, generation,
//!    reason) for the owner's control connection (sent by the event loop,
//!    [`ControlPlane::take_notices`]).
//!
//! **The owner trusts the message, not the state word.** Every process of
//! the group can write the port's record, so a state word saying `Revoked`
//! could be forged by a neighbour to shut the owner out; the control
//! connection is written by the daemon alone. So the runtime fails a port's
//! calls only once its heartbeat thread (or a request in flight) has read
//! that message, and the reason comes from it too: there is no reason word
//! in shared memory. The state word is for the *other* processes'
//! publishers, which must stop delivering at once and cannot ask.
//!
//! **Nothing is released at revocation.** The owner is alive: it may be
//! reading a sample it holds, writing one it loaned, or popping its queue
//! (what is still queued stays takeable until the queue is empty; then
//! `take` reports the revocation). Releasing those references now would
//! hand chunks to others while the owner still uses them. The port keeps
//! its slot and everything it lists until the owner removes it (as it
//! should when told) or exits; then the usual reclaim runs
//! ([`crate::reclaim`], every index checked). A revoked port of a group
//! that is reset is different: its memory is not the group's any more, so
//! the daemon forgets it at once ([`crate::group_reset`]).

use std::fmt;

use zerocp_core::wire::{Message, PortKind, PortRevoked, RevokeReason};

use crate::control_plane::ControlPlane;
use crate::port_id::PortId;
use crate::process_manager::ConnId;
use crate::reclaim;

/// Why a port could not be revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeError {
    /// No registered process owns this port (it was removed, or the name
    /// is stale).
    NoSuchPort(PortId),
    /// The port is not routed: it was revoked already, or its owner was
    /// dropped as unresponsive.
    NotRouted(PortId),
}

impl fmt::Display for RevokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchPort(id) => write!(f, "no process owns {id}"),
            Self::NotRouted(id) => write!(
                f,
                "{id} is not routed (revoked already, or its process was dropped as unresponsive)"
            ),
        }
    }
}

impl std::error::Error for RevokeError {}

impl ControlPlane<'_> {
    /// The port `index` of `kind` in `group` that a registered process owns
    /// now, if any (with its generation: what [`ControlPlane::revoke_port`]
    /// takes).
    pub fn live_port(&self, group: u32, kind: PortKind, index: u32) -> Option<PortId> {
        self.processes
            .iter()
            .flat_map(|p| &p.ports)
            .find(|id| (id.group, id.kind, id.index) == (group, kind, index))
            .copied()
    }

    /// Revokes port `id` for `reason` (module docs): unrouted, marked
    /// `Revoked`, its waiters woken, its owner told.
    pub fn revoke_port(&mut self, id: PortId, reason: RevokeReason) -> Result<(), RevokeError> {
        let owner = self
            .processes
            .iter()
            .find(|p| p.ports.contains(&id))
            .ok_or(RevokeError::NoSuchPort(id))?;
        let conn = owner.conn;
        if self.routes.service_of(id).is_none() {
            return Err(RevokeError::NotRouted(id));
        }
        log::warn!(
            "{owner}: revoked its {id}: {}; it is told so and keeps its slot until it removes \
             the port",
            reason.explanation()
        );
        self.unroute_port(id);
        self.mark_revoked(id, reason, conn);
        Ok(())
    }

    /// Marks the (unrouted) port `id` of the current memory of its group
    /// `Revoked`, wakes whoever waits on it and queues the notice for its
    /// owner's connection `conn`.
    pub(crate) fn mark_revoked(&mut self, id: PortId, reason: RevokeReason, conn: ConnId) {
        // The field, not `pool_manager`: `self.ports` is borrowed mutably.
        if let Some(memory) = self.parts.get(id.group as usize) {
            let control = memory.manager().control();
            self.ports.revoke(control, id);
            reclaim::wake_port(control, id);
        }
        self.notify(conn, id, reason);
    }

    /// Queues the notice that `id` was revoked for `reason` for the owner's
    /// connection `conn`.
    pub(crate) fn notify(&mut self, conn: ConnId, id: PortId, reason: RevokeReason) {
        let notice = Message::PortRevoked(PortRevoked {
            kind: id.kind,
            port_index: id.index,
            group: id.group,
            generation: id.generation,
            reason,
        });
        self.notices.push((conn, notice));
    }

    /// The messages to send to processes unasked, by connection, oldest
    /// first (the event loop sends them after every event); taking them
    /// empties the list.
    pub fn take_notices(&mut self) -> Vec<(ConnId, Message)> {
        std::mem::take(&mut self.notices)
    }
}
