//! Offsets of the regions of the mgmt segment, computed from its configuration.

use core::mem::size_of;

use super::{MgmtConfig, MgmtConfigError, MgmtHeader};
use crate::heartbeat::HeartbeatSlot;

const REGION_ALIGN: u64 = 64;

/// Where each region of the mgmt segment starts, in bytes from its base.
///
/// ```
/// use zerocp_core::mgmt::{MgmtConfig, MgmtLayout};
/// let layout = MgmtLayout::compute(&MgmtConfig::new(4, 1).unwrap()).unwrap();
/// assert_eq!(layout.heartbeat_offset(0), Some(512));
/// assert_eq!(layout.heartbeat_offset(4), None);
/// assert_eq!(layout.total_size() % 64, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MgmtLayout {
    heartbeats: u64,
    total: u64,
    max_processes: u32,
}

impl MgmtLayout {
    /// Lays out the regions for `config`.
    pub fn compute(config: &MgmtConfig) -> Result<Self, MgmtConfigError> {
        let heartbeats = size_of::<MgmtHeader>() as u64;
        let bytes = u64::from(config.max_processes()) * size_of::<HeartbeatSlot>() as u64;
        let total = heartbeats
            .checked_add(bytes)
            .and_then(|end| end.checked_add(REGION_ALIGN - 1))
            .map(|end| end & !(REGION_ALIGN - 1))
            .filter(|&total| usize::try_from(total).is_ok())
            .ok_or(MgmtConfigError::TooLarge)?;
        Ok(Self {
            heartbeats,
            total,
            max_processes: config.max_processes(),
        })
    }

    /// Total size of the segment in bytes.
    pub fn total_size(&self) -> u64 {
        self.total
    }

    /// Offset of heartbeat slot `index`.
    pub fn heartbeat_offset(&self, index: u32) -> Option<u64> {
        (index < self.max_processes)
            .then(|| self.heartbeats + u64::from(index) * size_of::<HeartbeatSlot>() as u64)
    }
}
