//! `[limits]`: how many processes, ports, queue entries, history samples and
//! unregistered connections the daemon manages at once, their defaults and
//! their validation. Re-exported as `config::Limits`; the `default` group's
//! port limits and the mgmt segment's process limit are laid out from it
//! ([`DaemonConfig::group_configs`](crate::config::DaemonConfig::group_configs),
//! [`DaemonConfig::mgmt_config`](crate::config::DaemonConfig::mgmt_config)).

use serde::Deserialize;

use crate::config::{ConfigError, invalid};

/// Largest queue capacity the shared-memory port layout allows.
const QUEUE_CAPACITY_LIMIT: u32 = zerocp_core::port::MAX_QUEUE_CAPACITY as u32;
/// Deepest history the shared-memory port layout allows.
const HISTORY_LIMIT: u32 = zerocp_core::port::MAX_HISTORY as u32;

/// `[limits]`: how many of each thing the daemon manages at once.
///
/// ```
/// use zerocp_daemon::config::{DaemonConfig, Limits};
/// let config = DaemonConfig::from_toml_str("[limits]\nmax_history = 4\n").unwrap();
/// assert_eq!(config.limits, Limits { max_history: 4, ..Limits::default() });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Processes registered at once (heartbeat slots).
    pub max_processes: u32,
    /// Publisher ports at once.
    pub max_publishers: u32,
    /// Subscriber ports at once.
    pub max_subscribers: u32,
    /// Notifier ports (event services) at once; 0: none.
    pub max_notifiers: u32,
    /// Listener ports (event services) at once; 0: none.
    pub max_listeners: u32,
    /// Largest queue capacity a subscriber may request.
    pub max_queue_capacity: u32,
    /// Deepest history a publisher may keep (and a subscriber request).
    pub max_history: u32,
    /// Connections that have not registered (tools, runtimes connecting)
    /// at once. A newcomer beyond it evicts the oldest unregistered
    /// connection of the uid that holds the most
    /// ([`crate::pending_limits`]).
    pub max_pending_connections: u32,
    /// Unregistered connections of one uid at once. A newcomer beyond it
    /// evicts the oldest unregistered connection of its own uid.
    pub max_pending_per_uid: u32,
    /// How long a connection may stay unregistered, counted from its accept
    /// (or its `Unregister`): queries do not extend it. Then it is told why
    /// (`LimitReached`) and closed.
    pub register_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_processes: 64,
            max_publishers: 256,
            max_subscribers: 1024,
            max_notifiers: 64,
            max_listeners: 256,
            max_queue_capacity: QUEUE_CAPACITY_LIMIT,
            max_history: HISTORY_LIMIT,
            max_pending_connections: 64,
            max_pending_per_uid: 8,
            register_timeout_ms: 5_000,
        }
    }
}

impl Limits {
    /// Checks every value; the error names the first offending key.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_queue_capacity == 0 || self.max_queue_capacity > QUEUE_CAPACITY_LIMIT {
            return Err(invalid(
                "limits.max_queue_capacity",
                format!(
                    "= {} is out of range 1..={QUEUE_CAPACITY_LIMIT}",
                    self.max_queue_capacity
                ),
            ));
        }
        if self.max_history > HISTORY_LIMIT {
            return Err(invalid(
                "limits.max_history",
                format!("= {} is out of range 0..={HISTORY_LIMIT}", self.max_history),
            ));
        }
        if self.max_pending_connections == 0 {
            return Err(invalid("limits.max_pending_connections", "must be > 0"));
        }
        if self.max_pending_per_uid == 0 {
            return Err(invalid("limits.max_pending_per_uid", "must be > 0"));
        }
        if self.register_timeout_ms == 0 {
            return Err(invalid("limits.register_timeout_ms", "must be > 0"));
        }
        Ok(())
    }
}
