//! A publisher's history: the last `depth` chunks it published, for late joiners.
//!
//! The ring lives in the publisher's port, is written only by the publishing
//! process, and holds one chunk reference per entry. A subscriber that asks
//! for history when it connects receives up to its requested number of these
//! chunks, oldest first, before any new sample (the publisher delivers them
//! when it sees the new subscriber in its topology).
//!
//! Crash safety follows the used-chunk rule: an entry is stored after its
//! reference is taken, and cleared before the reference is dropped, so the
//! daemon can release every listed entry of a dead publisher without a double
//! free. Entries store `chunk index + 1`; zero is empty.

use crate::sync::{AtomicU32, Ordering};
use crate::used_chunk_list::{each_listed, take_all};
use crate::word_repair::WordRepair;

/// Ring of at most `N` chunk indices, with a run-time depth `1..=N`.
///
/// Layout: `head: u32` (next write position), `len: u32`, `depth: u32`,
/// `reserved: u32`, then `[u32; N]` entries.
///
/// ```
/// use zerocp_core::history_ring::HistoryRing;
/// let ring = HistoryRing::<4>::new();
/// ring.init(2);
/// assert_eq!(ring.push(10), None);
/// assert_eq!(ring.push(11), None);
/// assert_eq!(ring.push(12), Some(10)); // evicted: the caller releases it
/// assert_eq!(ring.len(), 2);
/// let mut out = [0u32; 4];
/// assert_eq!(ring.newest(&mut out, 8), 2);
/// assert_eq!(&out[..2], &[11, 12]);
/// ```
#[repr(C)]
pub struct HistoryRing<const N: usize> {
    head: AtomicU32,
    len: AtomicU32,
    depth: AtomicU32,
    reserved: AtomicU32,
    entries: [AtomicU32; N],
}

