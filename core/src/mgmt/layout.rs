//! The size of the mgmt segment, computed from its configuration.

use core::mem::size_of;

use super::{MgmtConfig, MgmtConfigError, MgmtHeader};

/// The regions of the mgmt segment: since layout version 5 only the header
/// (heartbeats are a file per process, [`crate::heartbeat`]). Computed from
/// the configuration so that a future region sized by the limits has one
/// place to go, and so that both sides check the size the same way.
///
/// ```
/// use zerocp_core::mgmt::{MgmtConfig, MgmtLayout};
/// let layout = MgmtLayout::compute(&MgmtConfig::new(4, 1).unwrap()).unwrap();
/// assert_eq!(layout.total_size(), 512);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MgmtLayout {
    total: u64,
}

impl MgmtLayout {
    /// Lays out the regions for `config` (validated by [`MgmtConfig::new`]).
    pub fn compute(_config: &MgmtConfig) -> Result<Self, MgmtConfigError> {
        Ok(Self {
            total: size_of::<MgmtHeader>() as u64,
        })
    }

    /// Total size of the segment in bytes.
    pub fn total_size(&self) -> u64 {
        self.total
    }
}
