//! Auditing a [`ChunkQueue`]: its positions and entries, and its capacity
//! word.
//!
//! The daemon, which lays a subscriber's queue out ([`ChunkQueue::init`])
//! and knows its capacity, walks it without changing anything
//! ([`ChunkQueue::walk`]): the enqueue and dequeue positions are read twice,
//! and only when both held still (*stable*) does the walk judge them, so
//! that what it reports cannot come from pushes and pops in flight:
//!
//! - a position whose cell index is not below the capacity: every push and
//!   pop moves a position to `next(p)`, which always has one;
//! - more entries between the positions than the capacity allows, or the
//!   tail behind the head: by I3 of the queue's proof, each position lags
//!   its logical value by at most one step, so `enqueue - dequeue` stays in
//!   `-1..=capacity + 1`.
//!
//! It then visits the entries from the dequeue position on (a position
//! whose cell says it is filled), at most `capacity + 1` of them; the caller
//! checks that each names a chunk (an index no publisher could have pushed
//! is damage whatever the timing). [`ChunkQueue::restore_capacity`] puts
//! back the capacity word, which only `init` writes.

use super::geometry::{stamp_of, value_of};
use super::{ChunkQueue, Ordering};
use core::fmt;

/// Which end of a queue a position belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueEnd {
    /// The dequeue position (head).
    Dequeue,
    /// The enqueue position (tail).
    Enqueue,
}

/// Structural damage a [`ChunkQueue::walk`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueDamage {
    /// A position names a cell beyond the capacity.
    PositionOutOfRange {
        /// Which position.
        end: QueueEnd,
        /// Its value.
        position: u32,
        /// The queue's capacity.
        capacity: u32,
    },
    /// The positions are further apart than the capacity allows (or the
    /// tail is behind the head).
    Distance {
        /// The dequeue position.
        dequeue: u32,
        /// The enqueue position.
        enqueue: u32,
        /// Entries between them (negative: the tail is behind).
        entries: i64,
        /// The queue's capacity.
        capacity: u32,
    },
}

impl fmt::Display for QueueDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::PositionOutOfRange {
                end,
                position,
                capacity,
            } => {
                let end = match end {
                    QueueEnd::Dequeue => "dequeue",
                    QueueEnd::Enqueue => "enqueue",
                };
                write!(
                    f,
                    "{end} position {position:#x} names a cell beyond the capacity {capacity}"
                )
            }
            Self::Distance {
                dequeue,
                enqueue,
                entries,
                capacity,
            } => write!(
                f,
                "positions {dequeue:#x}..{enqueue:#x} span {entries} entries, \
                 the capacity is {capacity}"
            ),
        }
    }
}

impl QueueDamage {
    /// Whether the values read prove the damage on their own: a position
    /// no push or pop produces. A distance beyond the capacity is judged
    /// from positions that held still between two reads, which a weakly
    /// ordered machine can fool for a moment: confirm it with a second walk
    /// that reads the same positions.
    pub fn proven_by_value(&self) -> bool {
        matches!(self, Self::PositionOutOfRange { .. })
    }
}

/// What one [`ChunkQueue::walk`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueWalk {
    /// The dequeue position read.
    pub dequeue: u32,
    /// The enqueue position read.
    pub enqueue: u32,
    /// Whether both positions held still between two reads; entries are
    /// visited and damage judged only then.
    pub stable: bool,
    /// Entries visited.
    pub entries: u32,
    /// Damage no race can explain (module docs), if any.
    pub damage: Option<QueueDamage>,
}

impl<const CAP: usize> ChunkQueue<CAP> {
    /// Reads the positions and, when they held still, checks them and
    /// calls `visit` with every entry from the head on (module docs).
    /// Never changes the queue.
    ///
    /// ```
    /// use zerocp_core::chunk_queue::ChunkQueue;
    /// let queue = ChunkQueue::<4>::new(3).unwrap();
    /// queue.push(7).unwrap();
    /// queue.push(9).unwrap();
    /// let mut entries = Vec::new();
    /// let walk = queue.walk(|chunk| entries.push(chunk));
    /// assert!(walk.stable && walk.damage.is_none());
    /// assert_eq!(entries, [7, 9]);
    /// ```
    pub fn walk(&self, mut visit: impl FnMut(u32)) -> QueueWalk {
        // Acquire (all four): as in `len`, the cells read below show at
        // least the state the positions imply. Head first, as in `len`.
        let dequeue = self.dequeue_pos.load(Ordering::Acquire);
        let enqueue = self.enqueue_pos.load(Ordering::Acquire);
        let stable = self.dequeue_pos.load(Ordering::Acquire) == dequeue
            && self.enqueue_pos.load(Ordering::Acquire) == enqueue;
        let mut walk = QueueWalk {
            dequeue,
            enqueue,
            stable,
            entries: 0,
            damage: None,
        };
        if !stable {
            return walk;
        }
        walk.damage = self.position_damage(dequeue, enqueue);
        if walk.damage.is_none() {
            walk.entries = self.visit_entries(dequeue, enqueue, &mut visit);
        }
        walk
    }

    fn position_damage(&self, dequeue: u32, enqueue: u32) -> Option<QueueDamage> {
        let g = self.geometry();
        for (end, position) in [(QueueEnd::Dequeue, dequeue), (QueueEnd::Enqueue, enqueue)] {
            if g.index(position) >= g.cap {
                return Some(QueueDamage::PositionOutOfRange {
                    end,
                    position,
                    capacity: g.cap,
                });
            }
        }
        let entries = g.signed_distance(dequeue, enqueue);
        (!(-1..=i64::from(g.cap) + 1).contains(&entries)).then_some(QueueDamage::Distance {
            dequeue,
            enqueue,
            entries,
            capacity: g.cap,
        })
    }

