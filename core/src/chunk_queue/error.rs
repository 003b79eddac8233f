//! The errors of [`ChunkQueue`](super::ChunkQueue): one per fallible operation.

use core::fmt;

/// The requested capacity is not in `1..=CAP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CapacityError {
    /// The capacity asked for.
    pub requested: u32,
    /// The largest capacity this queue type holds (`CAP`).
    pub max: u32,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chunk queue capacity {} is not in 1..={}",
            self.requested, self.max
        )
    }
}

impl core::error::Error for CapacityError {}

/// The queue is full; the index was not enqueued and is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QueueFull {
    /// The chunk index that was not enqueued.
    pub index: u32,
}

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chunk queue is full; chunk index {} was not enqueued",
            self.index
        )
    }
}

impl core::error::Error for QueueFull {}
