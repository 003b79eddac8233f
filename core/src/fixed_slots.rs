//! `FixedSlots<T, N>`: `N` slots whose indices never move, with an occupancy
//! bitmap of `u32` words.
//!
//! The daemon keeps per-process and per-port bookkeeping here, indexed by the
//! same number as the matching object in shared memory (a heartbeat slot, a
//! port): inserting returns the lowest free index, removing frees exactly that
//! index, and nothing else ever moves, so an index handed out (to a client, or
//! written into shared memory) stays valid until it is removed.
//!
//! This is an in-process container (it owns values of any `T`, not just `Copy`
//! ones); it is not meant to be placed in shared memory. The bitmap makes
//! finding a free slot and iterating over the occupied ones a scan of words,
//! not of slots. Capacity is limited to [`MAX_SLOTS`] so that the bitmap has a
//! fixed size without const-generic arithmetic.

use core::fmt;

/// Largest supported capacity `N`.
pub const MAX_SLOTS: usize = 32 * BITMAP_WORDS;

/// Number of `u32` words in every bitmap (fixed, see the module docs).
const BITMAP_WORDS: usize = 128;

/// `N` slots with stable indices.
///
/// ```
/// use zerocp_core::fixed_slots::FixedSlots;
///
/// let mut slots = FixedSlots::<&str, 4>::new();
/// let a = slots.insert("a")?;
/// let b = slots.insert("b")?;
/// assert_eq!(slots.remove(a), Some("a"));
/// assert_eq!(slots.get(b), Some(&"b")); // b did not move
/// assert_eq!(slots.insert("c")?, a); // the lowest free index is reused
/// # Ok::<(), zerocp_core::fixed_slots::SlotsFull<&str>>(())
/// ```
pub struct FixedSlots<T, const N: usize> {
    slots: [Option<T>; N],
    /// Bit `i % 32` of word `i / 32` is set iff `slots[i]` is `Some`.
    occupied: [u32; BITMAP_WORDS],
    len: u32,
}

/// `insert` found no free slot; the value is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotsFull<T> {
    /// The value that was not inserted.
    pub value: T,
    /// The capacity of the container.
    pub capacity: usize,
}

impl<T> fmt::Display for SlotsFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "all {} slots are occupied", self.capacity)
    }
}

impl<T: fmt::Debug> core::error::Error for SlotsFull<T> {}

impl<T, const N: usize> FixedSlots<T, N> {
    const CAPACITY_OK: () = assert!(N <= MAX_SLOTS, "FixedSlots capacity exceeds MAX_SLOTS");

    /// All slots free.
    pub const fn new() -> Self {
        let () = Self::CAPACITY_OK;
        Self {
            slots: [const { None }; N],
            occupied: [0; BITMAP_WORDS],
            len: 0,
        }
    }

    /// Puts `value` into the lowest free slot and returns its index.
    pub fn insert(&mut self, value: T) -> Result<u32, SlotsFull<T>> {
        match self.first_free() {
            Some(index) => {
                self.fill(index, value);
                Ok(index)
            }
            None => Err(SlotsFull { value, capacity: N }),
        }
    }

    /// Like [`insert`](Self::insert), building the value from its index (for
    /// values that record where they live). `make` is not called when full.
    pub fn insert_with(&mut self, make: impl FnOnce(u32) -> T) -> Option<u32> {
        let index = self.first_free()?;
        self.fill(index, make(index));
        Some(index)
    }

    /// Removes and returns the value at `index` (`None` if free or out of range).
    pub fn remove(&mut self, index: u32) -> Option<T> {
        let value = self.slot_mut(index)?.take()?;
        let (word, bit) = split(index);
        self.occupied[word] &= !bit;
        self.len -= 1;
        Some(value)
    }

    /// The value at `index`, if occupied.
    pub fn get(&self, index: u32) -> Option<&T> {
        self.slots.get(usize::try_from(index).ok()?)?.as_ref()
    }

    /// The value at `index`, mutably, if occupied.
    pub fn get_mut(&mut self, index: u32) -> Option<&mut T> {
        self.slot_mut(index)?.as_mut()
    }

    /// Whether `index` is occupied.
    pub fn contains(&self, index: u32) -> bool {
        self.get(index).is_some()
    }

