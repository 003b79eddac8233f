//! A publisher's process-local copy of its topology: which subscriber ports
//! it delivers to.
//!
//! The daemon writes each publisher's topology (pairs of subscriber port index
//! and port generation) under a seqlock in shared memory. The publisher keeps
//! the last snapshot it read here, re-reads only when the seqlock's version
//! moved (one load per publish otherwise), and learns which subscribers are
//! new to it, so it can hand them the history they asked for exactly once.

use zerocp_core::port::MAX_SUBSCRIBERS_PER_PUBLISHER;

/// One subscriber port a publisher delivers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer {
    /// Subscriber port index in the mgmt segment.
    pub(crate) index: u32,
    /// Generation of that port slot when the daemon routed it.
    pub(crate) generation: u32,
}

/// The last topology snapshot a publisher read.
#[derive(Debug)]
pub(crate) struct TopologyCache {
    version: Option<u32>,
    peers: Vec<Peer>,
}

impl TopologyCache {
    /// An empty cache that has read no snapshot yet.
    pub(crate) fn new() -> Self {
        Self {
            version: None,
            peers: Vec::with_capacity(MAX_SUBSCRIBERS_PER_PUBLISHER),
        }
    }

    /// Whether the snapshot of `version` is the one cached.
    pub(crate) fn is_current(&self, version: u32) -> bool {
        self.version == Some(version)
    }

    /// The subscribers of the cached snapshot.
    pub(crate) fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// Replaces the snapshot with `peers` read at `version` and returns the
    /// ones that were not in the previous snapshot (same index *and*
    /// generation), in order. Duplicates and entries beyond
    /// [`MAX_SUBSCRIBERS_PER_PUBLISHER`] are dropped: the snapshot comes from
    /// shared memory and is not trusted to be well-formed.
    pub(crate) fn replace(
        &mut self,
        version: u32,
        peers: impl IntoIterator<Item = Peer>,
    ) -> Vec<Peer> {
        let old = core::mem::take(&mut self.peers);
        let mut fresh = Vec::new();
        for peer in peers {
            if self.peers.len() == MAX_SUBSCRIBERS_PER_PUBLISHER || self.peers.contains(&peer) {
                continue;
            }
            if !old.contains(&peer) {
                fresh.push(peer);
            }
            self.peers.push(peer);
        }
        self.version = Some(version);
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(index: u32, generation: u32) -> Peer {
        Peer { index, generation }
    }

    #[test]
    fn reports_only_peers_new_to_the_snapshot() {
        let mut cache = TopologyCache::new();
        assert!(!cache.is_current(0));
        assert_eq!(
            cache.replace(2, [peer(1, 1), peer(4, 3)]),
            [peer(1, 1), peer(4, 3)]
        );
        assert!(cache.is_current(2));
        // Port 4 was reused (new generation) and port 7 joined; port 1 left.
        assert_eq!(
            cache.replace(4, [peer(4, 5), peer(7, 1)]),
            [peer(4, 5), peer(7, 1)]
        );
        assert_eq!(cache.replace(6, [peer(7, 1)]), []);
        assert_eq!(cache.peers(), [peer(7, 1)]);
    }

    #[test]
    fn hostile_snapshots_are_bounded_and_deduplicated() {
        let mut cache = TopologyCache::new();
        let fresh = cache.replace(1, (0..1000).map(|i| peer(i % 100, 1)).chain([peer(3, 1)]));
        assert_eq!(fresh.len(), MAX_SUBSCRIBERS_PER_PUBLISHER);
        assert_eq!(cache.peers().len(), MAX_SUBSCRIBERS_PER_PUBLISHER);
    }
}
