//! The MemPoolManager: loaning and releasing the chunks of one segment group.
//!
//! Both sides use it: runtimes loan and release chunks on the data path; the
//! daemon releases the chunks of dead processes and reads pool statistics.
//! It joins a group's control part's freelists (one per mempool, holding
//! *local* chunk numbers) with the group's payload part's chunks (named by
//! the group's chunk index, see [`MempoolLayout`]; "global" below means
//! global to the group, over all of its pools), and keeps every index it is
//! given in bounds: an index read from shared memory is never trusted. One
//! manager per group and per mapping: a chunk index names a chunk only
//! together with its group.
//!
//! Reference counting: a loaned chunk starts with refcount 1; whoever hands a
//! chunk to another holder adds to the count first; every holder releases
//! once, and the release that brings the count to zero pushes the chunk back
//! to its freelist. The counts are words of the control part's refcount region
//! ([`ChunkRefcounts`], by global chunk index), not of the chunk headers.
//!
//! # Who writes the payload part
//!
//! Only the publisher that loaned a chunk writes it: its header (in
//! [`loan`](MemPoolManager::loan), and the sequence number before it
//! publishes) and its payload, while it holds the chunk exclusively. Every
//! other holder only reads it; what they write (refcounts, freelists, queues,
//! held lists) is in the control part. So a process that only subscribes can
//! map the payload part read-only, and a write through a `Sample` faults.
//!
//! # A shared chunk across processes
//!
//! A *shared chunk* is one chunk of a payload part with every reference to
//! it, wherever they are. Its memory layout: a 64-byte [`ChunkHeader`]
//! (sizes, origin port, sequence number) followed by the payload,
//! at an offset the [`MempoolLayout`] computes from the chunk's global index;
//! a process finds it in its own mapping of the payload part, so no address
//! ever crosses a process boundary, only the `u32` index. Its reference count
//! is the word of that index in the control part's refcount region. Its
//! lifetime:
//!
//! 1. **loan**: [`MemPoolManager::loan`] pops a free chunk and initialises
//!    its header, and sets its refcount to 1; the publisher lists the index in its port's
//!    loans before it hands out a `LoanedSample` (zerocp runtime).
//! 2. **transfer**: `publish` adds one reference per receiving subscriber
//!    *before* it pushes the index into each subscriber's queue (and one for
//!    the history ring), then drops its own. A queue entry is a reference.
//! 3. **hold**: a subscriber pops the index, checks it against the layout,
//!    lists it in its port's held slots, and reads the payload in place
//!    through a `Sample`.
//! 4. **release**: dropping a `LoanedSample` or `Sample` unlists the index,
//!    then [`MemPoolManager::release`]s it; the last release pushes it back.
//!
//! Because every reference is listed before use and unlisted before release,
//! the daemon can release a dead process's references from its port lists
//! and queues: a crash at any instruction never frees a chunk twice, and
//! leaks only what that instant had in hand, per thread at most two chunks:
//! the one being taken, delivered (a delivery counts every receiving
//! subscriber before it pushes) or released (unlisted, not yet released),
//! and one that a push evicted from a full queue or the history ring and
//! had not released yet.

use core::ptr::NonNull;

use crate::chunk_header::{CHUNK_HEADER_SIZE, ChunkHeader, ChunkInit, HeaderError};
use crate::freelist::FreeList;
use crate::group_control::GroupControl;
use crate::mempool::{MAX_MEMPOOLS, MempoolLayout};
use crate::refcount::ChunkRefcounts;

/// Usage of one mempool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Payload capacity of each chunk.
    pub chunk_size: u32,
    /// Chunks in the pool.
    pub chunk_count: u32,
    /// Chunks loaned or in flight now.
    pub used: u32,
    /// Fewest free chunks ever seen.
    pub min_free: u32,
}

/// Why a payload part could not be used with a group control part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachDataError {
    /// The group control part's mempools cannot be laid out.
    Layout,
    /// The data mapping is smaller than the mempools need.
    TooSmall {
        /// Bytes needed.
        needed: u64,
        /// Bytes mapped.
        mapped: u64,
    },
    /// The data mapping is not 64-byte aligned.
    Misaligned,
}

impl core::fmt::Display for AttachDataError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Layout => write!(f, "the group control part's mempools cannot be laid out"),
            Self::TooSmall { needed, mapped } => {
                write!(
                    f,
                    "payload part too small: needs {needed} bytes, {mapped} mapped"
                )
            }
            Self::Misaligned => write!(f, "payload part mapping is not 64-byte aligned"),
        }
    }
}

