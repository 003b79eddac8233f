//! Single-producer, single-consumer lock-free ring of variable-length byte
//! records.
//!
//! This module owns the buffer behind the runtime's non-blocking logger: a log
//! call formats into a record and pushes it (never blocking, failing with
//! [`RingFull`] when the background writer is behind), the writer thread pops
//! records and writes them out.
//!
//! # Why not `heapless::spsc`
//!
//! `heapless::spsc::Queue<T, N>` stores `N` values of one fixed type. Log lines
//! vary from a few bytes to hundreds; storing them as fixed-size slots would
//! waste most of the memory on padding or cap every line at a small size.
//! This ring stores each record as a 4-byte little-endian length followed by
//! its bytes, packed back to back (wrapping around the end of the buffer), so
//! the whole buffer is usable by records of any length up to
//! [`SpscRing::MAX_RECORD`].
//!
//! # Synchronisation
//!
//! Two free-running `u32` positions (bytes written, bytes read), each written
//! by one side only and on its own cache line. The producer publishes a record
//! with a `Release` store of its position after copying the bytes; the consumer
//! loads it with `Acquire` before reading them, and vice versa for freeing
//! space. Each side also caches the other side's position, so an uncontended
//! push or pop touches the shared lines only when its cached view runs out.

use crate::cache_padded::CachePadded;
use crate::sync::cell::UnsafeCell;
use crate::sync::{AtomicU32, Ordering};
use core::fmt;

const HEADER: usize = 4;

/// A ring of `N` bytes (`N` a power of two, `8..=2^31`) holding
/// length-prefixed records.
///
/// ```
/// use zerocp_core::spsc_ring::SpscRing;
///
/// let mut ring = SpscRing::<64>::new();
/// let (mut producer, mut consumer) = ring.split();
/// producer.push(b"hello").unwrap();
/// producer.push(b"").unwrap();
/// let mut out = [0u8; SpscRing::<64>::MAX_RECORD];
/// assert_eq!(consumer.pop(&mut out), Some(5));
/// assert_eq!(&out[..5], b"hello");
/// assert_eq!(consumer.pop(&mut out), Some(0));
/// assert_eq!(consumer.pop(&mut out), None);
/// ```
pub struct SpscRing<const N: usize> {
    /// Bytes read so far (consumer-owned).
    head: CachePadded<AtomicU32>,
    /// Bytes written so far (producer-owned).
    tail: CachePadded<AtomicU32>,
    buf: [UnsafeCell<u8>; N],
}

// SAFETY: `buf` is only accessed through the `Producer` and `Consumer` that
// `split(&mut self)` hands out, at most one of each at a time. The producer
// only writes bytes in `[tail, head + N)` and the consumer only reads bytes in
// `[head, tail)`; the Release/Acquire position stores/loads order every write
// before the read of the same byte and every read before its overwrite. A
// shared `&SpscRing` alone gives no access to `buf`.
unsafe impl<const N: usize> Sync for SpscRing<N> {}

/// The record did not fit into the free space of the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RingFull {
    /// Bytes the record needs, its length header included.
    pub needed: usize,
    /// Bytes free when the push was tried.
    pub free: usize,
    /// Size of the ring (a record needing more never fits).
    pub capacity: usize,
}

impl fmt::Display for RingFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ring record needs {} bytes but only {} of {} are free",
            self.needed, self.free, self.capacity
        )
    }
}

impl core::error::Error for RingFull {}

impl<const N: usize> SpscRing<N> {
    const VALID_N: () = assert!(
        N.is_power_of_two() && N >= 8 && N <= 1 << 31,
        "N must be a power of two in 8..=2^31"
    );

    /// The longest record that fits into an empty ring.
    pub const MAX_RECORD: usize = N - HEADER;

    /// An empty ring.
    pub fn new() -> Self {
        let () = Self::VALID_N;
        Self {
            head: CachePadded::new(AtomicU32::new(0)),
            tail: CachePadded::new(AtomicU32::new(0)),
            buf: core::array::from_fn(|_| UnsafeCell::new(0)),
        }
    }

