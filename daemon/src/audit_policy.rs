//! `[audit]`: what the daemon does about what its audit of shared memory
//! finds. This module holds the recovery policy only; the audit's own keys
//! (when it runs) belong beside it in the same section.
//!
//! ```toml
//! [audit]
//! on_corrupt_pool = "reset-when-empty"   # or "reset-now"
//! ```
//!
//! A corrupt pool (a freelist cut short, looping, or listing a chunk that
//! is held) is repaired only by resetting its segment group onto fresh
//! memory ([`crate::group_reset`]), which revokes every port of the group:
//!
//! - `reset-when-empty` (the default): the group is reset once it has no
//!   port left. Its processes go on meanwhile, with fewer chunks (lost
//!   ones) or at the risk of a chunk handed to two owners (a doubly listed
//!   one), and nobody is interrupted by the daemon;
//! - `reset-now`: the group is reset at once; every process of the group is
//!   told (`RevokeReason::CorruptPool`) and must create its ports again.

use serde::Deserialize;

/// `[audit] on_corrupt_pool`: when to reset a group whose pool is corrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnCorruptPool {
    /// Once the group has no port left.
    #[default]
    ResetWhenEmpty,
    /// At once, revoking every port of the group.
    ResetNow,
}

/// The `[audit]` section (module docs).
///
/// ```
/// use zerocp_daemon::audit_policy::OnCorruptPool;
/// use zerocp_daemon::config::DaemonConfig;
///
/// let config = DaemonConfig::from_toml_str("[audit]\non_corrupt_pool = \"reset-now\"\n")?;
/// assert_eq!(config.audit.on_corrupt_pool, OnCorruptPool::ResetNow);
/// let default = DaemonConfig::from_toml_str("")?;
/// assert_eq!(default.audit.on_corrupt_pool, OnCorruptPool::ResetWhenEmpty);
/// assert!(DaemonConfig::from_toml_str("[audit]\non_corrupt_pool = \"later\"\n").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// When to reset a group whose pool the audit found corrupt.
    pub on_corrupt_pool: OnCorruptPool,
}
