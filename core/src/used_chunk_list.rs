//! The used-chunk list: which chunks a port holds right now.
//!
//! Every chunk an application holds — loaned by a publisher, or taken by a
//! subscriber — is written into a slot of its port's used-chunk list before
//! the application can touch it, and cleared before the application gives up
//! or hands on its reference. When the process dies, the daemon releases every chunk still
//! listed, so a crash never frees a chunk twice and leaks only the chunks
//! that were between the freelist, a queue and this list at that instant
//! (per thread at most two: see [`crate::mempool_manager`]).
//!
//! Slots are chosen by the owning process (it keeps a process-local bitmask of
//! free slots), so recording a chunk is one relaxed store, not a search.
//! A slot stores `chunk index + 1`; zero means empty, so a freshly zeroed
//! segment is an empty list.

use crate::sync::{AtomicU32, Ordering};

/// A fixed list of `N` chunk slots, written by one process, read by the daemon.
///
/// Layout: `[u32; N]`, each `chunk index + 1` or 0 (empty).
///
/// ```
/// use zerocp_core::used_chunk_list::UsedChunkList;
/// let list = UsedChunkList::<4>::new();
/// list.record(2, 17).unwrap();
/// list.record(3, 5).unwrap();
/// assert_eq!(list.count(), 2);
/// assert_eq!(list.clear(2), Some(17));
/// assert_eq!(list.clear(2), None);
/// let mut held = Vec::new();
/// assert_eq!(list.drain(|chunk| held.push(chunk)), 1);
/// assert_eq!(held, [5]);
/// ```
#[repr(C)]
pub struct UsedChunkList<const N: usize> {
    slots: [AtomicU32; N],
}

/// A used-chunk slot number was out of range, or the chunk index cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsedSlotError {
    /// The slot asked for.
    pub slot: u32,
    /// The list's size.
    pub capacity: u32,
}

impl core::fmt::Display for UsedSlotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "used-chunk slot {} out of range (the list has {} slots) or chunk index u32::MAX",
            self.slot, self.capacity
        )
    }
}

impl core::error::Error for UsedSlotError {}

/// Calls `f` with every chunk listed in `cells` (each `chunk index + 1` or
/// 0, empty), changing nothing. The history ring lists its chunks the same
/// way and reports them through this too.
pub(crate) fn each_listed(cells: &[AtomicU32], mut f: impl FnMut(u32)) {
    for cell in cells {
        // Relaxed: a snapshot for the daemon's audit, which judges it only
        // when two reads agree.
        if let Some(chunk) = cell.load(Ordering::Relaxed).checked_sub(1) {
            f(chunk);
        }
    }
}

/// Takes every chunk out of `cells`, each `chunk index + 1` or 0 (empty),
/// leaving them empty, and calls `f` for each; returns how many. The history
/// ring stores its chunks the same way and drains through this too.
pub(crate) fn take_all(cells: &[AtomicU32], mut f: impl FnMut(u32)) -> u32 {
    let mut count = 0;
    for cell in cells {
        // Acquire: pairs with nothing in-process, but keeps the caller's later
        // use of the chunk (the daemon's, once the owner is dead) after this read.
        if let Some(chunk) = cell.swap(0, Ordering::Acquire).checked_sub(1) {
            f(chunk);
            count += 1;
        }
    }
    count
}

