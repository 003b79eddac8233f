//! Lock-free MPMC freelist of `u32` indices, placed in shared memory.
//!
//! This module owns the free-chunk bookkeeping of a mempool: a Treiber stack
//! threaded through an array of link words, one per index, with a 64-bit head
//! word that packs the top index (low 32 bits) and an ABA tag (high 32 bits).
//! `loan` pops, the last holder of a chunk pushes it back.
//!
//! # Link words
//!
//! Each link word is one of
//! - an index `< capacity`: the index is free and this is the next free index,
//! - [`END`]: the index is free and is the last one on the stack,
//! - [`ALLOCATED`]: the index is held by someone.
//!
//! `pop` stores `ALLOCATED` into the link of the index it won. `push` first
//! swaps the link from `ALLOCATED` to its next index with a CAS; if the link was
//! not `ALLOCATED` the index is already free and the push fails with
//! [`ReleaseError::DoubleRelease`] without changing anything. A double release
//! is detected as long as the index is still free; once someone pops it again,
//! a late second release cannot be told apart from a legitimate one.
//!
//! # Hostile memory
//!
//! Other processes can write the header and the links. `pop` never indexes
//! with an unchecked value: a top index that is out of range reads as an empty
//! stack, and a link that is out of range is treated as [`END`] (the rest of the
//! corrupted list is leaked, never handed out twice by this process's code).
//! [`FreeList::attach`] checks the capacity word only: a corrupt head reads as
//! an empty list instead of shutting an attaching process out.
//!
//! # Walking the chain
//!
//! The daemon checks a list with [`FreeList::walk`]: it follows the chain
//! from the head, bounded by the capacity and checking every link, so it
//! needs no memory of its own and cannot be made to loop. It serves two
//! readers:
//!
//! - the audit, while the group works: the walk reports only damage that no
//!   race can produce (`walk`'s docs): an index out of range, a cycle, or a
//!   chain longer than the free count, seen while the head word did not
//!   change;
//! - the daemon once a segment group has no port left: then every chunk
//!   must be free, so a chain that does not hold every index once
//!   ([`FreeListWalk::is_whole`]) means chunks were lost to corruption (a
//!   chain cut short) or listed twice (a cycle).
//!
//! [`FreeList::restore_capacity`] puts the one word only the creator writes
//! back.
//!
//! # ABA
//!
//! Every successful change of the head increments the tag, so a `pop` that
//! read the head, was preempted, and then retries its CAS fails if anything
//! happened in between — unless exactly 2³² head changes happened while it
//! was preempted, which is accepted.

use crate::sync::{AtomicU32, AtomicU64, Ordering};
use core::fmt;

mod walk;

pub use walk::{ChainDamage, FreeListWalk};

/// Link value (and head index) meaning "no next index": end of the stack.
pub const END: u32 = u32::MAX;
/// Link value of an index that is currently held (popped, not yet pushed).
pub const ALLOCATED: u32 = u32::MAX - 1;
/// Largest capacity: indices must stay below [`ALLOCATED`].
pub const MAX_CAPACITY: u32 = ALLOCATED;

/// The shared-memory control block of a [`FreeList`]: one cache line.
///
/// `head`, `free_count` and `min_free` share that line on purpose: a pop or
/// push touches all three, so keeping them together costs one line transfer.
/// An all-zero header is a valid (uninitialised, capacity 0) header that
/// [`FreeList::attach`] rejects.
#[repr(C, align(64))]
#[derive(Debug, Default)]
pub struct FreeListHeader {
    /// Low 32 bits: top free index ([`END`] when empty); high 32 bits: ABA tag.
    head: AtomicU64,
    /// Number of free indices (approximate while operations are in flight).
    free_count: AtomicU32,
    /// Lowest `free_count` seen after a pop: the pool's low-water mark.
    min_free: AtomicU32,
    /// Number of link words, written once by [`FreeList::init`].
    capacity: AtomicU32,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<FreeListHeader>() == 64);
