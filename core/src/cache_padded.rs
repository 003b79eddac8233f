//! Cache-line padding for values that different cores write independently.
//!
//! This module owns [`CachePadded`], the wrapper every lock-free structure of
//! the crate uses to keep a producer's and a consumer's hot words on separate
//! cache lines (no false sharing).
//!
//! # Why always 64 bytes
//!
//! Padded values live in shared memory that is mapped by processes built for
//! different targets (an x86_64 tool inspecting an ECU image, 32-bit armv7 and
//! aarch64 processes on one machine). The layout must therefore not depend on
//! the target, so the alignment is a fixed 64 bytes everywhere instead of a
//! per-target guess. 64 bytes is the cache-line size of x86_64 and of the
//! Cortex-A/Neoverse cores ZeroCP targets; on cores with 32-byte lines the only
//! cost is some padding. Some x86 parts prefetch line pairs (128 bytes), which a
//! 128-byte padding would also hide, but it would double the size of every
//! queue header in shared memory for a small gain.

use core::ops::{Deref, DerefMut};

/// Aligns and pads `T` to a 64-byte cache line.
///
/// ```
/// use zerocp_core::cache_padded::CachePadded;
///
/// let counter = CachePadded::new(7u32);
/// assert_eq!(*counter, 7);
/// assert_eq!(core::mem::align_of_val(&counter), 64);
/// assert_eq!(core::mem::size_of_val(&counter), 64);
/// ```
#[repr(C, align(64))]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CachePadded<T>(pub T);

/// The cache-line size every [`CachePadded`] is aligned to, on every target.
pub const CACHE_LINE: usize = 64;

const _: () = assert!(core::mem::align_of::<CachePadded<u8>>() == CACHE_LINE);
const _: () = assert!(core::mem::size_of::<CachePadded<u32>>() == CACHE_LINE);
const _: () = assert!(core::mem::size_of::<CachePadded<[u8; 65]>>() == 2 * CACHE_LINE);

impl<T> CachePadded<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// Returns the wrapped value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for CachePadded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> From<T> for CachePadded<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_values_sit_on_separate_lines() {
        let pair = [CachePadded::new(1u32), CachePadded::new(2u32)];
        let a = core::ptr::from_ref(&*pair[0]) as usize;
        let b = core::ptr::from_ref(&*pair[1]) as usize;
        assert_eq!(a % CACHE_LINE, 0);
        assert_eq!(b - a, CACHE_LINE);
    }

    #[test]
    fn deref_mut_and_into_inner() {
        let mut v = CachePadded::new(5u64);
        *v += 1;
        assert_eq!(v.into_inner(), 6);
        assert_eq!(CachePadded::from(3u8).0, 3);
    }
}
