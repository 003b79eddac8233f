//! Offsets of every region of a group control part, computed from its configuration.

use core::mem::size_of;

use super::{GroupConfig, GroupConfigError, GroupHeader};
use crate::freelist::FreeListHeader;
use crate::listener_port::{ListenerPort, NotifierPort};
use crate::port::{PublisherPort, SubscriberPort};
use crate::wire::PortKind;

const REGION_ALIGN: u64 = 64;

/// Where each region of a group control part starts, in bytes from its base.
///
/// ```
/// use zerocp_core::mempool::MempoolConfig;
/// use zerocp_core::group_control::{GroupConfig, GroupControlLayout};
/// let config = GroupConfig::new(0, 4, 8, &[MempoolConfig { chunk_size: 64, chunk_count: 10, group: 0 }]).unwrap();
/// let layout = GroupControlLayout::compute(&config).unwrap();
/// assert_eq!(layout.publisher_offset(0), Some(512));
/// assert_eq!(layout.publisher_offset(4), None);
/// assert!(layout.refcounts_offset() > layout.links_offset());
/// assert_eq!(layout.refcounts_offset() % 64, 0);
/// assert!(layout.total_size() >= layout.refcounts_offset() + 10 * 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupControlLayout {
    publishers: u64,
    subscribers: u64,
    notifiers: u64,
    listeners: u64,
    freelists: u64,
    links: u64,
    refcounts: u64,
    total: u64,
    chunks: u32,
    max_publishers: u32,
    max_subscribers: u32,
    max_notifiers: u32,
    max_listeners: u32,
    mempools: u32,
}

impl GroupControlLayout {
    /// Lays out the regions for `config`.
    pub fn compute(config: &GroupConfig) -> Result<Self, GroupConfigError> {
        let mut cursor = size_of::<GroupHeader>() as u64;
        let mut region = |count: u32, item: usize| -> Result<u64, GroupConfigError> {
            let start = align_up(cursor)?;
            let bytes = u64::from(count)
                .checked_mul(item as u64)
                .ok_or(GroupConfigError::TooLarge)?;
            cursor = start.checked_add(bytes).ok_or(GroupConfigError::TooLarge)?;
            Ok(start)
        };
        let mempools = config.mempools().len() as u32;
        let publishers = region(config.max_publishers(), size_of::<PublisherPort>())?;
        let subscribers = region(config.max_subscribers(), size_of::<SubscriberPort>())?;
        let notifiers = region(config.max_notifiers(), size_of::<NotifierPort>())?;
        let listeners = region(config.max_listeners(), size_of::<ListenerPort>())?;
        let freelists = region(mempools, size_of::<FreeListHeader>())?;
        let links = region(config.total_chunks(), size_of::<u32>())?;
        let refcounts = region(config.total_chunks(), size_of::<u32>())?;
        let total = align_up(cursor)?;
        if usize::try_from(total).is_err() {
            return Err(GroupConfigError::TooLarge);
        }
        Ok(Self {
            publishers,
            subscribers,
            notifiers,
            listeners,
            freelists,
            links,
            refcounts,
            total,
            chunks: config.total_chunks(),
            max_publishers: config.max_publishers(),
            max_subscribers: config.max_subscribers(),
            max_notifiers: config.max_notifiers(),
            max_listeners: config.max_listeners(),
            mempools,
        })
    }

    /// Total size of the part in bytes.
    pub fn total_size(&self) -> u64 {
        self.total
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

    /// Offset of notifier port `index`, if in range.
    pub fn notifier_offset(&self, index: u32) -> Option<u64> {
        item(
            self.notifiers,
            index,
            self.max_notifiers,
            size_of::<NotifierPort>(),
        )
    }

    /// Offset of listener port `index`, if in range.
    pub fn listener_offset(&self, index: u32) -> Option<u64> {
        item(
            self.listeners,
            index,
            self.max_listeners,
            size_of::<ListenerPort>(),
        )
    }

    /// Offset and length in bytes of the record of port `index` of `kind`,
    /// if in range: the bytes a port of that slot uses, which its creator
    /// commits before it hands the slot out.
    ///
    /// ```
    /// # use zerocp_core::mempool::MempoolConfig;
    /// # use zerocp_core::group_control::{GroupConfig, GroupControlLayout};
    /// use zerocp_core::port::SubscriberPort;
    /// use zerocp_core::wire::PortKind;
    /// # let config = GroupConfig::new(0, 4, 8, &[MempoolConfig { chunk_size: 64, chunk_count: 10, group: 0 }]).unwrap();
    /// let layout = GroupControlLayout::compute(&config).unwrap();
    /// let (offset, len) = layout.port_range(PortKind::Subscriber, 1).unwrap();
    /// assert_eq!(Some(offset), layout.subscriber_offset(1));
    /// assert_eq!(len as usize, size_of::<SubscriberPort>());
    /// assert_eq!(layout.port_range(PortKind::Subscriber, 8), None);
    /// ```
    pub fn port_range(&self, kind: PortKind, index: u32) -> Option<(u64, u64)> {
        let (offset, size) = match kind {
            PortKind::Publisher => (self.publisher_offset(index), size_of::<PublisherPort>()),
            PortKind::Subscriber => (self.subscriber_offset(index), size_of::<SubscriberPort>()),
            PortKind::Notifier => (self.notifier_offset(index), size_of::<NotifierPort>()),
            PortKind::Listener => (self.listener_offset(index), size_of::<ListenerPort>()),
        };
        offset.map(|offset| (offset, size as u64))
    }

    /// Bytes `start..end` of the port tables (publishers to listeners):
    /// everything else (the header, freelists, links and refcounts) is used
    /// from the start, these only slot by slot, as ports are created.
    pub fn ports_range(&self) -> (u64, u64) {
        (self.publishers, self.freelists)
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
    pub fn links_range(&self, pool: u32, config: &GroupConfig) -> Option<(u64, u32)> {
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

    /// Number of refcount words: the chunk count over the group's mempools.
    pub fn refcount_count(&self) -> u32 {
        self.chunks
    }
}

fn item(start: u64, index: u32, count: u32, size: usize) -> Option<u64> {
    (index < count).then(|| start + u64::from(index) * size as u64)
}

fn align_up(offset: u64) -> Result<u64, GroupConfigError> {
    offset
        .checked_add(REGION_ALIGN - 1)
        .map(|v| v & !(REGION_ALIGN - 1))
        .ok_or(GroupConfigError::TooLarge)
}
