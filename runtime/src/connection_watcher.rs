//! [`ConnectionWatcher`]: a handle an application thread blocks on until
//! the connection to the daemon changes (disconnected, reconnected, gone).
//!
//! It holds the runtime's [`Connection`] weakly: a watcher keeps neither
//! the process registered nor the registration's mappings and socket, and
//! when the runtime ends (its last handle dropped) a waiting watcher wakes
//! with [`ConnectionState::Gone`] instead of sleeping on forever (the
//! connection is held only for the length of one wait). The wait is a
//! `Condvar` the heartbeat thread notifies on every transition (no
//! polling; [`crate::connection`]).

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::connection::{Connection, ConnectionState};

/// Watches the state of this process's connection to the daemon; made by
/// [`crate::Runtime::connection_watcher`]. Cheap to clone; `Send` and
/// `Sync`.
///
/// ```no_run
/// use zerocp::{ConnectionState, Runtime};
///
/// let rt = Runtime::init("planner")?;
/// let watcher = rt.connection_watcher();
/// std::thread::spawn(move || {
///     let mut seen = watcher.state();
///     while seen != ConnectionState::Gone {
///         seen = watcher.wait_change(seen, None);
///         eprintln!("connection: {seen:?}");
///     }
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ConnectionWatcher {
    connection: Weak<Connection>,
}

impl ConnectionWatcher {
    pub(crate) fn new(connection: &Arc<Connection>) -> Self {
        Self {
            connection: Arc::downgrade(connection),
        }
    }

    /// The state now (as [`crate::Runtime::connection_state`]; `Gone`
    /// once the runtime ended).
    pub fn state(&self) -> ConnectionState {
        self.connection
            .upgrade()
            .map_or(ConnectionState::Gone, |connection| connection.state())
    }

    /// Waits until the state is no longer `seen` and returns the new one.
    ///
    /// Returns at once if the state already differs from `seen` (so a
    /// change between reading the state and calling this is not missed),
    /// and `seen` itself once `timeout` passed without a change (`None`
    /// waits as long as it takes: a runtime ending counts as a change to
    /// `Gone`, the last state: waiting for a change from `Gone` returns at
    /// the latest when the runtime ends). Several changes during one call
    /// are seen as the last of
    /// them; the callback of [`crate::RuntimeBuilder::on_connection_change`]
    /// sees each.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use zerocp::{ConnectionState, Runtime};
    ///
    /// let rt = Runtime::init("planner")?;
    /// let watcher = rt.connection_watcher();
    /// let now = watcher.wait_change(watcher.state(), Some(Duration::from_secs(1)));
    /// if now == ConnectionState::Disconnected {
    ///     eprintln!("the daemon restarts");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_change(&self, seen: ConnectionState, timeout: Option<Duration>) -> ConnectionState {
        self.connection
            .upgrade()
            .map_or(ConnectionState::Gone, |connection| {
                connection.wait_change(seen, timeout)
            })
    }
}

impl std::fmt::Debug for ConnectionWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionWatcher")
            .field("state", &self.state())
            .finish()
    }
}
