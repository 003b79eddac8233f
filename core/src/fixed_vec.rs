//! `FixedVec<T, N>`: up to `N` `Copy` items stored inline, with a layout fixed
//! by `#[repr(C)]` (a `u32` length, then `[T; N]`), for shared memory and
//! fixed-size records.
//!
//! Why not `heapless::Vec`? Its layout is not specified (a plain Rust struct
//! whose length type defaults to `usize`, whose size differs between 32- and
//! 64-bit targets) and it keeps unused items uninitialised; neither is
//! acceptable for memory that another process maps. Here every item is always
//! initialised (unused ones hold `T::default()`), so a zero-filled segment is a
//! valid empty vector when `T`'s zero bytes are a valid value, and the length
//! read from memory someone else wrote is checked ([`FixedVec::from_raw`]) or
//! clamped ([`FixedVec::as_slice`]) before use.

use core::fmt;

pub use crate::fixed_string::CapacityError;

/// Up to `N` items of a `Copy` type, stored inline (`#[repr(C)]`: a `u32`
/// length, then `[T; N]`).
///
/// ```
/// use zerocp_core::fixed_vec::FixedVec;
///
/// let mut v = FixedVec::<u32, 4>::new();
/// v.push(7)?;
/// v.push(8)?;
/// assert_eq!(v.as_slice(), &[7, 8]);
/// assert_eq!(v.pop(), Some(8));
/// # Ok::<(), zerocp_core::fixed_vec::PushError<u32>>(())
/// ```
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FixedVec<T: Copy, const N: usize> {
    len: u32,
    items: [T; N],
}

const _: () = assert!(size_of::<FixedVec<u32, 8>>() == 36);
const _: () = assert!(size_of::<FixedVec<u64, 2>>() == 24);
const _: () = assert!(align_of::<FixedVec<u64, 2>>() == 8);

/// `push` on a full vector; the rejected item is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushError<T> {
    /// The item that did not fit.
    pub item: T,
    /// The capacity of the vector.
    pub capacity: usize,
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vector is full (capacity {})", self.capacity)
    }
}

impl<T: fmt::Debug> core::error::Error for PushError<T> {}

impl<T: Copy + Default, const N: usize> FixedVec<T, N> {
    const CAPACITY_FITS_U32: () = assert!(N <= u32::MAX as usize, "capacity must fit in a u32");

    /// An empty vector (unused items hold `T::default()`).
    pub fn new() -> Self {
        let () = Self::CAPACITY_FITS_U32;
        Self {
            len: 0,
            items: [T::default(); N],
        }
    }

    /// Copies `items`, or fails if there are more than `N`.
    ///
    /// ```
    /// use zerocp_core::fixed_vec::FixedVec;
    /// let v = FixedVec::<u8, 3>::from_slice(&[1, 2])?;
    /// assert_eq!(v.len(), 2);
    /// assert!(FixedVec::<u8, 1>::from_slice(&[1, 2]).is_err());
    /// # Ok::<(), zerocp_core::fixed_vec::CapacityError>(())
    /// ```
    pub fn from_slice(items: &[T]) -> Result<Self, CapacityError> {
        let mut out = Self::new();
        let Some(dst) = out.items.get_mut(..items.len()) else {
            return Err(CapacityError {
                len: items.len(),
                capacity: N,
            });
        };
        dst.copy_from_slice(items);
        out.set_len(items.len());
        Ok(out)
    }

    /// Checks a raw `(len, items)` pair as found in shared memory: fails if
    /// `len > N`. Items past `len` are reset to `T::default()`.
    pub fn from_raw(len: u32, items: &[T; N]) -> Result<Self, CapacityError> {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        match items.get(..len) {
            Some(valid) => Self::from_slice(valid),
            None => Err(CapacityError { len, capacity: N }),
        }
    }

    /// Removes and returns the last item.
    pub fn pop(&mut self) -> Option<T> {
        let len = self.len();
        let last = len.checked_sub(1)?;
        let item = self.items[last];
        self.items[last] = T::default();
        self.set_len(last);
        Some(item)
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        self.items = [T::default(); N];
        self.len = 0;
    }
}

impl<T: Copy, const N: usize> FixedVec<T, N> {
    /// Appends `item`, or hands it back in the error when the vector is full.
    pub fn push(&mut self, item: T) -> Result<(), PushError<T>> {
        let len = self.len();
        match self.items.get_mut(len) {
            Some(slot) => {
                *slot = item;
                self.set_len(len + 1);
                Ok(())
            }
            None => Err(PushError { item, capacity: N }),
        }
    }

    fn set_len(&mut self, len: usize) {
        // Callers pass `len <= N`, and `N <= u32::MAX` is asserted at compile
        // time, so the conversion is exact.
        self.len = len as u32;
    }

    /// The items (a stored length past `N`, only possible for a value read
    /// from someone else's memory, is clamped to `N`).
    pub fn as_slice(&self) -> &[T] {
        let len = usize::try_from(self.len).map_or(N, |l| l.min(N));
        &self.items[..len]
    }

    /// The items, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        let len = self.len();
        &mut self.items[..len]
    }

    /// Iterates over the items.
    pub fn iter(&self) -> core::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether another `push` would fail.
    pub fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }
}

impl<T: Copy + Default, const N: usize> Default for FixedVec<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + PartialEq, const N: usize> PartialEq for FixedVec<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Copy + Eq, const N: usize> Eq for FixedVec<T, N> {}

impl<T: Copy + fmt::Debug, const N: usize> fmt::Debug for FixedVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a FixedVec<T, N> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_until_full_then_pop_back() {
        let mut v = FixedVec::<u16, 3>::new();
        for i in 0..3 {
            v.push(i).unwrap();
        }
        assert!(v.is_full());
        assert_eq!(
            v.push(9),
            Err(PushError {
                item: 9,
                capacity: 3
            })
        );
        assert_eq!(v.iter().copied().sum::<u16>(), 3);
        assert_eq!(v.pop(), Some(2));
        assert_eq!(v.as_slice(), &[0, 1]);
        v.as_mut_slice()[0] = 5;
        assert_eq!(v.as_slice(), &[5, 1]);
        v.clear();
        assert!(v.is_empty());
        assert_eq!(v.pop(), None);
    }

    #[test]
    fn from_raw_checks_length_and_resets_tail() {
        let v = FixedVec::from_raw(1, &[4u8, 9, 9]).unwrap();
        assert_eq!(v.as_slice(), &[4]);
        assert_eq!(v.items, [4, 0, 0]);
        assert_eq!(
            FixedVec::from_raw(4, &[0u8; 3]),
            Err(CapacityError {
                len: 4,
                capacity: 3
            })
        );
    }

    #[test]
    fn corrupted_length_is_clamped() {
        let v = FixedVec::<u8, 2> {
            len: u32::MAX,
            items: [1, 2],
        };
        assert_eq!(v.as_slice(), &[1, 2]);
        assert!(v.is_full());
    }

    #[test]
    fn equality_ignores_unused_items() {
        let a = FixedVec::<u8, 2> {
            len: 1,
            items: [1, 7],
        };
        let b = FixedVec::<u8, 2>::from_slice(&[1]).unwrap();
        assert_eq!(a, b);
        assert_eq!(std::format!("{b:?}"), "[1]");
    }
}
