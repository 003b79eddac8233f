//! The domain's mgmt segment: its header, its layout, and a typed view of it.
//!
//! The daemon creates `zerocp.<domain>.mgmt` at start and hands it,
//! read-write, to every registered process with the `Registered` reply: it
//! holds what concerns the domain as a whole, and nothing of any segment
//! group (ports, freelists, refcounts and chunks live in each group's own
//! control and payload parts, [`crate::group_control`]). Its layout is
//! computed from the daemon's configuration ([`MgmtConfig`]) by
//! [`MgmtLayout::compute`], on both sides, from the values the header records:
//!
//! ```text
//! offset 0                  MgmtHeader (512 B): magic, layout version, state,
//!                           daemon pid, max processes, group count, epoch,
//!                           segment size
//! heartbeats                HeartbeatSlot × max_processes           (64 B each)
//! ```
//!
//! The state word tells every runtime that the daemon is stopping
//! ([`STATE_SHUTTING_DOWN`]). All of it is made of atomics whose all-zero
//! value is valid, so a hostile process can scribble any value without
//! making a reader's access undefined behaviour; a slot index is
//! bounds-checked by whoever uses it. What a process can do to this segment
//! is limited to lying about heartbeats (its own or another's) and the state
//! word: no chunk, port or queue is here.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use crate::heartbeat::HeartbeatSlot;
use crate::sync::{AtomicU32, AtomicU64, Ordering};

mod config;
mod layout;

pub use config::{MAX_GROUPS, MAX_PROCESSES_LIMIT, MgmtConfig, MgmtConfigError};
pub use layout::MgmtLayout;

/// `"ZEROCPMG"` little-endian: the first word of every mgmt segment.
pub const MGMT_MAGIC: u64 = u64::from_le_bytes(*b"ZEROCPMG");
/// Version of the layout described here; bumped on any incompatible change.
/// Version 2 added the refcount region (the counts left the chunk headers);
/// version 3 tagged every mempool with its segment group; version 4 moved
/// ports, freelists and refcounts into each group's control part, leaving
/// the header and the heartbeat slots.
pub const MGMT_LAYOUT_VERSION: u32 = 4;

/// Segment state: the daemon is still writing it.
pub const STATE_INITIALISING: u32 = 0;
/// Segment state: ready for runtimes.
pub const STATE_READY: u32 = 1;
/// Segment state: the daemon is stopping; runtimes must stop using it.
pub const STATE_SHUTTING_DOWN: u32 = 2;

/// The first 512 bytes of the mgmt segment.
///
/// Layout: `magic: u64`, `layout_version, state, daemon_pid, max_processes,
/// group_count, reserved: u32`, `epoch, mgmt_size: u64`, padded to 512.
#[repr(C, align(512))]
pub struct MgmtHeader {
    magic: AtomicU64,
    layout_version: AtomicU32,
    state: AtomicU32,
    daemon_pid: AtomicU32,
    max_processes: AtomicU32,
    group_count: AtomicU32,
    reserved: AtomicU32,
    epoch: AtomicU64,
    mgmt_size: AtomicU64,
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
        let config = MgmtConfig::new(
            header.max_processes.load(Ordering::Relaxed),
            header.group_count.load(Ordering::Relaxed),
        )
        .map_err(MgmtError::Config)?;
        let layout = MgmtLayout::compute(&config).map_err(MgmtError::Config)?;
        let recorded = header.mgmt_size.load(Ordering::Relaxed);
        if recorded != layout.total_size() {
            return Err(MgmtError::SizeMismatch {
                recorded,
                computed: layout.total_size(),
            });
        }
        check_mapping(base, len, recorded)?;
        Ok(Self {
            base,
            layout,
            config,
            _mapping: PhantomData,
        })
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
        let offset = self.layout.heartbeat_offset(index)?;
        // SAFETY: `heartbeat_offset` is in range only for slots inside the
        // layout, which `check_mapping` proved is inside the mapping.
        let ptr = unsafe { self.base.as_ptr().add(offset as usize) }.cast::<HeartbeatSlot>();
        // SAFETY: in bounds (above); slots start 512 bytes in and are 64-byte
        // multiples, so aligned; a slot consists of atomics, valid for any
        // bit pattern.
        Some(unsafe { &*ptr })
    }

    fn header(&self) -> &'a MgmtHeader {
        // SAFETY: offset 0 is inside the checked mapping and 512-aligned.
        unsafe { self.base.cast::<MgmtHeader>().as_ref() }
    }

    fn write_header(&self, config: &MgmtConfig, daemon_pid: u32, epoch: u64) {
        let h = self.header();
        // Relaxed: published by the Release store of READY in `create`.
        h.magic.store(MGMT_MAGIC, Ordering::Relaxed);
        h.layout_version
            .store(MGMT_LAYOUT_VERSION, Ordering::Relaxed);
        h.daemon_pid.store(daemon_pid, Ordering::Relaxed);
        h.max_processes
            .store(config.max_processes(), Ordering::Relaxed);
        h.group_count.store(config.group_count(), Ordering::Relaxed);
        h.epoch.store(epoch, Ordering::Relaxed);
        h.mgmt_size
            .store(self.layout.total_size(), Ordering::Relaxed);
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
