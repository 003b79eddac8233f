//! The mgmt segment: its header, its layout, and a typed view of it.
//!
//! The daemon creates `/zerocp.<domain>.mgmt` at start; every runtime maps it
//! read-write. Its layout is computed from the daemon's configuration
//! ([`MgmtConfig`]) by [`MgmtLayout::compute`], on both sides, from the values
//! the header records, so nothing but the configuration has to agree:
//!
//! ```text
//! offset 0                  MgmtHeader (512 B): magic, layout version, state,
//!                           daemon pid, epoch, sizes, limits, mempool table
//!                           (MAX_MEMPOOLS = 32 entries of chunk size, count
//!                           and segment group: 64 + 32 × 12 = 448 bytes used)
//! heartbeats                HeartbeatSlot × max_processes           (64 B each)
//! publishers                PublisherPort × max_publishers
//! subscribers               SubscriberPort × max_subscribers
//! freelists                 FreeListHeader × mempool count          (64 B each)
//! links                     u32 × total chunks (the freelists' link words)
//! refcounts                 u32 × total chunks (each chunk's reference count)
//! ```
//!
//! Every region starts on a 64-byte boundary. The refcount region holds the
//! number of holders of every chunk, by global chunk index ([`crate::refcount`]):
//! it is here, not in the chunk headers of the data segment, because every
//! holder (subscribers included) writes it on release, and the data segment
//! must be written only by loaning publishers (so that a process that only
//! subscribes can map it read-only). All of it is made of atomics
//! whose all-zero value is valid, so a freshly created (zero-filled) segment
//! can be viewed before the daemon writes anything, and a hostile process can
//! scribble any value without making a reader's access undefined behaviour;
//! values that index something (ports, chunks) are bounds-checked by whoever
//! uses them.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use crate::freelist::{FreeList, FreeListHeader};
use crate::heartbeat::HeartbeatSlot;
use crate::mempool::{MAX_MEMPOOLS, MempoolConfig};
use crate::port::{PublisherPort, SubscriberPort};
use crate::refcount::{ChunkRefcount, ChunkRefcounts};
use crate::sync::{AtomicU32, AtomicU64, Ordering};

mod config;
mod layout;

pub use config::{MgmtConfig, MgmtConfigError};
pub use layout::MgmtLayout;

/// `"ZEROCPMG"` little-endian: the first word of every mgmt segment.
pub const MGMT_MAGIC: u64 = u64::from_le_bytes(*b"ZEROCPMG");
/// Version of the layout described here; bumped on any incompatible change.
/// Version 2 added the refcount region (the counts left the chunk headers);
/// version 3 tags every mempool with its segment group and holds 32 pools.
pub const MGMT_LAYOUT_VERSION: u32 = 3;

/// Segment state: the daemon is still writing it.
pub const STATE_INITIALISING: u32 = 0;
/// Segment state: ready for runtimes.
pub const STATE_READY: u32 = 1;
/// Segment state: the daemon is stopping; runtimes must stop using it.
pub const STATE_SHUTTING_DOWN: u32 = 2;

/// One entry of the header's mempool table.
#[repr(C)]
pub struct MempoolEntry {
    chunk_size: AtomicU32,
    chunk_count: AtomicU32,
    group: AtomicU32,
}

/// The first 512 bytes of the mgmt segment.
///
/// Layout: `magic: u64`, `layout_version, state, daemon_pid, max_processes,
/// max_publishers, max_subscribers, mempool_count, reserved: u32`, `epoch,
/// mgmt_size, data_size: u64`, then [`MAX_MEMPOOLS`] × (`chunk_size,
/// chunk_count, group: u32`), padded to 512.
#[repr(C, align(512))]
pub struct MgmtHeader {
    magic: AtomicU64,
    layout_version: AtomicU32,
    state: AtomicU32,
    daemon_pid: AtomicU32,
    max_processes: AtomicU32,
    max_publishers: AtomicU32,
    max_subscribers: AtomicU32,
    mempool_count: AtomicU32,
    reserved: AtomicU32,
    epoch: AtomicU64,
    mgmt_size: AtomicU64,
    data_size: AtomicU64,
    mempools: [MempoolEntry; MAX_MEMPOOLS],
}

#[cfg(not(loom))]
const _: () = assert!(size_of::<MgmtHeader>() == 512);
#[cfg(not(loom))]
const _: () = assert!(64 + MAX_MEMPOOLS * size_of::<MempoolEntry>() <= 512);

