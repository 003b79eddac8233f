//! The limits and mempools a mgmt segment is laid out for.

use crate::mempool::{LayoutError, MAX_MEMPOOLS, MempoolConfig, MempoolLayout};

/// Largest `max_processes` a segment can be laid out for.
pub const MAX_PROCESSES_LIMIT: u32 = 4096;
/// Largest `max_publishers` / `max_subscribers`.
pub const MAX_PORTS_LIMIT: u32 = 65_536;

/// Limits and mempools of one domain, validated, mempools sorted by segment
/// group, then chunk size.
///
/// ```
/// use zerocp_core::mempool::MempoolConfig;
/// use zerocp_core::mgmt::MgmtConfig;
/// let pools = [
///     MempoolConfig { chunk_size: 1024, chunk_count: 8, group: 0 },
///     MempoolConfig { chunk_size: 128, chunk_count: 16, group: 0 },
/// ];
/// let config = MgmtConfig::new(8, 16, 32, &pools).unwrap();
/// assert_eq!(config.mempools()[0].chunk_size, 128);
/// assert_eq!(config.total_chunks(), 24);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MgmtConfig {
    max_processes: u32,
    max_publishers: u32,
    max_subscribers: u32,
    mempool_count: u32,
    mempools: [MempoolConfig; MAX_MEMPOOLS],
}

/// A limit or mempool list that cannot be laid out.
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
    /// More than [`MAX_MEMPOOLS`] mempools (found in a segment header).
    TooManyMempools {
        /// Number given.
        count: usize,
    },
    /// The mempool list cannot be laid out (zero size or count, duplicate size, overflow…).
    Mempools(LayoutError),
    /// The segment would exceed the address range.
    TooLarge,
}

impl core::fmt::Display for MgmtConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::LimitOutOfRange { name, value, max } => {
                write!(f, "limit `{name}` = {value} is out of range 1..={max}")
            }
            Self::TooManyMempools { count } => {
                write!(
                    f,
                    "{count} mempools configured, at most {MAX_MEMPOOLS} allowed"
                )
            }
            Self::Mempools(e) => write!(f, "invalid mempools: {e}"),
            Self::TooLarge => write!(f, "the configuration needs more memory than addressable"),
        }
    }
}

impl core::error::Error for MgmtConfigError {}

impl MgmtConfig {
    /// Validates the limits and mempools, sorting the mempools by chunk size.
    pub fn new(
        max_processes: u32,
        max_publishers: u32,
        max_subscribers: u32,
        mempools: &[MempoolConfig],
    ) -> Result<Self, MgmtConfigError> {
        check_limit("max_processes", max_processes, MAX_PROCESSES_LIMIT)?;
        check_limit("max_publishers", max_publishers, MAX_PORTS_LIMIT)?;
        check_limit("max_subscribers", max_subscribers, MAX_PORTS_LIMIT)?;
        let sorted = sorted_mempools(mempools)?;
        Ok(Self {
            max_processes,
            max_publishers,
            max_subscribers,
            mempool_count: mempools.len() as u32,
            mempools: sorted,
        })
    }

    /// Most processes registered at once.
    pub fn max_processes(&self) -> u32 {
        self.max_processes
    }

    /// Most publisher ports at once.
    pub fn max_publishers(&self) -> u32 {
        self.max_publishers
    }

    /// Most subscriber ports at once.
    pub fn max_subscribers(&self) -> u32 {
        self.max_subscribers
    }

    /// The mempools, by segment group, then smallest chunk size first.
    pub fn mempools(&self) -> &[MempoolConfig] {
        &self.mempools[..self.mempool_count as usize]
    }

    /// Chunks over all mempools.
    pub fn total_chunks(&self) -> u32 {
        self.mempools().iter().map(|p| p.chunk_count).sum()
    }
}

fn check_limit(name: &'static str, value: u32, max: u32) -> Result<(), MgmtConfigError> {
    if value == 0 || value > max {
        return Err(MgmtConfigError::LimitOutOfRange { name, value, max });
    }
    Ok(())
}

fn sorted_mempools(
    mempools: &[MempoolConfig],
) -> Result<[MempoolConfig; MAX_MEMPOOLS], MgmtConfigError> {
    let layout = MempoolLayout::compute(mempools).map_err(MgmtConfigError::Mempools)?;
    let mut out = [MempoolConfig::default(); MAX_MEMPOOLS];
    for (dst, pool) in out.iter_mut().zip(layout.pools()) {
        dst.chunk_size = pool.chunk_size();
        dst.chunk_count = pool.chunk_count();
        dst.group = pool.group();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(chunk_size: u32, chunk_count: u32) -> MempoolConfig {
        MempoolConfig {
            chunk_size,
            chunk_count,
            group: 0,
        }
    }

    #[test]
    fn rejects_bad_limits_and_pools_naming_them() {
        let pools = [pool(64, 1)];
        let e = MgmtConfig::new(0, 1, 1, &pools).unwrap_err();
        assert!(matches!(
            e,
            MgmtConfigError::LimitOutOfRange {
                name: "max_processes",
                ..
            }
        ));
        let e = MgmtConfig::new(1, 1, 70_000, &pools).unwrap_err();
        assert!(matches!(
            e,
            MgmtConfigError::LimitOutOfRange {
                name: "max_subscribers",
                ..
            }
        ));
        assert!(matches!(
            MgmtConfig::new(1, 1, 1, &[]),
            Err(MgmtConfigError::Mempools(_))
        ));
        assert!(matches!(
            MgmtConfig::new(1, 1, 1, &[pool(64, 1), pool(64, 2)]),
            Err(MgmtConfigError::Mempools(_))
        ));
        assert!(matches!(
            MgmtConfig::new(1, 1, 1, &[pool(64, 0)]),
            Err(MgmtConfigError::Mempools(_))
        ));
    }
}
