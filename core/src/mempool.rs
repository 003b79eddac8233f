//! Mempool configuration and the layout of a group's payload part.
//!
//! Each segment group (the daemon's `default` group is group 0, the
//! configured `[[group]]`s follow in order) has its own payload part
//! (`zerocp.<domain>.<group>.payload`) holding one pool per configured size
//! class of the group, one after the other, by payload capacity. Every pool
//! carries the index of its group; a [`MempoolLayout`] is computed from one
//! group's pools, and a port's pool is chosen among its group's pools only
//! ([`MempoolLayout::pool_for`]), so one group exhausting its chunks never
//! takes chunks from another. Every chunk of a pool occupies `stride`
//! bytes: the 64-byte [`ChunkHeader`](crate::chunk_header::ChunkHeader), then
//! the payload, rounded up to 64 so every chunk (and so every header) is
//! 64-aligned. Chunks are numbered by a `u32` index over the layout's pools,
//! pool after pool (called *global* here: global to the group); that index,
//! together with the group, is what freelists, queues and used-chunk lists
//! store.
//!
//! The daemon and every runtime compute the same [`MempoolLayout`] from the
//! same `[MempoolConfig]` (which the daemon publishes in the group's control
//! part), so the layout itself never needs to be shared.

use core::fmt;

use crate::chunk_header::{CHUNK_HEADER_SIZE, PayloadAlignError, payload_offset};

/// Largest number of mempools, over all segment groups (a group control
/// header's mempool table has one 12-byte entry per pool).
pub const MAX_MEMPOOLS: usize = 32;

/// Largest total number of chunks: `u32::MAX` itself stays free as an
/// "no chunk" marker for the structures that store chunk indices.
pub const MAX_TOTAL_CHUNKS: u32 = u32::MAX - 1;

/// Largest data segment: `i64::MAX` bytes, the largest length `ftruncate`
/// (an `off_t`) accepts.
pub const MAX_SEGMENT_BYTES: u64 = i64::MAX as u64;

/// One size class as configured (`[[mempool]] size = … count = …`), and
/// the segment group it belongs to.
/// `#[repr(C)]` so the daemon can publish the list in shared memory.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MempoolConfig {
    /// Payload capacity of each chunk, in bytes.
    pub chunk_size: u32,
    /// Number of chunks.
    pub chunk_count: u32,
    /// The segment group whose ports use the pool (0: the `default` group).
    pub group: u32,
}

const _: () = assert!(size_of::<MempoolConfig>() == 12);
const _: () = assert!(align_of::<MempoolConfig>() == 4);

/// Where one pool lies in the data segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLayout {
    group: u32,
    chunk_size: u32,
    chunk_count: u32,
    stride: u32,
    base_offset: u64,
    first_chunk: u32,
}

impl PoolLayout {
    /// The segment group the pool belongs to.
    pub fn group(&self) -> u32 {
        self.group
    }

    /// Payload capacity of each chunk (as configured).
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> u32 {
        self.chunk_count
    }

    /// Bytes per chunk, header included: `round_up(64 + chunk_size, 64)`.
    pub fn stride(&self) -> u32 {
        self.stride
    }

    /// Offset of the pool's first chunk in the data segment.
    pub fn base_offset(&self) -> u64 {
        self.base_offset
    }

    /// Global index of the pool's first chunk.
    pub fn first_chunk(&self) -> u32 {
        self.first_chunk
    }

    /// Whether global chunk index `global` belongs to this pool.
    pub fn contains(&self, global: u32) -> bool {
        global
            .checked_sub(self.first_chunk)
            .is_some_and(|local| local < self.chunk_count)
    }

    /// One past the pool's last global index (the layout keeps every
    /// index below `MAX_TOTAL_CHUNKS`, so this cannot overflow).
    fn end(&self) -> u32 {
        self.first_chunk + self.chunk_count
    }

    /// Bytes the pool occupies.
    pub fn total_bytes(&self) -> u64 {
        u64::from(self.stride) * u64::from(self.chunk_count)
    }
}

