//! Checking a [`FreeList`]: walking its chain of free indices from the head,
//! and putting its capacity word back.
//!
//! The walk reads the head and at most `capacity + 1` links, each checked
//! against the capacity before use, so any value a hostile process wrote
//! there ends the walk with a finding instead of an access out of bounds or
//! a loop. A chain from the head that visits an index twice can never reach
//! [`END`], so "it reached `END` within `capacity` steps" proves every index
//! on it distinct: a walk of a quiet list (a group with no port) that
//! listed `capacity` indices without damage holds every index once
//! ([`FreeListWalk::is_whole`]); anything less is chunks lost to
//! corruption, or listed twice.
//!
//! While the list's users loan and release, a walk races with them, so
//! what it reports is limited to what no race can produce:
//!
//! - a head index that is neither [`END`] nor below the capacity: no `pop`
//!   or `push` ever stores one (they store validated indices), so the value
//!   read proves the corruption on its own; likewise a link on the chain
//!   that is neither `END`, [`ALLOCATED`] nor below the capacity;
//! - a free count above the capacity: every value the count takes in
//!   sound memory is at most the capacity;
//! - in a walk during which the head word, tag included, did not change
//!   (*stable*): a link on the chain that is [`ALLOCATED`] (a held index on
//!   the list), a chain that runs past the capacity (a cycle: the list has
//!   no more distinct indices), or a free count below the chain's length.
//!
//! Why a stable head makes the chain trustworthy: every completed `pop` and
//! `push` changes the head word and increments its tag, and a link word is
//! written only by the winner of the index (a `pop` stores [`ALLOCATED`]
//! after its head CAS; a `push` writes the link of an index that is not on
//! the list before its head CAS). So while the head holds still, no
//! operation completes and no link on the chain changes; the chain read is
//! the list as it was (up to 2³² operations in between, the list's own ABA
//! bound). The free count is moved by `push` before its head CAS and by
//! `pop` after it, so operations in flight only make it *larger* than the
//! chain; and a `pop`'s decrement is a `Release` that the walk's `Acquire`
//! fence pairs with, so a walk that read the decrement also sees the head
//! CAS before it (the loom model `a_walk_racing_pops_and_pushes_reports_no_damage`).
//! A popper's `ALLOCATED` store has no such edge: a weakly ordered machine
//! may show it before the head CAS, for a moment. A held index on the
//! chain and a cycle are therefore reported by a walk but believed by the
//! daemon only when a second audit sees them again under the same head.

use super::{ALLOCATED, END, FreeList, unpack};
use crate::sync::{Ordering, fence};
use core::fmt;

/// Structural damage a [`FreeList::walk`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainDamage {
    /// The head names no index.
    HeadOutOfRange {
        /// The head index read.
        index: u32,
        /// The list's capacity.
        capacity: u32,
    },
    /// A link on the chain names no index (and is not the end).
    LinkOutOfRange {
        /// The free index whose link it is.
        at: u32,
        /// The link read ([`ALLOCATED`] included: a held index on the chain).
        link: u32,
        /// The list's capacity.
        capacity: u32,
    },
    /// The chain runs on past `capacity` indices: it loops.
    Cycle {
        /// The list's capacity (indices walked before giving up).
        capacity: u32,
    },
    /// The free count is below the number of indices on the chain.
    CountBelowChain {
        /// The free count read.
        count: u32,
        /// Indices on the chain.
        chain: u32,
    },
    /// The free count is above the capacity.
    CountAboveCapacity {
        /// The free count read.
        count: u32,
        /// The list's capacity.
        capacity: u32,
    },
}

