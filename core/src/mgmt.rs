//! The domain's mgmt segment: its header, its layout, and a typed view of it.
//!
//! The daemon creates `zerocp.<domain>.mgmt` at start and hands it,
//! **read-only**, to every registered process with the `Registered` reply:
//! it holds what concerns the domain as a whole (the state word, the epoch,
//! the daemon's pid, the limits, every pool's chunk quotas), and nothing of
//! any segment group's live state (ports,
//! freelists, refcounts and chunks live in each group's own control and
//! payload parts, [`crate::group_control`]) nor of any process (each
//! process's heartbeat is a file of its own, shared only with the daemon,
//! [`crate::heartbeat`]). Its layout is computed from the daemon's
//! configuration ([`MgmtConfig`]) by [`MgmtLayout::compute`], on both sides,
//! from the values the header records:
//!
//! ```text
//! offset 0                  MgmtHeader (512 B): magic, layout version, state,
//!                           daemon pid, max processes, group count, quota
//!                           count, epoch, segment size (u32 words only)
//! offset 512                QuotaRecord × 32 (32 B each, u32 words only): the
//!                           chunk quotas of every pool ([`quota`])
//! ```
//!
//! The quotas are here rather than in a group's control part because every
//! process with a port in a group can write that part: a runtime bounds its
//! own loans and the queues it fills by values no other process can change.
//!
//! The state word tells every runtime that the daemon is stopping
//! ([`STATE_SHUTTING_DOWN`]). Only the daemon writes the segment: a runtime
//! maps it `PROT_READ` from a read-only descriptor, so no process can
//! announce a shutdown to the others or change what they read here.
//!
//! Read-only memory constrains how it is read: the header is made of
//! `AtomicU32` words only (a 64-bit value is two words, low first, written
//! once before the segment is marked ready), and every load a runtime makes
//! is `Relaxed`, ordered by a separate `Acquire` fence where it needs to be.
//! A relaxed load no wider than a pointer is a plain load on every target,
//! while a 64-bit atomic or an `Acquire` load may be built from a
//! compare-and-swap on some 32-bit targets, which would fault on a
//! read-only page. [`Mgmt::attach`] and every accessor a runtime uses only
//! load; [`Mgmt::create`] and [`Mgmt::set_shutting_down`] are the daemon's.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use crate::sync::{AtomicU32, Ordering, fence};
use crate::word_repair::WordRepair;

mod config;
mod layout;
pub mod quota;

pub use config::{MAX_GROUPS, MAX_PROCESSES_LIMIT, MgmtConfig, MgmtConfigError};
pub use layout::MgmtLayout;
pub use quota::{MAX_QUOTA_PERCENT, PoolQuota, QuotaError, QuotaTable, quota_of};

use crate::mempool::MAX_MEMPOOLS;
use quota::QuotaRecord;

/// `"ZEROCPMG"` little-endian: the first word of every mgmt segment.
pub const MGMT_MAGIC: u64 = u64::from_le_bytes(*b"ZEROCPMG");
/// Version of the layout described here; bumped on any incompatible change.
/// Version 2 added the refcount region (the counts left the chunk headers);
/// version 3 tagged every mempool with its segment group; version 4 moved
/// ports, freelists and refcounts into each group's control part, leaving
/// the header and the heartbeat slots; version 5 moved the heartbeat slots
/// into a file per process and made the header `u32` words only (the
/// segment is mapped read-only by runtimes); version 6 added the quota
/// table after the header and its count in the header.
pub const MGMT_LAYOUT_VERSION: u32 = 6;

/// Segment state: the daemon is still writing it.
pub const STATE_INITIALISING: u32 = 0;
/// Segment state: ready for runtimes.
pub const STATE_READY: u32 = 1;
/// Segment state: the daemon is stopping; runtimes must stop using it.
pub const STATE_SHUTTING_DOWN: u32 = 2;

/// The first 512 bytes of the mgmt segment.
///
/// Layout, every field a `u32` (a 64-bit value as two words, low first):
/// `magic: [u32; 2]`, `layout_version, state, daemon_pid, max_processes,
/// group_count, quota_count`, `epoch: [u32; 2]`, `mgmt_size: [u32; 2]`,
/// padded to 512. The same on every target.
#[repr(C, align(512))]
pub struct MgmtHeader {
    magic: [AtomicU32; 2],
    layout_version: AtomicU32,
    state: AtomicU32,
    daemon_pid: AtomicU32,
    max_processes: AtomicU32,
    group_count: AtomicU32,
    quota_count: AtomicU32,
    epoch: [AtomicU32; 2],
    mgmt_size: [AtomicU32; 2],
}

