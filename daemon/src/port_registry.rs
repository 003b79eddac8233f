//! `PortRegistry`: which publisher and subscriber port slots of each segment
//! group's control part are in use, and their generations.
//!
//! The bookkeeping lives in the daemon's own memory, never in shared memory,
//! so no application can corrupt it. Each allocation of a slot gets a new,
//! non-zero generation; a port is named by `(group, kind, index,
//! generation)` ([`PortId`]); each group has its own slots, as many as its
//! control part holds (`[limits]` for `default`, the group's
//! `max_publishers` / `max_subscribers` otherwise), so a stale name (a `RemovePort` for a port that was already
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
//! daemon reclaims it, [`free`](PortRegistry::free) marks it `Free` again;
//! [`revoke`](PortRegistry::revoke) marks a port its owner still holds
//! `Revoked` ([`crate::revocation`]). A reset of a group frees all its slots
//! at once for the group's fresh memory ([`PortRegistry::reset_group`]). It
//! remembers what it wrote ([`written`](PortRegistry::written)), so the audit
//! ([`crate::group_audit`]) can put back what another process overwrote.

use std::fmt;

use zerocp_core::chunk_queue::CapacityError;
use zerocp_core::group_control::GroupControl;
use zerocp_core::port::{PortSettings, PortState};
use zerocp_core::wire::PortKind;

use crate::group_memory::PortCommitError;
use crate::port_id::PortId;
use crate::slot_table::SlotTable;
use crate::topology_writer;

/// Allocating a port slot failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRegistryError {
    /// Every slot of this kind of the group is in use.
    Full {
        /// The segment group.
        group: u32,
        /// The port's kind.
        kind: PortKind,
        /// How many slots of this kind the group has.
        capacity: u32,
    },
    /// No such segment group.
    NoSuchGroup(u32),
    /// The control part has no slot with this index (a layout/config mismatch).
    NoSuchSlot(PortId),
    /// The subscriber queue cannot have the requested capacity.
    Capacity(PortId, CapacityError),
    /// A slot handed out for the first time could not be committed.
    Commit(PortCommitError),
}

impl fmt::Display for PortRegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full {
                group: 0,
                kind,
                capacity,
            } => {
                let kind = kind.noun();
                write!(
                    f,
                    "all {capacity} {kind} ports of group 0 (default) are in use \
                     (raise limits.max_{kind}s)"
                )
            }
            Self::Full {
                group,
                kind,
                capacity,
            } => {
                let (kind, key) = (kind.noun(), group - 1);
                write!(
                    f,
                    "all {capacity} {kind} ports of group {group} are in use \
                     (raise group[{key}].max_{kind}s)"
                )
            }
            Self::NoSuchGroup(group) => write!(f, "there is no segment group {group}"),
            Self::NoSuchSlot(id) => write!(f, "the group control part has no {id}"),
            Self::Capacity(id, e) => write!(f, "{id}: {e}"),
            Self::Commit(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PortRegistryError {}

/// What the daemon last wrote into one port slot's control block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenPort {
    /// The slot, with the generation of its current (or last) allocation.
    pub id: PortId,
    /// `Free`, `Active`, `Retiring` (an unresponsive owner's port) or
    /// `Revoked`.
    pub state: PortState,
    /// The settings of a slot in use.
    pub settings: Option<PortSettings>,
}

/// Port slot allocation with generations, per segment group, and the
/// daemon's writes to a port's control block.
///
/// ```
/// use zerocp_core::wire::PortKind;
/// use zerocp_daemon::port_registry::PortRegistry;
/// let mut registry = PortRegistry::new(&[(2, 1), (1, 1)]);
/// let a = registry.allocate_uncommitted(0, PortKind::Publisher).unwrap();
/// let b = registry.allocate_uncommitted(0, PortKind::Publisher).unwrap();
/// assert!(registry.allocate_uncommitted(0, PortKind::Publisher).is_err());
/// let other = registry.allocate_uncommitted(1, PortKind::Publisher).unwrap();
/// assert_eq!((other.group, other.index), (1, 0));
/// assert!(registry.release(a));
/// let c = registry.allocate_uncommitted(0, PortKind::Publisher).unwrap();
/// assert_eq!(c.index, a.index);
/// assert_ne!(c.generation, a.generation);
/// assert!(!registry.is_live(a) && registry.is_live(b) && registry.is_live(c));
/// ```
#[derive(Debug)]
pub struct PortRegistry {
    /// Slots of each group (by group index), by kind (`PortKind as usize`:
    /// publishers, subscribers, notifiers, listeners).
    groups: Vec<[SlotTable; 4]>,
}

