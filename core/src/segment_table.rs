//! The per-process table of mapped segments: turns a [`RelativePtr`] into an
//! address in this process, and an address back into a [`RelativePtr`].
//!
//! A relative pointer read from shared memory may have been written by a
//! faulty or hostile process, so [`SegmentTable::resolve`] checks the segment
//! id, that `offset + size` lies inside the segment (without overflow) and the
//! alignment the caller needs, and returns a typed [`ResolveError`] otherwise.
//! The table only does address arithmetic; it never reads or writes the
//! memory it describes.

use core::fmt;
use core::ptr::NonNull;

use crate::relative_ptr::{RelativePtr, SegmentId};

#[derive(Clone, Copy)]
struct Segment {
    id: SegmentId,
    base: NonNull<u8>,
    len: usize,
}

impl Segment {
    fn start(&self) -> usize {
        self.base.as_ptr().addr()
    }

    /// One past the last address; `register` checked it does not overflow.
    fn end(&self) -> usize {
        self.start().wrapping_add(self.len)
    }
}

/// Up to `N` mapped segments of this process, by [`SegmentId`].
///
/// ```
/// use zerocp_core::relative_ptr::{RelativePtr, SegmentId};
/// use zerocp_core::segment_table::{ResolveError, SegmentTable};
///
/// let mut memory = [0u64; 8]; // stands for a mapped segment
/// let base = memory.as_mut_ptr().cast::<u8>();
/// let mut table = SegmentTable::<2>::new();
/// table.register(SegmentId::DATA, base, 64)?;
///
/// let p = table.resolve(RelativePtr::new(SegmentId::DATA, 8), 8, 8)?;
/// assert_eq!(p.as_ptr(), base.wrapping_add(8));
/// assert_eq!(table.relative(p.as_ptr()), Some(RelativePtr::new(SegmentId::DATA, 8)));
/// assert!(matches!(
///     table.resolve(RelativePtr::new(SegmentId::DATA, 60), 8, 1),
///     Err(ResolveError::OutOfBounds { .. })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SegmentTable<const N: usize> {
    segments: [Option<Segment>; N],
}

// SAFETY: the table holds base addresses only to compute other addresses; it
// never dereferences them, so sharing or sending it between threads cannot
// cause a data race. Whoever dereferences a resolved pointer is responsible
// for the synchronisation that access needs.
unsafe impl<const N: usize> Send for SegmentTable<N> {}
// SAFETY: as for `Send`: `&SegmentTable` only offers address arithmetic.
unsafe impl<const N: usize> Sync for SegmentTable<N> {}

/// Why [`SegmentTable::register`] refused a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RegisterError {
    /// The base address is null.
    NullBase {
        /// The segment.
        id: SegmentId,
    },
    /// The segment has length zero.
    Empty {
        /// The segment.
        id: SegmentId,
    },
    /// `base + len` overflows the address space.
    AddressOverflow {
        /// The segment.
        id: SegmentId,
        /// The length given.
        len: usize,
    },
    /// A segment with this id is already registered.
    AlreadyRegistered {
        /// The segment.
        id: SegmentId,
    },
    /// The address range overlaps an already registered segment.
    Overlap {
        /// The segment being registered.
        id: SegmentId,
        /// The registered segment it overlaps.
        other: SegmentId,
    },
    /// All `capacity` entries are in use.
    TableFull {
        /// The segment being registered.
        id: SegmentId,
        /// The capacity of the table.
        capacity: usize,
    },
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NullBase { id } => write!(f, "{id}: base address is null"),
            Self::Empty { id } => write!(f, "{id}: length is zero"),
            Self::AddressOverflow { id, len } => {
                write!(f, "{id}: base + length {len} overflows the address space")
            }
            Self::AlreadyRegistered { id } => write!(f, "{id} is already registered"),
            Self::Overlap { id, other } => write!(f, "{id} overlaps {other}"),
            Self::TableFull { id, capacity } => {
                write!(f, "cannot register {id}: all {capacity} entries are in use")
            }
        }
    }
}

impl core::error::Error for RegisterError {}

