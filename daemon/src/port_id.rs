//! [`PortId`]: the daemon's name for one allocation of a port slot.
//!
//! A port is named by its segment group, its kind, its slot index in the
//! group's control part's array of that kind, and the generation of this
//! allocation of the slot (never 0). Two ports of different groups may have
//! the same index: they live in different memory files. The generation tells a live port from a stale name of a slot that was
//! freed and handed out again; topologies carry it to publishers for the
//! same reason. [`crate::port_registry`] hands the ids out; every other part
//! of the daemon refers to ports by them.

use std::fmt;

use zerocp_core::wire::PortKind;

/// One allocation of a port slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortId {
    /// The segment group whose control part holds the port (0: `default`).
    pub group: u32,
    /// Publisher or subscriber.
    pub kind: PortKind,
    /// Slot index in the group's port array of that kind.
    pub index: u32,
    /// Generation of this allocation (never 0).
    pub generation: u32,
}

impl fmt::Display for PortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} port {} of group {} (generation {})",
            self.kind.noun(),
            self.index,
            self.group,
            self.generation
        )
    }
}
