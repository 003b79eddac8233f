//! Bounded lock-free MPMC queue of `u32` chunk indices, placed in shared memory.
//!
//! This module owns each subscriber's receive queue: publishers push chunk
//! indices, the subscriber pops them, and a publisher whose subscriber uses the
//! "discard oldest" policy replaces the oldest entry when the queue is full.
//!
//! # Algorithm
//!
//! A ring of sequence cells after D. Vyukov's bounded MPMC queue. Positions are
//! *stamps*: `lap + index`, where `index < capacity` and `lap` is a multiple of
//! `one_lap = (capacity + 1).next_power_of_two()`. This gives an exact logical
//! capacity that need not be a power of two (a queue of capacity 3 holds 3)
//! while cells are still found with a mask. Each cell is one `AtomicU64`,
//! `stamp << 32 | chunk index`, so a single store publishes both:
//!
//! - stamp `s`: free, waiting for the producer whose tail stamp is `s`;
//! - stamp `s + 1`: holds a value for the consumer whose head stamp is `s`;
//! - a consumer at `s` frees the cell by storing stamp `s + one_lap`.
//!
//! A push or pop is one CAS on its position plus one store to the cell. The
//! producer and consumer positions sit on separate cache lines; the read-only
//! capacity sits on a third, so no hot line is shared by both sides.
//!
//! # Robustness
//!
//! Every value read from the queue is treated as hostile: the capacity is
//! clamped to `1..=CAP`, cells are indexed with `& (CAP - 1)`, and a position
//! that does not move while a cell says it should (only possible in corrupted
//! memory) ends the operation ("full" or "empty") instead of spinning. No
//! operation waits for another process: a pop that finds the next cell claimed
//! but not yet written reports "empty".
//!
//! A producer that dies between its CAS and its cell store leaves one cell
//! claimed; consumers then see the queue as empty from that cell on until the
//! daemon re-initialises the queue ([`ChunkQueue::init`]) while cleaning up.

use crate::cache_padded::CachePadded;
use crate::sync::{AtomicU32, AtomicU64, Ordering};
use core::fmt;

/// Largest `CAP` a [`ChunkQueue`] may have (keeps at least 11 lap bits in a
/// stamp, so a stale CAS would need ~2³¹ operations in between to succeed).
pub const MAX_CAP: usize = 1 << 20;

/// How often [`ChunkQueue::push_discard_oldest`] retries before it discards
/// the new index itself (only when the oldest entry stays unreadable).
#[cfg(not(loom))]
const DISCARD_ATTEMPTS: u32 = 64;
#[cfg(loom)]
const DISCARD_ATTEMPTS: u32 = 3;

/// A bounded MPMC queue of chunk indices with a run-time capacity in
/// `1..=CAP` (`CAP` a power of two, at most [`MAX_CAP`]).
///
/// An all-zero `ChunkQueue` is a valid empty queue of capacity 1; the daemon
/// calls [`ChunkQueue::init`] on the zeroed memory to set the real capacity.
///
/// ```
/// use zerocp_core::chunk_queue::{ChunkQueue, QueueFull};
///
/// let queue = ChunkQueue::<4>::new(3).unwrap();
/// for i in 0..3 {
///     queue.push(i).unwrap();
/// }
/// assert_eq!(queue.push(9), Err(QueueFull { index: 9 }));
/// assert_eq!(queue.push_discard_oldest(9), Some(0));
/// assert_eq!(queue.len(), 3);
/// assert_eq!((queue.pop(), queue.pop(), queue.pop(), queue.pop()), (Some(1), Some(2), Some(9), None));
/// ```
#[repr(C)]
pub struct ChunkQueue<const CAP: usize> {
    /// Tail stamp: where the next push goes. Written by producers.
    enqueue_pos: CachePadded<AtomicU32>,
    /// Head stamp: where the next pop comes from. Written by consumers.
    dequeue_pos: CachePadded<AtomicU32>,
    /// Logical capacity, written by `init` only.
    capacity: CachePadded<AtomicU32>,
    /// `stamp << 32 | chunk index`.
    cells: [AtomicU64; CAP],
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<ChunkQueue<8>>() == 3 * 64 + 8 * 8);
    assert!(core::mem::size_of::<ChunkQueue<1>>() == 4 * 64);
    assert!(core::mem::align_of::<ChunkQueue<8>>() == 64);
};