/// Why a mapping could not be used as a mgmt segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MgmtError {
    /// The mapping is not aligned to the header's alignment.
    Misaligned,
    /// The mapping is smaller than the layout needs.
    TooSmall {
        /// Bytes needed.
        needed: u64,
        /// Bytes mapped.
        mapped: u64,
    },
    /// The first word is not [`MGMT_MAGIC`].
    BadMagic(u64),
    /// The layout version differs from [`MGMT_LAYOUT_VERSION`].
    VersionMismatch {
        /// Version in the segment.
        found: u32,
    },
    /// The daemon has not finished (or has begun tearing down) the segment.
    NotReady {
        /// State word found.
        state: u32,
    },
    /// The recorded configuration is invalid.
    Config(MgmtConfigError),
    /// The recorded size does not match the size computed from the configuration.
    SizeMismatch {
        /// Size recorded in the header.
        recorded: u64,
        /// Size computed from the recorded configuration.
        computed: u64,
    },
    /// A freelist header in the segment does not match its configuration.
    FreeList {
        /// Mempool index.
        pool: u32,
    },
}

impl core::fmt::Display for MgmtError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Misaligned => write!(f, "mgmt segment mapping is not 512-byte aligned"),
            Self::TooSmall { needed, mapped } => {
                write!(
                    f,
                    "mgmt segment too small: needs {needed} bytes, {mapped} mapped"
                )
            }
            Self::BadMagic(m) => write!(f, "not a ZeroCP mgmt segment (magic {m:#018x})"),
            Self::VersionMismatch { found } => write!(
                f,
                "mgmt layout version {found} is not the supported version {MGMT_LAYOUT_VERSION}"
            ),
            Self::NotReady { state } => write!(f, "mgmt segment not ready (state {state})"),
            Self::Config(e) => write!(f, "mgmt segment records an invalid configuration: {e}"),
            Self::SizeMismatch { recorded, computed } => write!(
                f,
                "mgmt segment size {recorded} does not match its configuration ({computed})"
            ),
            Self::FreeList { pool } => write!(f, "mgmt freelist of mempool {pool} is corrupt"),
        }
    }
}

impl core::error::Error for MgmtError {}

/// A typed view of a mapped mgmt segment.
///
/// It hands out shared references to the segment's atomics-only records;
/// every accessor bounds-checks its index.
#[derive(Debug, Clone, Copy)]
pub struct Mgmt<'a> {
    base: NonNull<u8>,
    layout: MgmtLayout,
    config: MgmtConfig,
    _mapping: PhantomData<&'a [u8]>,
}

// SAFETY: the view only hands out `&` to atomics-only `Sync` records; the raw
// base pointer is never written through except via those atomics.
unsafe impl Send for Mgmt<'_> {}
// SAFETY: as above; all shared access goes through atomics.
unsafe impl Sync for Mgmt<'_> {}

impl<'a> Mgmt<'a> {
    /// Daemon: lays out a fresh, zero-filled segment for `config` and marks it ready.
    ///
    /// # Safety
    /// `base..base+len` must be a zero-filled, writable mapping that stays
    /// mapped for `'a`, not yet visible to any other process.
    pub unsafe fn create(
        base: NonNull<u8>,
        len: usize,
        config: &MgmtConfig,
        daemon_pid: u32,
        epoch: u64,
        data_size: u64,
    ) -> Result<Self, MgmtError> {
        let layout = MgmtLayout::compute(config).map_err(MgmtError::Config)?;
        check_mapping(base, len, layout.total_size())?;
        let view = Self {
            base,
            layout,
            config: *config,
            _mapping: PhantomData,
        };
        view.write_header(config, daemon_pid, epoch, data_size);
        for pool in 0..config.mempools().len() as u32 {
            let (header, links) = view
                .freelist_parts(pool)
                .ok_or(MgmtError::FreeList { pool })?;
            FreeList::init(header, links).map_err(|_| MgmtError::FreeList { pool })?;
        }
        // Release: everything above is visible to whoever reads READY with Acquire.
        view.header().state.store(STATE_READY, Ordering::Release);
        Ok(view)
    }

