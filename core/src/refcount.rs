//! Chunk reference counts: one [`ChunkRefcount`] word per chunk, kept in the
//! group control part's refcount region and reached through the bounds-checked
//! [`ChunkRefcounts`] view.
//!
//! A chunk's count is the number of its holders (0 = free): a loan sets it to
//! 1, whoever hands the chunk to more holders adds to it first, and every
//! holder releases once; the release that reaches zero returns the chunk to
//! its freelist. The counts live in the group's control part rather than in the chunk
//! header because subscribers write them (every release is a write): keeping
//! them out of the data segment means nothing but the loaning publisher
//! writes there, so a process that only subscribes can map it read-only.
//!
//! The region holds one `u32` word per *global* chunk index (the order of
//! [`MempoolLayout`](crate::mempool::MempoolLayout)), is zero-filled when the
//! daemon creates the segment (every chunk free), and any process attached to
//! the segment may scribble on it: every access is bounds-checked by chunk
//! index, and a release that finds the count already zero is refused
//! ([`RefcountUnderflow`]) and undone instead of freeing the chunk twice.
//!
//! Orderings (the same reasoning as `Arc`): adding a holder is `Relaxed`, the
//! adder's own reference keeps the chunk alive and the hand-over to the new
//! holder is ordered by the queue push/pop; a release is `AcqRel`, so every
//! holder's accesses to the chunk happen before the last holder's release,
//! which then pushes the chunk to the freelist with a `Release` CAS that the
//! next loaner's `Acquire` pop pairs with (loom model: `tests/loom_refcount.rs`).

use core::fmt;

use crate::sync::{AtomicU32, Ordering};

/// The reference count of one chunk: a `#[repr(transparent)]` atomic `u32`
/// (all-zero = free), the element of the group control part's refcount region.
///
/// ```
/// use zerocp_core::refcount::{ChunkRefcount, RefcountUnderflow};
///
/// let count = ChunkRefcount::new(); // in real use: a word of a group control part
/// count.set_loaned();               // the loaner holds it
/// count.acquire_many(2);            // two more holders
/// assert_eq!(count.read(), 3);
/// assert_eq!(count.try_release(), Ok(false));
/// assert!(!count.release());
/// assert!(count.release());         // the last: the chunk goes back to the pool
/// assert_eq!(count.try_release(), Err(RefcountUnderflow));
/// ```
#[repr(transparent)]
#[derive(Debug, Default)]
pub struct ChunkRefcount(AtomicU32);

#[cfg(not(loom))]
const _: () = assert!(size_of::<ChunkRefcount>() == 4 && align_of::<ChunkRefcount>() == 4);

/// Why [`ChunkRefcount::try_release`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RefcountUnderflow;

impl fmt::Display for RefcountUnderflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("released a chunk whose reference count is already zero")
    }
}

impl core::error::Error for RefcountUnderflow {}

impl ChunkRefcount {
    /// A zero count (a free chunk), for use outside shared memory (tests,
    /// models). In shared memory the zero-filled region already holds them.
    pub fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Sets the count of a freshly loaned chunk to 1 (the loaner). Call only
    /// while holding the chunk exclusively (just popped from the freelist).
    pub fn set_loaned(&self) {
        // Relaxed: the chunk is exclusively ours; the Release push that
        // publishes it orders this store for every later holder.
        self.0.store(1, Ordering::Relaxed);
    }

    /// Current count (a snapshot, for diagnostics).
    pub fn read(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Adds a holder; the caller must already hold a reference (e.g. the
    /// publisher, once per receiving subscriber). Returns the previous count.
    pub fn acquire(&self) -> u32 {
        // Relaxed: like `Arc::clone`, the caller's own reference keeps the
        // chunk alive, so there is nothing to synchronise with; the handover
        // to the new holder is ordered by the queue push/pop.
        self.0.fetch_add(1, Ordering::Relaxed)
    }

    /// Adds `n` holders in one atomic operation (a publisher handing one
    /// chunk to `n` subscribers); the caller must already hold a reference.
    /// Returns the previous count.
    pub fn acquire_many(&self, n: u32) -> u32 {
        // Relaxed: as in `acquire`; one RMW instead of `n` on the hot path.
        self.0.fetch_add(n, Ordering::Relaxed)
    }

    /// Drops a holder; `Ok(true)` when it was the last (the caller must then
    /// return the chunk to its pool). A release on a free chunk (a double
    /// release, or a corrupt count) is refused and undone, so a chunk is
    /// never returned twice.
    pub fn try_release(&self) -> Result<bool, RefcountUnderflow> {
        // AcqRel: Release so our reads of the payload happen before whoever
        // recycles the chunk; Acquire so the last holder sees every other
        // holder's accesses before it returns the chunk (its freelist push is
        // a Release CAS, so the next loaner's Acquire pop sees them too). One
        // RMW (no load first): on the data path the line usually sits in the
        // other core's cache, and a load followed by a CAS would move it twice.
        let previous = self.0.fetch_sub(1, Ordering::AcqRel);
        if previous == 0 {
            // The chunk was free. Undo (a loan rewrites the count anyway).
            // Relaxed: restores the word, nothing is published by it.
            self.0.fetch_add(1, Ordering::Relaxed);
            return Err(RefcountUnderflow);
        }
        Ok(previous == 1)
    }

    /// [`try_release`](Self::try_release), treating an underflow as "not the
    /// last" (the chunk is already free, so it must not be returned again).
    pub fn release(&self) -> bool {
        self.try_release().unwrap_or(false)
    }
}

/// A chunk index with no refcount word: it names no chunk of the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoSuchChunk {
    /// The index asked for.
    pub chunk: u32,
    /// Number of chunks (of refcount words).
    pub count: u32,
}

impl fmt::Display for NoSuchChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chunk index {} has no reference count (the segment has {} chunks)",
            self.chunk, self.count
        )
    }
}

