//! Bounded lock-free MPMC queue of `u32` chunk indices, placed in shared memory.
//!
//! This module owns each subscriber's receive queue: publishers push chunk
//! indices, the subscriber pops them, and a publisher whose subscriber uses the
//! "discard oldest" policy replaces the oldest entry when the queue is full.
//! The processes sharing a queue may be killed at any instruction; the queue
//! is built so that no such death ever blocks or corrupts it for the others.
//!
//! # Layout and encoding
//!
//! Positions are *stamps* `lap + index`, where `index < capacity` and `lap` is
//! a multiple of `L = (capacity + 1).next_power_of_two()`, so the logical
//! capacity is exact (a queue of capacity 3 holds 3) while cells are still
//! found with a mask. `enqueue_pos` (E) and `dequeue_pos` (D) are positions,
//! each on its own cache line. Each cell is one `AtomicU64`,
//! `stamp << 32 | chunk index`; the cell of position `p` reads:
//!
//! | stamp      | meaning                                                   |
//! |------------|-----------------------------------------------------------|
//! | `p`        | free for position `p` (value 0)                           |
//! | `p + 1`    | `p` filled, holds its index                               |
//! | `p + L`    | `p` consumed: free for position `p + L`                   |
//! | `p + L + 1`| `p` consumed and `p + L` filled                           |
//!
//! # Algorithm: the cell transition is the operation
//!
//! - **push** at `t = E`: CAS the cell `t → t + 1 | index` (this *is* the
//!   push; the first attempt guesses the free word `t | 0`, so a push usually
//!   makes no plain load of the cell), then CAS E `t → next(t)`. A producer
//!   that finds the cell at E already filled (`t + 1` or `t + L`) CASes E
//!   forward itself (helping) and retries; `t + 1 - L` (the previous lap's
//!   entry) means full.
//! - **pop** at `h = D`: read the cell; on `h + 1` CAS it to `h + L | 0`
//!   (this *is* the pop, taking the value), then CAS D `h → next(h)`. A
//!   consumer that finds the cell at D consumed (`h + L`, `h + L + 1`) helps
//!   D forward; `h` means empty.
//! - **discard oldest**: when a push sees the queue full at `t` (cell holds
//!   `h + 1`, `h = t - L`), it first brings D to `h` (helping past a consumed
//!   position), then CASes the cell `h + 1 | old → t + 1 | index`: one step
//!   consumes `h` and fills `t`. Then it advances E and D (anyone may help).
//!
//! # Proof sketch
//!
//! **I1** Each cell only moves forward through the stamps of its positions,
//! `p → p+1 → p+L → p+L+1 → …` (a discard jumps `p+1 → p+L+1`), always by a
//! CAS that expects the exact previous word. So each position is filled at
//! most once and consumed at most once, after its fill, and a value is taken
//! by exactly one CAS: never lost, never duplicated.
//!
//! **I2** E moves from `p` only to `next(p)` and only by a CAS, made by the
//! filler of `p` after its fill or by a helper that saw `p` filled (stamps
//! `p+1`, `p+L` are reachable only through the fill of `p`, by I1). Likewise
//! D moves from `p` only after `p` was consumed. So E and D never pass an
//! unfilled / unconsumed position.
//!
//! **I3** A fill of `p` happens while `E == p`: the filler read `p` from E,
//! E is monotone, and E cannot pass `p` before this very fill (I2). Likewise a
//! consume of `p` happens while `D == p` (a discard makes sure of that by
//! reading `D == h` first). Hence positions are filled, and consumed, in
//! order; the logical tail is `T ∈ {E, next(E)}` and the logical head
//! `H ∈ {D, next(D)}` (E and D lag by at most one step); and since filling
//! `p` needs `p - L` consumed, `T - H ≤ capacity`. The queue is FIFO with
//! exact capacity; operations linearise at their cell CAS, "empty" at the
//! load of stamp `h` (then `H = T = h`), "full" at the load of `t + 1 - L`
//! (then `T = t`, `H = t - L`: `capacity` entries).
//!
//! **Crashes.** Every step before an operation's cell CAS only reads or helps
//! (moves E or D past a position that is done), so stopping there changes
//! nothing. After the cell CAS the queue is in a valid state with E and/or D
//! one step behind, exactly the state any other operation already handles by
//! helping. No operation ever waits for another one to finish a step. So a
//! process killed at any instruction loses at most the one index it was
//! pushing or popping, never blocks the queue and never hands an index out
//! twice. The `abandon_*_after` test hooks stop an operation after any number
//! of accesses; the loom models and stress tests use them.
//!
//! **Orderings.** Cell loads are Acquire and every cell CAS is Release: a
//! filled cell publishes the chunk written before the push (the consumer's
//! Acquire load sees it), and since every cell write is an RMW, any later
//! value continues the release sequence. E and D loads are Acquire and their
//! CASes Release (Acquire on failure, where the value read is used): a thread
//! that reads position `p` then also sees every cell transition before `p`,
//! so it never mistakes a stale cell for a full, empty or corrupted one.
//!
//! # Robustness
//!
//! Every value read from the queue is treated as hostile: the capacity is
//! clamped to `1..=CAP`, cells are indexed with `& (CAP - 1)`, and a cell
//! stamp that fits none of the cases above while the position it was found at
//! has not moved (only possible in corrupted memory) ends the operation
//! ("full", "empty", or the new index handed back by a discard). A thread
//! helps only past cells whose stamps say so exactly, which in memory nobody
//! else changes holds for at most one lap, so no operation spins.
//! Positions wrap around `u32`; a stale CAS could only succeed if its thread
//! stalled for ~2³¹ operations on this queue (stamps keep ≥ 11 lap bits).
//! The daemon audits a queue with [`ChunkQueue::walk`] (positions and
//! entries, judged only while they hold still) and puts its capacity word
//! back with [`ChunkQueue::restore_capacity`].

