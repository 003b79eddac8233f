//! The limits and chunk quotas a domain's mgmt segment records.

use super::quota::{PoolQuota, QuotaError, QuotaTable};
use crate::mempool::MAX_MEMPOOLS;

/// Largest `max_processes` a segment can be laid out for.
pub const MAX_PROCESSES_LIMIT: u32 = 4096;

/// Most segment groups of one domain (`default` included): every group has
/// at least one mempool, and there are at most [`MAX_MEMPOOLS`] of those.
pub const MAX_GROUPS: u32 = MAX_MEMPOOLS as u32;

/// The limits of one domain's mgmt segment and its pools' chunk quotas
/// ([`super::quota`]), validated.
///
/// ```
/// use zerocp_core::mgmt::{MgmtConfig, PoolQuota};
/// let config = MgmtConfig::new(8, 3).unwrap();
/// assert_eq!((config.max_processes(), config.group_count()), (8, 3));
/// assert!(MgmtConfig::new(0, 1).is_err());
/// assert!(MgmtConfig::new(1, 0).is_err());
/// let quota = PoolQuota::new(2, 0, 16, 50, 25).unwrap();
/// let config = config.with_quotas(&[quota]).unwrap();
/// assert_eq!(config.quotas().get(2, 0).map(|q| q.port()), Some(4));
/// assert!(config.with_quotas(&[PoolQuota::new(3, 0, 16, 50, 25).unwrap()]).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MgmtConfig {
    max_processes: u32,
    group_count: u32,
    quotas: QuotaTable,
}

/// A limit the mgmt segment cannot be laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MgmtConfigError {
    /// A limit is zero or above its maximum.
    LimitOutOfRange {
        /// Name of the limit (as in the daemon's configuration file).
        name: &'static str,
        /// Value given.
        value: u32,
        /// Largest value allowed.
        max: u32,
    },
    /// The segment would exceed the address range.
    TooLarge,
    /// A chunk quota cannot be recorded.
    Quota(QuotaError),
}

impl core::fmt::Display for MgmtConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::LimitOutOfRange { name, value, max } => {
                write!(f, "limit `{name}` = {value} is out of range 1..={max}")
            }
            Self::TooLarge => write!(f, "the configuration needs more memory than addressable"),
            Self::Quota(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for MgmtConfigError {}

impl MgmtConfig {
    /// Validates the limits.
    pub fn new(max_processes: u32, group_count: u32) -> Result<Self, MgmtConfigError> {
        check_limit("max_processes", max_processes, MAX_PROCESSES_LIMIT)?;
        check_limit("group_count", group_count, MAX_GROUPS)?;
        Ok(Self {
            max_processes,
            group_count,
            quotas: QuotaTable::default(),
        })
    }

    /// The same limits with the chunk quotas of the domain's pools (each
    /// pool once, every group below the group count).
    pub fn with_quotas(mut self, quotas: &[PoolQuota]) -> Result<Self, MgmtConfigError> {
        self.quotas = QuotaTable::new(quotas, self.group_count).map_err(MgmtConfigError::Quota)?;
        Ok(self)
    }

    /// The chunk quotas of the domain's pools.
    pub fn quotas(&self) -> &QuotaTable {
        &self.quotas
    }

    /// Most processes registered at once.
    pub fn max_processes(&self) -> u32 {
        self.max_processes
    }

    /// Segment groups of the domain (`default` included).
    pub fn group_count(&self) -> u32 {
        self.group_count
    }
}

fn check_limit(name: &'static str, value: u32, max: u32) -> Result<(), MgmtConfigError> {
    if value == 0 || value > max {
        return Err(MgmtConfigError::LimitOutOfRange { name, value, max });
    }
    Ok(())
}
