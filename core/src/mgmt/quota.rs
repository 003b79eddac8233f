//! Chunk quotas: how many chunks of one mempool one process, and one port,
//! may hold at once, and the table of them the daemon writes into the mgmt
//! segment.
//!
//! A quota is a share of a pool's chunks ([`quota_of`]: `percent` of the
//! count, rounded down, at least one chunk), set per pool from the daemon's
//! `[quota]` section (or a group's own `[group.quota]`):
//!
//! - the **process** quota bounds the chunks of the pool one process holds
//!   through its runtime: its loans, its publishers' history and its taken
//!   samples, over all its ports;
//! - the **port** quota bounds one port: a publisher's loans and history,
//!   or a subscriber's queued and taken chunks.
//!
//! The table lives in the mgmt segment, which only the daemon writes and
//! every runtime maps read-only: the quotas a runtime enforces cannot be
//! forged by any process, unlike anything in a group's control part, which
//! every member of the group can write. Each [`PoolQuota`] records the
//! percentages and the pool's chunk count, so a runtime computes the same
//! numbers as the daemon and checks that the pool it mapped has that count.
//!
//! ```
//! use zerocp_core::mgmt::{PoolQuota, quota_of};
//! assert_eq!(quota_of(8, 50), 4);
//! assert_eq!(quota_of(3, 50), 1); // rounded down
//! assert_eq!(quota_of(1, 10), 1); // at least one chunk
//! let quota = PoolQuota::new(0, 2, 64, 50, 25).unwrap();
//! assert_eq!((quota.process(), quota.port()), (32, 16));
//! assert!(PoolQuota::new(0, 2, 64, 0, 25).is_err());
//! ```

use crate::mempool::MAX_MEMPOOLS;
use crate::sync::{AtomicU32, Ordering};
use crate::word_repair::WordRepair;

/// Largest quota percentage (the whole pool).
pub const MAX_QUOTA_PERCENT: u32 = 100;

/// `percent` of `chunk_count` chunks, rounded down, at least one (and at
/// most `chunk_count` for a valid percentage).
pub fn quota_of(chunk_count: u32, percent: u32) -> u32 {
    let share = u64::from(chunk_count) * u64::from(percent.min(MAX_QUOTA_PERCENT)) / 100;
    // Cannot truncate: at most chunk_count.
    (share as u32).max(1)
}

/// The quotas of one mempool of one segment group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolQuota {
    group: u32,
    pool: u32,
    chunk_count: u32,
    process_percent: u32,
    port_percent: u32,
    group_override: bool,
}

/// A quota that cannot be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaError {
    /// A percentage is outside `1..=100`.
    PercentOutOfRange {
        /// `process_percent` or `port_percent`.
        name: &'static str,
        /// The value given.
        value: u32,
    },
    /// The pool has no chunk.
    NoChunks {
        /// The segment group.
        group: u32,
        /// The pool in the group.
        pool: u32,
    },
    /// More entries than [`MAX_MEMPOOLS`].
    TooMany {
        /// How many.
        count: u32,
    },
    /// Two entries for one pool.
    Duplicate {
        /// The segment group.
        group: u32,
        /// The pool in the group.
        pool: u32,
    },
    /// An entry names a group the domain does not have.
    NoSuchGroup {
        /// The group named.
        group: u32,
        /// The domain's group count.
        group_count: u32,
    },
}

impl core::fmt::Display for QuotaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::PercentOutOfRange { name, value } => write!(
                f,
                "quota `{name}` = {value} is out of range 1..={MAX_QUOTA_PERCENT}"
            ),
            Self::NoChunks { group, pool } => {
                write!(f, "mempool {pool} of group {group} has no chunk to share")
            }
            Self::TooMany { count } => write!(
                f,
                "{count} pool quotas recorded, at most {MAX_MEMPOOLS} allowed"
            ),
            Self::Duplicate { group, pool } => {
                write!(f, "two quotas for mempool {pool} of group {group}")
            }
            Self::NoSuchGroup { group, group_count } => write!(
                f,
                "a quota names group {group}, but the domain has {group_count} groups"
            ),
        }
    }
}

impl core::error::Error for QuotaError {}

impl PoolQuota {
    /// The quotas of mempool `pool` (its index in group `group`, smallest
    /// chunks first) of `chunk_count` chunks: `process_percent` and
    /// `port_percent` of them (each `1..=100`), from the daemon's `[quota]`.
    pub fn new(
        group: u32,
        pool: u32,
        chunk_count: u32,
        process_percent: u32,
        port_percent: u32,
    ) -> Result<Self, QuotaError> {
        for (name, value) in [
            ("process_percent", process_percent),
            ("port_percent", port_percent),
        ] {
            if !(1..=MAX_QUOTA_PERCENT).contains(&value) {
                return Err(QuotaError::PercentOutOfRange { name, value });
            }
        }
        if chunk_count == 0 {
            return Err(QuotaError::NoChunks { group, pool });
        }
        Ok(Self {
            group,
            pool,
            chunk_count,
            process_percent,
            port_percent,
            group_override: false,
        })
    }

