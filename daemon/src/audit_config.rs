//! `[audit]`: how often the daemon audits what it owns in shared memory
//! ([`crate::audit`]), and what it does about a corrupt pool.
//!
//! ```toml
//! [audit]
//! interval_ms = 1000                     # audit every group, the mgmt header and the heartbeats; 0: off
//! on_corrupt_pool = "reset-when-empty"   # or "reset-now"
//! ```
//!
//! With the timer off the daemon still repairs a group's headers before it
//! hands the group out with a port, and the mgmt header before a
//! registration reply, and audits the groups of every process it reclaims.
//!
//! A corrupt pool (a freelist cut short, looping, or listing a chunk that
//! is held; chunks lost or held more often than counted) is repaired only
//! by resetting its segment group onto fresh memory ([`crate::group_reset`]),
//! which revokes every port of the group:
//!
//! - `reset-when-empty` (the default): the group is reset once it has no
//!   port left. Its processes go on meanwhile, with fewer chunks (lost
//!   ones) or at the risk of a chunk handed to two owners (a doubly listed
//!   one), and nobody is interrupted by the daemon;
//! - `reset-now`: the group is reset at once; every process of the group is
//!   told (`RevokeReason::CorruptPool`) and must create its ports again.

use serde::Deserialize;

use crate::config::{ConfigError, invalid};

/// The default audit interval (one second).
pub const DEFAULT_AUDIT_INTERVAL_MS: u64 = 1_000;
/// Largest audit interval accepted (one hour).
const MAX_AUDIT_INTERVAL_MS: u64 = 3_600_000;
/// How often a kind of finding of one scope may be logged when the timer is
/// off (it is the audit interval otherwise).
const LOG_INTERVAL_WITHOUT_TIMER_MS: u64 = 1_000;

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

/// `[audit]` (module docs).
///
/// ```
/// use zerocp_daemon::audit_config::OnCorruptPool;
/// use zerocp_daemon::config::DaemonConfig;
///
/// let config = DaemonConfig::from_toml_str("[audit]\ninterval_ms = 250\n")?;
/// assert_eq!(config.audit.interval_ms, 250);
/// assert!(config.audit.enabled());
/// assert_eq!(config.audit.on_corrupt_pool, OnCorruptPool::ResetWhenEmpty);
/// let off = DaemonConfig::from_toml_str("[audit]\ninterval_ms = 0\n")?;
/// assert!(!off.audit.enabled());
/// assert!(DaemonConfig::from_toml_str("[audit]\ninterval_ms = 7200000\n").is_err());
/// let now = DaemonConfig::from_toml_str("[audit]\non_corrupt_pool = \"reset-now\"\n")?;
/// assert_eq!(now.audit.on_corrupt_pool, OnCorruptPool::ResetNow);
/// assert!(DaemonConfig::from_toml_str("[audit]\non_corrupt_pool = \"later\"\n").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Milliseconds between two audits; 0 turns the timer off.
    pub interval_ms: u64,
    /// When to reset a group whose pool the audit found corrupt.
    pub on_corrupt_pool: OnCorruptPool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            interval_ms: DEFAULT_AUDIT_INTERVAL_MS,
            on_corrupt_pool: OnCorruptPool::default(),
        }
    }
}

impl AuditConfig {
    /// Checks the interval; the error names `audit.interval_ms`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.interval_ms > MAX_AUDIT_INTERVAL_MS {
            return Err(invalid(
                "audit.interval_ms",
                format!(
                    "= {} is above the maximum {MAX_AUDIT_INTERVAL_MS} (0 turns the audit off)",
                    self.interval_ms
                ),
            ));
        }
        Ok(())
    }

    /// Whether the timer runs.
    pub fn enabled(&self) -> bool {
        self.interval_ms > 0
    }

    /// How often one kind of finding of one group (or of the domain) may
    /// be logged: once per audit interval, or per second with the timer off.
    pub fn log_interval_ms(&self) -> u64 {
        if self.enabled() {
            self.interval_ms
        } else {
            LOG_INTERVAL_WITHOUT_TIMER_MS
        }
    }
}
