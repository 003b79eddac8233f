//! `[memory]`: when the daemon commits the mempools' memory.
//!
//! By default (`commit_pools = "at-start"`) every group's payload part is
//! committed when the group's memory is made: a machine short of memory
//! fails at the daemon's start (or a group's reset) with an error naming the
//! part, and no page of a chunk ever faults in on the data path. With
//! `"on-touch"` the payload part is only sized: a page of a chunk is
//! allocated when a publisher first writes it, so pools configured large
//! cost only the chunks used (chunks are loaned most recently freed first, so
//! a steady flow keeps reusing the same few). The price: the first write to
//! each page of a chunk takes a page fault, and a machine short of memory at
//! that moment meets the kernel's out-of-memory handling (a memory file has
//! no size limit of its own, so never a `SIGBUS`) instead of a clear error
//! at start. The control parts are committed by use either way
//! ([`crate::group_memory`]).

use serde::Deserialize;

/// `[memory] commit_pools`: when a payload part's pages are committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PoolCommit {
    /// All of them when the group's memory is made (module docs).
    #[default]
    AtStart,
    /// Each when a publisher first writes it.
    OnTouch,
}

/// `[memory]` (module docs).
///
/// ```
/// use zerocp_daemon::config::DaemonConfig;
/// use zerocp_daemon::memory_config::PoolCommit;
///
/// let config = DaemonConfig::from_toml_str("")?;
/// assert_eq!(config.memory.commit_pools, PoolCommit::AtStart);
/// let lazy = DaemonConfig::from_toml_str("[memory]\ncommit_pools = \"on-touch\"\n")?;
/// assert_eq!(lazy.memory.commit_pools, PoolCommit::OnTouch);
/// assert!(DaemonConfig::from_toml_str("[memory]\ncommit_pools = \"later\"\n").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// When the mempools' pages are committed.
    pub commit_pools: PoolCommit,
}
