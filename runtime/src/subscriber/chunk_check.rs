//! Checking a chunk a subscriber popped from its queue before its payload
//! is used: the index and the chunk's header come from shared memory,
//! written by other processes, so every field is checked against the
//! daemon's layout of the pools and the port's payload size, and what is
//! wrong is named rather than trusted.

use zerocp_core::chunk_header::{ChunkHeader, PayloadRange};
use zerocp_core::mempool_manager::MemPoolManager;

/// Checks the header of `chunk` (read from shared memory, written by
/// another process) before its payload is used: the chunk lies in a mempool,
/// the header names this very chunk and mempool, it is consistent with the
/// pool's stride, and its payload has the port's size. Returns where the
/// payload is, or what is wrong.
pub(super) fn check_header(
    pools: &MemPoolManager<'_>,
    chunk: u32,
    header: &ChunkHeader,
    payload_size: u32,
) -> Result<PayloadRange, &'static str> {
    let (pool, _) = pools
        .layout()
        .locate(chunk)
        .ok_or("index outside every mempool")?;
    let layout = pools
        .layout()
        .pools()
        .get(pool)
        .ok_or("index outside every mempool")?;
    if header.chunk_index() != chunk {
        return Err("the chunk header names another chunk");
    }
    if header.mempool() as usize != pool {
        return Err("the chunk header names another mempool");
    }
    let range = header
        .validate(layout.stride())
        .map_err(|_| "inconsistent chunk header")?;
    if range.size != payload_size {
        return Err("payload size differs from the port's type");
    }
    Ok(range)
}