impl PortRegistry {
    /// A registry for `(max_publishers, max_subscribers)` slots of each
    /// group (by group index), all free, and no notifier or listener slots.
    pub fn new(limits: &[(u32, u32)]) -> Self {
        Self {
            groups: limits
                .iter()
                .map(|&(p, s)| [p, s, 0, 0].map(SlotTable::new))
                .collect(),
        }
    }

    /// The same registry with `(max_notifiers, max_listeners)` slots of
    /// each group (by group index), all free.
    ///
    /// ```
    /// use zerocp_core::wire::PortKind;
    /// use zerocp_daemon::port_registry::PortRegistry;
    /// let mut registry = PortRegistry::new(&[(1, 1)]).with_event_ports(&[(1, 2)]);
    /// assert!(registry.allocate_uncommitted(0, PortKind::Notifier).is_ok());
    /// assert!(registry.allocate_uncommitted(0, PortKind::Notifier).is_err());
    /// assert_eq!(registry.capacity(PortKind::Listener), 2);
    /// ```
    pub fn with_event_ports(mut self, limits: &[(u32, u32)]) -> Self {
        for (tables, &(n, l)) in self.groups.iter_mut().zip(limits) {
            tables[PortKind::Notifier as usize] = SlotTable::new(n);
            tables[PortKind::Listener as usize] = SlotTable::new(l);
        }
        self
    }

    fn table(&self, group: u32, kind: PortKind) -> Option<&SlotTable> {
        Some(&self.groups.get(group as usize)?[kind as usize])
    }

    fn table_mut(&mut self, group: u32, kind: PortKind) -> Option<&mut SlotTable> {
        Some(&mut self.groups.get_mut(group as usize)?[kind as usize])
    }

    /// Takes a free slot of `kind` in `group` with a new generation,
    /// committing nothing: for a registry without memory behind it (its
    /// own tests). The daemon uses
    /// [`allocate_committing`](Self::allocate_committing).
    pub fn allocate_uncommitted(
        &mut self,
        group: u32,
        kind: PortKind,
    ) -> Result<PortId, PortRegistryError> {
        self.allocate_committing(group, kind, |_| Ok(()))
    }

    /// Takes a free slot of `kind` in `group` with a new generation;
    /// `commit` commits the slot's pages when it is handed out for the
    /// first time in the group's memory
    /// ([`crate::group_memory::GroupMemory::commit_port`]). Should that
    /// fail, no slot is taken.
    ///
    /// ```
    /// use zerocp_core::wire::PortKind;
    /// use zerocp_daemon::port_registry::PortRegistry;
    /// let mut registry = PortRegistry::new(&[(2, 1)]);
    /// let mut committed = Vec::new();
    /// let a = registry.allocate_committing(0, PortKind::Publisher, |i| Ok(committed.push(i)))?;
    /// assert!(registry.release(a));
    /// registry.allocate_committing(0, PortKind::Publisher, |i| Ok(committed.push(i)))?;
    /// registry.allocate_committing(0, PortKind::Publisher, |i| Ok(committed.push(i)))?;
    /// assert_eq!(committed, [0, 1], "slot 0 again: committed already");
    /// # Ok::<(), zerocp_daemon::port_registry::PortRegistryError>(())
    /// ```
    pub fn allocate_committing(
        &mut self,
        group: u32,
        kind: PortKind,
        commit: impl FnOnce(u32) -> Result<(), PortCommitError>,
    ) -> Result<PortId, PortRegistryError> {
        let table = self
            .table_mut(group, kind)
            .ok_or(PortRegistryError::NoSuchGroup(group))?;
        let capacity = table.capacity();
        let (index, generation) = table
            .allocate(commit)
            .ok_or(PortRegistryError::Full {
                group,
                kind,
                capacity,
            })?
            .map_err(PortRegistryError::Commit)?;
        Ok(PortId {
            group,
            kind,
            index,
            generation,
        })
    }

    /// Whether `id` is the current allocation of its slot.
    pub fn is_live(&self, id: PortId) -> bool {
        self.table(id.group, id.kind)
            .is_some_and(|t| t.is_live(id.index, id.generation))
    }

