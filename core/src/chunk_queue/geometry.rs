//! Stamp arithmetic of [`ChunkQueue`](super::ChunkQueue): positions, laps,
//! the cell word encoding and what a cell's stamp says about a position.

/// Capacity and lap size of one operation (derived from the clamped capacity).
#[derive(Clone, Copy)]
pub(super) struct Geometry {
    /// Logical capacity, `1..=CAP`.
    pub(super) cap: u32,
    /// `(cap + 1).next_power_of_two()`: a lap, in stamps.
    pub(super) one_lap: u32,
}

impl Geometry {
    pub(super) fn new(cap: u32) -> Self {
        Self {
            cap,
            one_lap: (cap + 1).next_power_of_two(),
        }
    }

    /// The cell index of a position (`< one_lap`; `< cap` unless corrupted).
    pub(super) fn index(self, stamp: u32) -> u32 {
        stamp & (self.one_lap - 1)
    }

    fn lap(self, stamp: u32) -> u32 {
        stamp & !(self.one_lap - 1)
    }

    /// The position after `stamp`: next index, or index 0 of the next lap.
    pub(super) fn advance(self, stamp: u32) -> u32 {
        if self.index(stamp) + 1 < self.cap {
            stamp.wrapping_add(1)
        } else {
            self.lap(stamp).wrapping_add(self.one_lap)
        }
    }

    /// Number of positions from `head` to `tail`, clamped to `0..=cap`.
    pub(super) fn distance(self, head: u32, tail: u32) -> u32 {
        // Cannot truncate: clamped to `0..=cap`.
        self.signed_distance(head, tail)
            .clamp(0, i64::from(self.cap)) as u32
    }

    /// Number of positions from `head` to `tail`, unclamped (negative when
    /// `tail` is behind `head`; laps taken as a signed 32-bit difference).
    pub(super) fn signed_distance(self, head: u32, tail: u32) -> i64 {
        let laps =
            i64::from(self.lap(tail).wrapping_sub(self.lap(head)) as i32) / i64::from(self.one_lap);
        laps * i64::from(self.cap) + i64::from(self.index(tail)) - i64::from(self.index(head))
    }

    /// The cell of position `pos` says `pos` was filled and not yet advanced
    /// past by a consumer: full for `pos`, or already consumed (`pos + lap`).
    pub(super) fn filled(self, pos: u32, stamp: u32) -> bool {
        stamp == pos.wrapping_add(1) || stamp == pos.wrapping_add(self.one_lap)
    }

    /// The cell of position `pos` says `pos` was consumed: free for the next
    /// lap, or already refilled for it.
    pub(super) fn consumed(self, pos: u32, stamp: u32) -> bool {
        let next = pos.wrapping_add(self.one_lap);
        stamp == next || stamp == next.wrapping_add(1)
    }

    /// The cell of position `pos` still holds the entry of the previous lap.
    pub(super) fn full_from_previous_lap(self, pos: u32, stamp: u32) -> bool {
        stamp == pos.wrapping_add(1).wrapping_sub(self.one_lap)
    }
}

/// A cell word: `stamp << 32 | chunk index`.
#[inline]
pub(super) fn pack(stamp: u32, value: u32) -> u64 {
    (u64::from(stamp) << 32) | u64::from(value)
}

#[inline]
pub(super) fn stamp_of(word: u64) -> u32 {
    (word >> 32) as u32
}

#[inline]
pub(super) fn value_of(word: u64) -> u32 {
    // Truncation is the point: the low half is the chunk index.
    word as u32
}
