//! The port limits and mempools a group control part is laid out for.

use crate::mempool::{LayoutError, MAX_MEMPOOLS, MempoolConfig, MempoolLayout};

/// Largest `max_publishers` / `max_subscribers` of one group.
pub const MAX_PORTS_LIMIT: u32 = 65_536;

/// Port limits and mempools of one segment group, validated, mempools
/// sorted by chunk size; every pool belongs to the group.
///
/// ```
/// use zerocp_core::mempool::MempoolConfig;
/// use zerocp_core::group_control::GroupConfig;
/// let pools = [
///     MempoolConfig { chunk_size: 1024, chunk_count: 8, group: 1 },
///     MempoolConfig { chunk_size: 128, chunk_count: 16, group: 1 },
/// ];
/// let config = GroupConfig::new(1, 16, 32, &pools).unwrap();
/// assert_eq!(config.mempools()[0].chunk_size, 128);
/// assert_eq!(config.total_chunks(), 24);
/// assert!(GroupConfig::new(2, 16, 32, &pools).is_err()); // group 1's pools
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    group: u32,
    max_publishers: u32,
    max_subscribers: u32,
    max_notifiers: u32,
    max_listeners: u32,
    mempool_count: u32,
    mempools: [MempoolConfig; MAX_MEMPOOLS],
}

/// A limit or mempool list that cannot be laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupConfigError {
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
    /// A mempool is tagged with another group.
    ForeignPool {
        /// Its position in the list.
        pool: usize,
        /// The group it is tagged with.
        found: u32,
        /// The group laid out.
        group: u32,
    },
    /// The mempool list cannot be laid out (zero size or count, duplicate size, overflow…).
    Mempools(LayoutError),
    /// The segment would exceed the address range.
    TooLarge,
}

impl core::fmt::Display for GroupConfigError {
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
            Self::ForeignPool { pool, found, group } => write!(
                f,
                "mempool {pool} belongs to group {found}, not to group {group}"
            ),
            Self::Mempools(e) => write!(f, "invalid mempools: {e}"),
            Self::TooLarge => write!(f, "the configuration needs more memory than addressable"),
        }
    }
}

impl core::error::Error for GroupConfigError {}

impl GroupConfig {
    /// Validates the limits and mempools of group `group`, sorting the
    /// mempools by chunk size.
    pub fn new(
        group: u32,
        max_publishers: u32,
        max_subscribers: u32,
        mempools: &[MempoolConfig],
    ) -> Result<Self, GroupConfigError> {
        check_limit("max_publishers", max_publishers, MAX_PORTS_LIMIT)?;
        check_limit("max_subscribers", max_subscribers, MAX_PORTS_LIMIT)?;
        if let Some((pool, p)) = mempools.iter().enumerate().find(|(_, p)| p.group != group) {
            return Err(GroupConfigError::ForeignPool {
                pool,
                found: p.group,
                group,
            });
        }
        let sorted = sorted_mempools(mempools)?;
        Ok(Self {
            group,
            max_publishers,
            max_subscribers,
            max_notifiers: 0,
            max_listeners: 0,
            mempool_count: mempools.len() as u32,
            mempools: sorted,
        })
    }

    /// The segment group (0: `default`).
    pub fn group(&self) -> u32 {
        self.group
    }

    /// Most publisher ports at once.
    pub fn max_publishers(&self) -> u32 {
        self.max_publishers
    }

    /// Most subscriber ports at once.
    pub fn max_subscribers(&self) -> u32 {
        self.max_subscribers
    }

    /// The same configuration with room for `max_notifiers` notifier and
    /// `max_listeners` listener ports (each `0..=`[`MAX_PORTS_LIMIT`]; 0,
    /// the default of [`new`](Self::new), lays out none: a group without
    /// event services).
    ///
    /// ```
    /// use zerocp_core::group_control::GroupConfig;
    /// use zerocp_core::mempool::MempoolConfig;
    /// let pools = [MempoolConfig { chunk_size: 64, chunk_count: 4, group: 0 }];
    /// let config = GroupConfig::new(0, 2, 2, &pools)?.with_event_ports(3, 5)?;
    /// assert_eq!((config.max_notifiers(), config.max_listeners()), (3, 5));
    /// assert!(GroupConfig::new(0, 2, 2, &pools)?.with_event_ports(70_000, 1).is_err());
    /// # Ok::<(), zerocp_core::group_control::GroupConfigError>(())
    /// ```
    pub fn with_event_ports(
        mut self,
        max_notifiers: u32,
        max_listeners: u32,
    ) -> Result<Self, GroupConfigError> {
        check_event_limit("max_notifiers", max_notifiers)?;
        check_event_limit("max_listeners", max_listeners)?;
        self.max_notifiers = max_notifiers;
        self.max_listeners = max_listeners;
        Ok(self)
    }

    /// Most notifier ports at once.
    pub fn max_notifiers(&self) -> u32 {
        self.max_notifiers
    }

    /// Most listener ports at once.
    pub fn max_listeners(&self) -> u32 {
        self.max_listeners
    }

    /// The group's mempools, smallest chunk size first.
    pub fn mempools(&self) -> &[MempoolConfig] {
        &self.mempools[..self.mempool_count as usize]
    }

    /// Chunks over the group's mempools.
    pub fn total_chunks(&self) -> u32 {
        self.mempools().iter().map(|p| p.chunk_count).sum()
    }
}

fn check_limit(name: &'static str, value: u32, max: u32) -> Result<(), GroupConfigError> {
    if value == 0 || value > max {
        return Err(GroupConfigError::LimitOutOfRange { name, value, max });
    }
    Ok(())
}

fn check_event_limit(name: &'static str, value: u32) -> Result<(), GroupConfigError> {
    if value > MAX_PORTS_LIMIT {
        return Err(GroupConfigError::LimitOutOfRange {
            name,
            value,
            max: MAX_PORTS_LIMIT,
        });
    }
    Ok(())
}

fn sorted_mempools(
    mempools: &[MempoolConfig],
) -> Result<[MempoolConfig; MAX_MEMPOOLS], GroupConfigError> {
    let layout = MempoolLayout::compute(mempools).map_err(GroupConfigError::Mempools)?;
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
        let e = GroupConfig::new(0, 0, 1, &pools).unwrap_err();
        assert!(matches!(
            e,
            GroupConfigError::LimitOutOfRange {
                name: "max_publishers",
                ..
            }
        ));
        assert_eq!(
            GroupConfig::new(3, 1, 1, &pools),
            Err(GroupConfigError::ForeignPool {
                pool: 0,
                found: 0,
                group: 3
            })
        );
        let e = GroupConfig::new(0, 1, 70_000, &pools).unwrap_err();
        assert!(matches!(
            e,
            GroupConfigError::LimitOutOfRange {
                name: "max_subscribers",
                ..
            }
        ));
        assert!(matches!(
            GroupConfig::new(0, 1, 1, &[]),
            Err(GroupConfigError::Mempools(_))
        ));
        assert!(matches!(
            GroupConfig::new(0, 1, 1, &[pool(64, 1), pool(64, 2)]),
            Err(GroupConfigError::Mempools(_))
        ));
        assert!(matches!(
            GroupConfig::new(0, 1, 1, &[pool(64, 0)]),
            Err(GroupConfigError::Mempools(_))
        ));
    }
}
