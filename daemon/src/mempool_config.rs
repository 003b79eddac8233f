//! The `[[mempool]]` tables of the configuration: the size classes of
//! chunks of the `default` group (a `[[group]]` lists its own as
//! `[[group.mempool]]`), their built-in defaults and their validation.
//!
//! ```toml
//! [[mempool]]                   # one table per size class; replaces the defaults
//! size = 128                    # chunk size in bytes (the payload capacity)
//! count = 1024                  # number of chunks
//! ```

use serde::Deserialize;

use crate::config::{ConfigError, invalid};

/// One `[[mempool]]`: a size class of chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MempoolSpec {
    /// Chunk size in bytes: the largest payload a chunk of this pool holds.
    pub size: u32,
    /// Number of chunks.
    pub count: u32,
}

/// The built-in mempools: 128 B×1024, 1 KiB×512, 16 KiB×128, 128 KiB×32, 1 MiB×8, 4 MiB×4.
pub fn default_mempools() -> Vec<MempoolSpec> {
    const KIB: u32 = 1024;
    [
        (128, 1024),
        (KIB, 512),
        (16 * KIB, 128),
        (128 * KIB, 32),
        (KIB * KIB, 8),
        (4 * KIB * KIB, 4),
    ]
    .into_iter()
    .map(|(size, count)| MempoolSpec { size, count })
    .collect()
}

/// Checks the pools listed under `key` (`mempool`, `group[1].mempool`).
pub(crate) fn validate_mempools(key: &str, pools: &[MempoolSpec]) -> Result<(), ConfigError> {
    let max = zerocp_core::mempool::MAX_MEMPOOLS;
    if pools.len() > max {
        return Err(invalid(
            key,
            format!("lists {} pools, at most {max} allowed", pools.len()),
        ));
    }
    for (i, pool) in pools.iter().enumerate() {
        if pool.size == 0 {
            return Err(invalid(format!("{key}[{i}].size"), "must be > 0"));
        }
        if pool.count == 0 {
            return Err(invalid(format!("{key}[{i}].count"), "must be > 0"));
        }
        if let Some(j) = pools[..i].iter().position(|p| p.size == pool.size) {
            return Err(invalid(
                format!("{key}[{i}].size"),
                format!("= {} duplicates {key}[{j}].size", pool.size),
            ));
        }
    }
    Ok(())
}