impl core::error::Error for AttachDataError {}

/// Why [`MemPoolManager::loan`] could not loan a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanChunkError {
    /// Every chunk of the pool is in use.
    OutOfChunks {
        /// Pool index.
        pool: u32,
        /// Its chunk size.
        chunk_size: u32,
        /// Its chunk count.
        chunk_count: u32,
    },
    /// No such pool.
    NoSuchPool {
        /// Pool index asked for.
        pool: u32,
    },
    /// The payload does not fit the pool's chunks (or has a bad alignment).
    Header(HeaderError),
}

/// What a loaned chunk will carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadSpec {
    /// Payload size in bytes.
    pub size: u32,
    /// Payload alignment (power of two, at most 64).
    pub align: u32,
    /// Bytes of the user header before the payload (0: none).
    pub user_header_size: u32,
    /// Publisher port the chunk is loaned to.
    pub origin_port: u32,
    /// That port's generation.
    pub origin_generation: u32,
}

impl core::fmt::Display for LoanChunkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::OutOfChunks {
                pool,
                chunk_size,
                chunk_count,
            } => write!(
                f,
                "out of chunks: all {chunk_count} chunks of {chunk_size} bytes (mempool {pool}) are in use"
            ),
            Self::NoSuchPool { pool } => write!(f, "no mempool {pool}"),
            Self::Header(e) => write!(f, "cannot loan: {e}"),
        }
    }
}

impl core::error::Error for LoanChunkError {}

/// Why a chunk reference could not be released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseChunkError {
    /// The index names no chunk.
    OutOfRange {
        /// The index.
        chunk: u32,
    },
    /// The chunk's refcount was already zero (released once too often).
    NotHeld {
        /// The index.
        chunk: u32,
    },
    /// The freelist refused the chunk (it was already free).
    DoubleFree {
        /// The index.
        chunk: u32,
    },
}

impl core::fmt::Display for ReleaseChunkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::OutOfRange { chunk } => write!(f, "chunk index {chunk} is out of range"),
            Self::NotHeld { chunk } => write!(f, "chunk {chunk} released but not held"),
            Self::DoubleFree { chunk } => write!(f, "chunk {chunk} freed twice"),
        }
    }
}

impl core::error::Error for ReleaseChunkError {}

/// Loans and releases chunks; resolves chunk indices to headers and payloads.
#[derive(Debug, Clone)]
pub struct MemPoolManager<'a> {
    control: GroupControl<'a>,
    data: NonNull<u8>,
    layout: MempoolLayout,
    /// The refcount region of the control part, one word per chunk.
    refcounts: ChunkRefcounts<'a>,
    /// One validated freelist view per pool, built once (not per loan).
    freelists: heapless::Vec<FreeList<'a>, MAX_MEMPOOLS>,
}

// SAFETY: the manager only hands out `&ChunkHeader` and refcount words
// (atomics) and raw payload pointers; all shared state is reached through
// atomics.
unsafe impl Send for MemPoolManager<'_> {}
// SAFETY: as above.
unsafe impl Sync for MemPoolManager<'_> {}

impl<'a> MemPoolManager<'a> {
    /// Joins a group's control view with the mapped payload part of the
    /// same group.
    ///
    /// # Safety
    /// `data..data+data_len` must be a mapping (of the payload part created
    /// beside `control`'s part), mapped for `'a`.
    pub unsafe fn new(
        control: GroupControl<'a>,
        data: NonNull<u8>,
        data_len: usize,
    ) -> Result<Self, AttachDataError> {
        let layout = MempoolLayout::compute(control.config().mempools())
            .map_err(|_| AttachDataError::Layout)?;
        if !(data.as_ptr() as usize).is_multiple_of(64) {
            return Err(AttachDataError::Misaligned);
        }
        if (data_len as u64) < layout.total_bytes() {
            return Err(AttachDataError::TooSmall {
                needed: layout.total_bytes(),
                mapped: data_len as u64,
            });
        }
        let mut freelists = heapless::Vec::new();
        for pool in 0..control.config().mempools().len() as u32 {
            let freelist = control.freelist(pool).ok_or(AttachDataError::Layout)?;
            // Cannot fail: at most MAX_MEMPOOLS pools.
            let _ = freelists.push(freelist);
        }
        Ok(Self {
            refcounts: control.refcounts(),
            control,
            data,
            layout,
            freelists,
        })
    }

    /// The payload part's layout.
    pub fn layout(&self) -> &MempoolLayout {
        &self.layout
    }

