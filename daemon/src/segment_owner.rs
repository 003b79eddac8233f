//! [`SegmentOwner`]: the domain's two shared-memory segments, owned by the daemon.
//!
//! At start the daemon (holding the domain's lock, so no other daemon can be
//! using them) removes segments a killed predecessor left behind, then creates
//! `/zerocp.<domain>.mgmt` and `/zerocp.<domain>.data` exclusively, sized from
//! the configuration and committed with `fallocate` (a full `/dev/shm` fails
//! here, with the segment's name and size, rather than as a SIGBUS later), and
//! maps both read-write. At stop it unlinks both names; runtimes' mappings stay
//! valid until they drop them.

use std::fmt;
use std::ptr::NonNull;

use zerocp_core::mempool::{LayoutError, MempoolLayout};
use zerocp_core::mgmt::{Mgmt, MgmtConfig, MgmtConfigError, MgmtError, MgmtLayout};
use zerocp_os_linux::error::{MapError, ShmError};
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{DomainPaths, ShmName};
use zerocp_os_linux::shm::SharedMemory;

/// Creating or removing the segments failed.
#[derive(Debug)]
pub enum SegmentOwnerError {
    /// The mgmt layout cannot be computed from the configuration.
    MgmtLayout(MgmtConfigError),
    /// The data layout cannot be computed from the mempools.
    DataLayout(LayoutError),
    /// A size does not fit this machine's address space.
    TooLarge {
        /// The segment.
        name: ShmName,
        /// Its size in bytes.
        size: u64,
    },
    /// Creating, committing or removing a segment failed.
    Shm(ShmError),
    /// Mapping a segment failed.
    Map(MapError),
    /// Laying out the mgmt segment failed.
    Mgmt(MgmtError),
}

impl fmt::Display for SegmentOwnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MgmtLayout(e) => write!(f, "cannot lay out the mgmt segment: {e}"),
            Self::DataLayout(e) => write!(f, "cannot lay out the data segment: {e}"),
            Self::TooLarge { name, size } => write!(
                f,
                "shared memory {name} would need {size} bytes, more than this machine can map"
            ),
            Self::Shm(e @ ShmError::Commit { .. }) => {
                write!(f, "{e}; reduce the [[mempool]] sizes or counts")
            }
            Self::Shm(e) => write!(f, "{e}"),
            Self::Map(e) => write!(f, "{e}"),
            Self::Mgmt(e) => write!(f, "cannot initialise the mgmt segment: {e}"),
        }
    }
}

impl std::error::Error for SegmentOwnerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MgmtLayout(e) => Some(e),
            Self::DataLayout(e) => Some(e),
            Self::Shm(e) => Some(e),
            Self::Map(e) => Some(e),
            Self::Mgmt(e) => Some(e),
            Self::TooLarge { .. } => None,
        }
    }
}

/// The created and mapped segments of one domain; unlinks them when dropped.
#[derive(Debug)]
pub struct SegmentOwner {
    mgmt_name: ShmName,
    data_name: ShmName,
    mgmt: Mapping,
    data: Mapping,
    unlinked: bool,
}

/// Removes the domain's segments if they exist; returns the names removed.
///
/// Only the holder of the domain's lock may call this.
pub fn remove_stale(paths: &DomainPaths) -> Result<Vec<ShmName>, SegmentOwnerError> {
    let mut removed = Vec::new();
    for name in [&paths.mgmt_shm, &paths.data_shm] {
        if SharedMemory::remove_if_exists(name).map_err(SegmentOwnerError::Shm)? {
            removed.push(name.clone());
        }
    }
    Ok(removed)
}

fn create_one(name: &ShmName, size: u64, mode: u32) -> Result<Mapping, SegmentOwnerError> {
    let len = usize::try_from(size).map_err(|_| SegmentOwnerError::TooLarge {
        name: name.clone(),
        size,
    })?;
    let shm = SharedMemory::create_exclusive(name, len, mode).map_err(SegmentOwnerError::Shm)?;
    Mapping::map(&shm, true).map_err(|e| {
        drop(SharedMemory::remove_if_exists(name));
        SegmentOwnerError::Map(e)
    })
}

impl SegmentOwner {
    /// Creates and maps both segments for `config` (removing nothing: call
    /// [`remove_stale`] first). On failure nothing is left behind.
    pub fn create(
        paths: &DomainPaths,
        config: &MgmtConfig,
        mode: u32,
    ) -> Result<Self, SegmentOwnerError> {
        let mgmt_size = MgmtLayout::compute(config)
            .map_err(SegmentOwnerError::MgmtLayout)?
            .total_size();
        let data_size = MempoolLayout::compute(config.mempools())
            .map_err(SegmentOwnerError::DataLayout)?
            .total_bytes();
        let mgmt = create_one(&paths.mgmt_shm, mgmt_size, mode)?;
        let data = create_one(&paths.data_shm, data_size, mode).inspect_err(|_| {
            drop(SharedMemory::remove_if_exists(&paths.mgmt_shm));
        })?;
        Ok(Self {
            mgmt_name: paths.mgmt_shm.clone(),
            data_name: paths.data_shm.clone(),
            mgmt,
            data,
            unlinked: false,
        })
    }

    /// Lays out the fresh mgmt segment and marks it ready.
    ///
    /// Call once, right after [`create`](Self::create).
    pub fn init_mgmt(
        &self,
        config: &MgmtConfig,
        daemon_pid: u32,
        epoch: u64,
    ) -> Result<Mgmt<'_>, SegmentOwnerError> {
        let base = NonNull::new(self.mgmt.as_ptr()).ok_or(SegmentOwnerError::TooLarge {
            name: self.mgmt_name.clone(),
            size: 0,
        })?;
        // SAFETY: the mapping is read-write, freshly created by `create` (so
        // zero-filled, and no other process knows it is ready: its state word
        // is 0 until `Mgmt::create` publishes it), and it stays mapped as long
        // as `self`, which the returned view borrows.
        unsafe {
            Mgmt::create(
                base,
                self.mgmt.len(),
                config,
                daemon_pid,
                epoch,
                self.data.len() as u64,
            )
        }
        .map_err(SegmentOwnerError::Mgmt)
    }

    /// The data segment mapping (base and length).
    pub fn data(&self) -> &Mapping {
        &self.data
    }

    /// Size of the mgmt segment in bytes.
    pub fn mgmt_size(&self) -> u64 {
        self.mgmt.len() as u64
    }

    /// Size of the data segment in bytes.
    pub fn data_size(&self) -> u64 {
        self.data.len() as u64
    }

    /// Name of the mgmt segment.
    pub fn mgmt_name(&self) -> &ShmName {
        &self.mgmt_name
    }

    /// Name of the data segment.
    pub fn data_name(&self) -> &ShmName {
        &self.data_name
    }

    /// Removes both names (the mappings stay valid until `self` is dropped).
    pub fn unlink(&mut self) -> Result<(), SegmentOwnerError> {
        if self.unlinked {
            return Ok(());
        }
        self.unlinked = true;
        let first = SharedMemory::remove_if_exists(&self.mgmt_name);
        let second = SharedMemory::remove_if_exists(&self.data_name);
        first
            .and(second)
            .map(|_| ())
            .map_err(SegmentOwnerError::Shm)
    }
}

impl Drop for SegmentOwner {
    fn drop(&mut self) {
        if let Err(e) = self.unlink() {
            log::error!("{e}");
        }
    }
}
