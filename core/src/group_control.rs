//! The control part of one segment group: its header, its layout, and a
//! typed view of it.
//!
//! Every segment group (the implicit `default` is group 0, each configured
//! `[[group]]` follows) has two memory files of its own:
//! `zerocp.<domain>.<group>.control` (this layout) and
//! `zerocp.<domain>.<group>.payload` (its chunks, [`crate::mempool`]). The
//! daemon hands both only to processes with a port in the group, with that
//! port's reply: the control part read-write, the payload read-only to a
//! subscriber and read-write to a publisher. The layout is computed from the
//! group's configuration ([`GroupConfig`]) by [`GroupControlLayout::compute`],
//! on both sides, from the values the header records:
//!
//! ```text
//! offset 0                  GroupHeader (512 B): magic, layout version, state,
//!                           group index, port limits, sizes, mempool table
//!                           (MAX_MEMPOOLS = 32 entries of chunk size, count
//!                           and segment group: 64 + 32 × 12 = 448 bytes used)
//! publishers                PublisherPort × max_publishers
//! subscribers               SubscriberPort × max_subscribers
//! notifiers                 NotifierPort × max_notifiers         (event services,
//! listeners                 ListenerPort × max_listeners          crate::listener_port)
//! freelists                 FreeListHeader × mempool count          (64 B each)
//! links                     u32 × the group's chunks (the freelists' link words)
//! refcounts                 u32 × the group's chunks (each chunk's reference count)
//! ```
//!
//! Chunk indices are local to the group: chunk 0 is the first chunk of the
//! group's first pool, in the group's own payload part. Every region starts
//! on a 64-byte boundary. The refcount region holds the number of holders of
//! every chunk ([`crate::refcount`]): it is here, not in the chunk headers of
//! the payload part, because every holder (subscribers included) writes it on
//! release, and the payload part must be written only by loaning publishers
//! (so that a process that only subscribes can map it read-only). All of it
//! is made of atomics whose all-zero value is valid, so a freshly created
//! (zero-filled) part can be viewed before the daemon writes anything, and a
//! hostile process of the group can scribble any value without making a
//! reader's access undefined behaviour; values that index something (ports,
//! chunks) are bounds-checked by whoever uses them. A process of another
//! group holds no descriptor of this part, so it cannot write it at all.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use crate::freelist::{FreeList, FreeListHeader};
use crate::listener_port::{ListenerPort, NotifierPort};
use crate::mempool::{MAX_MEMPOOLS, MempoolConfig};
use crate::mgmt::STATE_READY;
use crate::port::{PublisherPort, SubscriberPort};
use crate::refcount::{ChunkRefcount, ChunkRefcounts};
use crate::sync::{AtomicU32, AtomicU64, Ordering};
use crate::word_repair::WordRepair;

mod config;
mod layout;

pub use config::{GroupConfig, GroupConfigError, MAX_PORTS_LIMIT};
pub use layout::GroupControlLayout;

/// `"ZEROCPGC"` little-endian: the first word of every group control part.
pub const GROUP_CONTROL_MAGIC: u64 = u64::from_le_bytes(*b"ZEROCPGC");
/// Version of the layout described here; bumped on any incompatible change.
/// It continues the versions of the single mgmt segment the control parts
/// were split from (3: mempools tagged with their group); 4 is the first
/// per-group control part; 5 added the ports' statistics of timeouts, a
/// subscriber's `max_held` and held count (a publisher's statistics sit in
/// its port's former tail padding); 6 added the wake-pending flags of a
/// subscriber's wake word (in its padding: a runtime of version 5 would
/// never clear them, and sleep through every publish after the first), a
/// subscriber's [`NotifyWord`](crate::notify_word::NotifyWord) (its own
/// line after the `WakeWord`), and the event services' notifier and
/// listener ports (their counts in the header's first reserved word); 7
/// added the ports' counters of samples published and received, failed
/// loans and time blocked ([`crate::port::PublisherStats`], in the
/// publisher's tail padding; [`crate::port::SubscriberStats`], whose `held`
/// moved from offset 16 to 24).
pub const GROUP_CONTROL_LAYOUT_VERSION: u32 = 7;

/// One entry of the header's mempool table.
#[repr(C)]
pub struct MempoolEntry {
    chunk_size: AtomicU32,
    chunk_count: AtomicU32,
    group: AtomicU32,
}

