//! [`SegmentMappings`]: the two shared-memory segments of a domain, as this
//! process maps them.
//!
//! After registration the daemon names its segments; the runtime opens and
//! maps both read-write, validates the mgmt segment ([`Mgmt::attach`]) and
//! joins it with the data segment ([`MemPoolManager`]). The views borrow the
//! mappings; both live in one [`SegmentMappings`] value that every port reaches
//! through its `Arc` to the runtime, so no view outlives its mapping. The
//! mappings stay valid after the daemon unlinked the segments (the pages
//! live until the last unmap): a runtime whose daemon stopped fails its
//! calls with `DaemonGone` but never faults.

use std::ptr::NonNull;

use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::mgmt::Mgmt;
use zerocp_core::wire::Registered;
use zerocp_os_linux::ShmName;
use zerocp_os_linux::error::NameError;
use zerocp_os_linux::mmap::Mapping;
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
    /// Opens, maps and validates the segments `reply` names.
    pub(crate) fn map(reply: &Registered) -> Result<Self, MapSegmentsError> {
        let mgmt_map = map_segment(reply.mgmt_name.as_str(), reply.mgmt_size)?;
        let data_map = map_segment(reply.data_name.as_str(), reply.data_size)?;
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

fn map_segment(name: &str, announced: u64) -> Result<Mapping, MapSegmentsError> {
    let shm_name = ShmName::new(name).map_err(|e: NameError| MapSegmentsError::Data {
        detail: format!("the daemon named an invalid segment: {e}"),
    })?;
    let shm = SharedMemory::open(&shm_name, true).map_err(MapSegmentsError::Open)?;
    if shm.size() as u64 != announced {
        return Err(MapSegmentsError::SizeMismatch {
            name: name.to_owned(),
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
