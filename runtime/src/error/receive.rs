//! Why [`Subscriber::receive`](crate::Subscriber::receive) failed (feature
//! `tokio`).

use std::fmt;

use super::{TakeError, WakeFdError};

/// Why an `async` receive failed.
///
/// ```
/// use zerocp::error::{ReceiveError, WakeFdError};
/// use zerocp::TakeError;
/// assert!(ReceiveError::Take(TakeError::DaemonGone).to_string().contains("daemon"));
/// let gone = ReceiveError::from(WakeFdError::DaemonGone);
/// assert!(matches!(gone, ReceiveError::Take(TakeError::DaemonGone)));
/// ```
#[derive(Debug)]
pub enum ReceiveError {
    /// Taking the sample failed (the daemon gone, the port revoked, …).
    Take(TakeError),
    /// The subscriber's wake descriptor could not be set up.
    WakeFd(WakeFdError),
    /// Registering the descriptor with tokio's reactor, or waiting on it,
    /// failed.
    Io(std::io::Error),
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Take(e) => e.fmt(f),
            Self::WakeFd(e) => e.fmt(f),
            Self::Io(e) => write!(f, "waiting on the subscriber's descriptor in tokio: {e}"),
        }
    }
}

impl std::error::Error for ReceiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Take(e) => Some(e),
            Self::WakeFd(e) => Some(e),
            Self::Io(e) => Some(e),
        }
    }
}

impl From<TakeError> for ReceiveError {
    fn from(e: TakeError) -> Self {
        Self::Take(e)
    }
}

/// A daemon found gone while the descriptor is set up is the same fact as
/// one found gone by the take: both read `Take(DaemonGone)`, so a caller
/// matches one variant however the race between the two fell.
impl From<WakeFdError> for ReceiveError {
    fn from(e: WakeFdError) -> Self {
        match e {
            WakeFdError::DaemonGone => Self::Take(TakeError::DaemonGone),
            e => Self::WakeFd(e),
        }
    }
}