#[cfg(not(loom))]
const _: () = assert!(core::mem::align_of::<FreeListHeader>() == 64);

impl FreeListHeader {
    /// An all-zero header, to be set up with [`FreeList::init`].
    pub fn new() -> Self {
        Self::default()
    }
}

/// Why a freelist could not be initialised or attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FreeListError {
    /// The link array is empty.
    ZeroCapacity,
    /// The link array has more entries than indices can name.
    TooLarge {
        /// Number of link words given.
        len: usize,
        /// [`MAX_CAPACITY`].
        max: u32,
    },
    /// The header's capacity does not match the link array given to `attach`.
    CapacityMismatch {
        /// Capacity recorded in the (shared) header.
        header: u32,
        /// Length of the link array.
        links: usize,
    },
}

impl fmt::Display for FreeListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ZeroCapacity => write!(f, "freelist has no link words (capacity 0)"),
            Self::TooLarge { len, max } => {
                write!(f, "freelist of {len} indices exceeds the maximum of {max}")
            }
            Self::CapacityMismatch { header, links } => write!(
                f,
                "freelist header says capacity {header} but {links} link words were given"
            ),
        }
    }
}

impl core::error::Error for FreeListError {}

/// Why [`FreeList::push`] refused an index (nothing was changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReleaseError {
    /// The index is not below the capacity.
    OutOfRange {
        /// The index given.
        index: u32,
        /// The freelist's capacity.
        capacity: u32,
    },
    /// The index is already free.
    DoubleRelease {
        /// The index given.
        index: u32,
    },
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::OutOfRange { index, capacity } => write!(
                f,
                "released index {index} is out of range for freelist capacity {capacity}"
            ),
            Self::DoubleRelease { index } => {
                write!(f, "index {index} released twice (it is already free)")
            }
        }
    }
}

impl core::error::Error for ReleaseError {}

#[inline]
fn pack(index: u32, tag: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(index)
}

#[inline]
fn unpack(head: u64) -> (u32, u32) {
    // Truncation is the point: low half is the index, high half the tag.
    (head as u32, (head >> 32) as u32)
}

/// A handle to a freelist whose header and links live elsewhere (usually in
/// shared memory). Cheap to copy; every operation is lock-free.
///
/// ```
/// use zerocp_core::freelist::{FreeListStorage, ReleaseError};
///
/// let storage = FreeListStorage::<4>::new();
/// let list = storage.list();
/// let a = list.pop().unwrap();
/// assert_eq!(list.free_count(), 3);
/// list.push(a).unwrap();
/// assert_eq!(list.push(a), Err(ReleaseError::DoubleRelease { index: a }));
/// assert_eq!(list.push(9), Err(ReleaseError::OutOfRange { index: 9, capacity: 4 }));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FreeList<'a> {
    header: &'a FreeListHeader,
    links: &'a [AtomicU32],
}

impl<'a> FreeList<'a> {
    /// Makes every index `0..links.len()` free. Only the creator calls this,
    /// before the memory is shared with anyone.
    ///
    /// The stores are `Relaxed` except the final head store (`Release`):
    /// in-process, handing the list to other threads synchronises; across
    /// processes, the segment is announced over the control socket after this.
    pub fn init(header: &'a FreeListHeader, links: &'a [AtomicU32]) -> Result<Self, FreeListError> {
        let capacity = checked_capacity(links.len())?;
        init_unchecked(header, links, capacity);
        Ok(Self { header, links })
    }