mod audit;
mod budget;
mod error;
mod geometry;
#[cfg(test)]
mod tests;

pub use audit::{QueueDamage, QueueEnd, QueueWalk};
pub use error::{CapacityError, QueueFull};

use crate::cache_padded::CachePadded;
use crate::sync::{AtomicU32, AtomicU64, Ordering};
use budget::{Budget, StopAfter, Unlimited};
use core::convert::Infallible;
use core::fmt;
use geometry::{Geometry, pack, stamp_of, value_of};

/// Largest `CAP` a [`ChunkQueue`] may have (keeps at least 11 lap bits in a
/// stamp, so a stale CAS would need ~2³¹ operations in between to succeed).
pub const MAX_CAP: usize = 1 << 20;

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
    /// Tail position (E): where the next push goes. Written by producers.
    enqueue_pos: CachePadded<AtomicU32>,
    /// Head position (D): where the next pop comes from. Written by consumers.
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

/// How a push attempt ended.
enum Claim {
    Pushed,
    /// The cell at `tail` holds `word`, the previous lap's (oldest) entry.
    Full {
        tail: u32,
        word: u64,
    },
    /// The memory fits no valid state.
    Corrupted,
}

/// How an attempt to replace the oldest entry ended.
enum Replace {
    /// Replaced; the oldest index, now the caller's.
    Done(u32),
    /// The queue changed under us (someone made progress): try again.
    Changed,
    Corrupted,
}

/// Unwraps the result of an operation run with the [`Unlimited`] budget.
fn finished<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

impl<const CAP: usize> ChunkQueue<CAP> {
    const VALID_CAP: () = assert!(
        CAP.is_power_of_two() && CAP <= MAX_CAP,
        "CAP must be a power of two <= MAX_CAP"
    );

    /// An in-process queue of `capacity` entries.
    ///
    /// ```
    /// use zerocp_core::chunk_queue::{CapacityError, ChunkQueue};
    ///
    /// assert_eq!(ChunkQueue::<4>::new(2).unwrap().capacity(), 2);
    /// assert_eq!(ChunkQueue::<4>::new(5).unwrap_err(), CapacityError { requested: 5, max: 4 });
    /// ```
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
            // Cell `i` is free for position `i` of lap 0 (unused cells: 0).
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