    /// Runtime (or tool): validates a mapped segment and returns its view.
    ///
    /// # Safety
    /// `base..base+len` must be a mapping of a mgmt segment that stays mapped for `'a`.
    pub unsafe fn attach(base: NonNull<u8>, len: usize) -> Result<Self, MgmtError> {
        check_mapping(base, len, size_of::<MgmtHeader>() as u64)?;
        // SAFETY: checked above: aligned, large enough, mapped for 'a; the header
        // consists of atomics, valid for any bit pattern.
        let header = unsafe { base.cast::<MgmtHeader>().as_ref() };
        let magic = header.magic.load(Ordering::Relaxed);
        if magic != MGMT_MAGIC {
            return Err(MgmtError::BadMagic(magic));
        }
        let found = header.layout_version.load(Ordering::Relaxed);
        if found != MGMT_LAYOUT_VERSION {
            return Err(MgmtError::VersionMismatch { found });
        }
        // Acquire: pairs with the Release store of READY in `create`.
        let state = header.state.load(Ordering::Acquire);
        if state != STATE_READY {
            return Err(MgmtError::NotReady { state });
        }
        let config = read_config(header)?;
        let layout = MgmtLayout::compute(&config).map_err(MgmtError::Config)?;
        let recorded = header.mgmt_size.load(Ordering::Relaxed);
        if recorded != layout.total_size() {
            return Err(MgmtError::SizeMismatch {
                recorded,
                computed: layout.total_size(),
            });
        }
        check_mapping(base, len, recorded)?;
        let view = Self {
            base,
            layout,
            config,
            _mapping: PhantomData,
        };
        for pool in 0..config.mempools().len() as u32 {
            view.freelist(pool).ok_or(MgmtError::FreeList { pool })?;
        }
        Ok(view)
    }

    /// The configuration the segment was laid out for.
    pub fn config(&self) -> &MgmtConfig {
        &self.config
    }

    /// The computed layout (offsets of every region).
    pub fn layout(&self) -> &MgmtLayout {
        &self.layout
    }

    /// Pid of the daemon that created the segment.
    pub fn daemon_pid(&self) -> u32 {
        self.header().daemon_pid.load(Ordering::Relaxed)
    }

    /// The daemon's start epoch (distinguishes daemon restarts).
    pub fn epoch(&self) -> u64 {
        self.header().epoch.load(Ordering::Relaxed)
    }

    /// Size of the data segment the daemon created beside this one.
    pub fn data_size(&self) -> u64 {
        self.header().data_size.load(Ordering::Relaxed)
    }

    /// The segment state word (`STATE_*`).
    pub fn state(&self) -> u32 {
        // Acquire: a runtime that sees SHUTTING_DOWN stops using the segment.
        self.header().state.load(Ordering::Acquire)
    }

    /// Daemon: marks the segment as shutting down.
    pub fn set_shutting_down(&self) {
        // Release: pairs with the Acquire load in `state`.
        self.header()
            .state
            .store(STATE_SHUTTING_DOWN, Ordering::Release);
    }

