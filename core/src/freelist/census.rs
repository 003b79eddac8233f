//! Counting a freelist's chain: which of its indices it still holds.
//!
//! The daemon asks this of each pool of a segment group once the group has
//! no port left: then every chunk must be back on its freelist, so a chain
//! that does not reach every index once means chunks were lost (a link cut
//! short: the rest of the chain leaked) or listed twice (a cycle: one chunk
//! could be handed to two owners). Either way the group's memory is not to
//! be trusted, and the daemon resets it onto fresh memory
//! (`zerocpd::group_reset`).
//!
//! The walk reads the head and at most `capacity + 1` links, each checked
//! against the capacity before use, so any value a hostile process wrote
//! there ends the walk with a finding instead of an access out of bounds or
//! a loop. It needs no memory of its own: a chain from the head that
//! visits an index twice can never reach [`END`], so "it reached `END`
//! within `capacity` steps" proves every index on it distinct. The walk is
//! exact only while no one pops or pushes (a group without ports); under
//! traffic it is a snapshot that may be torn.

use super::{END, FreeList, unpack};
use crate::sync::Ordering;

/// What walking a freelist's chain found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Census {
    /// Indices walked before the chain ended, broke or was found to loop
    /// (all distinct unless it loops).
    pub listed: u32,
    /// The freelist's capacity (its number of indices).
    pub capacity: u32,
    /// How the chain ended.
    pub end: ChainEnd,
}

/// How a freelist's chain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChainEnd {
    /// At [`END`], as it should.
    End,
    /// At a link (or head) that is neither [`END`] nor an index: whatever
    /// followed is leaked.
    Broken {
        /// The value found.
        value: u32,
    },
    /// It ran longer than the capacity: it loops, so some index is listed
    /// twice.
    Cycle,
}

impl Census {
    /// Whether the chain holds every index exactly once.
    pub fn is_complete(&self) -> bool {
        self.end == ChainEnd::End && self.listed == self.capacity
    }

    /// Indices the chain does not reach (0 for a chain that loops: it may
    /// miss some, but the walk cannot tell which).
    pub fn missing(&self) -> u32 {
        self.capacity.saturating_sub(self.listed)
    }
}

impl core::fmt::Display for Census {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} of {} chunks listed", self.listed, self.capacity)?;
        match self.end {
            ChainEnd::End => Ok(()),
            ChainEnd::Broken { value } => write!(f, ", the chain breaks at link value {value}"),
            ChainEnd::Cycle => f.write_str(", the chain loops (a chunk is listed twice)"),
        }
    }
}

impl FreeList<'_> {
    /// Walks the chain from the head and counts it (module docs).
    ///
    /// ```
    /// use zerocp_core::freelist::{ChainEnd, FreeListStorage};
    ///
    /// let storage = FreeListStorage::<4>::new();
    /// let list = storage.list();
    /// assert!(list.census().is_complete());
    /// let held = list.pop().unwrap();
    /// let census = list.census();
    /// assert_eq!((census.listed, census.missing(), census.end), (3, 1, ChainEnd::End));
    /// list.push(held).unwrap();
    /// assert!(list.census().is_complete());
    /// ```
    pub fn census(&self) -> Census {
        let capacity = self.capacity();
        // Acquire: pairs with the Release head CAS of the last push, so its
        // link store is visible (the walk is meant for a quiet list).
        let (mut at, _) = unpack(self.header.head.load(Ordering::Acquire));
        let mut listed = 0;
        let end = loop {
            if at == END {
                break ChainEnd::End;
            }
            let Some(link) = self.links.get(at as usize) else {
                break ChainEnd::Broken { value: at };
            };
            if listed == capacity {
                break ChainEnd::Cycle;
            }
            listed += 1;
            // Relaxed: ordered by the Acquire head load above.
            at = link.load(Ordering::Relaxed);
        };
        Census {
            listed,
            capacity,
            end,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::freelist::{ALLOCATED, FreeListStorage};
    use std::string::ToString;

    #[test]
    fn a_cut_link_leaks_the_rest_of_the_chain() {
        let storage = FreeListStorage::<8>::new();
        let list = storage.list();
        // The chain is 0 → 1 → … → 7; cutting after 2 leaves 0, 1, 2.
        list.links[2].store(END, Ordering::Relaxed);
        let census = list.census();
        assert_eq!((census.listed, census.end), (3, ChainEnd::End));
        assert_eq!(census.missing(), 5);
        assert!(!census.is_complete());
        assert_eq!(census.to_string(), "3 of 8 chunks listed");
    }

    #[test]
    fn an_out_of_range_link_or_head_breaks_it() {
        let storage = FreeListStorage::<4>::new();
        let list = storage.list();
        list.links[1].store(ALLOCATED, Ordering::Relaxed);
        let census = list.census();
        assert_eq!(census.listed, 2);
        assert_eq!(census.end, ChainEnd::Broken { value: ALLOCATED });
        list.header.head.store(u64::from(9u32), Ordering::Relaxed);
        assert_eq!(list.census().end, ChainEnd::Broken { value: 9 });
        assert_eq!(list.census().listed, 0);
    }

    #[test]
    fn a_loop_is_a_cycle_not_a_hang() {
        let storage = FreeListStorage::<4>::new();
        let list = storage.list();
        // 0 → 1 → 2 → 1 → …: 3 is unreachable and 1 is listed twice.
        list.links[2].store(1, Ordering::Relaxed);
        let census = list.census();
        assert_eq!((census.listed, census.end), (4, ChainEnd::Cycle));
        assert!(!census.is_complete());
        assert!(census.to_string().contains("loops"), "{census}");
    }

    #[test]
    fn an_empty_list_lists_nothing() {
        let storage = FreeListStorage::<2>::new();
        let list = storage.list();
        let held = [list.pop(), list.pop()];
        let census = list.census();
        assert_eq!((census.listed, census.end), (0, ChainEnd::End));
        assert_eq!(held, [Some(0), Some(1)]);
    }
}