/// Why [`SegmentTable::resolve`] refused a relative pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResolveError {
    /// The requested alignment is not a power of two.
    InvalidAlign {
        /// The alignment asked for.
        align: usize,
    },
    /// The pointer's reserved word is not zero.
    ReservedNonZero {
        /// The reserved word found.
        value: u32,
    },
    /// No segment with this id is registered.
    UnknownSegment {
        /// The segment named by the pointer.
        segment: SegmentId,
    },
    /// `offset + size` does not lie inside the segment.
    OutOfBounds {
        /// The segment.
        segment: SegmentId,
        /// The offset found.
        offset: u64,
        /// The size asked for.
        size: usize,
        /// The segment's length.
        len: usize,
    },
    /// The address is not a multiple of the requested alignment.
    Misaligned {
        /// The segment.
        segment: SegmentId,
        /// The offset found.
        offset: u64,
        /// The alignment asked for.
        align: usize,
    },
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidAlign { align } => write!(f, "alignment {align} is not a power of two"),
            Self::ReservedNonZero { value } => {
                write!(f, "relative pointer has nonzero reserved word {value:#x}")
            }
            Self::UnknownSegment { segment } => write!(f, "{segment} is not mapped"),
            Self::OutOfBounds {
                segment,
                offset,
                size,
                len,
            } => write!(
                f,
                "{segment}: {size} bytes at offset {offset:#x} exceed its length {len:#x}"
            ),
            Self::Misaligned {
                segment,
                offset,
                align,
            } => write!(f, "{segment}: offset {offset:#x} is not {align}-aligned"),
        }
    }
}

impl core::error::Error for ResolveError {}

impl<const N: usize> SegmentTable<N> {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            segments: [None; N],
        }
    }

    /// Records that segment `id` is mapped at `base` for `len` bytes.
    pub fn register(
        &mut self,
        id: SegmentId,
        base: *mut u8,
        len: usize,
    ) -> Result<(), RegisterError> {
        let base = NonNull::new(base).ok_or(RegisterError::NullBase { id })?;
        if len == 0 {
            return Err(RegisterError::Empty { id });
        }
        if base.as_ptr().addr().checked_add(len).is_none() {
            return Err(RegisterError::AddressOverflow { id, len });
        }
        let new = Segment { id, base, len };
        for seg in self.segments.iter().flatten() {
            if seg.id == id {
                return Err(RegisterError::AlreadyRegistered { id });
            }
            if new.start() < seg.end() && seg.start() < new.end() {
                return Err(RegisterError::Overlap { id, other: seg.id });
            }
        }
        let free = self.segments.iter_mut().find(|s| s.is_none());
        let free = free.ok_or(RegisterError::TableFull { id, capacity: N })?;
        *free = Some(new);
        Ok(())
    }

    /// Forgets segment `id` (before it is unmapped); `false` if it was not
    /// registered.
    pub fn unregister(&mut self, id: SegmentId) -> bool {
        match self
            .segments
            .iter_mut()
            .find(|s| s.is_some_and(|s| s.id == id))
        {
            Some(entry) => {
                *entry = None;
                true
            }
            None => false,
        }
    }

    /// The base address and length of segment `id`.
    pub fn segment(&self, id: SegmentId) -> Option<(NonNull<u8>, usize)> {
        self.find(id).map(|s| (s.base, s.len))
    }

    fn find(&self, id: SegmentId) -> Option<&Segment> {
        self.segments.iter().flatten().find(|s| s.id == id)
    }

    /// The address of `size` bytes at `ptr`, checked to lie inside a
    /// registered segment and to be `align`-aligned.
    pub fn resolve(
        &self,
        ptr: RelativePtr,
        size: usize,
        align: usize,
    ) -> Result<NonNull<u8>, ResolveError> {
        if !align.is_power_of_two() {
            return Err(ResolveError::InvalidAlign { align });
        }
        if ptr.reserved() != 0 {
            return Err(ResolveError::ReservedNonZero {
                value: ptr.reserved(),
            });
        }
        let segment = ptr.segment();
        let seg = self
            .find(segment)
            .ok_or(ResolveError::UnknownSegment { segment })?;
        let out_of_bounds = ResolveError::OutOfBounds {
            segment,
            offset: ptr.offset(),
            size,
            len: seg.len,
        };
        let offset = usize::try_from(ptr.offset()).map_err(|_| out_of_bounds)?;
        match offset.checked_add(size) {
            Some(end) if end <= seg.len => {}
            _ => return Err(out_of_bounds),
        }
        let addr = seg.base.as_ptr().wrapping_add(offset);
        if addr.addr() & (align - 1) != 0 {
            return Err(ResolveError::Misaligned {
                segment,
                offset: ptr.offset(),
                align,
            });
        }
        // `base` is non-null and `base + offset` does not wrap (checked at
        // registration: `base + len` does not overflow and `offset <= len`).
        NonNull::new(addr).ok_or(out_of_bounds)
    }

    /// [`resolve`](Self::resolve) for one `T`: its size and alignment.
    pub fn resolve_as<T>(&self, ptr: RelativePtr) -> Result<NonNull<T>, ResolveError> {
        self.resolve(ptr, size_of::<T>(), align_of::<T>())
            .map(NonNull::cast)
    }

    /// The relative pointer of `addr`, if it lies inside a registered segment.
    pub fn relative(&self, addr: *const u8) -> Option<RelativePtr> {
        let addr = addr.addr();
        let seg = self
            .segments
            .iter()
            .flatten()
            .find(|s| s.start() <= addr && addr < s.end())?;
        Some(RelativePtr::new(seg.id, (addr - seg.start()) as u64))
    }
}