    /// Attaches to a freelist that someone else initialised, validating the
    /// (untrusted) header's capacity against the link array this process
    /// mapped.
    ///
    /// The head is not checked: it changes with every loan and release, and
    /// a corrupt one only makes the list read as empty ([`pop`](Self::pop)),
    /// so it does not shut the attaching process out of the rest of its
    /// group; the daemon's audit reports it ([`walk`](Self::walk)).
    pub fn attach(
        header: &'a FreeListHeader,
        links: &'a [AtomicU32],
    ) -> Result<Self, FreeListError> {
        let capacity = checked_capacity(links.len())?;
        // Acquire: pairs with the Release head store of `init` (in-process),
        // so the capacity and links `init` wrote are visible.
        let _ = header.head.load(Ordering::Acquire);
        // Relaxed: written once by `init`, ordered by the Acquire above.
        let recorded = header.capacity.load(Ordering::Relaxed);
        if recorded != capacity {
            return Err(FreeListError::CapacityMismatch {
                header: recorded,
                links: links.len(),
            });
        }
        Ok(Self { header, links })
    }

    /// Takes a free index, or `None` when none is free.
    pub fn pop(&self) -> Option<u32> {
        // Acquire: pairs with the Release CAS of the push that put the top
        // index there (directly, or through the release sequence continued by
        // later head RMWs), so that push's link store is visible below.
        let mut head = self.header.head.load(Ordering::Acquire);
        loop {
            let (top, tag) = unpack(head);
            // `END` and corrupted top indices are both out of range: empty.
            let link = self.links.get(top as usize)?;
            // Relaxed: ordered by the Acquire head load; if the link changed
            // since (the index was popped and pushed again), so did the tag
            // and the CAS below fails.
            let next = link.load(Ordering::Relaxed);
            let next = if (next as usize) < self.links.len() {
                next
            } else {
                END
            };
            // Acquire on success and failure: the new head value is the basis
            // of the next link read (same reasoning as the first load).
            match self.header.head.compare_exchange_weak(
                head,
                pack(next, tag.wrapping_add(1)),
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // Relaxed: only the winner writes this link now; whoever
                    // pushes the index back got it from us through a
                    // synchronising hand-over.
                    link.store(ALLOCATED, Ordering::Relaxed);
                    self.count_pop();
                    return Some(top);
                }
                Err(actual) => head = actual,
            }
        }
    }

    /// Returns `index` to the list. Fails, changing nothing, when `index` is
    /// out of range or already free.
    pub fn push(&self, index: u32) -> Result<(), ReleaseError> {
        let capacity = self.capacity();
        let Some(link) = self.links.get(index as usize) else {
            return Err(ReleaseError::OutOfRange { index, capacity });
        };
        // Relaxed: only a first guess for the link; the head CAS validates it.
        let mut head = self.header.head.load(Ordering::Relaxed);
        // Relaxed: the CAS only decides ownership of this link word; the
        // link's value is published by the Release head CAS below.
        if link
            .compare_exchange(
                ALLOCATED,
                unpack(head).0,
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return Err(ReleaseError::DoubleRelease { index });
        }
        // Relaxed, and before the head CAS: the Release CAS orders it before
        // any pop of this index, so `free_count` never drops below zero.
        self.header.free_count.fetch_add(1, Ordering::Relaxed);
        loop {
            let (_, tag) = unpack(head);
            // Release on success: publishes the link store and everything the
            // releaser wrote to the chunk to the next popper. Relaxed on
            // failure: only the new top is needed, re-validated by the retry.
            match self.header.head.compare_exchange_weak(
                head,
                pack(index, tag.wrapping_add(1)),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => {
                    head = actual;
                    // Relaxed: published by the Release CAS that follows.
                    link.store(unpack(actual).0, Ordering::Relaxed);
                }
            }
        }
    }

    /// Hints the cache that `index` is about to be pushed ([`push`](Self::push)):
    /// asks for the head line and the index's link word owned, so that the
    /// push's read-modify-writes find them on this core (a hint only: it
    /// changes nothing and never faults).
    #[inline]
    pub fn prefetch_push(&self, index: u32) {
        crate::prefetch::for_write((&raw const self.header.head).cast());
        if let Some(link) = self.links.get(index as usize) {
            crate::prefetch::for_write((&raw const *link).cast());
        }
    }

    /// Hints the cache that a [`pop`](Self::pop) follows: asks for the head
    /// line owned.
    #[inline]
    pub fn prefetch_pop(&self) {
        crate::prefetch::for_write((&raw const self.header.head).cast());
    }

    /// Number of indices (`links.len()`, validated against the header).
    pub fn capacity(&self) -> u32 {
        // Cannot truncate: `init`/`attach` checked the length fits.
        self.links.len() as u32
    }

    /// Number of free indices, clamped to the capacity (a snapshot; exact
    /// when no operation is in flight).
    pub fn free_count(&self) -> u32 {
        // Relaxed: a statistic, not used to synchronise anything.
        self.header
            .free_count
            .load(Ordering::Relaxed)
            .min(self.capacity())
    }

    /// The lowest number of free indices seen right after a pop since `init`.
    pub fn min_free(&self) -> u32 {
        // Relaxed: a statistic, not used to synchronise anything.
        self.header
            .min_free
            .load(Ordering::Relaxed)
            .min(self.capacity())
    }

    fn count_pop(&self) {
        // Release: an auditor that reads this decrement (then an Acquire
        // fence) also sees the head CAS that preceded it, so its walk cannot
        // count this index as free and the decrement too (`walk`). The count
        // cannot underflow (see `push`).
        let now = self
            .header
            .free_count
            .fetch_sub(1, Ordering::Release)
            .wrapping_sub(1);
        // A plain load first: the RMW is only needed when a new minimum is set.
        if now < self.header.min_free.load(Ordering::Relaxed) {
            self.header.min_free.fetch_min(now, Ordering::Relaxed);
        }
    }
}

