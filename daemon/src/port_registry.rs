//! `PortRegistry`: which publisher and subscriber port slots of the mgmt
//! segment are in use, and their generations.
//!
//! The bookkeeping lives in the daemon's own memory, never in shared memory,
//! so no application can corrupt it. Each allocation of a slot gets a new,
//! non-zero generation; a port is named by `(kind, index, generation)`
//! ([`PortId`]), so a stale name (a `RemovePort` for a port that was already
//! freed and handed out again) is recognised and refused.
//!
//! Freed slots are handed out again last (first in, first out): a publisher
//! whose topology snapshot still names a subscriber that just went away
//! checks the slot's state and generation before it pushes, and FIFO reuse
//! keeps the slot from being someone else's for as long as possible, so that
//! check-then-push window practically never meets a reused slot.
//!
//! The registry also writes a port's daemon-owned parts in shared memory
//! (a publisher's empty topology through [`crate::topology_writer`]):
//! [`init_publisher`](PortRegistry::init_publisher) and
//! [`init_subscriber`](PortRegistry::init_subscriber) prepare a slot and mark
//! it `Active`, [`retire`](PortRegistry::retire) marks it `Retiring` while the
//! daemon reclaims it, [`free`](PortRegistry::free) marks it `Free` again.

use std::collections::VecDeque;
use std::fmt;

use zerocp_core::chunk_queue::CapacityError;
use zerocp_core::mgmt::Mgmt;
use zerocp_core::port::{PortSettings, PortState};
use zerocp_core::wire::PortKind;

use crate::port_id::PortId;
use crate::topology_writer;

/// Allocating a port slot failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRegistryError {
    /// Every slot of this kind is in use.
    Full {
        /// Publisher or subscriber.
        kind: PortKind,
        /// How many slots of this kind exist (`limits.max_publishers`/`max_subscribers`).
        capacity: u32,
    },
    /// The mgmt segment has no slot with this index (a layout/config mismatch).
    NoSuchSlot(PortId),
    /// The subscriber queue cannot have the requested capacity.
    Capacity(PortId, CapacityError),
}

impl fmt::Display for PortRegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { kind, capacity } => {
                let kind = kind.noun();
                write!(
                    f,
                    "all {capacity} {kind} ports are in use (raise limits.max_{kind}s)"
                )
            }
            Self::NoSuchSlot(id) => write!(f, "the mgmt segment has no {id}"),
            Self::Capacity(id, e) => write!(f, "{id}: {e}"),
        }
    }
}

impl std::error::Error for PortRegistryError {}

/// Slot bookkeeping of one port kind.
#[derive(Debug)]
struct SlotTable {
    /// Generation of the current (or last) allocation of each slot.
    generations: Vec<u32>,
    /// Whether each slot is allocated.
    in_use: Vec<bool>,
    /// Free slots: the front is handed out next, freed slots go to the back.
    free: VecDeque<u32>,
}

impl SlotTable {
    fn new(capacity: u32) -> Self {
        Self {
            generations: vec![0; capacity as usize],
            in_use: vec![false; capacity as usize],
            free: (0..capacity).collect(),
        }
    }

    fn allocate(&mut self) -> Option<(u32, u32)> {
        let index = self.free.pop_front()?;
        let slot = index as usize;
        let generation = match self.generations[slot].wrapping_add(1) {
            0 => 1,
            g => g,
        };
        self.generations[slot] = generation;
        self.in_use[slot] = true;
        Some((index, generation))
    }

    fn is_live(&self, index: u32, generation: u32) -> bool {
        let slot = index as usize;
        self.in_use.get(slot).copied().unwrap_or(false) && self.generations[slot] == generation
    }

    fn release(&mut self, index: u32, generation: u32) -> bool {
        if !self.is_live(index, generation) {
            return false;
        }
        self.in_use[index as usize] = false;
        self.free.push_back(index);
        true
    }

    fn capacity(&self) -> u32 {
        self.in_use.len() as u32
    }

    fn used(&self) -> u32 {
        self.capacity() - self.free.len() as u32
    }
}

/// Port slot allocation with generations, and the daemon's writes to a port's control block.
///
/// ```
/// use zerocp_core::wire::PortKind;
/// use zerocp_daemon::port_registry::PortRegistry;
/// let mut registry = PortRegistry::new(2, 1);
/// let a = registry.allocate(PortKind::Publisher).unwrap();
/// let b = registry.allocate(PortKind::Publisher).unwrap();
/// assert!(registry.allocate(PortKind::Publisher).is_err());
/// assert!(registry.release(a));
/// let c = registry.allocate(PortKind::Publisher).unwrap();
/// assert_eq!(c.index, a.index);
/// assert_ne!(c.generation, a.generation);
/// assert!(!registry.is_live(a) && registry.is_live(b) && registry.is_live(c));
/// ```
#[derive(Debug)]
pub struct PortRegistry {
    publishers: SlotTable,
    subscribers: SlotTable,
}

impl PortRegistry {
    /// A registry for `max_publishers` and `max_subscribers` slots, all free.
    pub fn new(max_publishers: u32, max_subscribers: u32) -> Self {
        Self {
            publishers: SlotTable::new(max_publishers),
            subscribers: SlotTable::new(max_subscribers),
        }
    }

    fn table(&self, kind: PortKind) -> &SlotTable {
        match kind {
            PortKind::Publisher => &self.publishers,
            PortKind::Subscriber => &self.subscribers,
        }
    }

    fn table_mut(&mut self, kind: PortKind) -> &mut SlotTable {
        match kind {
            PortKind::Publisher => &mut self.publishers,
            PortKind::Subscriber => &mut self.subscribers,
        }
    }

