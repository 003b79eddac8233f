//! Handle validation: a C handle is a value (`{ uint64_t id; }`), never a
//! pointer into Rust memory, so a stale, forged or wrong-kind handle is an
//! error rather than a use after free.
//!
//! Each kind of object has a [`Registry`]: a table of slots, each slot a
//! mutex over a generation and the object. A call finds its slot by index
//! (no table-wide lock: slots sit in segments that are allocated once and
//! never move), locks it, checks the generation and runs with the object
//! ([`Registry::with`]). So a data-path call costs one uncontended lock and
//! unlock, and the slot's lock is also the object's: two threads never use
//! one object at once, and destroying it waits for a call in progress on
//! it to return.
//!
//! A handle's id packs the kind's tag (8 bits), the slot's generation (24
//! bits) and the slot index (32 bits); destroying an object frees its slot
//! and bumps the generation, so the old id no longer matches (a stale id
//! could match again only after its slot was reused 2^24 - 1 times). Id 0
//! is never issued: a zero-initialised handle is invalid.
//!
//! A panic in a call poisons the slot's lock: the object then refuses every
//! call but destroy, which takes it over and clears the poison, so the slot
//! serves again.

use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use crate::error::{Failure, zerocp_result_t};

/// Generations wrap within 24 bits (and skip 0).
const GENERATION_MASK: u32 = 0x00ff_ffff;
/// The generation an id carries (bits 32..56).
fn generation_of(id: u64) -> u32 {
    (id >> 32) as u32 & GENERATION_MASK
}

/// Slots per segment.
const SEGMENT: usize = 64;
/// Segments per registry: at most `SEGMENT * SEGMENTS` live objects of a kind.
const SEGMENTS: usize = 256;

/// A slot's content: the generation its current (or next) id carries and
/// the object, boxed so that a segment of empty slots stays small.
struct Entry<T> {
    generation: u32,
    object: Option<Box<T>>,
}

type Slot<T> = Mutex<Entry<T>>;

/// Which slots are free: those given back, then those never used.
struct FreeSlots {
    released: Vec<u32>,
    used: u32,
}

/// The live objects of one kind (module docs).
pub(crate) struct Registry<T> {
    tag: u8,
    what: &'static str,
    segments: [OnceLock<Box<[Slot<T>; SEGMENT]>>; SEGMENTS],
    free: Mutex<FreeSlots>,
}

impl<T> Registry<T> {
    /// An empty registry whose ids carry `tag`; `what` names the kind in
    /// messages.
    pub(crate) const fn new(tag: u8, what: &'static str) -> Self {
        // Tag 0 would make the zero id one of this kind's.
        assert!(tag != 0, "a registry's tag is not 0");
        Self {
            tag,
            what,
            segments: [const { OnceLock::new() }; SEGMENTS],
            free: Mutex::new(FreeSlots {
                released: Vec::new(),
                used: 0,
            }),
        }
    }

    /// Stores `object`; returns its id, or `ZEROCP_ERR_LIMIT` when every
    /// slot holds a live object.
    pub(crate) fn insert(&self, object: T) -> Result<u64, Failure> {
        let index = self.free_slot()?;
        let mut entry = self
            .slot(index)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        entry.object = Some(Box::new(object));
        Ok(self.id(index, entry.generation))
    }

    /// Runs `call` with the object `id` names, under its slot's lock.
    ///
    /// Every data-path call of the C API goes through here, so the path to
    /// `call` is kept short: one comparison for the kind, one load for the
    /// segment, the lock, one comparison for the generation; the messages
    /// of a refusal are made only on their (cold) paths.
    #[inline]
    pub(crate) fn with<R>(
        &self,
        id: u64,
        call: impl FnOnce(&mut T) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let Some(slot) = self.existing_slot(self.index_of(id)?) else {
            return Err(self.stale(id));
        };
        let Ok(mut entry) = slot.lock() else {
            return Err(self.poisoned());
        };
        if entry.generation != generation_of(id) {
            return Err(self.stale(id));
        }
        match entry.object.as_deref_mut() {
            Some(object) => call(object),
            None => Err(self.stale(id)),
        }
    }

    /// Whether `id` names a live object that a call can use (not destroyed,
    /// not broken by a panic). Waits for a call in progress on it.
    pub(crate) fn is_usable(&self, id: u64) -> bool {
        self.with(id, |_| Ok(())).is_ok()
    }

    /// Removes the object `id` names and returns it, to be dropped by the
    /// caller outside the slot's lock. Waits for a call in progress on it;
    /// takes over an object broken by a panic.
    pub(crate) fn remove(&self, id: u64) -> Result<T, Failure> {
        let index = self.index_of(id)?;
        let slot = self.existing_slot(index).ok_or_else(|| self.stale(id))?;
        let mut entry = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if entry.generation != generation_of(id) {
            return Err(self.stale(id));
        }
        let object = entry.object.take().ok_or_else(|| self.stale(id))?;
        entry.generation = ((entry.generation + 1) & GENERATION_MASK).max(1);
        drop(entry);
        slot.clear_poison();
        self.free_list().released.push(index);
        Ok(*object)
    }

    /// A free slot's index, its segment allocated.
    fn free_slot(&self) -> Result<u32, Failure> {
        let mut free = self.free_list();
        if let Some(index) = free.released.pop() {
            return Ok(index);
        }
        if free.used as usize == SEGMENT * SEGMENTS {
            return Err(Failure::new(
                zerocp_result_t::ZEROCP_ERR_LIMIT,
                format!(
                    "{} {}s exist, the most a process may hold; destroy one first",
                    SEGMENT * SEGMENTS,
                    self.what
                ),
            ));
        }
        let index = free.used;
        free.used += 1;
        self.segments[index as usize / SEGMENT].get_or_init(|| {
            Box::new(std::array::from_fn(|_| {
                Mutex::new(Entry {
                    generation: 1,
                    object: None,
                })
            }))
        });
        Ok(index)
    }

