//! The size of the mgmt segment, computed from its configuration.

use core::mem::size_of;

use super::quota::QuotaRecord;
use super::{MgmtConfig, MgmtConfigError, MgmtHeader};
use crate::mempool::MAX_MEMPOOLS;

/// The regions of the mgmt segment: since layout version 6 the header and
/// the quota table (heartbeats are a file per process, [`crate::heartbeat`]):
///
/// ```text
/// offset 0      MgmtHeader (512 B)
/// offset 512    QuotaRecord × MAX_MEMPOOLS (32 B each: 1 KiB)
/// ```
///
/// The table has room for every pool a domain can have, whatever the
/// configuration, so its place never depends on a value read from the
/// segment. Computed from the configuration so that a future region sized by
/// the limits has one place to go, and so that both sides check the size
/// the same way.
///
/// ```
/// use zerocp_core::mgmt::{MgmtConfig, MgmtLayout};
/// let layout = MgmtLayout::compute(&MgmtConfig::new(4, 1).unwrap()).unwrap();
/// assert_eq!(layout.quotas_offset(), 512);
/// assert_eq!(layout.total_size(), 512 + 32 * 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MgmtLayout {
    quotas: u64,
    total: u64,
}

impl MgmtLayout {
    /// Lays out the regions for `config` (validated by [`MgmtConfig::new`]).
    pub fn compute(_config: &MgmtConfig) -> Result<Self, MgmtConfigError> {
        let quotas = size_of::<MgmtHeader>() as u64;
        let table = (MAX_MEMPOOLS * size_of::<QuotaRecord>()) as u64;
        Ok(Self {
            quotas,
            total: quotas + table,
        })
    }

    /// Offset of the quota table ([`MAX_MEMPOOLS`] records, 32-byte aligned).
    pub fn quotas_offset(&self) -> u64 {
        self.quotas
    }

    /// Total size of the segment in bytes.
    pub fn total_size(&self) -> u64 {
        self.total
    }
}