fn checked_capacity(len: usize) -> Result<u32, FreeListError> {
    match u32::try_from(len) {
        Ok(0) => Err(FreeListError::ZeroCapacity),
        Ok(n) if n <= MAX_CAPACITY => Ok(n),
        _ => Err(FreeListError::TooLarge {
            len,
            max: MAX_CAPACITY,
        }),
    }
}

/// `capacity` must equal `links.len()` and be in `1..=MAX_CAPACITY`.
fn init_unchecked(header: &FreeListHeader, links: &[AtomicU32], capacity: u32) {
    // Relaxed stores: nobody else uses the memory yet; the final Release
    // head store publishes them to in-process attachers.
    for (index, link) in (1..).zip(links) {
        link.store(
            if index < capacity { index } else { END },
            Ordering::Relaxed,
        );
    }
    header.capacity.store(capacity, Ordering::Relaxed);
    header.free_count.store(capacity, Ordering::Relaxed);
    header.min_free.store(capacity, Ordering::Relaxed);
    header.head.store(pack(0, 0), Ordering::Release);
}

/// An in-process freelist of `N` indices that owns its header and links
/// (tests, single-process use). `N` must be in `1..=MAX_CAPACITY` (checked at
/// compile time).
///
/// ```
/// use zerocp_core::freelist::FreeListStorage;
///
/// let storage = FreeListStorage::<2>::new();
/// let list = storage.list();
/// assert_eq!((list.pop(), list.pop(), list.pop()), (Some(0), Some(1), None));
/// assert_eq!(list.min_free(), 0);
/// ```
#[derive(Debug)]
pub struct FreeListStorage<const N: usize> {
    header: FreeListHeader,
    links: [AtomicU32; N],
}

impl<const N: usize> FreeListStorage<N> {
    const CAPACITY: u32 = {
        assert!(
            N > 0 && N <= MAX_CAPACITY as usize,
            "FreeListStorage needs 1..=MAX_CAPACITY"
        );
        N as u32
    };

    /// A list with every index `0..N` free.
    pub fn new() -> Self {
        let storage = Self {
            header: FreeListHeader::new(),
            links: core::array::from_fn(|_| AtomicU32::new(0)),
        };
        init_unchecked(&storage.header, &storage.links, Self::CAPACITY);
        storage
    }

    /// A handle to the list.
    pub fn list(&self) -> FreeList<'_> {
        FreeList {
            header: &self.header,
            links: &self.links,
        }
    }
}

impl<const N: usize> Default for FreeListStorage<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