    /// Splits the ring into its only producer and its only consumer.
    pub fn split(&mut self) -> (Producer<'_, N>, Consumer<'_, N>) {
        let ring = &*self;
        // Relaxed: `&mut self` means no other handle exists; no concurrency.
        let head = ring.head.load(Ordering::Relaxed);
        let tail = ring.tail.load(Ordering::Relaxed);
        (
            Producer {
                ring,
                tail,
                head_cache: head,
            },
            Consumer {
                ring,
                head,
                tail_cache: tail,
            },
        )
    }

    /// Copies `src` into the ring starting at position `pos` (wrapping).
    ///
    /// # Safety
    /// The producer must own the bytes `[pos, pos + src.len())` (free space),
    /// and `src.len() <= N`.
    #[cfg(not(loom))]
    unsafe fn write_at(&self, pos: u32, src: &[u8]) {
        let start = pos as usize & (N - 1);
        let (first, wrapped) = src.split_at(src.len().min(N - start));
        // `UnsafeCell<u8>` is `repr(transparent)` over `u8`: the array is `N`
        // plain bytes, and a pointer derived from the shared reference to the
        // cells may write them (interior mutability).
        let base = self.buf.as_ptr().cast::<u8>().cast_mut();
        // SAFETY: `start + first.len() <= N`, and the caller owns the range.
        unsafe {
            core::ptr::copy_nonoverlapping(first.as_ptr(), base.wrapping_add(start), first.len())
        };
        // SAFETY: `wrapped.len() <= N - first.len()` from index 0, owned too.
        unsafe { core::ptr::copy_nonoverlapping(wrapped.as_ptr(), base, wrapped.len()) };
    }

    /// Copies the bytes at position `pos` (wrapping) into `dst`.
    ///
    /// # Safety
    /// The consumer must own the bytes `[pos, pos + dst.len())` (published),
    /// and `dst.len() <= N`.
    #[cfg(not(loom))]
    unsafe fn read_at(&self, pos: u32, dst: &mut [u8]) {
        let start = pos as usize & (N - 1);
        let (first, wrapped) = dst.split_at_mut(dst.len().min(N - start));
        let base = self.buf.as_ptr().cast::<u8>();
        // SAFETY: `start + first.len() <= N`; the producer no longer writes it.
        unsafe {
            core::ptr::copy_nonoverlapping(
                base.wrapping_add(start),
                first.as_mut_ptr(),
                first.len(),
            )
        };
        // SAFETY: `wrapped.len() <= N - first.len()` from index 0, owned too.
        unsafe { core::ptr::copy_nonoverlapping(base, wrapped.as_mut_ptr(), wrapped.len()) };
    }

    /// Loom version of `write_at`: byte by byte, so loom checks every access.
    ///
    /// # Safety
    /// As for the non-loom version.
    #[cfg(loom)]
    unsafe fn write_at(&self, pos: u32, src: &[u8]) {
        for (i, &byte) in src.iter().enumerate() {
            let cell = &self.buf[(pos as usize).wrapping_add(i) & (N - 1)];
            // SAFETY: the caller owns this byte; loom checks it.
            cell.with_mut(|p| unsafe { p.write(byte) });
        }
    }

    /// Loom version of `read_at`: byte by byte, so loom checks every access.
    ///
    /// # Safety
    /// As for the non-loom version.
    #[cfg(loom)]
    unsafe fn read_at(&self, pos: u32, dst: &mut [u8]) {
        for (i, byte) in dst.iter_mut().enumerate() {
            let cell = &self.buf[(pos as usize).wrapping_add(i) & (N - 1)];
            // SAFETY: the caller owns this byte; loom checks it.
            *byte = cell.with(|p| unsafe { p.read() });
        }
    }
}

impl<const N: usize> Default for SpscRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for SpscRing<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpscRing")
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

