//! `[memory]`: when the daemon commits the mempools' memory.
//!
//! By default (`commit_pools = "at-start"`) every group's payload part is
//! committed when the group's memory is made: a machine short of memory
//! fails at the daemon's start (or a group's reset) with an error naming the
//! part, and a chunk never needs memory found for it on the data path (a
//! process still takes a minor fault to map each page). With `"on-touch"`
//! the payload part is only sized: a page of a chunk is allocated when it
//! is first touched, by a publisher writing it (or by anything reading a
//! chunk nobody wrote, which a forged queue entry can make a subscriber do,
//! or a process that pre-faults or locks its mappings), so pools configured
//! large cost only the chunks used (chunks are loaned most recently freed
//! first, so a steady flow keeps reusing the same few). The price: the
//! first touch of each page takes a page fault, and a machine short of
//! memory at that moment does not give a clear error at start. The
//! touching process meets the kernel's refusal. Under a memory cgroup
//! limit, that is the cgroup's out-of-memory killer; the page stays
//! charged to the toucher's cgroup as long as the daemon holds the memory.
//! Under strict overcommit (`vm.overcommit_memory = 2`) it is a `SIGBUS`.
//! The control parts are committed by use either way
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