    /// Visits the filled cells from `dequeue` through `enqueue` (each end
    /// may lag its cell by one step); returns how many.
    fn visit_entries(&self, dequeue: u32, enqueue: u32, visit: &mut impl FnMut(u32)) -> u32 {
        let g = self.geometry();
        let mut position = dequeue;
        let mut entries = 0;
        for _ in 0..=g.cap + 1 {
            // Acquire: as in `take`.
            let word = self.cell(g, position).load(Ordering::Acquire);
            let stamp = stamp_of(word);
            if stamp == position.wrapping_add(1) {
                visit(value_of(word));
                entries += 1;
            } else if !g.consumed(position, stamp) {
                break;
            }
            if position == enqueue {
                break;
            }
            position = g.advance(position);
        }
        entries
    }

    /// Puts `capacity` back into the capacity word (which only
    /// [`init`](Self::init) writes) if it holds anything else; returns the
    /// value found then. A `capacity` outside `1..=CAP` is left alone.
    ///
    /// ```
    /// use zerocp_core::chunk_queue::ChunkQueue;
    /// let queue = ChunkQueue::<4>::new(3).unwrap();
    /// assert_eq!(queue.restore_capacity(3), None);
    /// ```
    pub fn restore_capacity(&self, capacity: u32) -> Option<u32> {
        if capacity == 0 || capacity > CAP as u32 {
            return None;
        }
        // Relaxed: as in `init`; positions keep their meaning for the
        // capacity they were laid out with, which this restores.
        let found = self.capacity.load(Ordering::Relaxed);
        (found != capacity).then(|| {
            self.capacity.store(capacity, Ordering::Relaxed);
            found
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::geometry::pack;
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn walked<const CAP: usize>(queue: &ChunkQueue<CAP>) -> (QueueWalk, Vec<u32>) {
        let mut entries = Vec::new();
        let walk = queue.walk(|chunk| entries.push(chunk));
        (walk, entries)
    }

    #[test]
    fn visits_the_entries_in_order_across_laps() {
        let queue = ChunkQueue::<8>::new(3).unwrap();
        for round in 0..5 {
            queue.push(round).unwrap();
            queue.push(round + 100).unwrap();
            assert_eq!(queue.pop(), Some(round));
            let (walk, entries) = walked(&queue);
            assert_eq!((walk.stable, walk.damage), (true, None));
            assert_eq!(entries, [round + 100]);
            assert_eq!(queue.pop(), Some(round + 100));
        }
        for i in 0..3 {
            queue.push(i).unwrap();
        }
        assert_eq!(walked(&queue).1, [0, 1, 2], "a full queue");
        assert_eq!(queue.push_discard_oldest(3), Some(0));
        assert_eq!(walked(&queue).1, [1, 2, 3]);
    }

    #[test]
    fn sees_entries_behind_lagging_positions() {
        let queue = ChunkQueue::<4>::new(4).unwrap();
        queue.push(5).unwrap();
        queue.push(6).unwrap();
        // A pusher filled position 2 and died before advancing E.
        queue.cells[2].store(pack(3, 7), Ordering::Relaxed);
        // A popper consumed position 0 and died before advancing D.
        queue.cells[0].store(pack(8, 0), Ordering::Relaxed);
        let (walk, entries) = walked(&queue);
        assert_eq!(walk.damage, None);
        assert_eq!(entries, [6, 7]);
    }

    #[test]
    fn reports_positions_beyond_the_capacity() {
        let queue = ChunkQueue::<8>::new(5).unwrap();
        // Capacity 5: a lap is 8 stamps, cell indices 5..8 are never used.
        queue.enqueue_pos.store(6, Ordering::Relaxed);
        let (walk, entries) = walked(&queue);
        assert_eq!(
            walk.damage,
            Some(QueueDamage::PositionOutOfRange {
                end: QueueEnd::Enqueue,
                position: 6,
                capacity: 5
            })
        );
        assert!(entries.is_empty());
        assert!(walk.damage.unwrap().to_string().contains("enqueue"));
    }

    #[test]
    fn reports_a_distance_beyond_the_capacity() {
        let queue = ChunkQueue::<4>::new(4).unwrap();
        queue.enqueue_pos.store(3 * 8 + 1, Ordering::Relaxed);
        let damage = walked(&queue).0.damage;
        assert!(
            matches!(damage, Some(QueueDamage::Distance { entries: 13, .. })),
            "{damage:?}"
        );
        queue.enqueue_pos.store(0, Ordering::Relaxed);
        queue.dequeue_pos.store(2, Ordering::Relaxed);
        let damage = walked(&queue).0.damage;
        assert!(
            matches!(damage, Some(QueueDamage::Distance { entries: -2, .. })),
            "{damage:?}"
        );
    }

    #[test]
    fn visits_at_most_capacity_plus_one_cells() {
        let queue = ChunkQueue::<4>::new(2).unwrap();
        // Every cell claims to be filled for its position and the next laps.
        for cell in &queue.cells {
            cell.store(pack(1, 9), Ordering::Relaxed);
        }
        queue.enqueue_pos.store(1, Ordering::Relaxed);
        let (walk, entries) = walked(&queue);
        assert!(walk.entries <= 3 && entries.len() <= 3, "{walk:?}");
    }

    #[test]
    fn restores_the_capacity_word() {
        let queue = ChunkQueue::<4>::new(3).unwrap();
        queue.capacity.store(u32::MAX, Ordering::Relaxed);
        assert_eq!(queue.restore_capacity(3), Some(u32::MAX));
        assert_eq!(queue.capacity(), 3);
        assert_eq!(queue.restore_capacity(3), None);
        assert_eq!(
            queue.restore_capacity(9),
            None,
            "not a capacity of this queue"
        );
    }
}