impl core::error::Error for NoSuchChunk {}

/// The refcount region: one [`ChunkRefcount`] per global chunk index, every
/// lookup bounds-checked (the index may come from shared memory).
///
/// ```
/// use zerocp_core::refcount::{ChunkRefcount, ChunkRefcounts, NoSuchChunk};
///
/// let words: [ChunkRefcount; 4] = Default::default(); // in real use: `GroupControl::refcounts`
/// let counts = ChunkRefcounts::new(&words);
/// counts.get(2)?.set_loaned();
/// assert_eq!(counts.get(2)?.read(), 1);
/// assert_eq!(counts.get(4).unwrap_err(), NoSuchChunk { chunk: 4, count: 4 });
/// # Ok::<(), NoSuchChunk>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ChunkRefcounts<'a> {
    words: &'a [ChunkRefcount],
}

impl<'a> ChunkRefcounts<'a> {
    /// A view of `words`, the count of chunk `i` at `words[i]`.
    pub fn new(words: &'a [ChunkRefcount]) -> Self {
        Self { words }
    }

    /// Number of chunks counted.
    pub fn len(&self) -> u32 {
        // Cannot truncate: a control layout has at most u32::MAX chunks.
        self.words.len() as u32
    }

    /// Whether the region counts no chunk at all.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The count of chunk `chunk`, if the index names one.
    pub fn get(&self, chunk: u32) -> Result<&'a ChunkRefcount, NoSuchChunk> {
        self.words.get(chunk as usize).ok_or(NoSuchChunk {
            chunk,
            count: self.len(),
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn counting_and_underflow() {
        let c = ChunkRefcount::new();
        assert_eq!(c.try_release(), Err(RefcountUnderflow));
        assert!(!c.release());
        assert_eq!(c.read(), 0, "an underflow is undone");
        c.set_loaned();
        assert_eq!(c.acquire(), 1);
        assert_eq!(c.acquire_many(2), 2);
        assert_eq!(c.read(), 4);
        assert_eq!(c.try_release(), Ok(false));
        assert!(!c.release());
        assert!(!c.release());
        assert!(c.release());
        assert_eq!(c.try_release(), Err(RefcountUnderflow));
        assert_eq!(c.read(), 0);
    }

    #[test]
    fn a_loan_resets_a_scribbled_count() {
        let c = ChunkRefcount::new();
        c.acquire_many(7);
        c.set_loaned();
        assert!(c.release());
    }

    #[test]
    fn lookups_are_bounds_checked() {
        let words: [ChunkRefcount; 3] = Default::default();
        let counts = ChunkRefcounts::new(&words);
        assert_eq!((counts.len(), counts.is_empty()), (3, false));
        counts.get(0).unwrap().set_loaned();
        assert_eq!(words[0].read(), 1);
        assert_eq!(counts.get(2).unwrap().read(), 0);
        for chunk in [3, u32::MAX] {
            assert_eq!(
                counts.get(chunk).unwrap_err(),
                NoSuchChunk { chunk, count: 3 }
            );
        }
        assert!(ChunkRefcounts::new(&[]).is_empty());
    }

    #[test]
    fn errors_say_what_was_refused() {
        let e = NoSuchChunk { chunk: 9, count: 4 };
        assert_eq!(
            e.to_string(),
            "chunk index 9 has no reference count (the segment has 4 chunks)"
        );
        assert!(RefcountUnderflow.to_string().contains("already zero"));
    }
}
