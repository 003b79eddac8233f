//! Relative pointers: where something lives in shared memory, as a segment id
//! and a byte offset, never as an address.
//!
//! Each process maps a segment at its own address, so an address written by
//! one process means nothing to another. A [`RelativePtr`] names the segment
//! ([`SegmentId`]) and the offset from its start; each process turns it into an
//! address through its own [`SegmentTable`](crate::segment_table::SegmentTable),
//! which checks the offset against the segment's length and the alignment the
//! reader needs, because the value may have been written by a faulty or
//! hostile process.

use core::fmt;

/// Identifies a shared-memory segment within a domain (assigned by the daemon;
/// see [`SegmentId::MGMT`] and [`SegmentId::DATA`]).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SegmentId(pub u32);

impl SegmentId {
    /// The management segment (headers, ports, freelists).
    pub const MGMT: SegmentId = SegmentId(0);
    /// The data segment (chunks).
    pub const DATA: SegmentId = SegmentId(1);
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {}", self.0)
    }
}

/// A position in shared memory: byte `offset` of segment `segment`.
///
/// `#[repr(C)]`, 16 bytes, 8-aligned on every target. All zeros is a valid
/// value (offset 0 of segment 0).
///
/// ```
/// use zerocp_core::relative_ptr::{RelativePtr, SegmentId};
///
/// let p = RelativePtr::new(SegmentId::DATA, 4096);
/// assert_eq!(p.segment(), SegmentId::DATA);
/// assert_eq!(p.offset(), 4096);
/// assert_eq!(p.checked_add(64).map(|q| q.offset()), Some(4160));
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelativePtr {
    offset: u64,
    segment: u32,
    _reserved: u32,
}

const _: () = assert!(size_of::<RelativePtr>() == 16);
const _: () = assert!(align_of::<RelativePtr>() == 8);

impl RelativePtr {
    /// Points at byte `offset` of `segment`.
    pub const fn new(segment: SegmentId, offset: u64) -> Self {
        Self {
            offset,
            segment: segment.0,
            _reserved: 0,
        }
    }

    /// Rebuilds a pointer from its raw fields as found in memory; `reserved`
    /// must be zero (a nonzero value is how a newer layout, or corruption,
    /// would show).
    pub const fn from_raw(segment: u32, offset: u64, reserved: u32) -> Option<Self> {
        if reserved != 0 {
            return None;
        }
        Some(Self::new(SegmentId(segment), offset))
    }

    /// The segment.
    pub const fn segment(&self) -> SegmentId {
        SegmentId(self.segment)
    }

    /// The byte offset from the segment's start.
    pub const fn offset(&self) -> u64 {
        self.offset
    }

    /// The reserved word (zero in every valid pointer).
    pub const fn reserved(&self) -> u32 {
        self._reserved
    }

    /// The same segment, `bytes` further; `None` on overflow.
    pub const fn checked_add(&self, bytes: u64) -> Option<Self> {
        match self.offset.checked_add(bytes) {
            Some(offset) => Some(Self { offset, ..*self }),
            None => None,
        }
    }
}

impl fmt::Display for RelativePtr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{:#x}", self.segment(), self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip_and_reserved_check() {
        let p = RelativePtr::new(SegmentId(3), 77);
        assert_eq!(RelativePtr::from_raw(3, 77, 0), Some(p));
        assert_eq!(RelativePtr::from_raw(3, 77, 1), None);
        assert_eq!(p.reserved(), 0);
        assert_eq!(p.checked_add(u64::MAX), None);
        assert_eq!(std::format!("{p}"), "segment 3+0x4d");
        assert_eq!(RelativePtr::default(), RelativePtr::new(SegmentId::MGMT, 0));
    }
}
