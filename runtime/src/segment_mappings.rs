//! [`SegmentMappings`]: the two shared-memory segments of a domain, as this
//! process maps them, and the only owner of those mappings.
//!
//! The daemon's `Registered` reply carries the segments as descriptors (mgmt,
//! then data). The runtime checks each (sealed against resizing, the size
//! the reply announces), maps the mgmt segment read-write and the data
//! segment **read-only**, validates the mgmt segment ([`Mgmt::attach`]) and
//! joins it with the data segment ([`MemPoolManager`]). A process that only
//! subscribes never needs more: what it writes (queues, held lists,
//! refcounts) is all in the mgmt segment, so a write through a `Sample`
//! faults. The reply to its first `CreatePublisher` carries a read-write
//! descriptor of the data segment, which the runtime maps once more,
//! writable, for its publishers ([`SegmentMappings::writable_pools`]).
//! The descriptors are closed once mapped: the mappings alone keep the memory.
//! The mappings stay valid after the daemon stopped (the memory lives until
//! its last holder lets go): a runtime whose daemon stopped fails its calls
//! with `DaemonGone` but never faults.
//!
//! # Ownership: no view outlives its mapping
//!
//! The views ([`Mgmt`], [`MemPoolManager`]) are validated once, here, and
//! kept beside the mappings they point into, in this one value (the views
//! declared first, so they are dropped first). Their stored lifetime is
//! `'static` in type only, and only in this module's private fields and the
//! private constructor of [`Pools`]: every accessor hands a view out with
//! the lifetime of the borrow of its owner (`&self`), shortened through
//! covariance (the accessors compile only because the views are covariant
//! in their lifetime), so no reference or `Copy` view into shared memory
//! can be kept past the `SegmentMappings` it came from. A [`Pools`] (a chunk
//! manager and the mapping it covers) has no lifetime parameter and no
//! constructor outside this module, so it too is only ever reached through
//! a borrow.
//!
//! What a port keeps across calls (its port record, its [`Pools`]) it keeps
//! as a [`crate::mapped::Mapped`]: a pointer found through such a borrow,
//! stored beside the `Arc` to the runtime that owns this value, and
//! re-borrowed for `&self` only. Validation happens once, when the view or
//! the port is set up; the data path re-borrows without re-checking, and
//! checks only the indices it reads from shared memory.

use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::{Mutex, OnceLock, PoisonError};

use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::mgmt::Mgmt;
use zerocp_core::wire::Registered;
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{DEFAULT_GROUP, DomainName, PAYLOAD_PART, SegmentName};
use zerocp_os_linux::shm::SharedMemory;

use crate::error::MapSegmentsError;

/// The mapped segments and the views over them (module docs: ownership).
pub(crate) struct SegmentMappings {
    // The views are declared (and so dropped) before the mappings they borrow.
    mgmt: Mgmt<'static>,
    read_only: Pools,
    writable: OnceLock<Pools>,
    /// Serialises mapping the writable payload, so it is mapped only once.
    writable_init: Mutex<()>,
    data_name: SegmentName,
    data_size: u64,
    _mgmt_map: Mapping,
}

/// One mapping of the data segment and the chunk manager over it.
///
/// Only [`SegmentMappings`] makes one and it never hands one out by value:
/// a `Pools` is reached through a borrow of its owner, and its manager only
/// with the lifetime of that borrow ([`Pools::manager`]).
pub(crate) struct Pools {
    // Declared (and so dropped) before the mapping it borrows.
    manager: MemPoolManager<'static>,
    _map: Mapping,
}

impl Pools {
    /// Joins `mgmt` with the mapped data segment `map`.
    ///
    /// # Safety
    /// `mgmt` must be valid as long as the returned value (it is the view of
    /// the mgmt segment its owner keeps mapped for as long as it keeps this).
    unsafe fn join(mgmt: Mgmt<'static>, map: Mapping) -> Result<Self, MapSegmentsError> {
        let base = non_null(&map)?;
        // SAFETY: `base..+len` is the live mapping of the data segment
        // created beside `mgmt`'s segment, owned by the value we return and
        // dropped only after the manager (field order); the manager's
        // `'static` never leaves this type (see `manager`), and `mgmt` lives
        // as long as this value (the caller's contract).
        let manager = unsafe { MemPoolManager::new(mgmt, base, map.len()) }.map_err(|e| {
            MapSegmentsError::Data {
                detail: e.to_string(),
            }
        })?;
        Ok(Self { manager, _map: map })
    }