/// Why a mempool configuration has no layout. `pool` is the position in the
/// configuration as given (before sorting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LayoutError {
    /// No pool is configured.
    NoPools,
    /// More than [`MAX_MEMPOOLS`] pools.
    TooMany {
        /// The number configured.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A pool has `chunk_size == 0`.
    ZeroSize {
        /// The pool.
        pool: usize,
    },
    /// A pool has `chunk_count == 0`.
    ZeroCount {
        /// The pool.
        pool: usize,
    },
    /// Two pools of the same group have the same chunk size.
    DuplicateSize {
        /// The pool.
        pool: usize,
        /// The earlier pool with the same size.
        other: usize,
        /// The size.
        chunk_size: u32,
    },
    /// The chunk size plus header does not fit a `u32` stride.
    ChunkTooLarge {
        /// The pool.
        pool: usize,
        /// The size.
        chunk_size: u32,
    },
    /// The data segment would be larger than [`MAX_SEGMENT_BYTES`].
    TotalOverflow {
        /// The pool at which the sum overflowed.
        pool: usize,
    },
    /// The total number of chunks exceeds [`MAX_TOTAL_CHUNKS`].
    IndexOverflow {
        /// The pool at which the count overflowed.
        pool: usize,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPools => f.write_str("no mempool is configured"),
            Self::TooMany { count, max } => {
                write!(
                    f,
                    "{count} mempools configured, at most {max} are supported"
                )
            }
            Self::ZeroSize { pool } => write!(f, "mempool {pool}: chunk size is 0"),
            Self::ZeroCount { pool } => write!(f, "mempool {pool}: chunk count is 0"),
            Self::DuplicateSize {
                pool,
                other,
                chunk_size,
            } => write!(
                f,
                "mempool {pool}: chunk size {chunk_size} is already used by mempool {other}"
            ),
            Self::ChunkTooLarge { pool, chunk_size } => {
                write!(f, "mempool {pool}: chunk size {chunk_size} is too large")
            }
            Self::TotalOverflow { pool } => {
                write!(
                    f,
                    "mempool {pool}: the data segment would exceed {MAX_SEGMENT_BYTES} bytes"
                )
            }
            Self::IndexOverflow { pool } => write!(
                f,
                "mempool {pool}: more than {MAX_TOTAL_CHUNKS} chunks in total"
            ),
        }
    }
}

impl core::error::Error for LayoutError {}

/// No pool can hold a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PoolSelectError {
    /// The payload is larger than the largest chunks of the group's pools.
    TooLarge {
        /// The segment group whose pools were searched.
        group: u32,
        /// The payload size asked for.
        payload_size: u32,
        /// The largest chunk size of the group (0 if it has no pool).
        largest: u32,
    },
    /// The payload alignment cannot be placed.
    Align(PayloadAlignError),
}

impl fmt::Display for PoolSelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge {
                group,
                payload_size,
                largest,
            } => write!(
                f,
                "payload of {payload_size} bytes exceeds the largest mempool chunk size {largest} of segment group {group}"
            ),
            Self::Align(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for PoolSelectError {}

/// The layout of the data segment for a set of pools.
///
/// ```
/// use zerocp_core::mempool::{MempoolConfig, MempoolLayout};
///
/// let layout = MempoolLayout::compute(&[
///     MempoolConfig { chunk_size: 1024, chunk_count: 2, group: 0 },
///     MempoolConfig { chunk_size: 100, chunk_count: 4, group: 0 },
///     MempoolConfig { chunk_size: 64, chunk_count: 1, group: 1 },
/// ])?;
/// // Sorted by group, then size; 100 B of payload + 64 B header rounds up to 192 B.
/// assert_eq!(layout.pools()[0].stride(), 192);
/// assert_eq!(layout.total_chunks(), 7);
/// assert_eq!(layout.total_bytes(), 4 * 192 + 2 * 1088 + 128);
/// assert_eq!(layout.pool_for(0, 200, 8)?, 1);
/// assert_eq!(layout.pool_for(1, 8, 8)?, 2);
/// assert!(layout.pool_for(1, 100, 8).is_err()); // group 1 has only 64-byte chunks
/// assert_eq!(layout.locate(4), Some((1, 0)));
/// assert_eq!(layout.chunk_offset(4), Some(4 * 192));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MempoolLayout {
    pools: heapless::Vec<PoolLayout, MAX_MEMPOOLS>,
    total_bytes: u64,
    total_chunks: u32,
}

