//! [`SegmentMappings`]: the two shared-memory segments of a domain, as this
//! process maps them.
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
//! The views borrow the mappings; both live in one [`SegmentMappings`] value
//! that every port reaches through its `Arc` to the runtime, so no view
//! outlives its mapping. The mappings stay valid after the daemon stopped
//! (the memory lives until its last holder lets go): a runtime whose daemon
//! stopped fails its calls with `DaemonGone` but never faults.

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

/// The mapped segments and the views over them.
pub(crate) struct SegmentMappings {
    // The views are declared (and so dropped) before the mappings they borrow.
    mgmt: Mgmt<'static>,
    pools: MemPoolManager<'static>,
    writable: OnceLock<WritablePayload>,
    /// Serialises mapping the writable payload, so it is mapped only once.
    writable_init: Mutex<()>,
    data_name: SegmentName,
    data_size: u64,
    _mgmt_map: Mapping,
    _data_map: Mapping,
}

/// The read-write mapping of the data segment and the chunk manager over it.
struct WritablePayload {
    // Declared (and so dropped) before the mapping it borrows.
    pools: MemPoolManager<'static>,
    _map: Mapping,
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
        let data_base = non_null(&data_map)?;
        // SAFETY: `mgmt_base..+len` is the live mapping of the mgmt segment,
        // owned by the value we return; the view's 'static lifetime is never
        // handed out longer than that value lives (see `mgmt()`, and the
        // ports, which hold an `Arc` to the runtime owning it).
        let mgmt =
            unsafe { Mgmt::attach(mgmt_base, mgmt_map.len()) }.map_err(MapSegmentsError::Mgmt)?;
        // SAFETY: `data_base..+len` is the live mapping of the data segment
        // created beside that mgmt segment, owned by the value we return
        // (same lifetime argument as above).
        let pools =
            unsafe { MemPoolManager::new(mgmt, data_base, data_map.len()) }.map_err(|e| {
                MapSegmentsError::Data {
                    detail: e.to_string(),
                }
            })?;
        Ok(Self {
            mgmt,
            pools,
            writable: OnceLock::new(),
            writable_init: Mutex::new(()),
            data_name,
            data_size: reply.data_size,
            _mgmt_map: mgmt_map,
            _data_map: data_map,
        })
    }

    /// The chunk manager over the read-write mapping of the data segment,
    /// mapping it from `fds` (the read-write descriptor a `PublisherCreated`
    /// reply carries) the first time. Later calls return the same manager
    /// and close their descriptors.
    pub(crate) fn writable_pools(
        &self,
        fds: Vec<OwnedFd>,
    ) -> Result<&MemPoolManager<'static>, MapSegmentsError> {
        let _once = self
            .writable_init
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(payload) = self.writable.get() {
            return Ok(&payload.pools);
        }
        let fd = fds
            .into_iter()
            .next()
            .ok_or(MapSegmentsError::Descriptors { received: 0 })?;
        let map = map_segment(fd, self.data_name.clone(), self.data_size, true)?;
        let base = non_null(&map)?;
        // SAFETY: `base..+len` is the live read-write mapping of the same data
        // segment the read-only view covers, owned by the `WritablePayload`
        // stored in `self`, which never drops it before `self` (a `OnceLock`
        // is never emptied); same lifetime argument as in `map`.
        let pools = unsafe { MemPoolManager::new(self.mgmt, base, map.len()) }.map_err(|e| {
            MapSegmentsError::Data {
                detail: e.to_string(),
            }
        })?;
        Ok(&self
            .writable
            .get_or_init(|| WritablePayload { pools, _map: map })
            .pools)
    }

    /// The mgmt view. References it hands out are `'static` in type only:
    /// the caller keeps this `SegmentMappings` alive while it uses them.
    pub(crate) fn mgmt(&self) -> &Mgmt<'static> {
        &self.mgmt
    }

    /// The chunk manager over the read-only mapping of the data segment:
    /// enough to take, read and release chunks (same lifetime rule as
    /// [`SegmentMappings::mgmt`]). Loaning needs [`SegmentMappings::writable_pools`].
    pub(crate) fn pools(&self) -> &MemPoolManager<'static> {
        &self.pools
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