/// The first 512 bytes of a group control part.
///
/// Layout: `magic: u64`, `layout_version, state, group, max_publishers,
/// max_subscribers, mempool_count: u32`, `control_size, payload_size: u64`,
/// `max_notifiers, max_listeners: u32`, `reserved: u64`, then [`MAX_MEMPOOLS`] × (`chunk_size, chunk_count,
/// group: u32`), padded to 512.
#[repr(C, align(512))]
pub struct GroupHeader {
    magic: AtomicU64,
    layout_version: AtomicU32,
    state: AtomicU32,
    group: AtomicU32,
    max_publishers: AtomicU32,
    max_subscribers: AtomicU32,
    mempool_count: AtomicU32,
    control_size: AtomicU64,
    payload_size: AtomicU64,
    max_notifiers: AtomicU32,
    max_listeners: AtomicU32,
    reserved: [AtomicU64; 1],
    mempools: [MempoolEntry; MAX_MEMPOOLS],
}

#[cfg(not(loom))]
const _: () = assert!(size_of::<GroupHeader>() == 512);
#[cfg(not(loom))]
const _: () = assert!(64 + MAX_MEMPOOLS * size_of::<MempoolEntry>() <= 512);

/// Why a mapping could not be used as a group control part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupControlError {
    /// The mapping is not aligned to the header's alignment.
    Misaligned,
    /// The mapping is smaller than the layout needs.
    TooSmall {
        /// Bytes needed.
        needed: u64,
        /// Bytes mapped.
        mapped: u64,
    },
    /// The first word is not [`GROUP_CONTROL_MAGIC`].
    BadMagic(u64),
    /// The layout version differs from [`GROUP_CONTROL_LAYOUT_VERSION`].
    VersionMismatch {
        /// Version in the segment.
        found: u32,
    },
    /// The daemon has not finished laying out the part.
    NotReady {
        /// State word found.
        state: u32,
    },
    /// The part is another group's.
    WrongGroup {
        /// The group expected.
        expected: u32,
        /// The group the header records.
        found: u32,
    },
    /// The recorded configuration is invalid.
    Config(GroupConfigError),
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

impl core::fmt::Display for GroupControlError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Misaligned => write!(f, "group control mapping is not 512-byte aligned"),
            Self::TooSmall { needed, mapped } => {
                write!(
                    f,
                    "group control part too small: needs {needed} bytes, {mapped} mapped"
                )
            }
            Self::BadMagic(m) => write!(f, "not a ZeroCP group control part (magic {m:#018x})"),
            Self::VersionMismatch { found } => write!(
                f,
                "group control layout version {found} is not the supported version \
                 {GROUP_CONTROL_LAYOUT_VERSION}"
            ),
            Self::NotReady { state } => write!(f, "group control part not ready (state {state})"),
            Self::WrongGroup { expected, found } => write!(
                f,
                "the control part of group {found} was given for group {expected}"
            ),
            Self::Config(e) => {
                write!(
                    f,
                    "group control part records an invalid configuration: {e}"
                )
            }
            Self::SizeMismatch { recorded, computed } => write!(
                f,
                "group control part size {recorded} does not match its configuration ({computed})"
            ),
            Self::FreeList { pool } => write!(f, "freelist of group mempool {pool} is corrupt"),
        }
    }
}

impl core::error::Error for GroupControlError {}

impl GroupControlError {
    /// Whether the error comes from a word of the part's header or of a
    /// freelist header (every error but a misaligned mapping): words the
    /// daemon owns and restores ([`GroupControl::repair_header`]), so that
    /// asking the daemon again may find them repaired.
    ///
    /// ```
    /// use zerocp_core::group_control::GroupControlError;
    /// assert!(GroupControlError::NotReady { state: 2 }.is_header_word());
    /// assert!(!GroupControlError::Misaligned.is_header_word());
    /// ```
    pub fn is_header_word(&self) -> bool {
        !matches!(self, Self::Misaligned)
    }
}

/// A typed view of a mapped group control part.
///
/// It hands out shared references to the part's atomics-only records;
/// every accessor bounds-checks its index.
#[derive(Debug, Clone, Copy)]
pub struct GroupControl<'a> {
    base: NonNull<u8>,
    layout: GroupControlLayout,
    config: GroupConfig,
    _mapping: PhantomData<&'a [u8]>,
}

// SAFETY: the view only hands out `&` to atomics-only `Sync` records; the raw
// base pointer is never written through except via those atomics.
unsafe impl Send for GroupControl<'_> {}
// SAFETY: as above; all shared access goes through atomics.
unsafe impl Sync for GroupControl<'_> {}