    /// Moves `pos` from `from` to the next position (unless another thread
    /// already did) and returns the position it now holds.
    fn advance<B: Budget>(
        pos: &AtomicU32,
        g: Geometry,
        from: u32,
        b: &mut B,
    ) -> Result<u32, B::Stop> {
        b.step()?;
        let next = g.advance(from);
        // Release: a thread that reads `next` (Acquire) also sees the cell
        // transition at `from` that allowed this move, and all before it.
        // Acquire on failure: the caller continues from the value read, as
        // after an Acquire load.
        Ok(
            match pos.compare_exchange(from, next, Ordering::Release, Ordering::Acquire) {
                Ok(_) => next,
                Err(current) => current,
            },
        )
    }

    /// Enqueues `index`, or hands it back in [`QueueFull`] when the queue is full.
    ///
    /// ```
    /// use zerocp_core::chunk_queue::{ChunkQueue, QueueFull};
    ///
    /// let queue = ChunkQueue::<2>::new(1).unwrap();
    /// assert_eq!(queue.push(4), Ok(()));
    /// assert_eq!(queue.push(5), Err(QueueFull { index: 5 }));
    /// ```
    pub fn push(&self, index: u32) -> Result<(), QueueFull> {
        match finished(self.claim(self.geometry(), index, &mut Unlimited)) {
            Claim::Pushed => Ok(()),
            Claim::Full { .. } | Claim::Corrupted => Err(QueueFull { index }),
        }
    }