    fn free_list(&self) -> MutexGuard<'_, FreeSlots> {
        // Every change of the list is one push, pop or increment: a panic
        // cannot leave it half-changed.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The slot at `index`, whose segment `free_slot` allocated.
    fn slot(&self, index: u32) -> &Slot<T> {
        self.existing_slot(index)
            .expect("a slot handed out by free_slot has its segment")
    }

    /// The slot at `index`, if its segment exists.
    #[inline]
    fn existing_slot(&self, index: u32) -> Option<&Slot<T>> {
        let index = index as usize;
        let segment = self.segments.get(index / SEGMENT)?.get()?;
        Some(&segment[index % SEGMENT])
    }

    fn id(&self, index: u32, generation: u32) -> u64 {
        (u64::from(self.tag) << 56)
            | (u64::from(generation & GENERATION_MASK) << 32)
            | u64::from(index)
    }

    #[inline]
    fn index_of(&self, id: u64) -> Result<u32, Failure> {
        if (id >> 56) as u8 != self.tag {
            return Err(self.refused(id));
        }
        Ok(id as u32)
    }

    /// Why `id`, which does not carry this kind's tag, is refused.
    #[cold]
    fn refused(&self, id: u64) -> Failure {
        let message = if id == 0 {
            format!("the {} handle is zero (never created)", self.what)
        } else {
            format!("{id:#x} is not a {} handle", self.what)
        };
        Failure::new(zerocp_result_t::ZEROCP_ERR_INVALID_HANDLE, message)
    }

    #[cold]
    fn stale(&self, id: u64) -> Failure {
        Failure::new(
            zerocp_result_t::ZEROCP_ERR_INVALID_HANDLE,
            format!(
                "the {} handle {id:#x} was destroyed (or never created)",
                self.what
            ),
        )
    }

    #[cold]
    fn poisoned(&self) -> Failure {
        Failure::new(
            zerocp_result_t::ZEROCP_ERR_PANIC,
            format!(
                "the {} is unusable after a panic in an earlier call; destroy it",
                self.what
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(registry: &Registry<u32>, id: u64) -> Result<u32, Failure> {
        registry.with(id, |v| Ok(*v))
    }

    #[test]
    fn a_destroyed_handle_is_refused_even_once_its_slot_is_reused() {
        let registry = Registry::<u32>::new(3, "thing");
        let first = registry.insert(10).unwrap();
        assert_eq!(value(&registry, first).unwrap(), 10);
        assert_eq!(registry.remove(first).unwrap(), 10);
        let again = registry.remove(first).unwrap_err();
        assert_eq!(again.code, zerocp_result_t::ZEROCP_ERR_INVALID_HANDLE);
        assert!(again.message.contains("destroyed"), "{}", again.message);
        let second = registry.insert(20).unwrap();
        assert_eq!(
            second & 0xffff_ffff,
            first & 0xffff_ffff,
            "the slot is reused"
        );
        assert_ne!(first, second, "with a new generation");
        assert!(value(&registry, first).is_err());
        assert_eq!(value(&registry, second).unwrap(), 20);
    }

    #[test]
    fn zero_forged_and_other_kinds_handles_are_refused() {
        let registry = Registry::<u32>::new(3, "thing");
        let other = Registry::<u32>::new(4, "other");
        let id = other.insert(1).unwrap();
        assert!(value(&registry, 0).unwrap_err().message.contains("zero"));
        let message = value(&registry, id).unwrap_err().message;
        assert!(message.contains("not a thing"), "{message}");
        registry.insert(5).unwrap();
        for forged in [
            (3 << 56) | (1 << 32) | 77,
            (3 << 56) | (1 << 32) | 0xffff_ffff,
        ] {
            assert!(value(&registry, forged).is_err(), "{forged:#x}");
            assert!(registry.remove(forged).is_err(), "{forged:#x}");
        }
    }

    #[test]
    fn a_panic_breaks_the_object_until_it_is_destroyed() {
        let registry = Registry::<u32>::new(1, "thing");
        let id = registry.insert(7).unwrap();
        let call = std::panic::AssertUnwindSafe(|| {
            registry.with(id, |_| -> Result<(), _> { panic!("in a call") })
        });
        assert!(std::panic::catch_unwind(call).is_err());
        assert_eq!(
            value(&registry, id).unwrap_err().code,
            zerocp_result_t::ZEROCP_ERR_PANIC
        );
        assert!(!registry.is_usable(id));
        assert_eq!(registry.remove(id).unwrap(), 7);
        let reused = registry.insert(8).unwrap();
        assert_eq!(
            value(&registry, reused).unwrap(),
            8,
            "the slot serves again"
        );
    }

    #[test]
    fn the_registry_refuses_beyond_its_capacity_and_spans_segments() {
        let registry = Registry::<usize>::new(1, "thing");
        let ids: Vec<u64> = (0..SEGMENT * SEGMENTS)
            .map(|i| registry.insert(i).unwrap())
            .collect();
        let full = registry.insert(0).unwrap_err();
        assert_eq!(full.code, zerocp_result_t::ZEROCP_ERR_LIMIT);
        assert!(full.message.contains("things exist"), "{}", full.message);
        assert_eq!(
            registry.with(ids[SEGMENT * 3 + 5], |v| Ok(*v)).unwrap(),
            SEGMENT * 3 + 5
        );
        let freed = ids[SEGMENT + 1];
        registry.remove(freed).unwrap();
        let again = registry.insert(99).unwrap();
        assert_eq!(again & 0xffff_ffff, freed & 0xffff_ffff);
    }
}
