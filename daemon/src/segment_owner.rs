//! [`SegmentOwner`]: the domain's two shared-memory segments, owned by the daemon.
//!
//! At start the daemon creates the mgmt segment (`zerocp.<domain>.mgmt`) and
//! the default group's payload segment (`zerocp.<domain>.default.payload`,
//! the chunks) as sealed memory files sized from the configuration and
//! committed with `fallocate` (too little memory fails here, with the
//! segment's name and size, rather than as a SIGBUS later), and maps both
//! read-write. They have no name in any file system: processes receive their
//! descriptors over the control socket, the rights following the role: at
//! registration the mgmt segment read-write and the data segment read-only
//! (a reader cannot reopen it writable: see `zerocp_os_linux::shm`), and
//! with each publisher the data segment read-write. So there is nothing
//! for a stale daemon to leave behind or a new one to clean up, and the
//! memory is freed when the last process holding it lets go.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd};
use std::ptr::NonNull;

use zerocp_core::mempool::{LayoutError, MempoolLayout};
use zerocp_core::mgmt::{Mgmt, MgmtConfig, MgmtConfigError, MgmtError, MgmtLayout};
use zerocp_os_linux::error::{MapError, ShmError};
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{DEFAULT_GROUP, DomainName, PAYLOAD_PART, SegmentName};
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
        name: SegmentName,
        /// Its size in bytes.
        size: u64,
    },
    /// Creating, committing or sealing a segment failed.
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
                write!(
                    f,
                    "{e}; reduce the [[mempool]] sizes or counts or the limits"
                )
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

/// The created and mapped segments of one domain.
#[derive(Debug)]
pub struct SegmentOwner {
    // The mappings are declared (and so dropped) before their segments.
    mgmt_map: Mapping,
    data_map: Mapping,
    mgmt: SharedMemory,
    data: SharedMemory,
    /// A read-only descriptor of `data`, what every registered process gets.
    data_read_only: SharedMemory,
}

fn create_one(name: SegmentName, size: u64) -> Result<(SharedMemory, Mapping), SegmentOwnerError> {
    let len = usize::try_from(size).map_err(|_| SegmentOwnerError::TooLarge {
        name: name.clone(),
        size,
    })?;
    let shm = SharedMemory::create(&name, len).map_err(SegmentOwnerError::Shm)?;
    let map = Mapping::map(&shm, true).map_err(SegmentOwnerError::Map)?;
    Ok((shm, map))
}

impl SegmentOwner {
    /// Creates and maps both segments of `domain` for `config`.
    pub fn create(domain: &DomainName, config: &MgmtConfig) -> Result<Self, SegmentOwnerError> {
        let mgmt_size = MgmtLayout::compute(config)
            .map_err(SegmentOwnerError::MgmtLayout)?
            .total_size();
        let data_size = MempoolLayout::compute(config.mempools())
            .map_err(SegmentOwnerError::DataLayout)?
            .total_bytes();
        let (mgmt, mgmt_map) = create_one(SegmentName::mgmt(domain), mgmt_size)?;
        let data_name = SegmentName::group_part(domain, DEFAULT_GROUP, PAYLOAD_PART);
        let (data, data_map) = create_one(data_name, data_size)?;
        let data_read_only = data.read_only().map_err(SegmentOwnerError::Shm)?;
        Ok(Self {
            mgmt_map,
            data_map,
            mgmt,
            data,
            data_read_only,
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
        let base = NonNull::new(self.mgmt_map.as_ptr()).ok_or(SegmentOwnerError::TooLarge {
            name: self.mgmt.name().clone(),
            size: 0,
        })?;
        // SAFETY: the mapping is read-write, freshly created by `create` (so
        // zero-filled, and no other process knows it is ready: its state word
        // is 0 until `Mgmt::create` publishes it), and it stays mapped as long
        // as `self`, which the returned view borrows.
        unsafe {
            Mgmt::create(
                base,
                self.mgmt_map.len(),
                config,
                daemon_pid,
                epoch,
                self.data_map.len() as u64,
            )
        }
        .map_err(SegmentOwnerError::Mgmt)
    }

    /// The data segment mapping (base and length).
    pub fn data(&self) -> &Mapping {
        &self.data_map
    }

    /// The mgmt segment.
    pub fn mgmt_segment(&self) -> &SharedMemory {
        &self.mgmt
    }

    /// The data segment.
    pub fn data_segment(&self) -> &SharedMemory {
        &self.data
    }

    /// The descriptors a registered process receives, in the order the
    /// `Registered` reply promises: mgmt (read-write: every process writes
    /// its heartbeat, queues, held lists and refcounts there), then data
    /// read-only.
    pub fn registration_fds(&self) -> [BorrowedFd<'_>; 2] {
        [self.mgmt.as_fd(), self.data_read_only.as_fd()]
    }

    /// The descriptor a process receives with each publisher it creates:
    /// the data segment read-write, for loaning and writing chunks.
    pub fn publisher_fds(&self) -> [BorrowedFd<'_>; 1] {
        [self.data.as_fd()]
    }
}