    /// The push algorithm: fills the cell at the tail with `index` unless
    /// the queue is full.
    fn claim<B: Budget>(&self, g: Geometry, index: u32, b: &mut B) -> Result<Claim, B::Stop> {
        b.step()?;
        // Acquire: pairs with the Release CAS that moved E here, so the cell
        // loads below see every transition up to this position (I3).
        let mut tail = self.enqueue_pos.load(Ordering::Acquire);
        // Every free cell holds value 0: guess it and skip a plain load.
        let mut expected = pack(tail, 0);
        loop {
            let cell = self.cell(g, tail);
            b.step()?;
            // Release: publishes the index and the chunk written before the
            // push to the consumer's Acquire load. Acquire on failure: the
            // word read is classified below, as after an Acquire load.
            let word = match cell.compare_exchange(
                expected,
                pack(tail.wrapping_add(1), index),
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    Self::advance(&self.enqueue_pos, g, tail, b)?;
                    return Ok(Claim::Pushed);
                }
                Err(word) => word,
            };
            let stamp = stamp_of(word);
            if stamp == tail {
                // Free, but holding a stray value (only after corruption).
                expected = word;
                continue;
            }
            if g.filled(tail, stamp) {
                tail = Self::advance(&self.enqueue_pos, g, tail, b)?;
            } else if g.full_from_previous_lap(tail, stamp) {
                return Ok(Claim::Full { tail, word });
            } else {
                b.step()?;
                // Acquire: as above. In a valid state this stamp means E
                // moved past `tail` since we read it, and the move is ordered
                // before the cell write we read (I2 and the Release CASes),
                // so an unchanged E means corrupted memory.
                let current = self.enqueue_pos.load(Ordering::Acquire);
                if current == tail {
                    return Ok(Claim::Corrupted);
                }
                tail = current;
            }
            expected = pack(tail, 0);
        }
    }

    /// Dequeues the oldest index, or `None` when the queue is empty.
    ///
    /// ```
    /// use zerocp_core::chunk_queue::ChunkQueue;
    ///
    /// let queue = ChunkQueue::<4>::new(4).unwrap();
    /// queue.push(1).unwrap();
    /// queue.push(2).unwrap();
    /// assert_eq!((queue.pop(), queue.pop(), queue.pop()), (Some(1), Some(2), None));
    /// ```
    pub fn pop(&self) -> Option<u32> {
        finished(self.take(self.geometry(), &mut Unlimited))
    }

    /// The pop algorithm: empties the cell at the head.
    fn take<B: Budget>(&self, g: Geometry, b: &mut B) -> Result<Option<u32>, B::Stop> {
        b.step()?;
        // Acquire: pairs with the Release CAS that moved D here (see `claim`).
        let mut head = self.dequeue_pos.load(Ordering::Acquire);
        b.step()?;
        // Acquire: pairs with the producer's Release CAS, so the index and
        // the chunk written before the push are visible.
        let mut word = self.cell(g, head).load(Ordering::Acquire);
        loop {
            let stamp = stamp_of(word);
            if stamp == head.wrapping_add(1) {
                b.step()?;
                // Release: a thread that reads this word (Acquire) also sees
                // our read of D (see the reload below). Acquire on failure:
                // the word read may be taken on the next round. The value was
                // acquired with `word` (one fill per stamp, I1).
                match self.cell(g, head).compare_exchange(
                    word,
                    pack(head.wrapping_add(g.one_lap), 0),
                    Ordering::Release,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        Self::advance(&self.dequeue_pos, g, head, b)?;
                        return Ok(Some(value_of(word)));
                    }
                    Err(current) => {
                        word = current;
                        continue;
                    }
                }
            }
            if stamp == head {
                return Ok(None);
            }
            if g.consumed(head, stamp) {
                head = Self::advance(&self.dequeue_pos, g, head, b)?;
            } else {
                b.step()?;
                // Acquire: as in `claim`, an unchanged D means corruption.
                let current = self.dequeue_pos.load(Ordering::Acquire);
                if current == head {
                    return Ok(None);
                }
                head = current;
            }
            b.step()?;
            // Acquire: as above.
            word = self.cell(g, head).load(Ordering::Acquire);
        }
    }

    /// Enqueues `index`, discarding the oldest entry if the queue is full.
    ///
    /// Returns the index that was discarded, which the caller must release:
    /// `None` if nothing was, else the oldest entry, or the new `index`
    /// itself only if the queue's memory is corrupted. Every index pushed is
    /// either enqueued or returned exactly once, by this call or a later `pop`.
    ///
    /// ```
    /// use zerocp_core::chunk_queue::ChunkQueue;
    ///
    /// let queue = ChunkQueue::<2>::new(2).unwrap();
    /// assert_eq!(queue.push_discard_oldest(1), None);
    /// assert_eq!(queue.push_discard_oldest(2), None);
    /// assert_eq!(queue.push_discard_oldest(3), Some(1));
    /// assert_eq!((queue.pop(), queue.pop()), (Some(2), Some(3)));
    /// ```
    pub fn push_discard_oldest(&self, index: u32) -> Option<u32> {
        finished(self.claim_discarding(index, &mut Unlimited))
    }

    fn claim_discarding<B: Budget>(&self, index: u32, b: &mut B) -> Result<Option<u32>, B::Stop> {
        let g = self.geometry();
        loop {
            match self.claim(g, index, b)? {
                Claim::Pushed => return Ok(None),
                Claim::Corrupted => return Ok(Some(index)),
                Claim::Full { tail, word } => match self.replace_oldest(g, tail, word, index, b)? {
                    Replace::Done(oldest) => return Ok(Some(oldest)),
                    Replace::Corrupted => return Ok(Some(index)),
                    // Someone popped or pushed in between: a fresh attempt.
                    Replace::Changed => {}
                },
            }
        }
    }

    /// With the cell at `tail` seen holding `word`, the oldest entry (at
    /// `head = tail - L`), consumes `head` and fills `tail` in one CAS.
    fn replace_oldest<B: Budget>(
        &self,
        g: Geometry,
        tail: u32,
        word: u64,
        index: u32,
        b: &mut B,
    ) -> Result<Replace, B::Stop> {
        let head = tail.wrapping_sub(g.one_lap);
        let cell = self.cell(g, tail);
        b.step()?;
        // Acquire: as in `take`.
        let mut pos = self.dequeue_pos.load(Ordering::Acquire);
        // A consume must happen while D == head (I3): help D past a consumer
        // that consumed the position before `head` but did not advance D.
        while pos != head {
            b.step()?;
            // Acquire: as in `take`.
            let stamp = stamp_of(self.cell(g, pos).load(Ordering::Acquire));
            if !g.consumed(pos, stamp) {
                b.step()?;
                // Acquire: D moved past `head` only after `head` was
                // consumed, which a changed cell then shows. If the cell
                // still holds the oldest entry, D is corrupted.
                let now = cell.load(Ordering::Acquire);
                return Ok(if now == word {
                    Replace::Corrupted
                } else {
                    Replace::Changed
                });
            }
            pos = Self::advance(&self.dequeue_pos, g, pos, b)?;
        }
        b.step()?;
        // Release: publishes the new index like a push. The oldest index was
        // acquired with `word`; failure needs no ordering (we start over).
        if cell
            .compare_exchange(
                word,
                pack(tail.wrapping_add(1), index),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return Ok(Replace::Changed);
        }
        Self::advance(&self.enqueue_pos, g, tail, b)?;
        Self::advance(&self.dequeue_pos, g, head, b)?;
        Ok(Replace::Done(value_of(word)))
    }

    /// Number of entries (a snapshot, clamped to `0..=capacity`).
    ///
    /// ```
    /// use zerocp_core::chunk_queue::ChunkQueue;
    ///
    /// let queue = ChunkQueue::<4>::new(4).unwrap();
    /// queue.push(7).unwrap();
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn len(&self) -> u32 {
        let g = self.geometry();
        // The head side is read first, so a concurrent pop cannot make the
        // result negative. Acquire (all four loads): as in `claim`/`take`,
        // each cell load then sees at least the state its position implies.
        // E and D may each lag one step behind a finished cell CAS (I3).
        let head = self.settled(g, &self.dequeue_pos, Geometry::consumed);
        let tail = self.settled(g, &self.enqueue_pos, Geometry::filled);
        g.distance(head, tail)
    }

    /// For [`len`](Self::len): the position `pos` holds, moved on by one when
    /// its cell shows that the step `done` checks for already happened (the
    /// position lags one step behind a finished cell CAS). Acquire on both
    /// loads, as `len` explains.
    fn settled(&self, g: Geometry, pos: &AtomicU32, done: fn(Geometry, u32, u32) -> bool) -> u32 {
        let pos = pos.load(Ordering::Acquire);
        let stamp = stamp_of(self.cell(g, pos).load(Ordering::Acquire));
        if done(g, pos, stamp) {
            g.advance(pos)
        } else {
            pos
        }
    }

    /// `len() == 0`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The logical capacity (clamped to `1..=CAP`).
    pub fn capacity(&self) -> u32 {
        self.geometry().cap
    }

    /// Crash injection for tests: runs [`push`](Self::push) but stops for
    /// good before its `steps + 1`-th access to a position or cell, as if
    /// the process were killed there. `None` if it stopped, else the result.
    #[doc(hidden)]
    pub fn abandon_push_after(&self, steps: u32, index: u32) -> Option<Result<(), QueueFull>> {
        match self
            .claim(self.geometry(), index, &mut StopAfter(steps))
            .ok()?
        {
            Claim::Pushed => Some(Ok(())),
            Claim::Full { .. } | Claim::Corrupted => Some(Err(QueueFull { index })),
        }
    }

    /// Crash injection for tests: [`pop`](Self::pop) stopped after `steps`
    /// accesses (see [`abandon_push_after`](Self::abandon_push_after)).
    #[doc(hidden)]
    pub fn abandon_pop_after(&self, steps: u32) -> Option<Option<u32>> {
        self.take(self.geometry(), &mut StopAfter(steps)).ok()
    }

    /// Crash injection for tests: [`push_discard_oldest`](Self::push_discard_oldest)
    /// stopped after `steps` accesses (see [`abandon_push_after`](Self::abandon_push_after)).
    #[doc(hidden)]
    pub fn abandon_push_discard_oldest_after(&self, steps: u32, index: u32) -> Option<Option<u32>> {
        self.claim_discarding(index, &mut StopAfter(steps)).ok()
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