impl fmt::Display for ChainDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::HeadOutOfRange { index, capacity } => {
                write!(f, "head index {index} is out of range 0..{capacity}")
            }
            Self::LinkOutOfRange { at, link, capacity } if link == ALLOCATED => write!(
                f,
                "free index {at} links to a held index (ALLOCATED), capacity {capacity}"
            ),
            Self::LinkOutOfRange { at, link, capacity } => write!(
                f,
                "the link of free index {at} is {link}, out of range 0..{capacity}"
            ),
            Self::Cycle { capacity } => {
                write!(f, "the chain loops: it runs past all {capacity} indices")
            }
            Self::CountBelowChain { count, chain } => write!(
                f,
                "free count {count} is below the {chain} indices on the chain"
            ),
            Self::CountAboveCapacity { count, capacity } => {
                write!(f, "free count {count} is above the capacity {capacity}")
            }
        }
    }
}

impl ChainDamage {
    /// Whether the values read prove the damage on their own (module
    /// docs): a head or link that no operation stores, a count above the
    /// capacity. The rest (a held index on the chain, a cycle, a count
    /// below the chain) is judged from a stable walk, which a weakly
    /// ordered machine can fool for a moment: confirm it with a second
    /// walk under the same head.
    ///
    /// ```
    /// use zerocp_core::freelist::{ALLOCATED, ChainDamage};
    /// assert!(ChainDamage::HeadOutOfRange { index: 9, capacity: 4 }.proven_by_value());
    /// let held = ChainDamage::LinkOutOfRange { at: 1, link: ALLOCATED, capacity: 4 };
    /// assert!(!held.proven_by_value());
    /// ```
    pub fn proven_by_value(&self) -> bool {
        match *self {
            Self::HeadOutOfRange { .. } | Self::CountAboveCapacity { .. } => true,
            Self::LinkOutOfRange { link, .. } => link != ALLOCATED,
            Self::Cycle { .. } | Self::CountBelowChain { .. } => false,
        }
    }
}

/// What one [`FreeList::walk`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeListWalk {
    /// The head word (index and tag) when the walk started.
    pub head: u64,
    /// Indices visited on the chain.
    pub length: u32,
    /// The list's capacity (its number of indices).
    pub capacity: u32,
    /// Whether the head word held still during the walk (module docs).
    pub stable: bool,
    /// Damage no race can explain (module docs), if any.
    pub damage: Option<ChainDamage>,
}

impl FreeListWalk {
    /// Whether the chain held every index exactly once, with no damage: what
    /// a quiet list (nobody holds an index) must show (module docs).
    ///
    /// ```
    /// use zerocp_core::freelist::FreeListStorage;
    /// let storage = FreeListStorage::<4>::new();
    /// let list = storage.list();
    /// assert!(list.walk(|_| {}).is_whole());
    /// let held = list.pop().unwrap();
    /// let walk = list.walk(|_| {});
    /// assert_eq!((walk.is_whole(), walk.missing()), (false, 1));
    /// list.push(held).unwrap();
    /// assert!(list.walk(|_| {}).is_whole());
    /// ```
    pub fn is_whole(&self) -> bool {
        self.damage.is_none() && self.length == self.capacity
    }

    /// Indices the chain did not reach (0 for a chain that loops: it may
    /// miss some, but the walk cannot tell which).
    pub fn missing(&self) -> u32 {
        self.capacity.saturating_sub(self.length)
    }
}

impl fmt::Display for FreeListWalk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} chunks listed", self.length, self.capacity)?;
        match &self.damage {
            Some(damage) => write!(f, "; {damage}"),
            None => Ok(()),
        }
    }
}