    /// The same quotas, marked as set by the group's own `[group.quota]`
    /// (so an error can name the key that set them).
    pub fn from_group_override(mut self, yes: bool) -> Self {
        self.group_override = yes;
        self
    }

    /// The segment group.
    pub fn group(&self) -> u32 {
        self.group
    }

    /// The pool's index in its group (smallest chunks first).
    pub fn pool(&self) -> u32 {
        self.pool
    }

    /// The pool's chunk count.
    pub fn chunk_count(&self) -> u32 {
        self.chunk_count
    }

    /// `process_percent` in force for the pool.
    pub fn process_percent(&self) -> u32 {
        self.process_percent
    }

    /// `port_percent` in force for the pool.
    pub fn port_percent(&self) -> u32 {
        self.port_percent
    }

    /// Whether the group's own `[group.quota]` set the percentages (else `[quota]`).
    pub fn is_group_override(&self) -> bool {
        self.group_override
    }

    /// Chunks of the pool one process may hold at once.
    pub fn process(&self) -> u32 {
        quota_of(self.chunk_count, self.process_percent)
    }

    /// Chunks of the pool one port may hold at once.
    pub fn port(&self) -> u32 {
        quota_of(self.chunk_count, self.port_percent)
    }
}

/// The quotas of every pool of a domain (at most [`MAX_MEMPOOLS`]), each
/// pool once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaTable {
    entries: [PoolQuota; MAX_MEMPOOLS],
    len: u32,
}

impl Default for QuotaTable {
    fn default() -> Self {
        Self {
            entries: [PoolQuota::default(); MAX_MEMPOOLS],
            len: 0,
        }
    }
}

impl QuotaTable {
    /// A table of `quotas`, checked: at most [`MAX_MEMPOOLS`], each pool
    /// once, every group below `group_count`.
    pub fn new(quotas: &[PoolQuota], group_count: u32) -> Result<Self, QuotaError> {
        if quotas.len() > MAX_MEMPOOLS {
            return Err(QuotaError::TooMany {
                count: u32::try_from(quotas.len()).unwrap_or(u32::MAX),
            });
        }
        let mut table = Self::default();
        for quota in quotas {
            if quota.group >= group_count {
                return Err(QuotaError::NoSuchGroup {
                    group: quota.group,
                    group_count,
                });
            }
            if table.get(quota.group, quota.pool).is_some() {
                return Err(QuotaError::Duplicate {
                    group: quota.group,
                    pool: quota.pool,
                });
            }
            table.entries[table.len as usize] = *quota;
            table.len += 1;
        }
        Ok(table)
    }

    /// The quotas of pool `pool` of group `group`, if recorded.
    pub fn get(&self, group: u32, pool: u32) -> Option<&PoolQuota> {
        self.entries()
            .iter()
            .find(|q| q.group == group && q.pool == pool)
    }

    /// Every entry, in the order recorded.
    pub fn entries(&self) -> &[PoolQuota] {
        &self.entries[..self.len as usize]
    }
}

/// One entry of the mgmt segment's quota table: eight `u32` words
/// (`group, pool, chunk_count, process_percent, port_percent, flags`, two
/// reserved), the same on every target. Flag bit 0: set by the group's own
/// `[group.quota]`.
#[repr(C, align(32))]
pub struct QuotaRecord {
    group: AtomicU32,
    pool: AtomicU32,
    chunk_count: AtomicU32,
    process_percent: AtomicU32,
    port_percent: AtomicU32,
    flags: AtomicU32,
    reserved: [AtomicU32; 2],
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<QuotaRecord>() == 32);

/// Flag bit of a record set by a group's own `[group.quota]`.
const FLAG_GROUP_OVERRIDE: u32 = 1;

impl QuotaRecord {
    /// Daemon, before the segment is marked ready: writes `quota`.
    pub(super) fn write(&self, quota: &PoolQuota) {
        // Relaxed: published by the Release store of READY (`Mgmt::create`).
        self.group.store(quota.group, Ordering::Relaxed);
        self.pool.store(quota.pool, Ordering::Relaxed);
        self.chunk_count.store(quota.chunk_count, Ordering::Relaxed);
        self.process_percent
            .store(quota.process_percent, Ordering::Relaxed);
        self.port_percent
            .store(quota.port_percent, Ordering::Relaxed);
        let flags = if quota.group_override {
            FLAG_GROUP_OVERRIDE
        } else {
            0
        };
        self.flags.store(flags, Ordering::Relaxed);
    }