    /// The settings last written into port `id`, if it is live.
    pub fn settings_in_use(&self, id: PortId) -> Option<PortSettings> {
        let table = self.table(id.group, id.kind)?;
        table.settings_in_use(id.index, id.generation)
    }

    /// Writes `senders` into live receiving port `id` (a subscriber, a
    /// listener) if it differs from what the daemon last wrote there; a
    /// smaller count adds the senders that left to `senders_gone`. Returns
    /// whether senders left (the caller wakes the port). Remembered for the
    /// audit like the other settings.
    pub fn set_senders(&mut self, control: &GroupControl<'_>, id: PortId, senders: u32) -> bool {
        let Some(mut settings) = self.settings_in_use(id) else {
            return false;
        };
        if settings.senders == senders {
            return false;
        }
        let left = settings.senders.saturating_sub(senders);
        settings.senders = senders;
        settings.senders_gone = settings.senders_gone.wrapping_add(left);
        let port = match id.kind {
            PortKind::Subscriber => control.subscriber(id.index).map(|p| &p.control),
            PortKind::Listener => control.listener(id.index).map(|p| &p.control),
            PortKind::Publisher | PortKind::Notifier => None,
        };
        let Some(port) = port else {
            return false;
        };
        port.set_senders(settings.senders, settings.senders_gone);
        self.remember(id, &settings);
        left > 0
    }

    /// Returns the slot of `id` to the free list; false if `id` is not live.
    pub fn release(&mut self, id: PortId) -> bool {
        self.table_mut(id.group, id.kind)
            .is_some_and(|t| t.release(id.index, id.generation))
    }

    /// Ports of `kind` in use, over all groups.
    pub fn used(&self, kind: PortKind) -> u32 {
        (0..self.groups.len() as u32)
            .filter_map(|g| self.table(g, kind))
            .map(SlotTable::used)
            .sum()
    }

    /// Slots of `kind`, over all groups.
    pub fn capacity(&self, kind: PortKind) -> u32 {
        (0..self.groups.len() as u32)
            .filter_map(|g| self.table(g, kind))
            .map(SlotTable::capacity)
            .sum()
    }

    /// What the daemon last wrote into the control block of every `kind`
    /// slot of `group` it handed out since the group's memory was made (the
    /// audit compares it with the shared memory; the others were never
    /// written nor committed): free slots as `Free` with their last
    /// generation, slots in use with their state and settings.
    pub fn written(&self, group: u32, kind: PortKind) -> Vec<WrittenPort> {
        let Some(table) = self.table(group, kind) else {
            return Vec::new();
        };
        (0..table.handed_out())
            .filter_map(|index| {
                let (state, generation, settings) = table.written(index)?;
                Some(WrittenPort {
                    id: PortId {
                        group,
                        kind,
                        index,
                        generation,
                    },
                    state,
                    settings,
                })
            })
            .collect()
    }

    /// Prepares publisher slot `id` (empty topology, loans and a history of
    /// `settings.history` entries, zeroed statistics) and marks it active.
    pub fn init_publisher(
        &mut self,
        control: &GroupControl<'_>,
        id: PortId,
        settings: &PortSettings,
    ) -> Result<(), PortRegistryError> {
        let port = control
            .publisher(id.index)
            .ok_or(PortRegistryError::NoSuchSlot(id))?;
        port.loans.reset();
        port.history.init(settings.history);
        port.stats.reset();
        topology_writer::write(port, &[]);
        port.control.activate(id.generation, settings);
        self.remember(id, settings);
        Ok(())
    }

    /// Prepares subscriber slot `id` (a queue of `settings.capacity`, no held
    /// chunks, zeroed statistics) and marks it active.
    ///
    /// The queue must have been drained of leftovers first
    /// ([`crate::reclaim::drain_subscriber`]).
    pub fn init_subscriber(
        &mut self,
        control: &GroupControl<'_>,
        id: PortId,
        settings: &PortSettings,
    ) -> Result<(), PortRegistryError> {
        let port = control
            .subscriber(id.index)
            .ok_or(PortRegistryError::NoSuchSlot(id))?;
        port.queue
            .init(settings.capacity)
            .map_err(|e| PortRegistryError::Capacity(id, e))?;
        port.held.reset();
        port.stats.reset();
        // Relaxed: the reply on the control socket orders this before the owner's use.
        port.wake
            .blocked
            .store(0, zerocp_core::sync::Ordering::Relaxed);
        port.control.activate(id.generation, settings);
        self.remember(id, settings);
        Ok(())
    }