/// The writing half of an [`SpscRing`]. `Send`, not `Clone`.
#[derive(Debug)]
pub struct Producer<'a, const N: usize> {
    ring: &'a SpscRing<N>,
    /// Our own position (authoritative copy of `ring.tail`).
    tail: u32,
    /// Last seen consumer position.
    head_cache: u32,
}

impl<const N: usize> Producer<'_, N> {
    /// Appends `record`, or fails without blocking when it does not fit now.
    pub fn push(&mut self, record: &[u8]) -> Result<(), RingFull> {
        let needed = record.len().saturating_add(HEADER);
        let mut free = self.free();
        if free < needed {
            // Acquire: pairs with the consumer's Release store, so its reads
            // of the freed bytes are finished before we overwrite them.
            self.head_cache = self.ring.head.load(Ordering::Acquire);
            free = self.free();
            if free < needed {
                return Err(RingFull {
                    needed,
                    free,
                    capacity: N,
                });
            }
        }
        // Cannot truncate: `record.len() <= N - HEADER < 2^31`.
        let header = (record.len() as u32).to_le_bytes();
        // SAFETY: `[tail, tail + needed)` lies within the free space
        // `[tail, head_cache + N)`, which the consumer no longer reads.
        unsafe { self.ring.write_at(self.tail, &header) };
        // SAFETY: as above, for the bytes after the header.
        unsafe {
            self.ring
                .write_at(self.tail.wrapping_add(HEADER as u32), record)
        };
        self.tail = self.tail.wrapping_add(needed as u32);
        // Release: publishes the bytes written above to the consumer.
        self.ring.tail.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Bytes free according to the cached consumer position (a lower bound).
    fn free(&self) -> usize {
        N - self.tail.wrapping_sub(self.head_cache) as usize
    }
}

/// The reading half of an [`SpscRing`]. `Send`, not `Clone`.
#[derive(Debug)]
pub struct Consumer<'a, const N: usize> {
    ring: &'a SpscRing<N>,
    /// Our own position (authoritative copy of `ring.head`).
    head: u32,
    /// Last seen producer position.
    tail_cache: u32,
}