impl<const N: usize> UsedChunkList<N> {
    /// An empty list.
    pub fn new() -> Self {
        Self {
            slots: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Number of slots.
    pub const fn capacity(&self) -> u32 {
        N as u32
    }

    /// Owner: records that it holds `chunk` in `slot`.
    pub fn record(&self, slot: u32, chunk: u32) -> Result<(), UsedSlotError> {
        let cell = self.cell(slot)?;
        let stored = chunk.checked_add(1).ok_or(UsedSlotError {
            slot,
            capacity: N as u32,
        })?;
        // Relaxed: only read by the daemon after this process is gone (process
        // exit makes every store visible) or by the owner itself.
        cell.store(stored, Ordering::Relaxed);
        Ok(())
    }

    /// Owner: empties `slot`, which it recorded itself, before it drops or
    /// hands on its reference to the chunk. One plain store, no
    /// read-modify-write: the owner knows the chunk already, and the daemon
    /// drains a list ([`drain`](Self::drain)) only once its owner has exited
    /// or removed the port, so the two never meet on a slot. An index out
    /// of range is ignored (nothing was recorded there).
    ///
    /// ```
    /// use zerocp_core::used_chunk_list::UsedChunkList;
    /// let list = UsedChunkList::<4>::new();
    /// list.record(1, 9).unwrap();
    /// list.unlist(1);
    /// list.unlist(7);
    /// assert_eq!(list.count(), 0);
    /// ```
    #[inline]
    pub fn unlist(&self, slot: u32) {
        if let Ok(cell) = self.cell(slot) {
            // Relaxed: as `record`; the owner's release of the chunk that
            // follows is what other processes synchronise with.
            cell.store(0, Ordering::Relaxed);
        }
    }

    /// Owner or daemon: empties `slot`, returning the chunk it held.
    pub fn clear(&self, slot: u32) -> Option<u32> {
        let cell = self.cell(slot).ok()?;
        // Relaxed: see `record`; swap so a concurrent clear cannot return the chunk twice.
        let old = cell.swap(0, Ordering::Relaxed);
        old.checked_sub(1)
    }

    /// Daemon: takes every chunk out of the list, calling `f` for each, and
    /// leaves the list empty. Returns how many chunks were listed.
    pub fn drain(&self, f: impl FnMut(u32)) -> u32 {
        take_all(&self.slots, f)
    }

    /// Daemon (audit): calls `f` with every chunk listed, leaving the list
    /// as it is.
    ///
    /// ```
    /// use zerocp_core::used_chunk_list::UsedChunkList;
    /// let list = UsedChunkList::<4>::new();
    /// list.record(1, 9).unwrap();
    /// let mut seen = Vec::new();
    /// list.listed(|chunk| seen.push(chunk));
    /// assert_eq!((seen, list.clear(1)), (vec![9], Some(9)));
    /// ```
    pub fn listed(&self, f: impl FnMut(u32)) {
        each_listed(&self.slots, f);
    }

    /// How many slots hold a chunk now (a snapshot, for display: relaxed loads).
    pub fn count(&self) -> u32 {
        // Relaxed: a statistic; the owner may change the list meanwhile.
        self.slots
            .iter()
            .filter(|cell| cell.load(Ordering::Relaxed) != 0)
            .count() as u32
    }

    /// Empties every slot without reporting (daemon, when handing out the port again).
    pub fn reset(&self) {
        for cell in &self.slots {
            cell.store(0, Ordering::Relaxed);
        }
    }

    fn cell(&self, slot: u32) -> Result<&AtomicU32, UsedSlotError> {
        self.slots.get(slot as usize).ok_or(UsedSlotError {
            slot,
            capacity: N as u32,
        })
    }
}

impl<const N: usize> Default for UsedChunkList<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_slot_is_an_error() {
        let list = UsedChunkList::<2>::new();
        assert_eq!(
            list.record(2, 1),
            Err(UsedSlotError {
                slot: 2,
                capacity: 2
            })
        );
        assert!(list.record(0, u32::MAX).is_err());
        assert_eq!(list.clear(9), None);
    }

    #[test]
    fn drain_reports_each_chunk_once() {
        let list = UsedChunkList::<8>::new();
        list.record(1, 0).unwrap();
        list.record(5, 41).unwrap();
        let mut seen = std::vec::Vec::new();
        assert_eq!(list.drain(|c| seen.push(c)), 2);
        seen.sort_unstable();
        assert_eq!(seen, [0, 41]);
        assert_eq!(list.drain(|_| panic!("drained twice")), 0);
    }
}