impl<'a> GroupControl<'a> {
    /// Daemon: lays out a fresh, zero-filled part for `config` and marks it ready.
    ///
    /// # Safety
    /// `base..base+len` must be a zero-filled, writable mapping that stays
    /// mapped for `'a`, not yet visible to any other process.
    pub unsafe fn create(
        base: NonNull<u8>,
        len: usize,
        config: &GroupConfig,
        payload_size: u64,
    ) -> Result<Self, GroupControlError> {
        let layout = GroupControlLayout::compute(config).map_err(GroupControlError::Config)?;
        check_mapping(base, len, layout.total_size())?;
        let view = Self {
            base,
            layout,
            config: *config,
            _mapping: PhantomData,
        };
        view.write_header(config, payload_size);
        for pool in 0..config.mempools().len() as u32 {
            let (header, links) = view
                .freelist_parts(pool)
                .ok_or(GroupControlError::FreeList { pool })?;
            FreeList::init(header, links).map_err(|_| GroupControlError::FreeList { pool })?;
        }
        // Release: everything above is visible to whoever reads READY with Acquire.
        view.header().state.store(STATE_READY, Ordering::Release);
        Ok(view)
    }

    /// Runtime (or tool): validates a mapped control part of group `group`
    /// and returns its view.
    ///
    /// # Safety
    /// `base..base+len` must be a mapping that stays mapped for `'a`.
    pub unsafe fn attach(
        base: NonNull<u8>,
        len: usize,
        group: u32,
    ) -> Result<Self, GroupControlError> {
        check_mapping(base, len, size_of::<GroupHeader>() as u64)?;
        // SAFETY: checked above: aligned, large enough, mapped for 'a; the header
        // consists of atomics, valid for any bit pattern.
        let header = unsafe { base.cast::<GroupHeader>().as_ref() };
        let magic = header.magic.load(Ordering::Relaxed);
        if magic != GROUP_CONTROL_MAGIC {
            return Err(GroupControlError::BadMagic(magic));
        }
        let found = header.layout_version.load(Ordering::Relaxed);
        if found != GROUP_CONTROL_LAYOUT_VERSION {
            return Err(GroupControlError::VersionMismatch { found });
        }
        // Acquire: pairs with the Release store of READY in `create`.
        let state = header.state.load(Ordering::Acquire);
        if state != STATE_READY {
            return Err(GroupControlError::NotReady { state });
        }
        let found = header.group.load(Ordering::Relaxed);
        if found != group {
            return Err(GroupControlError::WrongGroup {
                expected: group,
                found,
            });
        }
        let config = read_config(header)?;
        let layout = GroupControlLayout::compute(&config).map_err(GroupControlError::Config)?;
        let recorded = header.control_size.load(Ordering::Relaxed);
        if recorded != layout.total_size() {
            return Err(GroupControlError::SizeMismatch {
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
            view.freelist(pool)
                .ok_or(GroupControlError::FreeList { pool })?;
        }
        Ok(view)
    }

    /// The configuration the part was laid out for (as validated when the
    /// view was made; later writes to the header change nothing here).
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// The segment group this part belongs to.
    pub fn group(&self) -> u32 {
        self.config.group()
    }

    /// The computed layout (offsets of every region).
    pub fn layout(&self) -> &GroupControlLayout {
        &self.layout
    }

    /// Size of the group's payload part, as recorded when the view was made
    /// valid (the daemon's value at creation).
    pub fn payload_size(&self) -> u64 {
        self.header().payload_size.load(Ordering::Relaxed)
    }

    /// Publisher port `index`, if in range.
    pub fn publisher(&self, index: u32) -> Option<&'a PublisherPort> {
        self.record(self.layout.publisher_offset(index)?)
    }

    /// Subscriber port `index`, if in range.
    pub fn subscriber(&self, index: u32) -> Option<&'a SubscriberPort> {
        self.record(self.layout.subscriber_offset(index)?)
    }

