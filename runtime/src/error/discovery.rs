//! The errors of the discovery API: listing the services
//! ([`ServicesError`]), starting a watcher ([`CreateWatcherError`]) and
//! watching ([`WatchError`]).

use std::fmt;

use zerocp_core::wire::ErrorCode;

use super::{ControlError, CreatePortError, DISCONNECTED, GONE, WaitError, dropped};

/// Listing the services ([`Runtime::services`](crate::Runtime::services))
/// failed.
#[derive(Debug)]
pub enum ServicesError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on): retry the call later.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// The daemon refused the query (an `Error` reply).
    Refused {
        /// Its error code.
        code: ErrorCode,
        /// Its reason.
        detail: String,
    },
    /// The control connection failed otherwise (timeout, a frame that does
    /// not decode, a reply of another kind).
    Control(ControlError),
    /// The daemon's pages did not make a list: a page named a next page
    /// at or before itself, or there were more pages than ports can fill.
    Protocol {
        /// What was wrong.
        detail: String,
    },
}

impl fmt::Display for ServicesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Refused { code, detail } => {
                write!(
                    f,
                    "the daemon refused to list its services: {code}: {detail}"
                )
            }
            Self::Control(e) => write!(f, "cannot list the daemon's services: {e}"),
            Self::Protocol { detail } => {
                write!(f, "the daemon's list of services is malformed: {detail}")
            }
        }
    }
}

impl std::error::Error for ServicesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Control(e) => Some(e),
            _ => None,
        }
    }
}

/// Starting a [`ServiceWatcher`](crate::ServiceWatcher) failed.
#[derive(Debug)]
pub enum CreateWatcherError {
    /// Its listener of the discovery event could not be created (e.g. the
    /// `subscribe` rule of the segment group holding `_zerocp/discovery/services`
    /// does not admit this process).
    Listener(CreatePortError),
    /// Listing the services it starts from failed.
    Services(ServicesError),
}

impl fmt::Display for CreateWatcherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Listener(e) => write!(f, "cannot watch the services: {e}"),
            Self::Services(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CreateWatcherError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Listener(e) => Some(e),
            Self::Services(e) => Some(e),
        }
    }
}

/// Watching the services ([`ServiceWatcher::wait`](crate::ServiceWatcher::wait),
/// [`try_wait`](crate::ServiceWatcher::try_wait), [`refresh`](crate::ServiceWatcher::refresh))
/// failed.
#[derive(Debug)]
pub enum WatchError {
    /// Waiting for (or taking) the discovery event failed: the daemon is
    /// gone or restarting, dropped this process, or revoked the watcher's
    /// port ([`WaitError`]).
    Wait(WaitError),
    /// Listing the services after the event failed.
    Services(ServicesError),
}

impl fmt::Display for WatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wait(e) => write!(f, "cannot watch the services: {e}"),
            Self::Services(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for WatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Wait(e) => Some(e),
            Self::Services(e) => Some(e),
        }
    }
}

impl From<WaitError> for WatchError {
    fn from(e: WaitError) -> Self {
        Self::Wait(e)
    }
}

impl From<ServicesError> for WatchError {
    fn from(e: ServicesError) -> Self {
        Self::Services(e)
    }
}
