//! [`RuntimeBuilder`]: the options of a [`Runtime`]: whether it registers
//! again by itself after the daemon restarted, how long it waits at most
//! between two attempts, and whom it tells of changes of the connection
//! (docs/architecture.md, "Daemon restarts").

use std::sync::Arc;
use std::time::Duration;

use zerocp_os_linux::names::DomainName;

use crate::connection_event::{ConnectionCallback, ConnectionEvent};
use crate::error::InitError;
use crate::lifecycle::Lifecycle;
use crate::runtime::Runtime;

/// The longest wait between two attempts to register again, by default.
pub const DEFAULT_RECONNECT_CEILING: Duration = Duration::from_secs(1);

/// The shortest ceiling accepted (a zero ceiling would spin).
const MIN_RECONNECT_CEILING: Duration = Duration::from_millis(1);

/// Whether and how a runtime registers again after the daemon went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReconnectPolicy {
    /// Register again (else every call fails with `DaemonGone` for good).
    pub(crate) enabled: bool,
    /// The longest wait between two attempts.
    pub(crate) ceiling: Duration,
}

/// Builds a [`Runtime`] with options; [`Runtime::init`] is its defaults.
///
/// ```no_run
/// use std::time::Duration;
/// use zerocp::Runtime;
///
/// let rt = Runtime::builder("planner")
///     .reconnect(true)
///     .reconnect_ceiling(Duration::from_millis(250))
///     .init()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RuntimeBuilder {
    name: String,
    domain: Option<String>,
    policy: ReconnectPolicy,
    on_change: Option<ConnectionCallback>,
}

impl RuntimeBuilder {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            domain: None,
            policy: ReconnectPolicy {
                enabled: true,
                ceiling: DEFAULT_RECONNECT_CEILING,
            },
            on_change: None,
        }
    }

    /// Whether the runtime registers again by itself when the daemon went
    /// away and came back (default `true`). With `false`, every call fails
    /// with `DaemonGone` for good once the daemon is gone.
    #[must_use]
    pub fn reconnect(mut self, enabled: bool) -> Self {
        self.policy.enabled = enabled;
        self
    }

    /// The longest wait between two attempts to register again (default
    /// [`DEFAULT_RECONNECT_CEILING`], at least 1 ms): the first attempt
    /// comes at once, the waits double up to this.
    #[must_use]
    pub fn reconnect_ceiling(mut self, ceiling: Duration) -> Self {
        self.policy.ceiling = ceiling.max(MIN_RECONNECT_CEILING);
        self
    }

    /// Calls `callback` on every change of the connection to the daemon
    /// ([`ConnectionEvent`]: disconnected, reconnected, gone for good), in
    /// order, from the runtime's heartbeat thread, right after the change.
    ///
    /// The callback must be short and must not block: the thread that
    /// calls it also beats for this process and registers it again. Set a
    /// flag or send on a channel; do not wait for the runtime from it (no
    /// `wait`, no port creation, no [`crate::ConnectionWatcher`] wait). A
    /// panic in it is caught and logged, and the thread goes on (with
    /// `panic = "abort"` the process ends, as on any panic). Not called
    /// when the application drops the runtime itself.
    ///
    /// ```no_run
    /// use std::sync::mpsc;
    /// use zerocp::{ConnectionEvent, Runtime};
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let rt = Runtime::builder("planner")
    ///     .on_connection_change(move |event| {
    ///         let _ = tx.send(event);
    ///     })
    ///     .init()?;
    /// if let Ok(ConnectionEvent::Disconnected) = rx.try_recv() {
    ///     eprintln!("the daemon restarts");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn on_connection_change(
        mut self,
        callback: impl Fn(ConnectionEvent) + Send + Sync + 'static,
    ) -> Self {
        self.on_change = Some(Arc::new(callback));
        self
    }

    /// Registers with the daemon of domain `name` instead of the one
    /// `ZEROCP_DOMAIN` names (for tools given a domain on their command
    /// line); an invalid name fails [`init`](Self::init) with
    /// `InitError::Domain`.
    ///
    /// ```no_run
    /// let rt = zerocp::Runtime::builder("inspector").domain("robot").init()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn domain(mut self, name: &str) -> Self {
        self.domain = Some(name.to_owned());
        self
    }

    /// Registers this process with the daemon of the domain set by
    /// [`domain`](Self::domain), else named by `ZEROCP_DOMAIN` (see
    /// [`Runtime::init`]).
    pub fn init(self) -> Result<Runtime, InitError> {
        let domain = match &self.domain {
            Some(name) => DomainName::new(name),
            None => DomainName::from_env(),
        }
        .map_err(InitError::Domain)?;
        let lifecycle = Lifecycle::start(&self.name, domain, self.policy, self.on_change)?;
        Ok(Runtime::from_lifecycle(Arc::new(lifecycle)))
    }
}

impl std::fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("name", &self.name)
            .field("domain", &self.domain)
            .field("policy", &self.policy)
            .field("on_connection_change", &self.on_change.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnecting_is_on_by_default_and_the_ceiling_is_bounded_below() {
        let builder = RuntimeBuilder::new("planner");
        assert!(builder.policy.enabled);
        assert_eq!(builder.policy.ceiling, DEFAULT_RECONNECT_CEILING);
        let builder = builder.reconnect(false).reconnect_ceiling(Duration::ZERO);
        assert!(!builder.policy.enabled);
        assert_eq!(builder.policy.ceiling, MIN_RECONNECT_CEILING);
    }
}
