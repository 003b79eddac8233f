//! [`SlotTable`]: the daemon's bookkeeping of one kind of port slot of one
//! segment group, sized by use, not by the limit.
//!
//! A group has `max_publishers` (…) slots of each kind, and most of a
//! generous limit is never used. The table keeps a record only for the
//! slots handed out at least once (their generation, whether in use, the
//! state and settings last written), so its memory grows with the ports
//! created, as the committed part of the control memory does
//! ([`crate::group_memory`]): never-used slots are handed out lowest first,
//! before any freed one, so the slots ever handed out are `0..handed_out`
//! and a never-used one needs no record. Freed slots queue up to be reused
//! last (a generation lives longest that way, and a late publisher's push
//! into a freed slot has the longest time to be seen by the audit).
//!
//! After a group reset every slot is free and none handed out (the memory
//! is fresh), but the records stay: a slot keeps counting generations, so
//! no name of a port of the old memory is ever live again.

use std::collections::VecDeque;

use zerocp_core::port::{PortSettings, PortState};

/// What the daemon keeps of one slot handed out.
#[derive(Debug, Clone, Copy)]
struct SlotRecord {
    /// Generation of the current (or last) allocation.
    generation: u32,
    /// Whether the slot is allocated.
    in_use: bool,
    /// The state last written into the allocated slot: `Active`,
    /// `Retiring` (its owner unresponsive) or `Revoked`.
    state: PortState,
    /// The settings last written into the slot's control block.
    settings: PortSettings,
}

/// Slot bookkeeping of one port kind of one group (module docs).
///
/// ```
/// use zerocp_daemon::slot_table::SlotTable;
/// let mut table = SlotTable::new(4);
/// let (a, _) = table.allocate(|_| Ok::<(), ()>(())).unwrap()?;
/// let (b, _) = table.allocate(|_| Ok::<(), ()>(())).unwrap()?;
/// assert_eq!((a, b, table.handed_out()), (0, 1, 2));
/// # Ok::<(), ()>(())
/// ```
#[derive(Debug)]
pub struct SlotTable {
    capacity: u32,
    /// One record per slot ever handed out: `0..records.len()`, at least
    /// `handed_out` (after a reset, more).
    records: Vec<SlotRecord>,
    /// Slots `0..handed_out` were handed out since the group's memory was
    /// made: only their pages are committed, and only they are read.
    handed_out: u32,
    /// Freed slots, all below `handed_out`: the front is reused first, once
    /// every slot was handed out.
    freed: VecDeque<u32>,
}

impl SlotTable {
    /// A table of `capacity` slots, none handed out.
    pub fn new(capacity: u32) -> Self {
        Self {
            capacity,
            records: Vec::new(),
            handed_out: 0,
            freed: VecDeque::new(),
        }
    }

    /// Takes the next free slot (module docs) with a new generation, or
    /// `None` when all are in use. `commit` is called first for a slot
    /// never handed out before, and its failure leaves everything as it
    /// was.
    pub fn allocate<E>(
        &mut self,
        commit: impl FnOnce(u32) -> Result<(), E>,
    ) -> Option<Result<(u32, u32), E>> {
        let index = if self.handed_out < self.capacity {
            if let Err(e) = commit(self.handed_out) {
                return Some(Err(e));
            }
            self.handed_out += 1;
            self.handed_out - 1
        } else {
            self.freed.pop_front()?
        };
        if self.records.len() <= index as usize {
            self.records.push(SlotRecord {
                generation: 0,
                in_use: false,
                state: PortState::Free,
                settings: PortSettings::default(),
            });
        }
        let record = &mut self.records[index as usize];
        record.generation = match record.generation.wrapping_add(1) {
            0 => 1,
            g => g,
        };
        record.in_use = true;
        record.state = PortState::Active;
        Some(Ok((index, record.generation)))
    }

    /// What the daemon last wrote into slot `slot`'s control block: its
    /// state, generation and (in use) settings; `None` for a slot never
    /// handed out.
    pub fn written(&self, slot: u32) -> Option<(PortState, u32, Option<PortSettings>)> {
        let record = self.records.get(slot as usize)?;
        Some(if record.in_use {
            (record.state, record.generation, Some(record.settings))
        } else {
            (PortState::Free, record.generation, None)
        })
    }