    /// The chunk manager, for as long as this borrow of its owner.
    pub(crate) fn manager(&self) -> &MemPoolManager<'_> {
        &self.manager
    }
}

impl SegmentMappings {
    /// Checks, maps and validates the segments of `domain` that came with
    /// `reply` as `fds`.
    pub(crate) fn map(
        domain: &DomainName,
        reply: &Registered,
        fds: Vec<OwnedFd>,
    ) -> Result<Self, MapSegmentsError> {
        let [mgmt_fd, data_fd] =
            <[OwnedFd; 2]>::try_from(fds).map_err(|fds| MapSegmentsError::Descriptors {
                received: fds.len(),
            })?;
        let mgmt_map = map_segment(mgmt_fd, SegmentName::mgmt(domain), reply.mgmt_size, true)?;
        let data_name = SegmentName::group_part(domain, DEFAULT_GROUP, PAYLOAD_PART);
        let data_map = map_segment(data_fd, data_name.clone(), reply.data_size, false)?;
        let mgmt_base = non_null(&mgmt_map)?;
        // SAFETY: `mgmt_base..+len` is the live mapping of the mgmt segment,
        // owned by the value we return and dropped after every view of it
        // (field order); the view's `'static` never leaves this module (see
        // the module docs and the accessors).
        let mgmt =
            unsafe { Mgmt::attach(mgmt_base, mgmt_map.len()) }.map_err(MapSegmentsError::Mgmt)?;
        // SAFETY: `mgmt` lives in the value we return, as long as these pools.
        let read_only = unsafe { Pools::join(mgmt, data_map) }?;
        Ok(Self {
            mgmt,
            read_only,
            writable: OnceLock::new(),
            writable_init: Mutex::new(()),
            data_name,
            data_size: reply.data_size,
            _mgmt_map: mgmt_map,
        })
    }

    /// The chunk manager over the read-write mapping of the data segment,
    /// mapping it from `fds` (the read-write descriptor a `PublisherCreated`
    /// reply carries) the first time. Later calls return the same pools
    /// and close their descriptors.
    pub(crate) fn writable_pools(&self, fds: Vec<OwnedFd>) -> Result<&Pools, MapSegmentsError> {
        let _once = self
            .writable_init
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(pools) = self.writable.get() {
            return Ok(pools);
        }
        let fd = fds
            .into_iter()
            .next()
            .ok_or(MapSegmentsError::Descriptors { received: 0 })?;
        let map = map_segment(fd, self.data_name.clone(), self.data_size, true)?;
        // SAFETY: `self.mgmt` lives as long as `self`, which keeps these pools
        // (a `OnceLock` is never emptied) and drops them before `_mgmt_map`.
        let pools = unsafe { Pools::join(self.mgmt, map) }?;
        Ok(self.writable.get_or_init(|| pools))
    }

    /// The mgmt view, for as long as this borrow.
    pub(crate) fn mgmt(&self) -> &Mgmt<'_> {
        &self.mgmt
    }

    /// The pools over the read-only mapping of the data segment: enough to
    /// take, read and release chunks. Loaning needs
    /// [`SegmentMappings::writable_pools`].
    pub(crate) fn read_only_pools(&self) -> &Pools {
        &self.read_only
    }
}

/// Checks the received `fd` and maps it, read-write when `writable`.
fn map_segment(
    fd: OwnedFd,
    name: SegmentName,
    announced: u64,
    writable: bool,
) -> Result<Mapping, MapSegmentsError> {
    let shm = SharedMemory::from_fd(fd, name).map_err(MapSegmentsError::Open)?;
    if shm.size() as u64 != announced {
        return Err(MapSegmentsError::SizeMismatch {
            name: shm.name().to_string(),
            announced,
            found: shm.size() as u64,
        });
    }
    Mapping::map(&shm, writable).map_err(MapSegmentsError::Map)
}

fn non_null(map: &Mapping) -> Result<NonNull<u8>, MapSegmentsError> {
    NonNull::new(map.as_ptr()).ok_or_else(|| MapSegmentsError::Data {
        detail: format!("mapping of {} is null", map.name()),
    })
}
