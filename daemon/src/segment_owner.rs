//! [`SegmentOwner`]: the domain's shared-memory segments, owned by the daemon.
//!
//! At start the daemon creates, as sealed memory files sized from the
//! configuration and committed with `fallocate` (too little memory fails
//! here, with the segment's name and size, rather than as a SIGBUS later;
//! a control part's port tables are the exception, committed slot by slot
//! as ports are created, see [`crate::group_memory`]), and maps read-write:
//!
//! - the domain's mgmt segment `zerocp.<domain>.mgmt` (the domain header,
//!   [`Mgmt`]), and a read-only descriptor of it for the runtimes, owned
//!   here;
//! - for every segment group (`default` first, then each `[[group]]`) its
//!   control part `zerocp.<domain>.<group>.control` (ports, freelists,
//!   refcounts) and its payload part `zerocp.<domain>.<group>.payload` (its
//!   chunks), owned by a [`crate::group_memory::GroupMemory`] each (made
//!   with this module's helpers), because a group's memory can be replaced
//!   while the daemon runs (a reset, [`crate::group_reset`]) and the mgmt
//!   segment cannot.
//!
//! They have no name in any file system: processes receive their
//! descriptors over the control socket, the rights following the role. At
//! registration a process gets the mgmt segment read-only (nobody but the
//! daemon writes it), its own heartbeat file read-write (created for it
//! then, [`crate::heartbeat_file`], not owned here) and nothing of any
//! group; with each port it creates it gets that port's
//! group's control part (read-write) and payload part, read-only with a
//! subscriber (a reader cannot reopen it writable: see
//! `zerocp_os_linux::shm`) and read-write with a publisher. So a process
//! holds no descriptor of a group it has no port in, and a writable payload
//! only of the groups it publishes in. There is nothing for a stale daemon
//! to leave behind or a new one to clean up, and the memory is freed when
//! the last process holding it lets go.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd};
use std::ptr::NonNull;

use zerocp_core::group_control::{GroupConfigError, GroupControlError};
use zerocp_core::mempool::LayoutError;
use zerocp_core::mgmt::{Mgmt, MgmtConfig, MgmtConfigError, MgmtError, MgmtLayout};
use zerocp_os_linux::error::{MapError, ShmError};
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{DomainName, SegmentName};
use zerocp_os_linux::shm::SharedMemory;

/// Creating or removing the segments failed.
#[derive(Debug)]
pub enum SegmentOwnerError {
    /// The mgmt layout cannot be computed from the configuration.
    MgmtLayout(MgmtConfigError),
    /// A group control layout cannot be computed from the configuration.
    ControlLayout(GroupConfigError),
    /// A payload layout cannot be computed from the mempools.
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
    /// Laying out a group's control part failed.
    Control(GroupControlError),
    /// The mempools could not be set up over a payload part.
    Mempools(String),
}

impl fmt::Display for SegmentOwnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MgmtLayout(e) => write!(f, "cannot lay out the mgmt segment: {e}"),
            Self::ControlLayout(e) => write!(f, "cannot lay out a group control part: {e}"),
            Self::DataLayout(e) => write!(f, "cannot lay out a payload part: {e}"),
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
            Self::Control(e) => write!(f, "cannot initialise a group control part: {e}"),
            Self::Mempools(e) => write!(f, "cannot set up the mempools: {e}"),
        }
    }
}

impl std::error::Error for SegmentOwnerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MgmtLayout(e) => Some(e),
            Self::ControlLayout(e) => Some(e),
            Self::DataLayout(e) => Some(e),
            Self::Shm(e) => Some(e),
            Self::Map(e) => Some(e),
            Self::Mgmt(e) => Some(e),
            Self::Control(e) => Some(e),
            Self::TooLarge { .. } | Self::Mempools(_) => None,
        }
    }
}

/// The domain's mgmt segment, created and mapped by the daemon.
#[derive(Debug)]
pub struct SegmentOwner {
    // The mapping is declared (and so dropped) before its segment.
    mgmt_map: Mapping,
    mgmt: SharedMemory,
    /// A read-only descriptor of `mgmt`, what every registered process gets.
    mgmt_read_only: SharedMemory,
}

/// How a memory file is made: [`SharedMemory::create`] (every page
/// committed) or [`SharedMemory::create_uncommitted`].
pub(crate) type Create = fn(&SegmentName, usize) -> Result<SharedMemory, ShmError>;

/// Creates the memory file `name` of `size` bytes with `create` and maps it
/// read-write.
pub(crate) fn create_one(
    name: SegmentName,
    size: u64,
    create: Create,
) -> Result<(SharedMemory, Mapping), SegmentOwnerError> {
    let len = usize::try_from(size).map_err(|_| SegmentOwnerError::TooLarge {
        name: name.clone(),
        size,
    })?;
    let shm = create(&name, len).map_err(SegmentOwnerError::Shm)?;
    let map = Mapping::map(&shm, true).map_err(SegmentOwnerError::Map)?;
    Ok((shm, map))
}

/// The base address of `map`, a mapping of `shm`.
pub(crate) fn base_of(map: &Mapping, shm: &SharedMemory) -> Result<NonNull<u8>, SegmentOwnerError> {
    NonNull::new(map.as_ptr()).ok_or(SegmentOwnerError::TooLarge {
        name: shm.name().clone(),
        size: 0,
    })
}

impl SegmentOwner {
    /// Creates and maps the mgmt segment of `domain` for `config`.
    pub fn create(domain: &DomainName, config: &MgmtConfig) -> Result<Self, SegmentOwnerError> {
        let mgmt_size = MgmtLayout::compute(config)
            .map_err(SegmentOwnerError::MgmtLayout)?
            .total_size();
        let (mgmt, mgmt_map) =
            create_one(SegmentName::mgmt(domain), mgmt_size, SharedMemory::create)?;
        let mgmt_read_only = mgmt.read_only().map_err(SegmentOwnerError::Shm)?;
        Ok(Self {
            mgmt_map,
            mgmt,
            mgmt_read_only,
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
        let base = base_of(&self.mgmt_map, &self.mgmt)?;
        // SAFETY: the mapping is read-write, freshly created by `create` (so
        // zero-filled, and no other process knows it is ready: its state word
        // is 0 until `Mgmt::create` publishes it), and it stays mapped as long
        // as `self`, which the returned view borrows.
        unsafe { Mgmt::create(base, self.mgmt_map.len(), config, daemon_pid, epoch) }
            .map_err(SegmentOwnerError::Mgmt)
    }

    /// The mgmt segment.
    pub fn mgmt_segment(&self) -> &SharedMemory {
        &self.mgmt
    }

    /// The mgmt segment's descriptor a registered process receives:
    /// read-only, so it can map the segment only `PROT_READ` (its heartbeat
    /// file comes with it, from [`crate::heartbeat_file`]).
    pub fn registration_fd(&self) -> BorrowedFd<'_> {
        self.mgmt_read_only.as_fd()
    }
}