    /// Whether slot `index` is allocated with `generation`.
    pub fn is_live(&self, index: u32, generation: u32) -> bool {
        self.live_record(index, generation).is_some()
    }

    /// The settings of live slot `index` (`generation`).
    pub fn settings_in_use(&self, index: u32, generation: u32) -> Option<PortSettings> {
        self.live_record(index, generation).map(|r| r.settings)
    }

    /// The record of slot `index` while it is handed out as `generation`.
    fn live_record(&self, index: u32, generation: u32) -> Option<&SlotRecord> {
        self.records
            .get(index as usize)
            .filter(|r| r.in_use && r.generation == generation)
    }

    /// Remembers `settings` as written into slot `index`.
    pub fn remember_settings(&mut self, index: u32, settings: &PortSettings) {
        if let Some(record) = self.records.get_mut(index as usize) {
            record.settings = *settings;
        }
    }

    /// Remembers `state` as written into live slot `index` (`generation`).
    pub fn remember_state(&mut self, index: u32, generation: u32, state: PortState) {
        if let Some(record) = self.records.get_mut(index as usize)
            && record.in_use
            && record.generation == generation
        {
            record.state = state;
        }
    }

    /// Frees live slot `index` (`generation`); `false` if it was not live.
    pub fn release(&mut self, index: u32, generation: u32) -> bool {
        if !self.is_live(index, generation) {
            return false;
        }
        self.records[index as usize].in_use = false;
        self.freed.push_back(index);
        true
    }

    /// Every slot free and none handed out (for fresh memory); the
    /// generations go on (module docs).
    pub fn free_all(&mut self) {
        self.records.iter_mut().for_each(|r| r.in_use = false);
        self.freed.clear();
        self.handed_out = 0;
    }

    /// How many slots the table has.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Slots `0..handed_out()` were handed out since the memory was made.
    pub fn handed_out(&self) -> u32 {
        self.handed_out
    }

    /// How many slots are in use.
    pub fn used(&self) -> u32 {
        self.handed_out - self.freed.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(table: &mut SlotTable) -> (u32, u32) {
        table.allocate(|_| Ok::<(), ()>(())).unwrap().unwrap()
    }

    #[test]
    fn never_used_slots_first_in_order_then_freed_ones_oldest_first() {
        let mut table = SlotTable::new(4);
        let first: Vec<u32> = (0..3).map(|_| take(&mut table).0).collect();
        assert_eq!(first, [0, 1, 2]);
        assert!(table.release(1, 1) && table.release(0, 1));
        let again: Vec<u32> = (0..3).map(|_| take(&mut table).0).collect();
        assert_eq!(again, [3, 1, 0]);
        assert_eq!((table.used(), table.handed_out()), (4, 4));
        assert!(table.allocate(|_| Ok::<(), ()>(())).is_none(), "all in use");
    }

    #[test]
    fn records_exist_only_for_slots_handed_out() {
        let mut table = SlotTable::new(100_000);
        assert_eq!(table.written(0), None);
        take(&mut table);
        assert_eq!(table.records.len(), 1);
        assert_eq!(
            table.written(0),
            Some((PortState::Active, 1, Some(PortSettings::default())))
        );
        assert_eq!(table.written(1), None);
    }

    #[test]
    fn a_failed_commit_takes_nothing() {
        let mut table = SlotTable::new(2);
        assert_eq!(table.allocate(Err::<(), u32>), Some(Err(0)));
        assert_eq!((table.handed_out(), table.used()), (0, 0));
        assert_eq!(take(&mut table).0, 0);
    }

    #[test]
    fn after_free_all_slots_start_over_with_their_generations() {
        let mut table = SlotTable::new(2);
        let (a, generation) = take(&mut table);
        table.free_all();
        assert_eq!((table.handed_out(), table.used()), (0, 0));
        assert!(!table.is_live(a, generation));
        assert_eq!(take(&mut table), (0, generation + 1));
    }

    #[test]
    fn generations_skip_zero() {
        let mut table = SlotTable::new(1);
        take(&mut table);
        table.records[0].generation = u32::MAX;
        assert!(table.release(0, u32::MAX));
        assert_eq!(take(&mut table), (0, 1));
    }
}