/// The requested capacity is not in `1..=CAP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CapacityError {
    /// The capacity asked for.
    pub requested: u32,
    /// The largest capacity this queue type holds (`CAP`).
    pub max: u32,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chunk queue capacity {} is not in 1..={}",
            self.requested, self.max
        )
    }
}

impl core::error::Error for CapacityError {}

/// The queue is full; the index was not enqueued and is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QueueFull {
    /// The chunk index that was not enqueued.
    pub index: u32,
}

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chunk queue is full; chunk index {} was not enqueued",
            self.index
        )
    }
}

impl core::error::Error for QueueFull {}

/// Capacity and lap size of one operation (derived from the clamped capacity).
#[derive(Clone, Copy)]
struct Geometry {
    cap: u32,
    one_lap: u32,
}

impl Geometry {
    fn new(cap: u32) -> Self {
        Self {
            cap,
            one_lap: (cap + 1).next_power_of_two(),
        }
    }

    fn index(self, stamp: u32) -> u32 {
        stamp & (self.one_lap - 1)
    }

    fn lap(self, stamp: u32) -> u32 {
        stamp & !(self.one_lap - 1)
    }

    /// The stamp after `stamp`: next index, or index 0 of the next lap.
    fn advance(self, stamp: u32) -> u32 {
        if self.index(stamp) + 1 < self.cap {
            stamp.wrapping_add(1)
        } else {
            self.lap(stamp).wrapping_add(self.one_lap)
        }
    }

    /// Number of entries from stamp `head` to stamp `tail`, clamped to `0..=cap`.
    fn distance(self, head: u32, tail: u32) -> u32 {
        let laps =
            i64::from(self.lap(tail).wrapping_sub(self.lap(head)) as i32) / i64::from(self.one_lap);
        let n =
            laps * i64::from(self.cap) + i64::from(self.index(tail)) - i64::from(self.index(head));
        // Cannot truncate: clamped to `0..=cap`.
        n.clamp(0, i64::from(self.cap)) as u32
    }
}

#[inline]
fn pack(stamp: u32, value: u32) -> u64 {
    (u64::from(stamp) << 32) | u64::from(value)
}

#[inline]
fn stamp_of(word: u64) -> u32 {
    (word >> 32) as u32
}

#[inline]
fn value_of(word: u64) -> u32 {
    // Truncation is the point: the low half is the chunk index.
    word as u32
}

impl<const CAP: usize> ChunkQueue<CAP> {
    const VALID_CAP: () = assert!(
        CAP.is_power_of_two() && CAP <= MAX_CAP,
        "CAP must be a power of two <= MAX_CAP"
    );

    /// An in-process queue of `capacity` entries.
    pub fn new(capacity: u32) -> Result<Self, CapacityError> {
        let () = Self::VALID_CAP;
        let queue = Self {
            enqueue_pos: CachePadded::new(AtomicU32::new(0)),
            dequeue_pos: CachePadded::new(AtomicU32::new(0)),
            capacity: CachePadded::new(AtomicU32::new(0)),
            cells: core::array::from_fn(|_| AtomicU64::new(0)),
        };
        queue.init(capacity)?;
        Ok(queue)
    }

    /// (Re-)initialises the queue in place as empty with `capacity` entries,
    /// e.g. over zeroed shared memory. Must not run concurrently with any
    /// other operation on this queue; the stores are `Relaxed` and are
    /// published by whatever hands the queue to its users (thread spawn,
    /// the control-socket reply that announces the port).
    pub fn init(&self, capacity: u32) -> Result<(), CapacityError> {
        let () = Self::VALID_CAP;
        // Cannot truncate: CAP <= MAX_CAP.
        let max = CAP as u32;
        if capacity == 0 || capacity > max {
            return Err(CapacityError {
                requested: capacity,
                max,
            });
        }
        for (index, cell) in (0..).zip(&self.cells) {
            // Cell `i` waits for the producer at stamp `i` of lap 0.
            cell.store(
                pack(if index < capacity { index } else { 0 }, 0),
                Ordering::Relaxed,
            );
        }
        self.capacity.store(capacity, Ordering::Relaxed);
        self.enqueue_pos.store(0, Ordering::Relaxed);
        self.dequeue_pos.store(0, Ordering::Relaxed);
        Ok(())
    }

