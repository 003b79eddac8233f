//! Single-writer, many-reader snapshot of up to `N` `u32` words, placed in
//! shared memory.
//!
//! This module owns the publisher-topology snapshot: the daemon (the only
//! writer) records which subscriber ports receive a publisher's samples, and
//! the publisher reads it on the data path without taking any lock.
//!
//! # Protocol
//!
//! The sequence word is odd while a write is in progress and is bumped to the
//! next even value when it completes. Readers load it (`Acquire`), copy the
//! words with `Relaxed` atomic loads, issue an `Acquire` fence and load it
//! again; equal even values mean the copy is a consistent snapshot. The words
//! are atomics, so a concurrent write is never a data race (no UB), only a
//! retried read. Readers retry a bounded number of times and then report
//! [`SeqLockError::Busy`]: a writer that died mid-write leaves the sequence odd
//! and must not hang readers. A new writer continues from an odd sequence by
//! moving to the next odd value, so readers never mistake its write for a
//! finished one.

use crate::sync::{AtomicU32, Ordering, fence};
use core::fmt;

/// How many times [`SeqLock::read`] tries before reporting [`SeqLockError::Busy`].
#[cfg(not(loom))]
pub const READ_ATTEMPTS: u32 = 1024;
/// How many times [`SeqLock::read`] tries before reporting [`SeqLockError::Busy`]
/// (small under loom so the models stay bounded).
#[cfg(loom)]
pub const READ_ATTEMPTS: u32 = 2;

/// A seqlock-protected list of up to `N` words.
///
/// An all-zero `SeqLock` is a valid, empty snapshot (version 0, length 0).
///
/// ```
/// use zerocp_core::seqlock::SeqLock;
///
/// let topology = SeqLock::<8>::new();
/// topology.write(&[3, 5]).unwrap(); // the daemon, the only writer
///
/// let mut ports = [0u32; 8];
/// let snapshot = topology.read(&mut ports).unwrap();
/// assert_eq!(&ports[..snapshot.len], &[3, 5]);
/// assert_eq!(topology.version(), snapshot.version); // unchanged since
/// ```
#[repr(C)]
pub struct SeqLock<const N: usize> {
    /// Odd while a write is in progress.
    seq: AtomicU32,
    /// Number of valid words.
    len: AtomicU32,
    words: [AtomicU32; N],
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<SeqLock<16>>() == 8 + 4 * 16);
    assert!(core::mem::align_of::<SeqLock<16>>() == 4);
};

/// A consistent snapshot returned by [`SeqLock::read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Snapshot {
    /// The (even) sequence value the snapshot belongs to.
    pub version: u32,
    /// Number of valid words at the start of the output buffer.
    pub len: usize,
}

/// Why a seqlock write or read failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SeqLockError {
    /// `write` was given more words than the lock holds.
    TooLong {
        /// Number of words given.
        len: usize,
        /// Capacity `N`.
        max: usize,
    },
    /// `read` found a write in progress on every attempt (the writer is busy
    /// or died mid-write).
    Busy {
        /// Number of attempts made.
        attempts: u32,
    },
    /// `read` found a consistent snapshot whose length exceeds `N`: the
    /// shared memory is corrupted.
    CorruptLength {
        /// The length word found.
        len: u32,
        /// Capacity `N`.
        max: usize,
    },
}

impl fmt::Display for SeqLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooLong { len, max } => {
                write!(
                    f,
                    "seqlock write of {len} words exceeds its capacity of {max}"
                )
            }
            Self::Busy { attempts } => {
                write!(
                    f,
                    "seqlock read found a write in progress on all {attempts} attempts"
                )
            }
            Self::CorruptLength { len, max } => {
                write!(f, "seqlock length word {len} exceeds its capacity of {max}")
            }
        }
    }
}

impl core::error::Error for SeqLockError {}

