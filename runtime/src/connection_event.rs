//! [`ConnectionEvent`]: a change of the connection to the daemon, as the
//! callback set with [`crate::RuntimeBuilder::on_connection_change`] is
//! told of it, and how that callback is called.
//!
//! The heartbeat thread makes every transition ([`crate::connection`]) and
//! calls the callback right after it, on its own stack: a callback that
//! blocked would stop the beats and the reconnecting, so it must be short
//! (set a flag, send on a channel) and must not wait for the runtime (no
//! `wait`, no port creation, no [`crate::ConnectionWatcher::wait_change`]).
//! A panic in it is caught and logged; the thread goes on (unless the
//! application is built with `panic = "abort"`, where every panic ends the
//! process).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::connection::ConnectionState;

/// What happened to the connection to the daemon, as told to the callback
/// of [`crate::RuntimeBuilder::on_connection_change`].
///
/// ```no_run
/// use zerocp::{ConnectionEvent, Runtime};
///
/// let rt = Runtime::builder("planner")
///     .on_connection_change(|event| match event {
///         ConnectionEvent::Disconnected => eprintln!("daemon gone, reconnecting"),
///         ConnectionEvent::Reconnected { epoch } => eprintln!("back (epoch {epoch})"),
///         ConnectionEvent::Gone => eprintln!("daemon gone for good"),
///     })
///     .init()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionEvent {
    /// The daemon is gone; the runtime registers again as soon as it is
    /// back. Calls fail with the retryable `Disconnected` meanwhile.
    Disconnected,
    /// The runtime registered again with a (new) daemon.
    Reconnected {
        /// Which registration this is (2 after the first reconnection).
        epoch: u32,
    },
    /// The daemon is gone for good for this runtime (reconnecting is off,
    /// or the daemon dropped this process for missing heartbeats).
    Gone,
}

impl From<ConnectionEvent> for ConnectionState {
    /// The state the connection is in right after `event`.
    fn from(event: ConnectionEvent) -> Self {
        match event {
            ConnectionEvent::Disconnected => Self::Disconnected,
            ConnectionEvent::Reconnected { epoch } => Self::Connected { epoch },
            ConnectionEvent::Gone => Self::Gone,
        }
    }
}

/// The application's callback for connection changes.
pub(crate) type ConnectionCallback = Arc<dyn Fn(ConnectionEvent) + Send + Sync>;

/// Calls `callback` with `event`, catching and logging a panic (module
/// docs).
pub(crate) fn notify(callback: &ConnectionCallback, event: ConnectionEvent) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| callback(event))) {
        let what = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a non-string payload");
        log::error!("the connection callback panicked on {event:?}: {what}");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn a_panicking_callback_is_caught_and_the_next_event_still_arrives() {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&calls);
        let callback: ConnectionCallback = Arc::new(move |event| {
            counted.fetch_add(1, Ordering::Relaxed);
            assert_ne!(event, ConnectionEvent::Disconnected, "a callback bug");
        });
        notify(&callback, ConnectionEvent::Disconnected);
        notify(&callback, ConnectionEvent::Reconnected { epoch: 2 });
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn an_event_names_the_state_it_leads_to() {
        assert_eq!(
            ConnectionState::from(ConnectionEvent::Reconnected { epoch: 3 }),
            ConnectionState::Connected { epoch: 3 }
        );
        assert_eq!(
            ConnectionState::from(ConnectionEvent::Disconnected),
            ConnectionState::Disconnected
        );
        assert_eq!(
            ConnectionState::from(ConnectionEvent::Gone),
            ConnectionState::Gone
        );
    }
}