    fn geometry(&self) -> Geometry {
        let () = Self::VALID_CAP;
        // Relaxed: written once before the queue is shared; clamped because
        // shared memory is hostile.
        Geometry::new(self.capacity.load(Ordering::Relaxed).clamp(1, CAP as u32))
    }

    fn cell(&self, g: Geometry, stamp: u32) -> &AtomicU64 {
        &self.cells[g.index(stamp) as usize & (CAP - 1)]
    }

    /// Enqueues `index`, or hands it back in [`QueueFull`] when the queue is full.
    pub fn push(&self, index: u32) -> Result<(), QueueFull> {
        let g = self.geometry();
        // Relaxed: the tail is only a ticket; the cell stamp (Acquire) decides
        // whether it is current and the CAS validates it.
        let mut tail = self.enqueue_pos.load(Ordering::Relaxed);
        loop {
            let cell = self.cell(g, tail);
            // Acquire: pairs with the Release store that last wrote the cell,
            // so the position CAS that preceded that store is visible to the
            // stale-tail reload below.
            let stamp = stamp_of(cell.load(Ordering::Acquire));
            if stamp == tail {
                // Relaxed: the cell store below is what publishes the entry.
                match self.enqueue_pos.compare_exchange_weak(
                    tail,
                    g.advance(tail),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // Release: publishes the index, and the chunk the
                        // publisher wrote before pushing, to the consumer.
                        cell.store(pack(tail.wrapping_add(1), index), Ordering::Release);
                        return Ok(());
                    }
                    Err(current) => tail = current,
                }
            } else if stamp.wrapping_add(g.one_lap) == tail.wrapping_add(1) {
                // The cell still holds the entry of the previous lap.
                return Err(QueueFull { index });
            } else {
                // Another producer already used this tail: take the newer one.
                // Relaxed: the Acquire cell load made that producer's CAS visible.
                let current = self.enqueue_pos.load(Ordering::Relaxed);
                if current == tail {
                    // No progress to catch up with: the cell is claimed by a
                    // producer a lap behind, or the memory is corrupted.
                    return Err(QueueFull { index });
                }
                tail = current;
            }
        }
    }

    /// Dequeues the oldest index, or `None` when the queue is empty (or the
    /// oldest entry is claimed by a producer that has not written it yet).
    pub fn pop(&self) -> Option<u32> {
        let g = self.geometry();
        // Relaxed: the head is only a ticket, validated by the CAS.
        let mut head = self.dequeue_pos.load(Ordering::Relaxed);
        loop {
            let cell = self.cell(g, head);
            // Acquire: pairs with the producer's Release store, so the index
            // and the chunk contents written before the push are visible.
            let word = cell.load(Ordering::Acquire);
            let stamp = stamp_of(word);
            if stamp == head.wrapping_add(1) {
                // Relaxed: the value was already read with Acquire above; the
                // CAS only decides which consumer owns it.
                match self.dequeue_pos.compare_exchange_weak(
                    head,
                    g.advance(head),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // Release: the producer of the next lap (Acquire) then
                        // also sees our head CAS (see `push`).
                        cell.store(pack(head.wrapping_add(g.one_lap), 0), Ordering::Release);
                        return Some(value_of(word));
                    }
                    Err(current) => head = current,
                }
            } else if stamp == head {
                return None;
            } else {
                // Relaxed: as in `push`, the Acquire cell load ordered the
                // newer head before this load.
                let current = self.dequeue_pos.load(Ordering::Relaxed);
                if current == head {
                    return None;
                }
                head = current;
            }
        }
    }

    /// Enqueues `index`, discarding the oldest entry if the queue is full.
    ///
    /// Returns the index that was discarded, which the caller must release:
    /// `None` if nothing was, normally the oldest entry; the new `index`
    /// itself only if the oldest entry stayed unreadable (claimed by a stalled
    /// producer) for all retries. Every index pushed is either enqueued or
    /// returned exactly once, by this call or a later `pop`.
    pub fn push_discard_oldest(&self, index: u32) -> Option<u32> {
        let g = self.geometry();
        for _ in 0..DISCARD_ATTEMPTS {
            if self.push(index).is_ok() {
                return None;
            }
            if let Some(dropped) = self.replace_oldest(g, index) {
                return Some(dropped);
            }
            core::hint::spin_loop();
        }
        Some(index)
    }

    /// If the queue is full, atomically (for every observer) removes the
    /// oldest entry and enqueues `index` in the cell it frees. Returns the
    /// removed entry, or `None` when the queue was not full or the oldest
    /// entry was not readable (the caller retries).
    fn replace_oldest(&self, g: Geometry, index: u32) -> Option<u32> {
        // Relaxed: a ticket, validated by the CAS below.
        let head = self.dequeue_pos.load(Ordering::Relaxed);
        let cell = self.cell(g, head);
        // Acquire: we take ownership of the oldest index like a consumer.
        let word = cell.load(Ordering::Acquire);
        if stamp_of(word) != head.wrapping_add(1) {
            return None;
        }
        // Full means the tail is exactly one lap ahead of the head. Relaxed:
        // a stale value only makes us retry.
        let tail = head.wrapping_add(g.one_lap);
        if self.enqueue_pos.load(Ordering::Relaxed) != tail {
            return None;
        }
        // Relaxed: as for `pop`, the value was read with Acquire.
        self.dequeue_pos
            .compare_exchange(head, g.advance(head), Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        // We own the oldest entry and its cell. No producer can take `tail`
        // (that cell's stamp is not `tail` until we write it), so this CAS only
        // fails if another party corrupted the tail; then the new index is
        // still placed in the cell we own rather than lost. Relaxed: the cell
        // store below publishes the entry.
        let _ = self.enqueue_pos.compare_exchange(
            tail,
            g.advance(tail),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        // Release: publishes the new index to the consumer of `tail`.
        cell.store(pack(tail.wrapping_add(1), index), Ordering::Release);
        Some(value_of(word))
    }

    /// Number of entries (a snapshot, clamped to `0..=capacity`).
    pub fn len(&self) -> u32 {
        let g = self.geometry();
        // Relaxed: a snapshot; the head is read first so that a concurrent
        // pop cannot make the result negative.
        let head = self.dequeue_pos.load(Ordering::Relaxed);
        let tail = self.enqueue_pos.load(Ordering::Relaxed);
        g.distance(head, tail)
    }

    /// `len() == 0`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The logical capacity (clamped to `1..=CAP`).
    pub fn capacity(&self) -> u32 {
        self.geometry().cap
    }
}

impl<const CAP: usize> fmt::Debug for ChunkQueue<CAP> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkQueue")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn exact_capacity_fifo_for_every_size() {
        for cap in 1..=8u32 {
            let q = ChunkQueue::<8>::new(cap).unwrap();
            for round in 0..5u32 {
                for i in 0..cap {
                    q.push(round * 100 + i).unwrap();
                }
                assert_eq!(q.len(), cap);
                assert_eq!(q.push(7), Err(QueueFull { index: 7 }));
                let got: Vec<u32> = core::iter::from_fn(|| q.pop()).collect();
                assert_eq!(got, (0..cap).map(|i| round * 100 + i).collect::<Vec<_>>());
                assert!(q.is_empty());
            }
        }
    }

    #[test]
    fn rejects_bad_capacity() {
        assert_eq!(
            ChunkQueue::<4>::new(0).unwrap_err(),
            CapacityError {
                requested: 0,
                max: 4
            }
        );
        assert_eq!(
            ChunkQueue::<4>::new(5).unwrap_err(),
            CapacityError {
                requested: 5,
                max: 4
            }
        );
    }

    #[test]
    fn discard_oldest_keeps_newest() {
        let q = ChunkQueue::<4>::new(3).unwrap();
        let mut dropped = Vec::new();
        for i in 0..10 {
            dropped.extend(q.push_discard_oldest(i));
        }
        assert_eq!(dropped, (0..7).collect::<Vec<_>>());
        let got: Vec<u32> = core::iter::from_fn(|| q.pop()).collect();
        assert_eq!(got, [7, 8, 9]);
    }

    #[test]
    fn zeroed_queue_is_empty_capacity_one() {
        let q = ChunkQueue::<4>::new(4).unwrap();
        q.enqueue_pos.store(0, Ordering::Relaxed);
        q.dequeue_pos.store(0, Ordering::Relaxed);
        q.capacity.store(0, Ordering::Relaxed);
        q.cells.iter().for_each(|c| c.store(0, Ordering::Relaxed));
        assert_eq!((q.capacity(), q.pop()), (1, None));
        q.push(5).unwrap();
        assert_eq!(q.push(6), Err(QueueFull { index: 6 }));
        assert_eq!(q.pop(), Some(5));
    }

    #[test]
    fn corrupted_words_never_hang_or_go_out_of_bounds() {
        let q = ChunkQueue::<4>::new(3).unwrap();
        q.capacity.store(u32::MAX, Ordering::Relaxed);
        assert_eq!(q.capacity(), 4);
        for garbage in [u32::MAX, 0x8000_0003, 12345] {
            q.enqueue_pos.store(garbage, Ordering::Relaxed);
            q.dequeue_pos
                .store(garbage.wrapping_mul(7), Ordering::Relaxed);
            q.cells
                .iter()
                .for_each(|c| c.store(u64::from(garbage) << 33, Ordering::Relaxed));
            let _ = q.push(1);
            let _ = q.pop();
            let _ = q.push_discard_oldest(2);
            assert!(q.len() <= q.capacity());
        }
        q.init(2).unwrap();
        q.push(1).unwrap();
        assert_eq!(q.pop(), Some(1));
    }

    #[test]
    fn positions_wrap_around_u32() {
        let q = ChunkQueue::<4>::new(3).unwrap();
        let start = u32::MAX - 3; // lap-aligned for one_lap = 4
        q.enqueue_pos.store(start, Ordering::Relaxed);
        q.dequeue_pos.store(start, Ordering::Relaxed);
        for i in 0..3u32 {
            q.cells[i as usize].store(pack(start.wrapping_add(i), 0), Ordering::Relaxed);
        }
        for i in 0..20 {
            q.push(i).unwrap();
            q.push(i + 100).unwrap();
            assert_eq!(q.len(), 2);
            assert_eq!((q.pop(), q.pop()), (Some(i), Some(i + 100)));
        }
    }

    #[test]
    fn threads_lose_and_duplicate_nothing() {
        const PER: u32 = if cfg!(miri) { 30 } else { 5_000 };
        let q = ChunkQueue::<4>::new(3).unwrap();
        let seen: Vec<AtomicU32> = (0..2 * PER).map(|_| AtomicU32::new(0)).collect();
        std::thread::scope(|s| {
            for p in 0..2 {
                let q = &q;
                s.spawn(move || {
                    for i in 0..PER {
                        while q.push(p * PER + i).is_err() {
                            std::thread::yield_now();
                        }
                    }
                });
            }
            let (q, seen) = (&q, &seen);
            for _ in 0..2 {
                s.spawn(move || {
                    let mut got = 0;
                    while got < PER {
                        match q.pop() {
                            Some(v) => {
                                seen[v as usize].fetch_add(1, Ordering::Relaxed);
                                got += 1;
                            }
                            None => std::thread::yield_now(),
                        }
                    }
                });
            }
        });
        assert!(seen.iter().all(|c| c.load(Ordering::Relaxed) == 1));
    }
}