    /// Reads and checks the record (relaxed loads of 32 bits only: the
    /// mapping may be read-only; the caller ordered them after READY).
    /// Daemon (audit): puts back every word of the record that differs
    /// from `quota` (what [`write`](Self::write) stores).
    pub(super) fn restore(&self, quota: &PoolQuota) -> WordRepair {
        let mut repair = WordRepair::new();
        repair.u32("quota.group", &self.group, quota.group);
        repair.u32("quota.pool", &self.pool, quota.pool);
        repair.u32("quota.chunk_count", &self.chunk_count, quota.chunk_count);
        repair.u32(
            "quota.process_percent",
            &self.process_percent,
            quota.process_percent,
        );
        repair.u32("quota.port_percent", &self.port_percent, quota.port_percent);
        let flags = if quota.group_override {
            FLAG_GROUP_OVERRIDE
        } else {
            0
        };
        repair.u32("quota.flags", &self.flags, flags);
        for word in &self.reserved {
            repair.u32("quota.reserved", word, 0);
        }
        repair
    }

    pub(super) fn read(&self) -> Result<PoolQuota, QuotaError> {
        let quota = PoolQuota::new(
            self.group.load(Ordering::Relaxed),
            self.pool.load(Ordering::Relaxed),
            self.chunk_count.load(Ordering::Relaxed),
            self.process_percent.load(Ordering::Relaxed),
            self.port_percent.load(Ordering::Relaxed),
        )?;
        let flags = self.flags.load(Ordering::Relaxed);
        Ok(quota.from_group_override(flags & FLAG_GROUP_OVERRIDE != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn quota_is_a_share_rounded_down_but_at_least_one_chunk() {
        assert_eq!(quota_of(1024, 50), 512);
        assert_eq!(quota_of(4, 50), 2);
        assert_eq!(quota_of(5, 50), 2);
        assert_eq!(quota_of(1, 50), 1);
        assert_eq!(quota_of(3, 1), 1);
        assert_eq!(quota_of(7, 100), 7);
        assert_eq!(quota_of(u32::MAX, 100), u32::MAX);
        assert_eq!(quota_of(u32::MAX, 50), u32::MAX / 2);
        // Out-of-range percentages are clamped, never more than the pool.
        assert_eq!(quota_of(8, 400), 8);
    }

    #[test]
    fn percentages_and_counts_are_checked_naming_the_key() {
        assert_eq!(
            PoolQuota::new(0, 0, 8, 101, 50),
            Err(QuotaError::PercentOutOfRange {
                name: "process_percent",
                value: 101
            })
        );
        assert_eq!(
            PoolQuota::new(0, 0, 8, 50, 0),
            Err(QuotaError::PercentOutOfRange {
                name: "port_percent",
                value: 0
            })
        );
        assert_eq!(
            PoolQuota::new(1, 3, 0, 50, 50),
            Err(QuotaError::NoChunks { group: 1, pool: 3 })
        );
        let e = PoolQuota::new(0, 0, 8, 0, 50).unwrap_err().to_string();
        assert!(
            e.contains("process_percent") && e.contains("1..=100"),
            "{e}"
        );
    }

    #[test]
    fn a_table_holds_each_pool_of_an_existing_group_once() {
        let a = PoolQuota::new(0, 0, 8, 50, 50).unwrap();
        let b = PoolQuota::new(1, 0, 4, 100, 25)
            .unwrap()
            .from_group_override(true);
        let table = QuotaTable::new(&[a, b], 2).unwrap();
        assert_eq!(table.get(1, 0), Some(&b));
        assert!(table.get(1, 0).unwrap().is_group_override());
        assert_eq!(table.get(0, 1), None);
        assert_eq!(table.entries(), [a, b]);
        assert_eq!(
            QuotaTable::new(&[a, a], 2),
            Err(QuotaError::Duplicate { group: 0, pool: 0 })
        );
        assert_eq!(
            QuotaTable::new(&[b], 1),
            Err(QuotaError::NoSuchGroup {
                group: 1,
                group_count: 1
            })
        );
        assert_eq!(
            QuotaTable::new(&[a; MAX_MEMPOOLS + 1], 1),
            Err(QuotaError::TooMany { count: 33 })
        );
    }

    #[test]
    fn records_round_trip_and_are_checked_when_read() {
        // SAFETY: a QuotaRecord is atomics only; all-zero is a valid value.
        let record: QuotaRecord = unsafe { core::mem::zeroed() };
        assert!(record.read().is_err(), "an empty record is not a quota");
        let quota = PoolQuota::new(2, 1, 16, 75, 40)
            .unwrap()
            .from_group_override(true);
        record.write(&quota);
        assert_eq!(record.read(), Ok(quota));
        record.port_percent.store(0, Ordering::Relaxed);
        assert!(matches!(
            record.read(),
            Err(QuotaError::PercentOutOfRange {
                name: "port_percent",
                ..
            })
        ));
    }
}