    /// Prepares notifier slot `id` (empty topology) and marks it active.
    pub fn init_notifier(
        &mut self,
        control: &GroupControl<'_>,
        id: PortId,
        settings: &PortSettings,
    ) -> Result<(), PortRegistryError> {
        let port = control
            .notifier(id.index)
            .ok_or(PortRegistryError::NoSuchSlot(id))?;
        topology_writer::write_topology(&port.topology, &[]);
        port.control.activate(id.generation, settings);
        self.remember(id, settings);
        Ok(())
    }

    /// Prepares listener slot `id` (no ids pending, nobody asleep) and
    /// marks it active.
    pub fn init_listener(
        &mut self,
        control: &GroupControl<'_>,
        id: PortId,
        settings: &PortSettings,
    ) -> Result<(), PortRegistryError> {
        let port = control
            .listener(id.index)
            .ok_or(PortRegistryError::NoSuchSlot(id))?;
        port.reset();
        port.control.activate(id.generation, settings);
        self.remember(id, settings);
        Ok(())
    }

    fn remember(&mut self, id: PortId, settings: &PortSettings) {
        if let Some(table) = self.table_mut(id.group, id.kind) {
            table.remember_settings(id.index, settings);
        }
    }

    /// Marks the port `Retiring`: publishers stop delivering to it and the
    /// daemon is about to reclaim its chunks (or keeps them, for an
    /// unresponsive owner, until it exits).
    pub fn retire(&mut self, control: &GroupControl<'_>, id: PortId) {
        self.set_live_state(control, id, PortState::Retiring);
    }

    /// Marks the port `Revoked` ([`crate::revocation`]): publishers stop
    /// delivering to it; its slot stays allocated.
    pub fn revoke(&mut self, control: &GroupControl<'_>, id: PortId) {
        self.set_live_state(control, id, PortState::Revoked);
    }

    /// Writes `state` into port `id`'s control block and, if `id` is live,
    /// remembers it as what the daemon wrote there.
    fn set_live_state(&mut self, control: &GroupControl<'_>, id: PortId, state: PortState) {
        set_state(control, id, state);
        if let Some(table) = self.table_mut(id.group, id.kind) {
            table.remember_state(id.index, id.generation, state);
        }
    }

    /// Ports of group `group` in use, of every kind (0 for no such group).
    pub fn used_in(&self, group: u32) -> u32 {
        self.groups
            .get(group as usize)
            .map_or(0, |tables| tables.iter().map(SlotTable::used).sum())
    }

    /// Frees every slot of group `group` at once, for its fresh memory
    /// after a reset ([`crate::group_reset`]); the generations go on, so
    /// no name of a port of the old memory is ever live again.
    pub fn reset_group(&mut self, group: u32) {
        if let Some(tables) = self.groups.get_mut(group as usize) {
            tables.iter_mut().for_each(SlotTable::free_all);
        }
    }

    /// Marks the port `Free` and returns its slot to the free list.
    pub fn free(&mut self, control: &GroupControl<'_>, id: PortId) -> bool {
        set_state(control, id, PortState::Free);
        self.release(id)
    }
}