/// Loads a 64-bit value stored as two words (low first), relaxed.
fn load_u64(words: &[AtomicU32; 2]) -> u64 {
    // Relaxed: the words are written once, before the Release store of
    // READY that the reader synchronises with (`attach`).
    u64::from(words[0].load(Ordering::Relaxed)) | u64::from(words[1].load(Ordering::Relaxed)) << 32
}

/// Stores a 64-bit value as two words (low first), relaxed.
fn store_u64(words: &[AtomicU32; 2], value: u64) {
    // Relaxed: published by the Release store of READY in `create`.
    words[0].store(value as u32, Ordering::Relaxed);
    words[1].store((value >> 32) as u32, Ordering::Relaxed);
}

#[cfg(not(loom))]
const _: () = assert!(size_of::<MgmtHeader>() == 512);

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
        }
    }
}

impl core::error::Error for MgmtError {}

impl MgmtError {
    /// Whether the error comes from a word of the header (every error but a
    /// misaligned mapping): words the daemon owns and restores
    /// ([`Mgmt::repair_header`]), so that asking it again may find them
    /// repaired.
    ///
    /// ```
    /// use zerocp_core::mgmt::MgmtError;
    /// assert!(MgmtError::NotReady { state: 2 }.is_header_word());
    /// assert!(!MgmtError::Misaligned.is_header_word());
    /// ```
    pub fn is_header_word(&self) -> bool {
        !matches!(self, Self::Misaligned)
    }
}

/// A typed view of a mapped mgmt segment.
///
/// It reads (and, for the daemon, writes) the segment's atomics-only header.
#[derive(Debug, Clone, Copy)]
pub struct Mgmt<'a> {
    base: NonNull<u8>,
    layout: MgmtLayout,
    config: MgmtConfig,
    _mapping: PhantomData<&'a [u8]>,
}

