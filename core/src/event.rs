//! Event ids and the sets they coalesce into: what a notifier raises and a
//! listener takes (no payload).
//!
//! An event service carries ids, not data: "new map available", "mode
//! changed". A listener's pending ids are a bitmap in shared memory
//! ([`EventBits`], [`EVENT_WORDS`] × 32 bits): raising an id sets its bit
//! (one `fetch_or`), taking the pending ids swaps every word with 0 (one
//! `swap` per word). So ids **coalesce**: an id raised three times before the
//! listener takes it is taken once, and the listener learns *which* ids
//! happened since it last looked, never how often. That is what makes a
//! listener's memory bounded and a notifier's `notify` wait-free whatever
//! the listener does (nothing can fill up, nothing is dropped silently).
//!
//! # Why ids are `0..256`
//!
//! [`MAX_EVENT_ID`] is 255: 8 words, 32 bytes, half a cache line, which a
//! listener takes with 8 swaps. Ids are names an application chooses for a
//! handful of conditions (iceoryx2's event ids play the same role); 256 of
//! them per service is far more than a node tells apart, while a larger
//! bitmap would cost every `try_wait` a longer scan. An id out of range is a
//! typed error ([`EventIdError`]), never a silent wrap.

use crate::fixed_string::FixedString;
use crate::service::TypeInfo;
use crate::sync::{AtomicU32, Ordering};

/// The type name every event port declares ([`event_type_info`]).
pub const EVENT_TYPE_NAME: &str = "zerocp::event";

/// The [`TypeInfo`] of an event service (`zerocp::event`, size 0, align 1):
/// what the daemon's route table records for it, so that a service name is
/// either an event service or a publish/subscribe service, never both.
///
/// ```
/// let t = zerocp_core::event::event_type_info();
/// assert_eq!((t.name.as_str(), t.size, t.align), ("zerocp::event", 0, 1));
/// ```
pub fn event_type_info() -> TypeInfo {
    TypeInfo {
        size: 0,
        align: 1,
        name: FixedString::from_str_truncated(EVENT_TYPE_NAME),
    }
}

/// Words of a listener's event bitmap.
pub const EVENT_WORDS: usize = 8;
/// Largest event id (ids are `0..=MAX_EVENT_ID`).
pub const MAX_EVENT_ID: u32 = (EVENT_WORDS * 32 - 1) as u32;

/// An event id, `0..=`[`MAX_EVENT_ID`].
///
/// ```
/// use zerocp_core::event::{EventId, MAX_EVENT_ID};
/// let id = EventId::new(7)?;
/// assert_eq!(id.value(), 7);
/// assert!(EventId::new(MAX_EVENT_ID + 1).is_err());
/// # Ok::<(), zerocp_core::event::EventIdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(u8);

/// An event id out of `0..=`[`MAX_EVENT_ID`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventIdError {
    /// The value given.
    pub value: u32,
}

impl core::fmt::Display for EventIdError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "event id {} is out of range 0..={MAX_EVENT_ID}",
            self.value
        )
    }
}

impl core::error::Error for EventIdError {}

impl EventId {
    /// The id `value`, if it is at most [`MAX_EVENT_ID`].
    pub const fn new(value: u32) -> Result<Self, EventIdError> {
        if value > MAX_EVENT_ID {
            return Err(EventIdError { value });
        }
        Ok(Self(value as u8))
    }

    /// The id as a number.
    pub const fn value(self) -> u32 {
        self.0 as u32
    }

    const fn word(self) -> usize {
        self.0 as usize / 32
    }

    const fn mask(self) -> u32 {
        1 << (self.0 % 32)
    }
}

impl TryFrom<u32> for EventId {
    type Error = EventIdError;

    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

/// A set of event ids: what a listener took (each id at most once, in
/// ascending order when iterated).
///
/// ```
/// use zerocp_core::event::{EventId, EventSet};
/// let mut set = EventSet::default();
/// set.insert(EventId::new(40)?);
/// set.insert(EventId::new(3)?);
/// set.insert(EventId::new(40)?);
/// let ids: Vec<u32> = set.iter().map(|id| id.value()).collect();
/// assert_eq!(ids, [3, 40]);
/// assert_eq!(set.len(), 2);
/// # Ok::<(), zerocp_core::event::EventIdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventSet {
    words: [u32; EVENT_WORDS],
}

impl EventSet {
    /// The set of the bits in `words` (bit `i` of word `w` is id `32 w + i`).
    pub const fn from_words(words: [u32; EVENT_WORDS]) -> Self {
        Self { words }
    }

