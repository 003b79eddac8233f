//! Checking a chunk a subscriber popped from its queue before its payload
//! is used: the index and the chunk's header come from shared memory,
//! written by other processes, so every field is checked against the
//! daemon's layout of the pools and the port's types (payload offset after
//! the user header; payload size: the type's, or for a slice a whole
//! number of elements within the chunk), and what is wrong is named rather
//! than trusted.

use zerocp_core::chunk_header::{ChunkHeader, PayloadRange};
use zerocp_core::mempool_manager::MemPoolManager;

use crate::payload::PayloadLayout;

/// Checks the header of `chunk` (read from shared memory, written by
/// another process) before its payload is used. `located` is the chunk's
/// global index with the pool it lies in and its header
/// ([`MemPoolManager::chunk_in_pool`]): the header names this very chunk
/// and mempool, it is consistent with the
/// pool's stride, its payload starts where the port's user header type puts
/// it (`payload_offset`) and has a size the port's type can have
/// (`payload`: exactly its size, or a whole number of a slice's elements).
/// Returns where the payload is and its elements, or what is wrong.
pub(super) fn check_header(
    pools: &MemPoolManager<'_>,
    located: (u32, usize, &ChunkHeader),
    payload_offset: u32,
    payload: PayloadLayout,
) -> Result<(PayloadRange, usize), &'static str> {
    let (chunk, pool, header) = located;
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
    if range.offset != payload_offset {
        return Err("payload offset differs from the port's user header");
    }
    let len = payload
        .elements(range.size)
        .ok_or("payload size differs from the port's type")?;
    Ok((range, len))
}