    /// Iterates over the occupied slots as `(index, &value)`, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> + '_ {
        self.occupied_indices()
            .filter_map(|i| Some((i, self.get(i)?)))
    }

    /// Iterates over the occupied slots as `(index, &mut value)`, lowest first.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut T)> + '_ {
        (0u32..)
            .zip(self.slots.iter_mut())
            .filter_map(|(i, slot)| Some((i, slot.as_mut()?)))
    }

    /// Indices of the occupied slots, lowest first (a scan of the bitmap).
    pub fn occupied_indices(&self) -> impl Iterator<Item = u32> + '_ {
        (0u32..)
            .zip(self.occupancy().iter().copied())
            .flat_map(|(w, word)| BitIter(word).map(move |bit| w * 32 + bit))
    }

    /// The occupancy bitmap: bit `i % 32` of word `i / 32` is set iff slot `i`
    /// is occupied (`N.div_ceil(32)` words).
    pub fn occupancy(&self) -> &[u32] {
        &self.occupied[..N.div_ceil(32)]
    }

    /// Number of occupied slots.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no slot is occupied.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether every slot is occupied.
    pub fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    fn first_free(&self) -> Option<u32> {
        let (w, word) = (0u32..)
            .zip(self.occupancy().iter())
            .find(|(_, word)| **word != u32::MAX)?;
        let index = w * 32 + word.trailing_ones();
        (usize::try_from(index).ok()? < N).then_some(index)
    }

    fn fill(&mut self, index: u32, value: T) {
        if let Some(slot) = self.slot_mut(index) {
            *slot = Some(value);
            let (word, bit) = split(index);
            self.occupied[word] |= bit;
            self.len += 1;
        }
    }

    fn slot_mut(&mut self, index: u32) -> Option<&mut Option<T>> {
        self.slots.get_mut(usize::try_from(index).ok()?)
    }
}

/// Word index and bit mask of slot `index` (`index < MAX_SLOTS`).
fn split(index: u32) -> (usize, u32) {
    ((index / 32) as usize, 1 << (index % 32))
}

/// Iterates over the set bits of a word, lowest first.
struct BitIter(u32);

impl Iterator for BitIter {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(bit)
    }
}

impl<T, const N: usize> Default for FixedSlots<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for FixedSlots<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn indices_are_stable_and_lowest_free_is_reused() {
        let mut s = FixedSlots::<u32, 40>::new();
        for i in 0..40 {
            assert_eq!(s.insert(i * 10).unwrap(), i);
        }
        assert!(s.is_full());
        assert_eq!(s.insert(1).unwrap_err().value, 1);
        assert_eq!(s.remove(33), Some(330));
        assert_eq!(s.remove(33), None);
        assert_eq!(s.remove(5), Some(50));
        assert_eq!(s.occupancy(), &[!(1 << 5), 0xFF & !(1 << 1)]);
        assert_eq!(s.get(34), Some(&340));
        assert_eq!(s.insert_with(|i| i + 1000), Some(5));
        assert_eq!(s.get(5), Some(&1005));
        assert_eq!(s.insert(7).unwrap(), 33);
        assert_eq!(s.len(), 40);
    }

    #[test]
    fn iteration_follows_the_bitmap() {
        let mut s = FixedSlots::<char, 70>::new();
        for c in ['a', 'b', 'c', 'd'] {
            s.insert(c).unwrap();
        }
        for _ in 4..65 {
            s.insert('x').unwrap();
        }
        s.insert('z').unwrap();
        for i in 1..65 {
            s.remove(i);
        }
        let seen: Vec<_> = s.iter().collect();
        assert_eq!(seen, [(0, &'a'), (65, &'z')]);
        for (_, v) in s.iter_mut() {
            *v = v.to_ascii_uppercase();
        }
        assert_eq!(s.occupied_indices().collect::<Vec<_>>(), [0, 65]);
        assert_eq!(s.get(65), Some(&'Z'));
        assert!(s.contains(0) && !s.contains(1));
    }

    #[test]
    fn out_of_range_indices_are_none() {
        let mut s = FixedSlots::<u8, 3>::new();
        assert_eq!(s.get(3), None);
        assert_eq!(s.get_mut(u32::MAX), None);
        assert_eq!(s.remove(100), None);
        assert!(s.is_empty());
        assert_eq!(
            FixedSlots::<u8, 0>::new().insert(1).unwrap_err().capacity,
            0
        );
    }

    #[test]
    fn values_are_dropped() {
        let marker = std::rc::Rc::new(());
        {
            let mut s = FixedSlots::<_, 2>::new();
            s.insert(marker.clone()).unwrap();
            s.insert(marker.clone()).unwrap();
            assert_eq!(std::rc::Rc::strong_count(&marker), 3);
            drop(s.remove(0));
            assert_eq!(std::rc::Rc::strong_count(&marker), 2);
        }
        assert_eq!(std::rc::Rc::strong_count(&marker), 1);
    }
}