    /// Adds `id`.
    pub fn insert(&mut self, id: EventId) {
        self.words[id.word()] |= id.mask();
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: EventId) -> bool {
        self.words[id.word()] & id.mask() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// Number of ids in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Adds every id of `other`.
    pub fn extend_from(&mut self, other: &EventSet) {
        for (a, b) in self.words.iter_mut().zip(other.words) {
            *a |= b;
        }
    }

    /// The ids, ascending.
    pub fn iter(&self) -> EventIter {
        EventIter {
            words: self.words,
            word: 0,
        }
    }
}

impl IntoIterator for EventSet {
    type Item = EventId;
    type IntoIter = EventIter;

    fn into_iter(self) -> EventIter {
        self.iter()
    }
}

/// The ids of an [`EventSet`], ascending.
#[derive(Debug, Clone)]
pub struct EventIter {
    words: [u32; EVENT_WORDS],
    word: usize,
}

impl Iterator for EventIter {
    type Item = EventId;

    fn next(&mut self) -> Option<EventId> {
        while self.word < EVENT_WORDS {
            let w = self.words[self.word];
            if w != 0 {
                let bit = w.trailing_zeros();
                self.words[self.word] = w & (w - 1);
                return Some(EventId((self.word as u32 * 32 + bit) as u8));
            }
            self.word += 1;
        }
        None
    }
}

/// A listener's pending event ids in shared memory.
///
/// Layout: `[u32; EVENT_WORDS]` (32 bytes); all zeros is the empty set, and
/// any bit pattern is a valid set (a hostile writer can only raise ids).
#[repr(C)]
pub struct EventBits {
    words: [AtomicU32; EVENT_WORDS],
}

impl Default for EventBits {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBits {
    /// An empty set (for models and tests; in shared memory, all zeros is one).
    pub fn new() -> Self {
        Self {
            words: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Notifier: raises `id`. Returns whether the bit was clear (the id is
    /// new since the listener last took its ids).
    ///
    /// ```
    /// use zerocp_core::event::{EventBits, EventId};
    /// # // SAFETY: atomics only, all zeros is the empty set.
    /// # let bits: EventBits = unsafe { core::mem::zeroed() };
    /// assert!(bits.raise(EventId::new(5)?));
    /// assert!(!bits.raise(EventId::new(5)?));
    /// let taken = bits.take();
    /// assert!(taken.contains(EventId::new(5)?) && taken.len() == 1);
    /// assert!(bits.take().is_empty());
    /// # Ok::<(), zerocp_core::event::EventIdError>(())
    /// ```
    pub fn raise(&self, id: EventId) -> bool {
        // Release: the listener that takes the bit (Acquire swap) sees what
        // the notifier wrote before notifying.
        self.words[id.word()].fetch_or(id.mask(), Ordering::Release) & id.mask() == 0
    }

    /// Listener: takes every pending id (clears them).
    pub fn take(&self) -> EventSet {
        let mut set = EventSet::default();
        for (out, word) in set.words.iter_mut().zip(&self.words) {
            // Relaxed load first: an empty word (the common case) costs no
            // read-modify-write. Acquire swap: pairs with `raise`'s Release.
            if word.load(Ordering::Relaxed) != 0 {
                *out = word.swap(0, Ordering::Acquire);
            }
        }
        set
    }

    /// Whether any id is pending (without taking them).
    pub fn any(&self) -> bool {
        // Acquire: a listener that sees a bit here and then takes it sees
        // the notifier's earlier writes either way; Acquire keeps the
        // re-check before sleeping ordered after the sleeper's fence in
        // `crate::wake_protocol`.
        self.words.iter().any(|w| w.load(Ordering::Acquire) != 0)
    }

    /// Daemon: clears every bit (a slot handed to a new listener).
    pub fn clear(&self) {
        for word in &self.words {
            word.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ids_coalesce_and_iterate_ascending() {
        // SAFETY: atomics only; all zeros is the empty set.
        let bits: EventBits = unsafe { core::mem::zeroed() };
        for v in [255, 0, 31, 32, 0, 255] {
            bits.raise(EventId::new(v).unwrap());
        }
        let ids: heapless::Vec<u32, 8> = bits.take().iter().map(EventId::value).collect();
        assert_eq!(ids.as_slice(), &[0, 31, 32, 255]);
        assert!(!bits.any());
    }

    #[test]
    fn out_of_range_id_is_named() {
        let e = EventId::new(256).unwrap_err();
        assert_eq!(e, EventIdError { value: 256 });
        let mut text = heapless::String::<64>::new();
        core::fmt::write(&mut text, format_args!("{e}")).unwrap();
        assert_eq!(text.as_str(), "event id 256 is out of range 0..=255");
    }
}
