//! Why [`Listener::receive`](crate::Listener::receive) failed (feature
//! `tokio`).

use std::fmt;

use super::{WaitError, WakeFdError};

/// Why a listener's `async` receive failed.
///
/// ```
/// use zerocp::error::{ListenerReceiveError, WaitError, WakeFdError};
/// assert!(ListenerReceiveError::Wait(WaitError::DaemonGone).to_string().contains("daemon"));
/// let gone = ListenerReceiveError::from(WakeFdError::DaemonGone);
/// assert!(matches!(gone, ListenerReceiveError::Wait(WaitError::DaemonGone)));
/// ```
#[derive(Debug)]
pub enum ListenerReceiveError {
    /// Taking the ids failed (the daemon gone, the port revoked, …).
    Wait(WaitError),
    /// The listener's wake descriptor could not be set up.
    WakeFd(WakeFdError),
    /// Registering the descriptor with tokio's reactor, or waiting on it,
    /// failed.
    Io(std::io::Error),
}

impl fmt::Display for ListenerReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wait(e) => e.fmt(f),
            Self::WakeFd(e) => e.fmt(f),
            Self::Io(e) => write!(f, "waiting on the listener's descriptor in tokio: {e}"),
        }
    }
}

impl std::error::Error for ListenerReceiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Wait(e) => Some(e),
            Self::WakeFd(e) => Some(e),
            Self::Io(e) => Some(e),
        }
    }
}

impl From<WaitError> for ListenerReceiveError {
    fn from(e: WaitError) -> Self {
        Self::Wait(e)
    }
}

/// A daemon found gone while the descriptor is set up reads as one found
/// gone by the wait, `Wait(DaemonGone)`, whichever noticed first.
impl From<WakeFdError> for ListenerReceiveError {
    fn from(e: WakeFdError) -> Self {
        match e {
            WakeFdError::DaemonGone => Self::Wait(WaitError::DaemonGone),
            e => Self::WakeFd(e),
        }
    }
}
