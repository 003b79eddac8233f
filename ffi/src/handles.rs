//! Handle validation: a C handle is a value (`{ uint64_t id; }`), never a
//! pointer into Rust memory, so a stale, forged or wrong-kind handle is an
//! error rather than a use after free.
//!
//! Each kind of object has a [`Registry`]: a table of slots under a
//! read-write lock (lookups, on every data-path call, share it; only
//! create and destroy write).
//!
//! A handle's id packs the kind's tag (8 bits), the slot's generation (24
//! bits) and the slot index (32 bits); destroying an object frees its slot
//! and bumps the generation, so the old id no longer matches (a stale id
//! could match again only after its slot was reused 2^24 - 1 times). Id 0
//! is never issued: a zero-initialised handle is invalid. Looking up clones the
//! slot's `Arc`, so a call in flight on one thread keeps the object alive
//! while another thread destroys the handle; the object goes when the last
//! such call returns.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Failure, zerocp_result_t};

/// Generations wrap within 24 bits (and skip 0).
const GENERATION_MASK: u32 = 0x00ff_ffff;

struct Slot<T> {
    generation: u32,
    object: Option<Arc<T>>,
}

/// The live objects of one kind (module docs).
pub(crate) struct Registry<T> {
    tag: u8,
    what: &'static str,
    slots: RwLock<Vec<Slot<T>>>,
}

impl<T> Registry<T> {
    /// An empty registry whose ids carry `tag`; `what` names the kind in
    /// messages.
    pub(crate) const fn new(tag: u8, what: &'static str) -> Self {
        Self {
            tag,
            what,
            slots: RwLock::new(Vec::new()),
        }
    }

    /// The table, to read; a panic while it was locked left no slot
    /// half-changed (every change is one assignment), so a poisoned lock is
    /// taken over.
    fn slots(&self) -> RwLockReadGuard<'_, Vec<Slot<T>>> {
        self.slots.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The table, to change (poisoning as for [`Self::slots`]).
    fn slots_mut(&self) -> RwLockWriteGuard<'_, Vec<Slot<T>>> {
        self.slots.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `object`; returns its id.
    pub(crate) fn insert(&self, object: T) -> u64 {
        let mut slots = self.slots_mut();
        let index = match slots.iter().position(|s| s.object.is_none()) {
            Some(free) => free,
            None => {
                slots.push(Slot {
                    generation: 1,
                    object: None,
                });
                slots.len() - 1
            }
        };
        let slot = &mut slots[index];
        slot.object = Some(Arc::new(object));
        self.id(index, slot.generation)
    }

    /// The object `id` names, if it is live.
    pub(crate) fn get(&self, id: u64) -> Result<Arc<T>, Failure> {
        let index = self.index_of(id)?;
        let slots = self.slots();
        match slots.get(index) {
            Some(slot) if self.id(index, slot.generation) == id => {
                slot.object.clone().ok_or_else(|| self.stale(id))
            }
            _ => Err(self.stale(id)),
        }
    }

    /// Removes the object `id` names; returns it (dropped by the caller
    /// outside the table's lock).
    pub(crate) fn remove(&self, id: u64) -> Result<Arc<T>, Failure> {
        let index = self.index_of(id)?;
        let mut slots = self.slots_mut();
        let Some(slot) = slots.get_mut(index) else {
            return Err(self.stale(id));
        };
        if self.id(index, slot.generation) != id || slot.object.is_none() {
            return Err(self.stale(id));
        }
        let next = (slot.generation + 1) & GENERATION_MASK;
        slot.generation = next.max(1);
        slot.object.take().ok_or_else(|| self.stale(id))
    }

    fn id(&self, index: usize, generation: u32) -> u64 {
        (u64::from(self.tag) << 56) | (u64::from(generation & GENERATION_MASK) << 32) | index as u64
    }

    fn index_of(&self, id: u64) -> Result<usize, Failure> {
        if id == 0 {
            return Err(Failure::new(
                zerocp_result_t::ZEROCP_ERR_INVALID_HANDLE,
                format!("the {} handle is zero (never created)", self.what),
            ));
        }
        if (id >> 56) as u8 != self.tag {
            return Err(Failure::new(
                zerocp_result_t::ZEROCP_ERR_INVALID_HANDLE,
                format!("{id:#x} is not a {} handle", self.what),
            ));
        }
        Ok((id & 0xffff_ffff) as usize)
    }

    fn stale(&self, id: u64) -> Failure {
        Failure::new(
            zerocp_result_t::ZEROCP_ERR_INVALID_HANDLE,
            format!(
                "the {} handle {id:#x} was destroyed (or never created)",
                self.what
            ),
        )
    }
}

/// Locks a port's state; a panic while it was held poisoned it, and the
/// port then refuses every call but destroy.
pub(crate) fn lock<'a, T>(port: &'a Mutex<T>, what: &str) -> Result<MutexGuard<'a, T>, Failure> {
    port.lock().map_err(|_| {
        Failure::new(
            zerocp_result_t::ZEROCP_ERR_PANIC,
            format!("the {what} is unusable after a panic in an earlier call; destroy it"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destroyed_handle_is_refused_even_once_its_slot_is_reused() {
        let registry = Registry::<u32>::new(3, "thing");
        let first = registry.insert(10);
        assert_eq!(*registry.get(first).unwrap(), 10);
        assert_eq!(*registry.remove(first).unwrap(), 10);
        let again = registry.remove(first).unwrap_err();
        assert_eq!(again.code, zerocp_result_t::ZEROCP_ERR_INVALID_HANDLE);
        assert!(again.message.contains("destroyed"), "{}", again.message);
        let second = registry.insert(20);
        assert_ne!(first, second, "the reused slot has a new generation");
        assert!(registry.get(first).is_err());
        assert_eq!(*registry.get(second).unwrap(), 20);
    }

    #[test]
    fn zero_and_other_kinds_handles_are_refused() {
        let registry = Registry::<u32>::new(3, "thing");
        let other = Registry::<u32>::new(4, "other");
        let id = other.insert(1);
        assert!(registry.get(0).unwrap_err().message.contains("zero"));
        assert!(
            registry
                .get(id)
                .unwrap_err()
                .message
                .contains("not a thing")
        );
        assert!(
            registry.get((3 << 56) | (1 << 32) | 77).is_err(),
            "a forged index"
        );
    }

    #[test]
    fn an_object_outlives_its_handle_while_a_call_holds_it() {
        let registry = Registry::<String>::new(1, "s");
        let id = registry.insert("alive".into());
        let in_flight = registry.get(id).unwrap();
        drop(registry.remove(id).unwrap());
        assert_eq!(*in_flight, "alive");
    }
}