impl<const N: usize> SeqLock<N> {
    /// An empty snapshot (version 0, no words).
    pub fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            len: AtomicU32::new(0),
            words: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Replaces the snapshot with `words`.
    ///
    /// Only one writer may exist (the daemon). Two concurrent writers cannot
    /// cause undefined behaviour, but readers could then see a mix of both.
    pub fn write(&self, words: &[u32]) -> Result<(), SeqLockError> {
        let Ok(len) = u32::try_from(words.len()) else {
            return Err(SeqLockError::TooLong {
                len: words.len(),
                max: N,
            });
        };
        if words.len() > N {
            return Err(SeqLockError::TooLong {
                len: words.len(),
                max: N,
            });
        }
        // Relaxed: the single writer reads back its own last store.
        let odd = self.seq.load(Ordering::Relaxed).wrapping_add(1) | 1;
        // Relaxed: ordered before the word stores by the fence below.
        self.seq.store(odd, Ordering::Relaxed);
        // Release fence: a reader whose Relaxed word load sees any store below
        // synchronises (through its Acquire fence) with this fence, so its
        // re-read of `seq` sees at least `odd` and it retries.
        fence(Ordering::Release);
        // Relaxed: protected by the sequence protocol.
        self.len.store(len, Ordering::Relaxed);
        for (word, &value) in self.words.iter().zip(words) {
            word.store(value, Ordering::Relaxed);
        }
        // Release: a reader that loads this even value (Acquire) sees every
        // store above.
        self.seq.store(odd.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Copies a consistent snapshot into `out` (`out[..len]` is valid).
    pub fn read(&self, out: &mut [u32; N]) -> Result<Snapshot, SeqLockError> {
        for _ in 0..READ_ATTEMPTS {
            if let Some(result) = self.try_read(out) {
                return result;
            }
            core::hint::spin_loop();
        }
        Err(SeqLockError::Busy {
            attempts: READ_ATTEMPTS,
        })
    }

    /// One read attempt; `None` when a write was in progress.
    fn try_read(&self, out: &mut [u32; N]) -> Option<Result<Snapshot, SeqLockError>> {
        // Acquire: pairs with the writer's final Release store.
        let start = self.seq.load(Ordering::Acquire);
        if start & 1 == 1 {
            return None;
        }
        // Relaxed loads: validated by the sequence re-check below. The length
        // is clamped before use; an inconsistent one is caught by the re-check.
        let len = self.len.load(Ordering::Relaxed);
        let n = (len as usize).min(N);
        for (slot, word) in out[..n].iter_mut().zip(&self.words) {
            *slot = word.load(Ordering::Relaxed);
        }
        // Acquire fence: pairs with the writer's Release fence (see `write`).
        fence(Ordering::Acquire);
        // Relaxed: ordered after the loads above by the fence.
        if self.seq.load(Ordering::Relaxed) != start {
            return None;
        }
        if n != len as usize {
            return Some(Err(SeqLockError::CorruptLength { len, max: N }));
        }
        Some(Ok(Snapshot {
            version: start,
            len: n,
        }))
    }

    /// The current sequence value (`Acquire`): a cheap check whether the
    /// snapshot changed since [`Snapshot::version`]. Odd while a write is in
    /// progress.
    pub fn version(&self) -> u32 {
        // Acquire: a reader that sees a new version and then reads gets at
        // least that version's words.
        self.seq.load(Ordering::Acquire)
    }
}

impl<const N: usize> Default for SeqLock<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for SeqLock<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeqLock")
            .field("version", &self.version())
            .field("max", &N)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_and_versions() {
        let lock = SeqLock::<4>::new();
        let mut out = [0; 4];
        assert_eq!(lock.read(&mut out), Ok(Snapshot { version: 0, len: 0 }));
        lock.write(&[1, 2, 3]).unwrap();
        let s = lock.read(&mut out).unwrap();
        assert_eq!((s.version, &out[..s.len]), (2, &[1, 2, 3][..]));
        lock.write(&[9]).unwrap();
        let s = lock.read(&mut out).unwrap();
        assert_eq!((s.version, &out[..s.len]), (4, &[9][..]));
        assert_eq!(lock.version(), 4);
    }

    #[test]
    fn too_long_write_changes_nothing() {
        let lock = SeqLock::<2>::new();
        assert_eq!(
            lock.write(&[1, 2, 3]),
            Err(SeqLockError::TooLong { len: 3, max: 2 })
        );
        assert_eq!(lock.version(), 0);
    }

    #[test]
    fn dead_writer_gives_busy_and_next_writer_recovers() {
        let lock = SeqLock::<2>::new();
        lock.seq.store(7, Ordering::Relaxed);
        let mut out = [0; 2];
        assert_eq!(
            lock.read(&mut out),
            Err(SeqLockError::Busy {
                attempts: READ_ATTEMPTS
            })
        );
        lock.write(&[4]).unwrap();
        assert_eq!(
            lock.read(&mut out),
            Ok(Snapshot {
                version: 10,
                len: 1
            })
        );
    }

    #[test]
    fn corrupt_length_is_an_error() {
        let lock = SeqLock::<2>::new();
        lock.len.store(3, Ordering::Relaxed);
        let mut out = [0; 2];
        assert_eq!(
            lock.read(&mut out),
            Err(SeqLockError::CorruptLength { len: 3, max: 2 })
        );
    }

    #[test]
    fn readers_never_see_torn_snapshots() {
        const WRITES: u32 = if cfg!(miri) { 20 } else { 20_000 };
        let lock = SeqLock::<4>::new();
        let done = AtomicU32::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 1..=WRITES {
                    let len = (i % 4 + 1) as usize;
                    lock.write(&[i; 4][..len]).unwrap();
                }
                done.store(1, Ordering::Release);
            });
            s.spawn(|| {
                let mut out = [0; 4];
                while done.load(Ordering::Acquire) == 0 {
                    if let Ok(s) = lock.read(&mut out) {
                        let v = out[0];
                        assert!(
                            out[..s.len].iter().all(|&w| w == v),
                            "torn: {:?}",
                            &out[..s.len]
                        );
                        assert!(v == 0 || s.len == (v % 4 + 1) as usize);
                    }
                }
            });
        });
    }
}