impl FreeList<'_> {
    /// Walks the chain of free indices from the head, calling `visit` for
    /// each, at most `capacity` of them; reports only damage that no race
    /// can produce (module docs). Never changes the list.
    ///
    /// ```
    /// use zerocp_core::freelist::FreeListStorage;
    /// let storage = FreeListStorage::<4>::new();
    /// let list = storage.list();
    /// let held = list.pop().unwrap();
    /// let mut free = Vec::new();
    /// let walk = list.walk(|index| free.push(index));
    /// assert!(walk.stable && walk.damage.is_none());
    /// assert_eq!((walk.length, free.len()), (3, 3));
    /// assert!(!free.contains(&held));
    /// ```
    pub fn walk(&self, mut visit: impl FnMut(u32)) -> FreeListWalk {
        let capacity = self.capacity();
        // Acquire: as in `pop`, the links of the chain it names are visible.
        let head = self.header.head.load(Ordering::Acquire);
        let (top, _) = unpack(head);
        if top != END && top >= capacity {
            return FreeListWalk {
                head,
                length: 0,
                capacity,
                stable: true,
                damage: Some(ChainDamage::HeadOutOfRange {
                    index: top,
                    capacity,
                }),
            };
        }
        let (length, damage) = self.follow(top, &mut visit);
        // Relaxed, then an Acquire fence, then the head again (a seqlock
        // reader's re-check): the link and count loads happen before that
        // head load, and a count that took a pop's Release decrement makes
        // the pop's head CAS visible to it. So an unchanged head means no
        // operation completed while the chain and the count were read.
        let count = self.header.free_count.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        let stable = self.header.head.load(Ordering::Relaxed) == head;
        let damage = damage.or_else(|| count_damage(count, length, capacity));
        FreeListWalk {
            head,
            length,
            capacity,
            stable,
            damage: damage.filter(|d| stable || d.proven_by_value()),
        }
    }

    /// Follows the chain from `top`: the indices visited and the damage met.
    fn follow(&self, top: u32, visit: &mut impl FnMut(u32)) -> (u32, Option<ChainDamage>) {
        let capacity = self.capacity();
        let mut index = top;
        let mut length = 0;
        while let Some(link) = self.links.get(index as usize) {
            if length == capacity {
                // `capacity` distinct indices were visited; one more is a revisit.
                return (length, Some(ChainDamage::Cycle { capacity }));
            }
            visit(index);
            length += 1;
            // Relaxed: ordered by the Acquire head load (see `pop`).
            let next = link.load(Ordering::Relaxed);
            if next != END && next >= capacity {
                let damage = ChainDamage::LinkOutOfRange {
                    at: index,
                    link: next,
                    capacity,
                };
                return (length, Some(damage));
            }
            index = next;
        }
        (length, None)
    }

    /// Puts the capacity word of the header back (the one word only the
    /// creator writes); returns the value found when it was off.
    ///
    /// ```
    /// use zerocp_core::freelist::FreeListStorage;
    /// let storage = FreeListStorage::<4>::new();
    /// assert_eq!(storage.list().restore_capacity(), None);
    /// ```
    pub fn restore_capacity(&self) -> Option<u32> {
        let capacity = self.capacity();
        // Relaxed: read by attachers after the control-socket reply that
        // hands them the memory, which orders this store.
        let found = self.header.capacity.load(Ordering::Relaxed);
        (found != capacity).then(|| {
            self.header.capacity.store(capacity, Ordering::Relaxed);
            found
        })
    }
}

