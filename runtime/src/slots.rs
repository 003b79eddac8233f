//! Process-local bookkeeping of used-chunk slots.
//!
//! A port's used-chunk list in shared memory (`loans` of a publisher, `held`
//! of a subscriber) has a fixed number of slots. The owning process decides
//! which slot a new chunk goes into with this bitmask, so recording a chunk is
//! one store into shared memory and never a search through it. The mask is
//! also what enforces the port's limit (`max_loans`, `max_held`).

use core::cell::Cell;

/// A set of at most 32 free slot numbers, lowest first.
///
/// It is a [`Cell`]: a port and its samples live on one thread at a time
/// (ports are `Send`, not `Sync`).
#[derive(Debug)]
pub(crate) struct SlotMask {
    free: Cell<u32>,
    /// Slots taken (kept beside the mask: counting its bits is no single
    /// instruction on every target).
    used: Cell<u32>,
    limit: u32,
}

impl SlotMask {
    /// A mask with slots `0..limit` free (`limit` is clamped to 32).
    pub(crate) fn new(limit: u32) -> Self {
        let limit = limit.min(32);
        let free = if limit == 32 {
            u32::MAX
        } else {
            (1u32 << limit) - 1
        };
        Self {
            free: Cell::new(free),
            used: Cell::new(0),
            limit,
        }
    }

    /// How many slots exist.
    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    /// How many slots are taken.
    pub(crate) fn in_use(&self) -> u32 {
        self.used.get()
    }

    /// Takes the lowest free slot, if any.
    pub(crate) fn take(&self) -> Option<u32> {
        let free = self.free.get();
        if free == 0 {
            return None;
        }
        let slot = free.trailing_zeros();
        self.free.set(free & !(1 << slot));
        self.used.set(self.used.get() + 1);
        Some(slot)
    }

    /// Gives `slot` back. Slots outside the mask, or not taken, are ignored.
    pub(crate) fn give(&self, slot: u32) {
        let bit = 1u32.checked_shl(slot).filter(|_| slot < self.limit);
        if let Some(bit) = bit.filter(|bit| self.free.get() & bit == 0) {
            self.free.set(self.free.get() | bit);
            self.used.set(self.used.get() - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_each_slot_once_up_to_the_limit() {
        let mask = SlotMask::new(3);
        assert_eq!(
            (mask.take(), mask.take(), mask.take()),
            (Some(0), Some(1), Some(2))
        );
        assert_eq!(mask.take(), None);
        assert_eq!(mask.in_use(), 3);
        mask.give(1);
        assert_eq!(mask.in_use(), 2);
        assert_eq!(mask.take(), Some(1));
        mask.give(7);
        assert_eq!(mask.take(), None);
        mask.give(2);
        mask.give(2);
        assert_eq!(mask.in_use(), 2, "a free slot given back changes nothing");
    }

    #[test]
    fn full_width_and_clamped_limits() {
        let mask = SlotMask::new(40);
        assert_eq!(mask.limit(), 32);
        let taken: Vec<u32> = core::iter::from_fn(|| mask.take()).collect();
        assert_eq!(taken, (0..32).collect::<Vec<_>>());
        mask.give(31);
        assert_eq!(mask.take(), Some(31));
        assert_eq!(SlotMask::new(0).take(), None);
    }
}