impl MempoolLayout {
    /// Checks `configs` and lays the pools out by group, then smallest chunk
    /// size first.
    pub fn compute(configs: &[MempoolConfig]) -> Result<Self, LayoutError> {
        let sorted = sorted_configs(configs)?;
        let mut pools = heapless::Vec::new();
        let mut total_bytes = 0u64;
        let mut total_chunks = 0u32;
        for &(pool, cfg) in &sorted {
            let stride = stride(cfg.chunk_size).ok_or(LayoutError::ChunkTooLarge {
                pool,
                chunk_size: cfg.chunk_size,
            })?;
            let layout = PoolLayout {
                group: cfg.group,
                chunk_size: cfg.chunk_size,
                chunk_count: cfg.chunk_count,
                stride,
                base_offset: total_bytes,
                first_chunk: total_chunks,
            };
            total_bytes = total_bytes
                .checked_add(layout.total_bytes())
                .filter(|&n| n <= MAX_SEGMENT_BYTES)
                .ok_or(LayoutError::TotalOverflow { pool })?;
            total_chunks = total_chunks
                .checked_add(cfg.chunk_count)
                .filter(|&n| n <= MAX_TOTAL_CHUNKS)
                .ok_or(LayoutError::IndexOverflow { pool })?;
            // Cannot fail: `sorted` holds at most MAX_MEMPOOLS entries.
            let _ = pools.push(layout);
        }
        Ok(Self {
            pools,
            total_bytes,
            total_chunks,
        })
    }

    /// The pools, by group, then smallest chunk size first.
    pub fn pools(&self) -> &[PoolLayout] {
        &self.pools
    }

    /// Size of the data segment in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Number of chunks over all pools.
    pub fn total_chunks(&self) -> u32 {
        self.total_chunks
    }

    /// The smallest pool of segment group `group` whose chunks hold
    /// `payload_size` bytes aligned to `align`. Pools of other groups are
    /// never chosen, however much room they have.
    pub fn pool_for(
        &self,
        group: u32,
        payload_size: u32,
        align: u32,
    ) -> Result<usize, PoolSelectError> {
        payload_offset(align).map_err(PoolSelectError::Align)?;
        let mut in_group = self
            .pools
            .iter()
            .enumerate()
            .filter(|(_, p)| p.group == group);
        in_group
            .clone()
            .find(|(_, p)| p.chunk_size >= payload_size)
            .map(|(i, _)| i)
            .ok_or(PoolSelectError::TooLarge {
                group,
                payload_size,
                largest: in_group.next_back().map_or(0, |(_, p)| p.chunk_size),
            })
    }

    /// The pool and the index within it of global chunk index `global`.
    pub fn locate(&self, global: u32) -> Option<(usize, u32)> {
        // Pools hold consecutive index ranges in ascending order, so the
        // first pool that ends above `global` holds it. A scan from the
        // smallest pool: one comparison per pool before it, which the
        // branch predictor learns in a steady stream (a binary search cost
        // about 60 instructions more per message at every pool position,
        // measured with five pools).
        let pool = self.pools.iter().position(|p| global < p.end())?;
        let p = &self.pools[pool];
        p.contains(global).then(|| (pool, global - p.first_chunk))
    }

    /// Offset of the chunk (its header) with global index `global` in the
    /// data segment.
    pub fn chunk_offset(&self, global: u32) -> Option<u64> {
        self.chunk_location(global).map(|(_, offset)| offset)
    }

