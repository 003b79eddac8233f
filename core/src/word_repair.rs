//! [`WordRepair`]: putting back the words of shared memory that only the
//! daemon writes, and telling what was off.
//!
//! Headers (the mgmt header, each group's header and freelist headers),
//! port control blocks and heartbeat slots hold words that the daemon
//! writes once (or whenever its own bookkeeping changes) and that every
//! other process only reads. A process that may write the memory can still
//! scribble over them; the daemon, which keeps the true values in its own
//! memory, compares each word with its value and stores it again where they
//! differ. A `WordRepair` does one such pass: it counts the words it had to
//! restore and remembers the name of the first, so the finding says which
//! word was hit.
//!
//! Loads and stores are `Relaxed`: what the restored words publish is
//! ordered by whoever repairs (a `Release` store of a state word, or the
//! control-socket reply that hands the memory out).

use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// The words one repair pass found off, and put back.
///
/// ```
/// use zerocp_core::sync::AtomicU32;
/// use zerocp_core::word_repair::WordRepair;
/// let (state, limit) = (AtomicU32::new(1), AtomicU32::new(99));
/// let mut repair = WordRepair::new();
/// repair.u32("state", &state, 1);
/// repair.u32("limit", &limit, 8);
/// assert_eq!((repair.words(), repair.first()), (1, Some("limit")));
/// assert_eq!(limit.load(zerocp_core::sync::Ordering::Relaxed), 8);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WordRepair {
    words: u32,
    first: Option<&'static str>,
}

impl WordRepair {
    /// A pass that restored nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `expected` back into `word` (named `name`) if it holds anything else.
    pub fn u32(&mut self, name: &'static str, word: &AtomicU32, expected: u32) {
        // Relaxed: module docs.
        if word.load(Ordering::Relaxed) != expected {
            word.store(expected, Ordering::Relaxed);
            self.note(name);
        }
    }

    /// Puts `expected` back into the 64-bit `word` (named `name`) if it
    /// holds anything else.
    pub fn u64(&mut self, name: &'static str, word: &AtomicU64, expected: u64) {
        // Relaxed: module docs.
        if word.load(Ordering::Relaxed) != expected {
            word.store(expected, Ordering::Relaxed);
            self.note(name);
        }
    }

    /// Adds the words another pass restored (several records checked as one).
    pub fn merge(&mut self, other: WordRepair) {
        self.words += other.words;
        self.first = self.first.or(other.first);
    }

    /// Number of words that were off and were restored.
    pub fn words(&self) -> u32 {
        self.words
    }

    /// The first word that was off.
    pub fn first(&self) -> Option<&'static str> {
        self.first
    }

    /// Whether every word held its value.
    pub fn is_clean(&self) -> bool {
        self.words == 0
    }

    fn note(&mut self, name: &'static str) {
        self.words += 1;
        self.first.get_or_insert(name);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn restores_only_what_differs_and_names_the_first() {
        let (a, b) = (AtomicU32::new(5), AtomicU64::new(u64::MAX));
        let mut repair = WordRepair::new();
        repair.u32("a", &a, 5);
        assert!(repair.is_clean());
        repair.u64("b", &b, 7);
        repair.u32("a", &a, 6);
        assert_eq!((repair.words(), repair.first()), (2, Some("b")));
        assert_eq!(
            (a.load(Ordering::Relaxed), b.load(Ordering::Relaxed)),
            (6, 7)
        );
        let mut total = WordRepair::new();
        total.merge(WordRepair::new());
        total.merge(repair);
        assert_eq!((total.words(), total.first()), (2, Some("b")));
    }
}