impl<const N: usize> Consumer<'_, N> {
    /// Removes the next record, copying it into `out`, and returns the number
    /// of bytes copied; `None` when the ring is empty.
    ///
    /// A record longer than `out` is truncated to `out.len()` bytes (the rest
    /// is dropped); use an `out` of [`SpscRing::MAX_RECORD`] bytes to never
    /// truncate.
    pub fn pop(&mut self, out: &mut [u8]) -> Option<usize> {
        let len = self.next_len()?;
        let copied = len.min(out.len());
        self.take(len, &mut out[..copied]);
        Some(copied)
    }

    /// Length of the next record, or `None` when the ring is empty.
    pub fn next_len(&mut self) -> Option<usize> {
        if self.available() < HEADER {
            // Acquire: pairs with the producer's Release store, so the bytes
            // of every record up to that position are visible.
            self.tail_cache = self.ring.tail.load(Ordering::Acquire);
            if self.available() < HEADER {
                return None;
            }
        }
        let mut header = [0u8; HEADER];
        // SAFETY: `[head, head + HEADER)` is published (`available()` checked).
        unsafe { self.ring.read_at(self.head, &mut header) };
        let len = u32::from_le_bytes(header) as usize;
        // The producer writes header and record before publishing both, so a
        // published header always describes a published record; the check
        // only keeps a broken invariant from turning into an out-of-range read.
        (len <= self.available() - HEADER).then_some(len)
    }

    /// Copies the first `dst.len()` bytes of the next record (of `len` bytes,
    /// already checked by `next_len`) and frees the whole record.
    fn take(&mut self, len: usize, dst: &mut [u8]) {
        // SAFETY: `next_len` checked `[head, head + HEADER + len)` is published
        // and `dst.len() <= len`.
        unsafe {
            self.ring
                .read_at(self.head.wrapping_add(HEADER as u32), dst)
        };
        // Cannot truncate: `HEADER + len <= N`.
        self.head = self.head.wrapping_add((HEADER + len) as u32);
        // Release: our reads of the freed bytes happen before the producer
        // (Acquire) overwrites them.
        self.ring.head.store(self.head, Ordering::Release);
    }

    /// Bytes published according to the cached producer position.
    fn available(&self) -> usize {
        self.tail_cache.wrapping_sub(self.head) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn records_wrap_around_the_end() {
        let mut ring = SpscRing::<16>::new();
        let (mut p, mut c) = ring.split();
        let mut out = [0u8; 12];
        for round in 0..20u8 {
            let rec = [round; 5];
            p.push(&rec).unwrap();
            assert_eq!(c.pop(&mut out), Some(5));
            assert_eq!(out[..5], rec);
        }
    }

    #[test]
    fn full_and_oversized_records_are_rejected() {
        let mut ring = SpscRing::<16>::new();
        let (mut p, mut c) = ring.split();
        assert_eq!(
            p.push(&[0; 13]),
            Err(RingFull {
                needed: 17,
                free: 16,
                capacity: 16
            })
        );
        p.push(&[1; 12]).unwrap();
        assert_eq!(
            p.push(&[]),
            Err(RingFull {
                needed: 4,
                free: 0,
                capacity: 16
            })
        );
        let mut out = [0u8; 12];
        assert_eq!(c.pop(&mut out), Some(12));
        p.push(&[]).unwrap();
    }

    #[test]
    fn small_output_truncates() {
        let mut ring = SpscRing::<32>::new();
        let (mut p, mut c) = ring.split();
        p.push(b"abcdef").unwrap();
        p.push(b"xyz").unwrap();
        let mut small = [0u8; 4];
        assert_eq!(c.pop(&mut small), Some(4));
        assert_eq!(&small, b"abcd");
        assert_eq!(c.pop(&mut small), Some(3));
        assert_eq!(&small[..3], b"xyz");
        assert_eq!(c.pop(&mut small), None);
    }

    #[test]
    fn positions_wrap_around_u32() {
        let mut ring = SpscRing::<16>::new();
        ring.head.store(u32::MAX - 5, Ordering::Relaxed);
        ring.tail.store(u32::MAX - 5, Ordering::Relaxed);
        let (mut p, mut c) = ring.split();
        let mut out = [0u8; 12];
        for round in 0..10u8 {
            p.push(&[round; 7]).unwrap();
            assert_eq!(c.pop(&mut out), Some(7));
            assert_eq!(out[..7], [round; 7]);
        }
    }

    #[test]
    fn positions_survive_split_again() {
        let mut ring = SpscRing::<16>::new();
        {
            let (mut p, _) = ring.split();
            p.push(b"ab").unwrap();
        }
        let (_, mut c) = ring.split();
        let mut out = [0u8; 8];
        assert_eq!(c.pop(&mut out), Some(2));
    }

    #[test]
    fn threads_keep_order_and_content() {
        const COUNT: u32 = if cfg!(miri) { 50 } else { 20_000 };
        let mut ring = SpscRing::<64>::new();
        let (mut p, mut c) = ring.split();
        std::thread::scope(|s| {
            s.spawn(move || {
                for i in 0..COUNT {
                    let rec: Vec<u8> = (0..(i % 17) as u8).map(|b| b ^ i as u8).collect();
                    while p.push(&rec).is_err() {
                        std::thread::yield_now();
                    }
                }
            });
            let mut out = [0u8; 60];
            for i in 0..COUNT {
                let n = loop {
                    match c.pop(&mut out) {
                        Some(n) => break n,
                        None => std::thread::yield_now(),
                    }
                };
                let want: Vec<u8> = (0..(i % 17) as u8).map(|b| b ^ i as u8).collect();
                assert_eq!(&out[..n], &want[..]);
            }
        });
    }
}