    /// Takes a free slot of `kind` with a new generation.
    pub fn allocate(&mut self, kind: PortKind) -> Result<PortId, PortRegistryError> {
        let table = self.table_mut(kind);
        let capacity = table.capacity();
        let (index, generation) = table
            .allocate()
            .ok_or(PortRegistryError::Full { kind, capacity })?;
        Ok(PortId {
            kind,
            index,
            generation,
        })
    }

    /// Whether `id` is the current allocation of its slot.
    pub fn is_live(&self, id: PortId) -> bool {
        self.table(id.kind).is_live(id.index, id.generation)
    }

    /// Returns the slot of `id` to the free list; false if `id` is not live.
    pub fn release(&mut self, id: PortId) -> bool {
        self.table_mut(id.kind).release(id.index, id.generation)
    }

    /// Ports of `kind` in use.
    pub fn used(&self, kind: PortKind) -> u32 {
        self.table(kind).used()
    }

    /// Slots of `kind`.
    pub fn capacity(&self, kind: PortKind) -> u32 {
        self.table(kind).capacity()
    }

    /// Prepares publisher slot `id` (empty topology, loans and a history of
    /// `settings.history` entries) and marks it active.
    pub fn init_publisher(
        &self,
        mgmt: &Mgmt<'_>,
        id: PortId,
        settings: &PortSettings,
    ) -> Result<(), PortRegistryError> {
        let port = mgmt
            .publisher(id.index)
            .ok_or(PortRegistryError::NoSuchSlot(id))?;
        port.loans.reset();
        port.history.init(settings.history);
        topology_writer::write(port, &[]);
        port.control.activate(id.generation, settings);
        Ok(())
    }

    /// Prepares subscriber slot `id` (a queue of `settings.capacity`, no held
    /// chunks, zeroed statistics) and marks it active.
    ///
    /// The queue must have been drained of leftovers first
    /// ([`crate::reclaim::drain_subscriber`]).
    pub fn init_subscriber(
        &self,
        mgmt: &Mgmt<'_>,
        id: PortId,
        settings: &PortSettings,
    ) -> Result<(), PortRegistryError> {
        let port = mgmt
            .subscriber(id.index)
            .ok_or(PortRegistryError::NoSuchSlot(id))?;
        port.queue
            .init(settings.capacity)
            .map_err(|e| PortRegistryError::Capacity(id, e))?;
        port.held.reset();
        // Relaxed: the reply on the control socket orders these before the owner's use.
        port.stats
            .dropped
            .store(0, zerocp_core::sync::Ordering::Relaxed);
        port.wake
            .blocked
            .store(0, zerocp_core::sync::Ordering::Relaxed);
        port.control.activate(id.generation, settings);
        Ok(())
    }

    /// Marks the port `Retiring`: publishers stop delivering to it and the
    /// daemon is about to reclaim its chunks.
    pub fn retire(&self, mgmt: &Mgmt<'_>, id: PortId) {
        set_state(mgmt, id, PortState::Retiring);
    }

    /// Marks the port `Free` and returns its slot to the free list.
    pub fn free(&mut self, mgmt: &Mgmt<'_>, id: PortId) -> bool {
        set_state(mgmt, id, PortState::Free);
        self.release(id)
    }
}

fn set_state(mgmt: &Mgmt<'_>, id: PortId, state: PortState) {
    let control = match id.kind {
        PortKind::Publisher => mgmt.publisher(id.index).map(|p| &p.control),
        PortKind::Subscriber => mgmt.subscriber(id.index).map(|p| &p.control),
    };
    match control {
        Some(control) => control.set_state(state),
        None => log::error!("cannot set {id} to {state:?}: no such slot in the mgmt segment"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_are_never_zero_and_change_on_reuse() {
        let mut registry = PortRegistry::new(1, 1);
        registry.subscribers.generations[0] = u32::MAX;
        let a = registry.allocate(PortKind::Subscriber).unwrap();
        assert_eq!(a.generation, 1);
        assert!(registry.release(a));
        assert!(
            !registry.release(a),
            "a released port cannot be released twice"
        );
        let b = registry.allocate(PortKind::Subscriber).unwrap();
        assert_eq!(b.generation, 2);
        assert_eq!(registry.used(PortKind::Subscriber), 1);
        assert_eq!(
            registry.allocate(PortKind::Subscriber),
            Err(PortRegistryError::Full {
                kind: PortKind::Subscriber,
                capacity: 1
            })
        );
    }

    #[test]
    fn lowest_free_index_first() {
        let mut registry = PortRegistry::new(3, 1);
        let ids: Vec<u32> = (0..3)
            .map(|_| registry.allocate(PortKind::Publisher).unwrap().index)
            .collect();
        assert_eq!(ids, [0, 1, 2]);
    }

    #[test]
    fn freed_slots_are_reused_last() {
        let mut registry = PortRegistry::new(1, 4);
        let ids: Vec<PortId> = (0..3)
            .map(|_| registry.allocate(PortKind::Subscriber).unwrap())
            .collect();
        assert!(registry.release(ids[1]));
        assert!(registry.release(ids[0]));
        let again: Vec<u32> = (0..3)
            .map(|_| registry.allocate(PortKind::Subscriber).unwrap().index)
            .collect();
        assert_eq!(again, [3, 1, 0]);
    }

    #[test]
    fn out_of_range_ids_are_not_live() {
        let registry = PortRegistry::new(1, 1);
        let id = PortId {
            kind: PortKind::Publisher,
            index: 7,
            generation: 1,
        };
        assert!(!registry.is_live(id));
    }
}