    /// Notifier port `index`, if in range.
    pub fn notifier(&self, index: u32) -> Option<&'a NotifierPort> {
        self.record(self.layout.notifier_offset(index)?)
    }

    /// Listener port `index`, if in range.
    pub fn listener(&self, index: u32) -> Option<&'a ListenerPort> {
        self.record(self.layout.listener_offset(index)?)
    }

    /// The freelist of mempool `pool`, if in range and consistent.
    pub fn freelist(&self, pool: u32) -> Option<FreeList<'a>> {
        let (header, links) = self.freelist_parts(pool)?;
        FreeList::attach(header, links).ok()
    }

    /// The reference counts of the group's chunks, by (group-local) chunk index.
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

    /// Daemon (audit): compares every word of the header with the values
    /// the part was laid out with (its configuration, its layout, the
    /// payload part's `payload_size`, zeros where nothing is recorded) and
    /// puts back each one that differs; when any did, the state word is
    /// stored once more with `Release`, as [`create`](Self::create)
    /// publishes it. A view made by `create` keeps the daemon's values
    /// (later writes to the header change nothing in it).
    pub fn repair_header(&self, payload_size: u64) -> WordRepair {
        let h = self.header();
        let config = &self.config;
        let mut repair = WordRepair::new();
        repair.u64("magic", &h.magic, GROUP_CONTROL_MAGIC);
        repair.u32(
            "layout_version",
            &h.layout_version,
            GROUP_CONTROL_LAYOUT_VERSION,
        );
        repair.u32("group", &h.group, config.group());
        repair.u32("max_publishers", &h.max_publishers, config.max_publishers());
        repair.u32(
            "max_subscribers",
            &h.max_subscribers,
            config.max_subscribers(),
        );
        repair.u32("max_notifiers", &h.max_notifiers, config.max_notifiers());
        repair.u32("max_listeners", &h.max_listeners, config.max_listeners());
        let pools = config.mempools();
        repair.u32("mempool_count", &h.mempool_count, pools.len() as u32);
        repair.u64("control_size", &h.control_size, self.layout.total_size());
        repair.u64("payload_size", &h.payload_size, payload_size);
        for word in &h.reserved {
            repair.u64("reserved", word, 0);
        }
        for (i, entry) in h.mempools.iter().enumerate() {
            let pool = pools.get(i).copied().unwrap_or_default();
            repair.u32("mempool.chunk_size", &entry.chunk_size, pool.chunk_size);
            repair.u32("mempool.chunk_count", &entry.chunk_count, pool.chunk_count);
            repair.u32("mempool.group", &entry.group, pool.group);
        }
        repair.u32("state", &h.state, STATE_READY);
        if !repair.is_clean() {
            // Release: as in `create`, an attacher that reads READY with
            // Acquire sees the words restored above.
            h.state.store(STATE_READY, Ordering::Release);
        }
        repair
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

    fn header(&self) -> &'a GroupHeader {
        // SAFETY: offset 0 is inside the checked mapping and 512-aligned.
        unsafe { self.base.cast::<GroupHeader>().as_ref() }
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

    fn write_header(&self, config: &GroupConfig, payload_size: u64) {
        let h = self.header();
        // Relaxed: published by the Release store of READY in `create`.
        h.magic.store(GROUP_CONTROL_MAGIC, Ordering::Relaxed);
        h.layout_version
            .store(GROUP_CONTROL_LAYOUT_VERSION, Ordering::Relaxed);
        h.group.store(config.group(), Ordering::Relaxed);
        h.max_publishers
            .store(config.max_publishers(), Ordering::Relaxed);
        h.max_subscribers
            .store(config.max_subscribers(), Ordering::Relaxed);
        h.mempool_count
            .store(config.mempools().len() as u32, Ordering::Relaxed);
        h.max_notifiers
            .store(config.max_notifiers(), Ordering::Relaxed);
        h.max_listeners
            .store(config.max_listeners(), Ordering::Relaxed);
        h.control_size
            .store(self.layout.total_size(), Ordering::Relaxed);
        h.payload_size.store(payload_size, Ordering::Relaxed);
        for (entry, pool) in h.mempools.iter().zip(config.mempools()) {
            entry.chunk_size.store(pool.chunk_size, Ordering::Relaxed);
            entry.chunk_count.store(pool.chunk_count, Ordering::Relaxed);
            entry.group.store(pool.group, Ordering::Relaxed);
        }
    }
}

fn check_mapping(base: NonNull<u8>, len: usize, needed: u64) -> Result<(), GroupControlError> {
    if !(base.as_ptr() as usize).is_multiple_of(align_of::<GroupHeader>()) {
        return Err(GroupControlError::Misaligned);
    }
    if (len as u64) < needed {
        return Err(GroupControlError::TooSmall {
            needed,
            mapped: len as u64,
        });
    }
    Ok(())
}

fn read_config(h: &GroupHeader) -> Result<GroupConfig, GroupControlError> {
    let count = h.mempool_count.load(Ordering::Relaxed) as usize;
    let mut pools = [MempoolConfig::default(); MAX_MEMPOOLS];
    let listed = count.min(MAX_MEMPOOLS);
    for (dst, entry) in pools.iter_mut().zip(&h.mempools).take(listed) {
        dst.chunk_size = entry.chunk_size.load(Ordering::Relaxed);
        dst.chunk_count = entry.chunk_count.load(Ordering::Relaxed);
        dst.group = entry.group.load(Ordering::Relaxed);
    }
    if count > MAX_MEMPOOLS {
        return Err(GroupControlError::Config(
            GroupConfigError::TooManyMempools { count },
        ));
    }
    GroupConfig::new(
        h.group.load(Ordering::Relaxed),
        h.max_publishers.load(Ordering::Relaxed),
        h.max_subscribers.load(Ordering::Relaxed),
        &pools[..listed],
    )
    .and_then(|c| {
        c.with_event_ports(
            h.max_notifiers.load(Ordering::Relaxed),
            h.max_listeners.load(Ordering::Relaxed),
        )
    })
    .map_err(GroupControlError::Config)
}