/// A free count no operation in flight can explain next to a chain of
/// `length` (module docs).
fn count_damage(count: u32, length: u32, capacity: u32) -> Option<ChainDamage> {
    if count > capacity {
        Some(ChainDamage::CountAboveCapacity { count, capacity })
    } else if count < length {
        Some(ChainDamage::CountBelowChain {
            count,
            chain: length,
        })
    } else {
        None
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::{FreeListStorage, pack};
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn walked<const N: usize>(storage: &FreeListStorage<N>) -> (FreeListWalk, Vec<u32>) {
        let mut seen = Vec::new();
        let walk = storage.list().walk(|i| seen.push(i));
        (walk, seen)
    }

    #[test]
    fn a_sound_list_walks_its_free_indices() {
        let storage = FreeListStorage::<5>::new();
        let list = storage.list();
        let (a, b) = (list.pop().unwrap(), list.pop().unwrap());
        list.push(a).unwrap();
        let (walk, seen) = walked(&storage);
        assert_eq!((walk.stable, walk.damage, walk.length), (true, None, 4));
        assert_eq!(seen.len(), 4);
        assert!(seen.contains(&a) && !seen.contains(&b));
        while list.pop().is_some() {}
        let (walk, seen) = walked(&storage);
        assert_eq!((walk.length, walk.damage, seen.len()), (0, None, 0));
    }

    #[test]
    fn reports_a_head_out_of_range() {
        let storage = FreeListStorage::<4>::new();
        storage.header.head.store(pack(9, 5), Ordering::Relaxed);
        let (walk, seen) = walked(&storage);
        assert_eq!(
            walk.damage,
            Some(ChainDamage::HeadOutOfRange {
                index: 9,
                capacity: 4
            })
        );
        assert!(seen.is_empty());
        storage.header.head.store(pack(END, 5), Ordering::Relaxed);
        assert_eq!(walked(&storage).0.damage, None, "END is an empty list");
    }

    #[test]
    fn reports_a_link_out_of_range_or_held() {
        let storage = FreeListStorage::<4>::new();
        storage.links[1].store(1000, Ordering::Relaxed);
        let (walk, seen) = walked(&storage);
        assert_eq!(
            walk.damage,
            Some(ChainDamage::LinkOutOfRange {
                at: 1,
                link: 1000,
                capacity: 4
            })
        );
        assert_eq!(seen, [0, 1]);
        storage.links[1].store(ALLOCATED, Ordering::Relaxed);
        let damage = walked(&storage).0.damage.unwrap();
        assert!(damage.to_string().contains("held index"), "{damage}");
    }

    #[test]
    fn a_cut_link_leaks_the_rest_of_the_chain() {
        let storage = FreeListStorage::<8>::new();
        // The chain is 0 → 1 → … → 7; cutting after 2 leaves 0, 1, 2.
        storage.links[2].store(END, Ordering::Relaxed);
        storage.header.free_count.store(3, Ordering::Relaxed);
        let (walk, seen) = walked(&storage);
        assert_eq!((walk.damage, seen), (None, [0, 1, 2].to_vec()));
        assert_eq!((walk.is_whole(), walk.missing()), (false, 5));
        assert_eq!(walk.to_string(), "3 of 8 chunks listed");
    }

    #[test]
    fn reports_a_cycle_after_capacity_steps() {
        let storage = FreeListStorage::<4>::new();
        storage.links[2].store(1, Ordering::Relaxed);
        let (walk, seen) = walked(&storage);
        assert_eq!(walk.damage, Some(ChainDamage::Cycle { capacity: 4 }));
        assert_eq!(seen.len(), 4, "bounded by the capacity");
        assert!(!walk.is_whole(), "a loop lists a chunk twice");
        assert!(walk.to_string().contains("loops"), "{walk}");
    }

    #[test]
    fn reports_counts_no_race_explains() {
        let storage = FreeListStorage::<4>::new();
        storage.header.free_count.store(2, Ordering::Relaxed);
        assert_eq!(
            walked(&storage).0.damage,
            Some(ChainDamage::CountBelowChain { count: 2, chain: 4 })
        );
        storage.header.free_count.store(9, Ordering::Relaxed);
        assert_eq!(
            walked(&storage).0.damage,
            Some(ChainDamage::CountAboveCapacity {
                count: 9,
                capacity: 4
            })
        );
        storage.header.free_count.store(4, Ordering::Relaxed);
        assert_eq!(walked(&storage).0.damage, None);
    }

    #[test]
    fn restores_the_capacity_word() {
        let storage = FreeListStorage::<4>::new();
        storage.header.capacity.store(77, Ordering::Relaxed);
        assert_eq!(storage.list().restore_capacity(), Some(77));
        assert_eq!(storage.list().restore_capacity(), None);
        assert_eq!(storage.header.capacity.load(Ordering::Relaxed), 4);
    }
}