impl<const N: usize> HistoryRing<N> {
    /// An empty ring of depth 0 (no history kept).
    pub fn new() -> Self {
        Self {
            head: AtomicU32::new(0),
            len: AtomicU32::new(0),
            depth: AtomicU32::new(0),
            reserved: AtomicU32::new(0),
            entries: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Daemon, before handing out the port: empties the ring and sets its
    /// depth (clamped to `N`).
    pub fn init(&self, depth: u32) {
        // Relaxed: the port is not in use by anyone while the daemon sets it up;
        // the reply on the control socket orders this before the owner's use.
        for e in &self.entries {
            e.store(0, Ordering::Relaxed);
        }
        self.head.store(0, Ordering::Relaxed);
        self.len.store(0, Ordering::Relaxed);
        self.depth.store(depth.min(N as u32), Ordering::Relaxed);
    }

    /// The configured depth (0: history disabled).
    pub fn depth(&self) -> u32 {
        self.depth.load(Ordering::Relaxed).min(N as u32)
    }

    /// How many entries the ring holds now (a snapshot, for display: the
    /// count of non-empty entries, which the daemon can trust no more than
    /// any other word the owner writes).
    pub fn len(&self) -> u32 {
        // Relaxed: a statistic.
        self.entries
            .iter()
            .filter(|cell| cell.load(Ordering::Relaxed) != 0)
            .count() as u32
    }

    /// Whether the ring holds no entry now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Owner: appends `chunk` (whose reference the caller already took for the
    /// ring). Returns the evicted oldest chunk, whose reference the caller must
    /// now drop. With depth 0 the chunk itself is handed back.
    pub fn push(&self, chunk: u32) -> Option<u32> {
        let depth = self.depth();
        if depth == 0 {
            return Some(chunk);
        }
        // Relaxed throughout: single writer; the daemon reads only after the owner died.
        let head = self.head.load(Ordering::Relaxed) % depth;
        let evicted = self.entries[head as usize]
            .swap(0, Ordering::Relaxed)
            .checked_sub(1);
        self.entries[head as usize].store(chunk.wrapping_add(1), Ordering::Relaxed);
        self.head.store((head + 1) % depth, Ordering::Relaxed);
        let len = self.len.load(Ordering::Relaxed);
        if len < depth {
            self.len.store(len + 1, Ordering::Relaxed);
        }
        evicted
    }

    /// Copies the newest `min(max, len)` entries into `out`, oldest first;
    /// returns how many were copied (also bounded by `out.len()`).
    pub fn newest(&self, out: &mut [u32], max: u32) -> usize {
        let depth = self.depth();
        if depth == 0 {
            return 0;
        }
        let len = self.len.load(Ordering::Relaxed).min(depth);
        let take = len.min(max).min(out.len() as u32);
        let head = self.head.load(Ordering::Relaxed) % depth;
        let first = (head + depth - take) % depth;
        let mut n = 0;
        for i in 0..take {
            let pos = (first + i) % depth;
            if let Some(chunk) = self.entries[pos as usize]
                .load(Ordering::Relaxed)
                .checked_sub(1)
            {
                out[n] = chunk;
                n += 1;
            }
        }
        n
    }

    /// Daemon (audit): calls `f` with every chunk the ring holds, leaving
    /// it as it is.
    pub fn listed(&self, f: impl FnMut(u32)) {
        each_listed(&self.entries, f);
    }

    /// Daemon (audit): puts back the depth word that [`init`](Self::init)
    /// wrote for `depth` (clamped to `N`), if it holds anything else.
    ///
    /// ```
    /// use zerocp_core::history_ring::HistoryRing;
    /// let ring = HistoryRing::<4>::new();
    /// ring.init(2);
    /// assert!(ring.restore_depth(2).is_clean());
    /// assert_eq!(ring.restore_depth(3).first(), Some("history.depth"));
    /// assert_eq!(ring.depth(), 3);
    /// ```
    pub fn restore_depth(&self, depth: u32) -> WordRepair {
        let mut repair = WordRepair::new();
        repair.u32("history.depth", &self.depth, depth.min(N as u32));
        repair
    }

    /// Daemon (owner dead) or owner (port closing): empties the ring, calling
    /// `f` for every chunk it held. Returns how many.
    pub fn drain(&self, f: impl FnMut(u32)) -> u32 {
        let count = take_all(&self.entries, f);
        self.len.store(0, Ordering::Relaxed);
        self.head.store(0, Ordering::Relaxed);
        count
    }
}

impl<const N: usize> Default for HistoryRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_zero_hands_the_chunk_back() {
        let ring = HistoryRing::<4>::new();
        assert_eq!(ring.push(3), Some(3));
        assert_eq!(ring.newest(&mut [0; 4], 4), 0);
    }

    #[test]
    fn keeps_newest_in_order_and_drains() {
        let ring = HistoryRing::<8>::new();
        ring.init(3);
        let evicted: std::vec::Vec<_> = (0..5).filter_map(|c| ring.push(c)).collect();
        assert_eq!(evicted, [0, 1]);
        let mut out = [0u32; 8];
        assert_eq!(ring.newest(&mut out, 2), 2);
        assert_eq!(&out[..2], &[3, 4]);
        assert_eq!(ring.newest(&mut out, 10), 3);
        assert_eq!(&out[..3], &[2, 3, 4]);
        let mut drained = std::vec::Vec::new();
        assert_eq!(ring.drain(|c| drained.push(c)), 3);
        drained.sort_unstable();
        assert_eq!(drained, [2, 3, 4]);
    }

    #[test]
    fn listed_reports_without_draining() {
        let ring = HistoryRing::<4>::new();
        ring.init(4);
        ring.push(3);
        ring.push(8);
        let mut seen = std::vec::Vec::new();
        ring.listed(|c| seen.push(c));
        seen.sort_unstable();
        assert_eq!(seen, [3, 8]);
        assert_eq!(ring.drain(|_| {}), 2);
    }

    #[test]
    fn hostile_depth_is_clamped() {
        let ring = HistoryRing::<2>::new();
        ring.depth.store(1000, Ordering::Relaxed);
        ring.head.store(u32::MAX, Ordering::Relaxed);
        for c in 0..10 {
            ring.push(c);
        }
        assert_eq!(ring.newest(&mut [0; 2], 10), 2);
    }
}