    /// The pool of the chunk with global index `global` and the offset of
    /// its header in the data segment (one lookup for both).
    pub fn chunk_location(&self, global: u32) -> Option<(usize, u64)> {
        let (pool, local) = self.locate(global)?;
        let p = &self.pools[pool];
        Some((pool, p.base_offset + u64::from(local) * u64::from(p.stride)))
    }
}

/// `round_up(64 + chunk_size, 64)`, if it fits a `u32`.
fn stride(chunk_size: u32) -> Option<u32> {
    let raw = u64::from(chunk_size) + u64::from(CHUNK_HEADER_SIZE);
    let rounded = raw.div_ceil(u64::from(CHUNK_HEADER_SIZE)) * u64::from(CHUNK_HEADER_SIZE);
    u32::try_from(rounded).ok()
}

/// Checks each config and returns `(position as given, config)` sorted by size.
fn sorted_configs(
    configs: &[MempoolConfig],
) -> Result<heapless::Vec<(usize, MempoolConfig), MAX_MEMPOOLS>, LayoutError> {
    if configs.is_empty() {
        return Err(LayoutError::NoPools);
    }
    let mut sorted = heapless::Vec::<(usize, MempoolConfig), MAX_MEMPOOLS>::new();
    for (pool, &cfg) in configs.iter().enumerate() {
        if cfg.chunk_size == 0 {
            return Err(LayoutError::ZeroSize { pool });
        }
        if cfg.chunk_count == 0 {
            return Err(LayoutError::ZeroCount { pool });
        }
        if let Some(&(other, _)) = sorted
            .iter()
            .find(|(_, c)| c.group == cfg.group && c.chunk_size == cfg.chunk_size)
        {
            return Err(LayoutError::DuplicateSize {
                pool,
                other,
                chunk_size: cfg.chunk_size,
            });
        }
        sorted.push((pool, cfg)).map_err(|_| LayoutError::TooMany {
            count: configs.len(),
            max: MAX_MEMPOOLS,
        })?;
    }
    sorted.sort_unstable_by_key(|(_, c)| (c.group, c.chunk_size));
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn cfg(chunk_size: u32, chunk_count: u32) -> MempoolConfig {
        MempoolConfig {
            chunk_size,
            chunk_count,
            group: 0,
        }
    }

    const fn grouped(group: u32, chunk_size: u32, chunk_count: u32) -> MempoolConfig {
        MempoolConfig {
            chunk_size,
            chunk_count,
            group,
        }
    }

    #[test]
    fn pools_are_chosen_within_their_group_only() {
        let l = MempoolLayout::compute(&[
            grouped(2, 64, 1),
            grouped(0, 4096, 1),
            grouped(1, 64, 2),
            grouped(0, 64, 1),
        ])
        .unwrap();
        let order: heapless::Vec<(u32, u32), 4> = l
            .pools()
            .iter()
            .map(|p| (p.group(), p.chunk_size()))
            .collect();
        assert_eq!(order.as_slice(), &[(0, 64), (0, 4096), (1, 64), (2, 64)]);
        assert_eq!(l.pool_for(0, 100, 8), Ok(1));
        assert_eq!(l.pool_for(1, 64, 8), Ok(2));
        assert_eq!(l.pool_for(2, 1, 1), Ok(3));
        assert_eq!(
            l.pool_for(1, 100, 8),
            Err(PoolSelectError::TooLarge {
                group: 1,
                payload_size: 100,
                largest: 64
            })
        );
        assert_eq!(
            l.pool_for(7, 1, 1),
            Err(PoolSelectError::TooLarge {
                group: 7,
                payload_size: 1,
                largest: 0
            })
        );
        // The same size in two groups is two pools, not a duplicate.
        assert!(MempoolLayout::compute(&[grouped(0, 64, 1), grouped(1, 64, 1)]).is_ok());
        assert_eq!(
            MempoolLayout::compute(&[grouped(1, 64, 1), grouped(1, 64, 1)]),
            Err(LayoutError::DuplicateSize {
                pool: 1,
                other: 0,
                chunk_size: 64
            })
        );
    }

    #[test]
    fn layout_is_sorted_contiguous_and_aligned() {
        let l = MempoolLayout::compute(&[cfg(4096, 3), cfg(64, 10), cfg(1, 1)]).unwrap();
        let strides: heapless::Vec<u32, 3> = l.pools().iter().map(|p| p.stride()).collect();
        assert_eq!(strides.as_slice(), &[128, 128, 4160]);
        let bases: heapless::Vec<u64, 3> = l.pools().iter().map(|p| p.base_offset()).collect();
        assert_eq!(bases.as_slice(), &[0, 128, 128 + 1280]);
        assert_eq!(l.total_bytes(), 128 + 1280 + 3 * 4160);
        assert_eq!(l.total_chunks(), 14);
        for g in 0..l.total_chunks() {
            let off = l.chunk_offset(g).unwrap();
            assert_eq!(off % 64, 0);
            let (pool, local) = l.locate(g).unwrap();
            assert_eq!(l.pools()[pool].first_chunk() + local, g);
            assert!(off + u64::from(l.pools()[pool].stride()) <= l.total_bytes());
        }
        assert_eq!(l.chunk_offset(14), None);
        assert_eq!(l.locate(u32::MAX), None);
    }

    #[test]
    fn pool_selection() {
        let l = MempoolLayout::compute(&[cfg(256, 1), cfg(64, 1)]).unwrap();
        assert_eq!(l.pool_for(0, 0, 1), Ok(0));
        assert_eq!(l.pool_for(0, 64, 64), Ok(0));
        assert_eq!(l.pool_for(0, 65, 8), Ok(1));
        assert_eq!(
            l.pool_for(0, 257, 8),
            Err(PoolSelectError::TooLarge {
                group: 0,
                payload_size: 257,
                largest: 256
            })
        );
        assert_eq!(
            l.pool_for(0, 8, 128),
            Err(PoolSelectError::Align(PayloadAlignError::TooLarge {
                align: 128,
                max: 64
            }))
        );
    }

    #[test]
    fn configuration_errors_name_the_pool() {
        use LayoutError::*;
        let compute = MempoolLayout::compute;
        assert_eq!(compute(&[]), Err(NoPools));
        assert_eq!(compute(&[cfg(8, 1), cfg(0, 1)]), Err(ZeroSize { pool: 1 }));
        assert_eq!(compute(&[cfg(8, 0)]), Err(ZeroCount { pool: 0 }));
        assert_eq!(
            compute(&[cfg(8, 1), cfg(9, 1), cfg(8, 2)]),
            Err(DuplicateSize {
                pool: 2,
                other: 0,
                chunk_size: 8
            })
        );
        assert_eq!(
            compute(&[cfg(u32::MAX, 1)]),
            Err(ChunkTooLarge {
                pool: 0,
                chunk_size: u32::MAX
            })
        );
        assert_eq!(
            compute(&[cfg(1, u32::MAX - 1), cfg(2, 1)]),
            Err(IndexOverflow { pool: 1 })
        );
        let big = u32::MAX - 128;
        let many: heapless::Vec<MempoolConfig, 16> = (0..16u32)
            .map(|i| cfg(big - i * 64, u32::MAX / 16))
            .collect();
        assert!(matches!(compute(&many), Err(TotalOverflow { .. })));
        let too_many: heapless::Vec<MempoolConfig, 33> = (1..=33).map(|i| cfg(i, 1)).collect();
        assert_eq!(compute(&too_many), Err(TooMany { count: 33, max: 32 }));
        assert!(
            std::format!(
                "{}",
                DuplicateSize {
                    pool: 2,
                    other: 0,
                    chunk_size: 8
                }
            )
            .contains("mempool 2")
        );
    }
}