// SAFETY: the view only reads and writes the atomics-only `Sync` header; the
// raw base pointer is never written through except via those atomics.
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
    ) -> Result<Self, MgmtError> {
        let layout = MgmtLayout::compute(config).map_err(MgmtError::Config)?;
        check_mapping(base, len, layout.total_size())?;
        let view = Self {
            base,
            layout,
            config: *config,
            _mapping: PhantomData,
        };
        view.write_header(config, daemon_pid, epoch);
        // Release: everything above is visible to whoever reads READY with Acquire.
        view.header().state.store(STATE_READY, Ordering::Release);
        Ok(view)
    }

    /// Runtime (or tool): validates a mapped segment and returns its view.
    ///
    /// It only loads (relaxed, at most 32 bits wide), so the mapping may be
    /// read-only (module docs).
    ///
    /// # Safety
    /// `base..base+len` must be a mapping (read-only or read-write) of a
    /// mgmt segment that stays mapped for `'a`.
    pub unsafe fn attach(base: NonNull<u8>, len: usize) -> Result<Self, MgmtError> {
        check_mapping(base, len, size_of::<MgmtHeader>() as u64)?;
        // SAFETY: checked above: aligned, large enough, mapped for 'a; the header
        // consists of atomics, valid for any bit pattern.
        let header = unsafe { base.cast::<MgmtHeader>().as_ref() };
        let magic = load_u64(&header.magic);
        if magic != MGMT_MAGIC {
            return Err(MgmtError::BadMagic(magic));
        }
        let found = header.layout_version.load(Ordering::Relaxed);
        if found != MGMT_LAYOUT_VERSION {
            return Err(MgmtError::VersionMismatch { found });
        }
        let state = header.state.load(Ordering::Relaxed);
        // Acquire (as a fence, the mapping may be read-only): pairs with the
        // Release store of READY in `create`, so the words below are complete.
        fence(Ordering::Acquire);
        if state != STATE_READY {
            return Err(MgmtError::NotReady { state });
        }
        let config = MgmtConfig::new(
            header.max_processes.load(Ordering::Relaxed),
            header.group_count.load(Ordering::Relaxed),
        )
        .map_err(MgmtError::Config)?;
        let layout = MgmtLayout::compute(&config).map_err(MgmtError::Config)?;
        let recorded = load_u64(&header.mgmt_size);
        if recorded != layout.total_size() {
            return Err(MgmtError::SizeMismatch {
                recorded,
                computed: layout.total_size(),
            });
        }
        check_mapping(base, len, recorded)?;
        let mut view = Self {
            base,
            layout,
            config,
            _mapping: PhantomData,
        };
        view.config = view.read_quotas()?;
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
        load_u64(&self.header().epoch)
    }

    /// The segment state word (`STATE_*`).
    pub fn state(&self) -> u32 {
        let state = self.header().state.load(Ordering::Relaxed);
        // Acquire (as a fence, the mapping may be read-only): a runtime that
        // sees SHUTTING_DOWN also sees what the daemon did before.
        fence(Ordering::Acquire);
        state
    }

    /// Daemon: marks the segment as shutting down.
    pub fn set_shutting_down(&self) {
        // Release: pairs with the Acquire fence in `state`.
        self.header()
            .state
            .store(STATE_SHUTTING_DOWN, Ordering::Release);
    }

    /// Daemon (audit): compares every word of the header with the values
    /// it wrote ([`create`](Self::create) with `daemon_pid` and `epoch`, the
    /// view's configuration and layout, state `READY`) and puts back each
    /// one that differs; when any did, the state is stored once more with
    /// `Release`. Only a process that may write the segment (the daemon's
    /// own user or root, reopening it through `/proc`) can make it differ.
    pub fn repair_header(&self, daemon_pid: u32, epoch: u64) -> WordRepair {
        let h = self.header();
        let mut repair = WordRepair::new();
        let halves = |value: u64| [value as u32, (value >> 32) as u32];
        for (word, value) in h.magic.iter().zip(halves(MGMT_MAGIC)) {
            repair.u32("magic", word, value);
        }
        repair.u32("layout_version", &h.layout_version, MGMT_LAYOUT_VERSION);
        repair.u32("daemon_pid", &h.daemon_pid, daemon_pid);
        repair.u32(
            "max_processes",
            &h.max_processes,
            self.config.max_processes(),
        );
        repair.u32("group_count", &h.group_count, self.config.group_count());
        let quotas = self.config.quotas().entries();
        repair.u32("quota_count", &h.quota_count, quotas.len() as u32);
        for (record, quota) in self.quota_records().iter().zip(quotas) {
            repair.merge(record.restore(quota));
        }
        for (word, value) in h.epoch.iter().zip(halves(epoch)) {
            repair.u32("epoch", word, value);
        }
        let size = halves(self.layout.total_size());
        for (word, value) in h.mgmt_size.iter().zip(size) {
            repair.u32("mgmt_size", word, value);
        }
        repair.u32("state", &h.state, STATE_READY);
        if !repair.is_clean() {
            // Release: as in `create`.
            h.state.store(STATE_READY, Ordering::Release);
        }
        repair
    }

    fn header(&self) -> &'a MgmtHeader {
        // SAFETY: offset 0 is inside the checked mapping and 512-aligned.
        unsafe { self.base.cast::<MgmtHeader>().as_ref() }
    }

    /// The quota table's records (all [`MAX_MEMPOOLS`] of them).
    fn quota_records(&self) -> &'a [QuotaRecord; MAX_MEMPOOLS] {
        let offset = self.layout.quotas_offset() as usize;
        // SAFETY: the layout puts the table inside the total size, which
        // `check_mapping` proved is mapped.
        let table = unsafe { self.base.as_ptr().add(offset) };
        // SAFETY: in bounds (above), at a 512-byte boundary of a 512-aligned
        // mapping (so aligned for the 32-byte records); records are atomics
        // only, valid for any bit pattern.
        unsafe { &*table.cast::<[QuotaRecord; MAX_MEMPOOLS]>() }
    }

    /// The configuration with the recorded quota table, checked (loads only:
    /// called by `attach`, after its Acquire fence).
    fn read_quotas(&self) -> Result<MgmtConfig, MgmtError> {
        let count = self.header().quota_count.load(Ordering::Relaxed);
        let invalid = |e| MgmtError::Config(MgmtConfigError::Quota(e));
        if count as usize > MAX_MEMPOOLS {
            return Err(invalid(QuotaError::TooMany { count }));
        }
        let mut quotas = [PoolQuota::default(); MAX_MEMPOOLS];
        let recorded = quotas.iter_mut().zip(self.quota_records());
        for (quota, record) in recorded.take(count as usize) {
            *quota = record.read().map_err(invalid)?;
        }
        self.config
            .with_quotas(&quotas[..count as usize])
            .map_err(MgmtError::Config)
    }

    fn write_header(&self, config: &MgmtConfig, daemon_pid: u32, epoch: u64) {
        let h = self.header();
        // Relaxed: published by the Release store of READY in `create`.
        store_u64(&h.magic, MGMT_MAGIC);
        h.layout_version
            .store(MGMT_LAYOUT_VERSION, Ordering::Relaxed);
        h.daemon_pid.store(daemon_pid, Ordering::Relaxed);
        h.max_processes
            .store(config.max_processes(), Ordering::Relaxed);
        h.group_count.store(config.group_count(), Ordering::Relaxed);
        let quotas = config.quotas().entries();
        for (record, quota) in self.quota_records().iter().zip(quotas) {
            record.write(quota);
        }
        h.quota_count.store(quotas.len() as u32, Ordering::Relaxed);
        store_u64(&h.epoch, epoch);
        store_u64(&h.mgmt_size, self.layout.total_size());
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
