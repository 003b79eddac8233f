//! [`PortId`]: the daemon's name for one allocation of a port slot.
//!
//! A port is named by its kind, its slot index in the mgmt segment's array
//! of that kind, and the generation of this allocation of the slot (never
//! 0). The generation tells a live port from a stale name of a slot that was
//! freed and handed out again; topologies carry it to publishers for the
//! same reason. [`crate::port_registry`] hands the ids out; every other part
//! of the daemon refers to ports by them.

use std::fmt;

use zerocp_core::wire::PortKind;

/// One allocation of a port slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortId {
    /// Publisher or subscriber.
    pub kind: PortKind,
    /// Slot index in the mgmt segment's port array of that kind.
    pub index: u32,
    /// Generation of this allocation (never 0).
    pub generation: u32,
}

impl fmt::Display for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} port {} (generation {})",
            self.kind.noun(),
            self.index,
            self.generation
        )
    }
}
