//! Offsets of every region of the mgmt segment, computed from its configuration.

use core::mem::size_of;

use super::{MgmtConfig, MgmtConfigError, MgmtHeader};
use crate::freelist::FreeListHeader;
use crate::heartbeat::HeartbeatSlot;
use crate::port::{PublisherPort, SubscriberPort};

const REGION_ALIGN: u64 = 64;

/// Where each region of the mgmt segment starts, in bytes from its base.
///
/// ```
/// use zerocp_core::mempool::MempoolConfig;
/// use zerocp_core::mgmt::{MgmtConfig, MgmtLayout};
/// let config = MgmtConfig::new(4, 4, 8, &[MempoolConfig { chunk_size: 64, chunk_count: 10, group: 0 }]).unwrap();
/// let layout = MgmtLayout::compute(&config).unwrap();
/// assert_eq!(layout.heartbeat_offset(0), Some(512));
/// assert_eq!(layout.heartbeat_offset(4), None);
/// assert!(layout.refcounts_offset() > layout.links_offset());
/// assert_eq!(layout.refcounts_offset() % 64, 0);
/// assert!(layout.total_size() >= layout.refcounts_offset() + 10 * 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MgmtLayout {
    heartbeats: u64,
    publishers: u64,
    subscribers: u64,
    freelists: u64,
    links: u64,
    refcounts: u64,
    total: u64,
    chunks: u32,
    max_processes: u32,
    max_publishers: u32,
    max_subscribers: u32,
    mempools: u32,
}

impl MgmtLayout {
    /// Lays out the regions for `config`.
    pub fn compute(config: &MgmtConfig) -> Result<Self, MgmtConfigError> {
        let mut cursor = size_of::<MgmtHeader>() as u64;
        let mut region = |count: u32, item: usize| -> Result<u64, MgmtConfigError> {
            let start = align_up(cursor)?;
            let bytes = u64::from(count)
                .checked_mul(item as u64)
                .ok_or(MgmtConfigError::TooLarge)?;
            cursor = start.checked_add(bytes).ok_or(MgmtConfigError::TooLarge)?;
            Ok(start)
        };
        let mempools = config.mempools().len() as u32;
        let heartbeats = region(config.max_processes(), size_of::<HeartbeatSlot>())?;
        let publishers = region(config.max_publishers(), size_of::<PublisherPort>())?;
        let subscribers = region(config.max_subscribers(), size_of::<SubscriberPort>())?;
        let freelists = region(mempools, size_of::<FreeListHeader>())?;
        let links = region(config.total_chunks(), size_of::<u32>())?;
        let refcounts = region(config.total_chunks(), size_of::<u32>())?;
        let total = align_up(cursor)?;
        if usize::try_from(total).is_err() {
            return Err(MgmtConfigError::TooLarge);
        }
        Ok(Self {
            heartbeats,
            publishers,
            subscribers,
            freelists,
            links,
            refcounts,
            total,
            chunks: config.total_chunks(),
            max_processes: config.max_processes(),
            max_publishers: config.max_publishers(),
            max_subscribers: config.max_subscribers(),
            mempools,
        })
    }

    /// Total size of the segment in bytes.
    pub fn total_size(&self) -> u64 {
        self.total
    }

    /// Offset of heartbeat slot `index`.
    pub fn heartbeat_offset(&self, index: u32) -> Option<u64> {
        item(
            self.heartbeats,
            index,
            self.max_processes,
            size_of::<HeartbeatSlot>(),
        )
    }

    /// Offset of publisher port `index`.
    pub fn publisher_offset(&self, index: u32) -> Option<u64> {
        item(
            self.publishers,
            index,
            self.max_publishers,
            size_of::<PublisherPort>(),
        )
    }

    /// Offset of subscriber port `index`.
    pub fn subscriber_offset(&self, index: u32) -> Option<u64> {
        item(
            self.subscribers,
            index,
            self.max_subscribers,
            size_of::<SubscriberPort>(),
        )
    }

    /// Offset of the freelist header of mempool `pool`.
    pub fn freelist_offset(&self, pool: u32) -> Option<u64> {
        item(
            self.freelists,
            pool,
            self.mempools,
            size_of::<FreeListHeader>(),
        )
    }

    /// Offset of the first link word (of mempool 0).
    pub fn links_offset(&self) -> u64 {
        self.links
    }

    /// Offset and count of the link words of mempool `pool`.
    pub fn links_range(&self, pool: u32, config: &MgmtConfig) -> Option<(u64, u32)> {
        let pools = config.mempools();
        let count = pools.get(pool as usize)?.chunk_count;
        let before: u64 = pools[..pool as usize]
            .iter()
            .map(|p| u64::from(p.chunk_count))
            .sum();
        Some((self.links + before * size_of::<u32>() as u64, count))
    }

    /// Offset of the refcount region: one `u32` word per global chunk index
    /// (see [`crate::refcount`]), 64-byte aligned.
    pub fn refcounts_offset(&self) -> u64 {
        self.refcounts
    }

    /// Number of refcount words: the total chunk count over all mempools.
    pub fn refcount_count(&self) -> u32 {
        self.chunks
    }
}

fn item(start: u64, index: u32, count: u32, size: usize) -> Option<u64> {
    (index < count).then(|| start + u64::from(index) * size as u64)
}

fn align_up(offset: u64) -> Result<u64, MgmtConfigError> {
    offset
        .checked_add(REGION_ALIGN - 1)
        .map(|v| v & !(REGION_ALIGN - 1))
        .ok_or(MgmtConfigError::TooLarge)
}