impl<const N: usize> Default for SegmentTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for SegmentTable<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for s in self.segments.iter().flatten() {
            list.entry(&(s.id, s.base, s.len));
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(mem: &mut [u64]) -> (SegmentTable<2>, *mut u8) {
        let base = mem.as_mut_ptr().cast::<u8>();
        let mut t = SegmentTable::new();
        t.register(SegmentId(7), base, size_of_val(mem)).unwrap();
        (t, base)
    }

    #[test]
    fn registration_errors() {
        let mut mem = [0u64; 4];
        let (mut t, base) = table(&mut mem);
        let id = SegmentId(1);
        assert_eq!(
            t.register(id, core::ptr::null_mut(), 8),
            Err(RegisterError::NullBase { id })
        );
        assert_eq!(t.register(id, base, 0), Err(RegisterError::Empty { id }));
        let top = core::ptr::without_provenance_mut::<u8>(usize::MAX);
        assert_eq!(
            t.register(id, top, 2),
            Err(RegisterError::AddressOverflow { id, len: 2 })
        );
        assert_eq!(
            t.register(SegmentId(7), base.wrapping_add(64), 8),
            Err(RegisterError::AlreadyRegistered { id: SegmentId(7) })
        );
        assert_eq!(
            t.register(id, base.wrapping_add(31), 8),
            Err(RegisterError::Overlap {
                id,
                other: SegmentId(7)
            })
        );
        t.register(id, base.wrapping_add(32), 8).unwrap();
        assert_eq!(
            t.register(SegmentId(2), base.wrapping_add(64), 8),
            Err(RegisterError::TableFull {
                id: SegmentId(2),
                capacity: 2
            })
        );
        assert!(t.unregister(id));
        assert!(!t.unregister(id));
        assert_eq!(t.segment(SegmentId(7)).map(|s| s.1), Some(32));
    }

    #[test]
    fn resolve_rejects_hostile_pointers() {
        let mut mem = [0u64; 4];
        let (t, base) = table(&mut mem);
        let seg = SegmentId(7);
        let ok = t.resolve(RelativePtr::new(seg, 24), 8, 8).unwrap();
        assert_eq!(ok.as_ptr(), base.wrapping_add(24));
        assert!(t.resolve(RelativePtr::new(seg, 32), 0, 1).is_ok());
        let oob = |offset, size| ResolveError::OutOfBounds {
            segment: seg,
            offset,
            size,
            len: 32,
        };
        assert_eq!(t.resolve(RelativePtr::new(seg, 25), 8, 1), Err(oob(25, 8)));
        assert_eq!(
            t.resolve(RelativePtr::new(seg, u64::MAX), 1, 1),
            Err(oob(u64::MAX, 1))
        );
        assert_eq!(
            t.resolve(RelativePtr::new(seg, 8), usize::MAX, 1),
            Err(oob(8, usize::MAX))
        );
        assert_eq!(
            t.resolve(RelativePtr::new(seg, 4), 4, 8),
            Err(ResolveError::Misaligned {
                segment: seg,
                offset: 4,
                align: 8
            })
        );
        assert_eq!(
            t.resolve(RelativePtr::new(seg, 0), 4, 3),
            Err(ResolveError::InvalidAlign { align: 3 })
        );
        assert_eq!(
            t.resolve(RelativePtr::new(SegmentId(9), 0), 1, 1),
            Err(ResolveError::UnknownSegment {
                segment: SegmentId(9)
            })
        );
        // As found in shared memory: offset 0, segment 7, reserved 5.
        let raw: [u64; 2] = [0, 7 | (5 << 32)];
        // SAFETY: `RelativePtr` is `repr(C)` of two `u32`s after a `u64`, 16
        // bytes with alignment 8, and every bit pattern is a valid value.
        let hostile = unsafe { core::ptr::read(raw.as_ptr().cast::<RelativePtr>()) };
        assert_eq!(
            t.resolve(hostile, 1, 1),
            Err(ResolveError::ReservedNonZero { value: 5 })
        );
    }

    #[test]
    fn resolved_pointers_are_usable_and_map_back() {
        let mut mem = [0u64; 4];
        let (t, base) = table(&mut mem);
        let p = t
            .resolve_as::<u64>(RelativePtr::new(SegmentId(7), 16))
            .unwrap();
        // SAFETY: `p` points at `mem[2]`, inside the live, exclusively borrowed
        // array, and is 8-aligned (checked by `resolve`).
        unsafe { p.as_ptr().write(0xABCD) };
        assert_eq!(mem[2], 0xABCD);
        assert_eq!(
            t.relative(base.wrapping_add(31)),
            Some(RelativePtr::new(SegmentId(7), 31))
        );
        assert_eq!(t.relative(base.wrapping_add(32)), None);
    }
}
