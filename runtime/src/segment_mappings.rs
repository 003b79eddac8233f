//! [`SegmentMappings`]: the two shared-memory segments of a domain, as this
//! process maps them.
//!
//! The daemon's `Registered` reply carries the segments as descriptors (mgmt,
//! then data). The runtime checks each (sealed against resizing, the size
//! the reply announces), maps both read-write, validates the mgmt segment
//! ([`Mgmt::attach`]) and joins it with the data segment ([`MemPoolManager`]).
//! The descriptors are closed once mapped: the mappings alone keep the memory.
//! The views borrow the mappings; both live in one [`SegmentMappings`] value
//! that every port reaches through its `Arc` to the runtime, so no view
//! outlives its mapping. The mappings stay valid after the daemon stopped
//! (the memory lives until its last holder lets go): a runtime whose daemon
//! stopped fails its calls with `DaemonGone` but never faults.

use std::os::fd::OwnedFd;
use std::ptr::NonNull;

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
    _mgmt_map: Mapping,
    _data_map: Mapping,
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
        let mgmt_map = map_segment(mgmt_fd, SegmentName::mgmt(domain), reply.mgmt_size)?;
        let data_name = SegmentName::group_part(domain, DEFAULT_GROUP, PAYLOAD_PART);
        let data_map = map_segment(data_fd, data_name, reply.data_size)?;
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
            _mgmt_map: mgmt_map,
            _data_map: data_map,
        })
    }

    /// The mgmt view. References it hands out are `'static` in type only:
    /// the caller keeps this `SegmentMappings` alive while it uses them.
    pub(crate) fn mgmt(&self) -> &Mgmt<'static> {
        &self.mgmt
    }

    /// The chunk manager (same lifetime rule as [`SegmentMappings::mgmt`]).
    pub(crate) fn pools(&self) -> &MemPoolManager<'static> {
        &self.pools
    }
}

fn map_segment(
    fd: OwnedFd,
    name: SegmentName,
    announced: u64,
) -> Result<Mapping, MapSegmentsError> {
    let shm = SharedMemory::from_fd(fd, name).map_err(MapSegmentsError::Open)?;
    if shm.size() as u64 != announced {
        return Err(MapSegmentsError::SizeMismatch {
            name: shm.name().to_string(),
            announced,
            found: shm.size() as u64,
        });
    }
    Mapping::map(&shm, true).map_err(MapSegmentsError::Map)
}

fn non_null(map: &Mapping) -> Result<NonNull<u8>, MapSegmentsError> {
    NonNull::new(map.as_ptr()).ok_or_else(|| MapSegmentsError::Data {
        detail: format!("mapping of {} is null", map.name()),
    })
}