fn set_state(control: &GroupControl<'_>, id: PortId, state: PortState) {
    let port = match id.kind {
        PortKind::Publisher => control.publisher(id.index).map(|p| &p.control),
        PortKind::Subscriber => control.subscriber(id.index).map(|p| &p.control),
        PortKind::Notifier => control.notifier(id.index).map(|p| &p.control),
        PortKind::Listener => control.listener(id.index).map(|p| &p.control),
    };
    match port {
        Some(port) => port.set_state(state),
        None => log::error!("cannot set {id} to {state:?}: no such slot in its control part"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_change_on_reuse() {
        let mut registry = PortRegistry::new(&[(1, 1)]);
        let a = registry
            .allocate_uncommitted(0, PortKind::Subscriber)
            .unwrap();
        assert_eq!(a.generation, 1);
        assert!(registry.release(a));
        assert!(
            !registry.release(a),
            "a released port cannot be released twice"
        );
        let b = registry
            .allocate_uncommitted(0, PortKind::Subscriber)
            .unwrap();
        assert_eq!(b.generation, 2);
        assert_eq!(registry.used(PortKind::Subscriber), 1);
        assert_eq!(
            registry.allocate_uncommitted(0, PortKind::Subscriber),
            Err(PortRegistryError::Full {
                group: 0,
                kind: PortKind::Subscriber,
                capacity: 1
            })
        );
    }

    #[test]
    fn lowest_free_index_first() {
        let mut registry = PortRegistry::new(&[(3, 1)]);
        let ids: Vec<u32> = (0..3)
            .map(|_| {
                registry
                    .allocate_uncommitted(0, PortKind::Publisher)
                    .unwrap()
                    .index
            })
            .collect();
        assert_eq!(ids, [0, 1, 2]);
    }

    #[test]
    fn freed_slots_are_reused_last() {
        let mut registry = PortRegistry::new(&[(1, 4)]);
        let ids: Vec<PortId> = (0..3)
            .map(|_| {
                registry
                    .allocate_uncommitted(0, PortKind::Subscriber)
                    .unwrap()
            })
            .collect();
        assert!(registry.release(ids[1]));
        assert!(registry.release(ids[0]));
        let again: Vec<u32> = (0..3)
            .map(|_| {
                registry
                    .allocate_uncommitted(0, PortKind::Subscriber)
                    .unwrap()
                    .index
            })
            .collect();
        assert_eq!(again, [3, 1, 0]);
    }

    #[test]
    fn a_slot_that_cannot_be_committed_is_not_taken() {
        let mut registry = PortRegistry::new(&[(1, 2)]);
        let no_memory = PortCommitError::NoSuchSlot {
            kind: PortKind::Subscriber,
            index: 0,
        };
        let refused =
            registry.allocate_committing(0, PortKind::Subscriber, |_| Err(no_memory.clone()));
        assert_eq!(refused, Err(PortRegistryError::Commit(no_memory)));
        assert_eq!(registry.used(PortKind::Subscriber), 0);
        assert!(registry.written(0, PortKind::Subscriber).is_empty());
        let mut asked = Vec::new();
        for _ in 0..2 {
            let id = registry.allocate_committing(0, PortKind::Subscriber, |i| {
                asked.push(i);
                Ok(())
            });
            assert!(registry.release(id.unwrap()));
        }
        assert_eq!(asked, [0, 1], "slot 0 is asked again, then 1");
        let handed_out = registry.written(0, PortKind::Subscriber);
        assert_eq!(handed_out.len(), 2);
        registry.reset_group(0);
        assert!(registry.written(0, PortKind::Subscriber).is_empty());
        let mut fresh = None;
        registry
            .allocate_committing(0, PortKind::Subscriber, |i| {
                fresh = Some(i);
                Ok(())
            })
            .unwrap();
        assert_eq!(fresh, Some(0), "fresh memory: slot 0 is committed again");
    }

    #[test]
    fn a_group_reset_frees_its_slots_and_keeps_generations() {
        let mut registry = PortRegistry::new(&[(1, 1), (2, 2)]);
        let kept = registry
            .allocate_uncommitted(0, PortKind::Publisher)
            .unwrap();
        let old: Vec<PortId> = (0..2)
            .map(|_| {
                registry
                    .allocate_uncommitted(1, PortKind::Subscriber)
                    .unwrap()
            })
            .collect();
        registry
            .allocate_uncommitted(1, PortKind::Publisher)
            .unwrap();
        assert_eq!(registry.used_in(1), 3);
        registry.reset_group(1);
        assert_eq!((registry.used_in(1), registry.used_in(0)), (0, 1));
        assert!(registry.is_live(kept));
        let fresh = registry
            .allocate_uncommitted(1, PortKind::Subscriber)
            .unwrap();
        assert_eq!(fresh.index, 0);
        assert!(old.iter().all(|o| !registry.is_live(*o) && *o != fresh));
        assert_eq!(registry.used_in(9), 0);
    }

    #[test]
    fn out_of_range_ids_are_not_live() {
        let registry = PortRegistry::new(&[(1, 1)]);
        let id = PortId {
            group: 0,
            kind: PortKind::Publisher,
            index: 7,
            generation: 1,
        };
        assert!(!registry.is_live(id));
        assert!(!registry.is_live(PortId { group: 9, ..id }));
    }
}