    /// Heartbeat slot `index`, if in range.
    pub fn heartbeat(&self, index: u32) -> Option<&'a HeartbeatSlot> {
        self.record(self.layout.heartbeat_offset(index)?)
    }

    /// Publisher port `index`, if in range.
    pub fn publisher(&self, index: u32) -> Option<&'a PublisherPort> {
        self.record(self.layout.publisher_offset(index)?)
    }

    /// Subscriber port `index`, if in range.
    pub fn subscriber(&self, index: u32) -> Option<&'a SubscriberPort> {
        self.record(self.layout.subscriber_offset(index)?)
    }

    /// The freelist of mempool `pool`, if in range and consistent.
    pub fn freelist(&self, pool: u32) -> Option<FreeList<'a>> {
        let (header, links) = self.freelist_parts(pool)?;
        FreeList::attach(header, links).ok()
    }

    /// The reference counts of all chunks, by global chunk index.
    pub fn refcounts(&self) -> ChunkRefcounts<'a> {
        let offset = self.layout.refcounts_offset();
        let count = self.layout.refcount_count();
        // SAFETY: the refcount region (`count` u32 words from `offset`) lies
        // inside the layout, which `check_mapping` proved is inside the
        // mapping; it starts on a 64-byte boundary, so it is aligned for
        // `ChunkRefcount` (a transparent AtomicU32), valid for any bit pattern.
        let first = unsafe { self.base.as_ptr().add(offset as usize) }.cast::<ChunkRefcount>();
        // SAFETY: `count` words from `first` lie inside the mapping (above).
        let words = unsafe { core::slice::from_raw_parts(first, count as usize) };
        ChunkRefcounts::new(words)
    }

    fn freelist_parts(&self, pool: u32) -> Option<(&'a FreeListHeader, &'a [AtomicU32])> {
        let header = self.record(self.layout.freelist_offset(pool)?)?;
        let (links_offset, count) = self.layout.links_range(pool, &self.config)?;
        // SAFETY: `links_range` lies inside the layout, which `check_mapping`
        // proved is inside the mapping; the offset is 4-aligned (links start on
        // a 64-byte boundary and each pool's run is a whole number of u32);
        // AtomicU32 is valid for any bit pattern.
        let first = unsafe { self.base.as_ptr().add(links_offset as usize) }.cast::<AtomicU32>();
        // SAFETY: `count` link words from `first` lie inside the mapping (above),
        // aligned, and AtomicU32 is valid for any bit pattern.
        let links = unsafe { core::slice::from_raw_parts(first, count as usize) };
        Some((header, links))
    }

    fn header(&self) -> &'a MgmtHeader {
        // SAFETY: offset 0 is inside the checked mapping and 512-aligned.
        unsafe { self.base.cast::<MgmtHeader>().as_ref() }
    }

    fn record<T>(&self, offset: u64) -> Option<&'a T> {
        let end = offset.checked_add(size_of::<T>() as u64)?;
        if end > self.layout.total_size() || !offset.is_multiple_of(align_of::<T>() as u64) {
            return None;
        }
        // SAFETY: `offset + size_of::<T>()` is inside the checked mapping.
        let ptr = unsafe { self.base.as_ptr().add(offset as usize) }.cast::<T>();
        // SAFETY: in bounds and aligned (checked above); every record type here
        // consists of atomics, valid for any bit pattern.
        Some(unsafe { &*ptr })
    }

    fn write_header(&self, config: &MgmtConfig, daemon_pid: u32, epoch: u64, data_size: u64) {
        let h = self.header();
        // Relaxed: published by the Release store of READY in `create`.
        h.magic.store(MGMT_MAGIC, Ordering::Relaxed);
        h.layout_version
            .store(MGMT_LAYOUT_VERSION, Ordering::Relaxed);
        h.daemon_pid.store(daemon_pid, Ordering::Relaxed);
        h.max_processes
            .store(config.max_processes(), Ordering::Relaxed);
        h.max_publishers
            .store(config.max_publishers(), Ordering::Relaxed);
        h.max_subscribers
            .store(config.max_subscribers(), Ordering::Relaxed);
        h.mempool_count
            .store(config.mempools().len() as u32, Ordering::Relaxed);
        h.epoch.store(epoch, Ordering::Relaxed);
        h.mgmt_size
            .store(self.layout.total_size(), Ordering::Relaxed);
        h.data_size.store(data_size, Ordering::Relaxed);
        for (entry, pool) in h.mempools.iter().zip(config.mempools()) {
            entry.chunk_size.store(pool.chunk_size, Ordering::Relaxed);
            entry.chunk_count.store(pool.chunk_count, Ordering::Relaxed);
            entry.group.store(pool.group, Ordering::Relaxed);
        }
    }
}

fn check_mapping(base: NonNull<u8>, len: usize, needed: u64) -> Result<(), MgmtError> {
    if !(base.as_ptr() as usize).is_multiple_of(align_of::<MgmtHeader>()) {
        return Err(MgmtError::Misaligned);
    }
    if (len as u64) < needed {
        return Err(MgmtError::TooSmall {
            needed,
            mapped: len as u64,
        });
    }
    Ok(())
}

fn read_config(h: &MgmtHeader) -> Result<MgmtConfig, MgmtError> {
    let count = h.mempool_count.load(Ordering::Relaxed) as usize;
    let mut pools = [MempoolConfig::default(); MAX_MEMPOOLS];
    let listed = count.min(MAX_MEMPOOLS);
    for (dst, entry) in pools.iter_mut().zip(&h.mempools).take(listed) {
        dst.chunk_size = entry.chunk_size.load(Ordering::Relaxed);
        dst.chunk_count = entry.chunk_count.load(Ordering::Relaxed);
        dst.group = entry.group.load(Ordering::Relaxed);
    }
    if count > MAX_MEMPOOLS {
        return Err(MgmtError::Config(MgmtConfigError::TooManyMempools {
            count,
        }));
    }
    MgmtConfig::new(
        h.max_processes.load(Ordering::Relaxed),
        h.max_publishers.load(Ordering::Relaxed),
        h.max_subscribers.load(Ordering::Relaxed),
        &pools[..listed],
    )
    .map_err(MgmtError::Config)
}