    /// The group's control view.
    pub fn control(&self) -> &GroupControl<'a> {
        &self.control
    }

    /// Takes a free chunk of `pool`, writes its header (sequence and publish
    /// time 0) and sets
    /// its refcount to 1. Returns its global index.
    pub fn loan(&self, pool: u32, payload: PayloadSpec) -> Result<u32, LoanChunkError> {
        self.loan_with_header(pool, payload)
            .map(|(global, _)| global)
    }

    /// [`loan`](Self::loan), returning the chunk's header beside its global
    /// index (the data path keeps it instead of looking the chunk up again).
    pub fn loan_with_header(
        &self,
        pool: u32,
        payload: PayloadSpec,
    ) -> Result<(u32, &'a ChunkHeader), LoanChunkError> {
        let freelist = self
            .freelists
            .get(pool as usize)
            .ok_or(LoanChunkError::NoSuchPool { pool })?;
        let layout = self
            .layout
            .pools()
            .get(pool as usize)
            .ok_or(LoanChunkError::NoSuchPool { pool })?;
        let Some(local) = freelist.pop() else {
            return Err(LoanChunkError::OutOfChunks {
                pool,
                chunk_size: layout.chunk_size(),
                chunk_count: layout.chunk_count(),
            });
        };
        let global = layout.first_chunk() + local;
        let init = ChunkInit {
            chunk_size: layout.stride(),
            payload_size: payload.size,
            payload_align: payload.align,
            user_header_size: payload.user_header_size,
            origin_port: payload.origin_port,
            origin_generation: payload.origin_generation,
            sequence: 0,
            mempool: pool,
            chunk_index: global,
        };
        // The freelist only holds indices below the pool's count, so the
        // chunk and its refcount word exist.
        let header =
            self.header_at(layout.base_offset() + u64::from(local) * u64::from(layout.stride()));
        let (Some(header), Ok(refcount)) = (header, self.refcounts.get(global)) else {
            let _ = freelist.push(local);
            return Err(LoanChunkError::NoSuchPool { pool });
        };
        // The line after the header (the user header or the payload) is
        // written next, by the caller: fetch it owned while `init` writes the
        // header's line.
        let after_header = (&raw const *header).cast::<u8>();
        crate::prefetch::for_write(after_header.wrapping_add(CHUNK_HEADER_SIZE as usize));
        if let Err(e) = header.init(&init) {
            // Hand the chunk back untouched: nobody else has seen it.
            let _ = freelist.push(local);
            return Err(LoanChunkError::Header(e));
        }
        refcount.set_loaned();
        Ok((global, header))
    }

    /// The header of chunk `global`, if it exists.
    pub fn chunk(&self, global: u32) -> Option<&'a ChunkHeader> {
        self.chunk_in_pool(global).map(|(_, header)| header)
    }

    /// The pool of chunk `global` and its header, if it exists: one lookup
    /// for a caller that needs both.
    pub fn chunk_in_pool(&self, global: u32) -> Option<(usize, &'a ChunkHeader)> {
        let (pool, offset) = self.layout.chunk_location(global)?;
        Some((pool, self.header_at(offset)?))
    }

    /// The header at `offset` in the data segment, if a whole header fits
    /// below the layout's end there (callers pass a chunk's offset).
    fn header_at(&self, offset: u64) -> Option<&'a ChunkHeader> {
        let end = offset.checked_add(u64::from(CHUNK_HEADER_SIZE))?;
        if end > self.layout.total_bytes() || !offset.is_multiple_of(u64::from(CHUNK_HEADER_SIZE)) {
            return None;
        }
        // SAFETY: the header lies below `layout.total_bytes()` (checked
        // above), which `new` checked is mapped.
        let ptr = unsafe { self.data.as_ptr().add(offset as usize) }.cast::<ChunkHeader>();
        // SAFETY: in bounds (above); 64-aligned (above) like the mapping;
        // ChunkHeader consists of atomics, valid for any bit pattern.
        Some(unsafe { &*ptr })
    }

    /// Hints the cache at what receiving chunk `global`, whose header is
    /// `header` ([`chunk`](Self::chunk)), reads and releasing it writes
    /// ([`crate::prefetch`]): the header, the payload's first line (at
    /// `payload_offset`, within the chunk) and the reference count.
    #[inline]
    pub fn prefetch_received(&self, header: &ChunkHeader, global: u32, payload_offset: u32) {
        // Hints only: a prefetch never faults, so the addresses need no
        // checks (`wrapping_add`: no claim that they stay in the mapping).
        let header = (&raw const *header).cast::<u8>();
        crate::prefetch::for_read(header);
        crate::prefetch::for_read(header.wrapping_add(payload_offset as usize));
        if let Ok(refcount) = self.refcounts.get(global) {
            crate::prefetch::for_write((&raw const *refcount).cast());
        }
    }

    /// Hints the cache at the freelist lines chunk `global` of `pool` goes
    /// back to (the pool's head and the chunk's link word, owned), when its
    /// reference count says the caller holds the only reference: then the
    /// caller's release is the last one, which pushes the chunk. A holder
    /// among several leaves the lines where they are, since asking for them
    /// would pull them away from whoever does push (and from the
    /// publisher's next loan). Nothing happens for a `pool` that does not
    /// hold `global`.
    #[inline]
    pub fn prefetch_last_release(&self, pool: usize, global: u32) {
        let last = self
            .refcounts
            .get(global)
            .is_ok_and(|refcount| refcount.read() == 1);
        if !last {
            return;
        }
        let (Some(layout), Some(freelist)) =
            (self.layout.pools().get(pool), self.freelists.get(pool))
        else {
            return;
        };
        if layout.contains(global) {
            freelist.prefetch_push(global - layout.first_chunk());
        }
    }

    /// Hints the cache that a loan from `pool` follows: its freelist's head.
    #[inline]
    pub fn prefetch_loan(&self, pool: usize) {
        if let Some(freelist) = self.freelists.get(pool) {
            freelist.prefetch_pop();
        }
    }

    /// The payload address of chunk `global`, if it exists.
    pub fn payload(&self, global: u32) -> Option<NonNull<u8>> {
        let offset = self.layout.chunk_offset(global)? + u64::from(CHUNK_HEADER_SIZE);
        // SAFETY: a chunk is its 64-byte header followed by its payload, all
        // inside the checked mapping (see `chunk`), so the offset is in bounds.
        let ptr = unsafe { self.data.as_ptr().add(offset as usize) };
        NonNull::new(ptr)
    }

    /// The reference counts of all chunks (for diagnostics; use
    /// [`acquire`](Self::acquire) and [`release`](Self::release) to change them).
    pub fn refcounts(&self) -> ChunkRefcounts<'a> {
        self.refcounts
    }

    /// Adds `n` references to chunk `global` (before handing it to `n` holders).
    pub fn acquire(&self, global: u32, n: u32) -> Result<(), ReleaseChunkError> {
        let refcount = self
            .refcounts
            .get(global)
            .map_err(|_| ReleaseChunkError::OutOfRange { chunk: global })?;
        refcount.acquire_many(n);
        Ok(())
    }

    /// Drops one reference to chunk `global`; the last one returns it to its
    /// freelist. Returns whether the chunk was freed.
    pub fn release(&self, global: u32) -> Result<bool, ReleaseChunkError> {
        let refcount = self
            .refcounts
            .get(global)
            .map_err(|_| ReleaseChunkError::OutOfRange { chunk: global })?;
        // The release that reaches zero is AcqRel (see `ChunkRefcount::
        // try_release`) and the freelist push a Release CAS, so every
        // holder's accesses to the chunk happen before its next loan.
        match refcount.try_release() {
            Err(_) => Err(ReleaseChunkError::NotHeld { chunk: global }),
            Ok(false) => Ok(false),
            Ok(true) => {
                let (pool, local) = self
                    .layout
                    .locate(global)
                    .ok_or(ReleaseChunkError::OutOfRange { chunk: global })?;
                let freelist = self
                    .freelists
                    .get(pool)
                    .ok_or(ReleaseChunkError::OutOfRange { chunk: global })?;
                freelist
                    .push(local)
                    .map_err(|_| ReleaseChunkError::DoubleFree { chunk: global })?;
                Ok(true)
            }
        }
    }

    /// The freelist of `pool`, as validated when the manager was made (the
    /// daemon's audit walks it and restores its header's capacity word).
    pub fn freelist(&self, pool: u32) -> Option<&FreeList<'a>> {
        self.freelists.get(pool as usize)
    }

    /// Usage of `pool`.
    pub fn pool_stats(&self, pool: u32) -> Option<PoolStats> {
        let cfg = self.control.config().mempools().get(pool as usize)?;
        let freelist = self.freelists.get(pool as usize)?;
        Some(PoolStats {
            chunk_size: cfg.chunk_size,
            chunk_count: cfg.chunk_count,
            used: cfg.chunk_count.saturating_sub(freelist.free_count()),
            min_free: freelist.min_free(),
        })
    }
}
