//! [`LiveError`]: why `zerocpctl echo`, `hz` or `bw` could not start, or
//! stopped before its count.

use std::fmt;

use zerocp::{CreatePortError, InitError, TakeError, WaitError};

use crate::ctl::CtlError;

/// A live command failed (exit status 1).
#[derive(Debug)]
pub enum LiveError {
    /// Asking the daemon about the service failed, or it knows no port of
    /// it ([`CtlError::NoSuchService`]: its type is unknown).
    Query(CtlError),
    /// The service is an event service: it carries ids, no samples.
    EventService {
        /// The service.
        service: String,
    },
    /// The service is a request/response channel, whose samples go to one
    /// server or one client, not to observers.
    Channel {
        /// The service.
        service: String,
    },
    /// Registering with the daemon failed.
    Init(InitError),
    /// The daemon refused the observer's subscriber.
    Subscribe {
        /// The service.
        service: String,
        /// Why.
        error: CreatePortError,
    },
    /// The daemon stopped (or was killed) while observing.
    DaemonGone {
        /// The domain.
        domain: String,
    },
    /// Taking a sample failed otherwise.
    Take(TakeError),
    /// Waiting for a sample failed otherwise.
    Wait(WaitError),
    /// Writing the output failed (other than a closed pipe, which ends the
    /// command quietly).
    Output(std::io::Error),
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Query(e) => write!(f, "{e}"),
            Self::EventService { service } => write!(
                f,
                "{service} is an event service: it carries event ids, no samples to observe"
            ),
            Self::Channel { service } => write!(
                f,
                "{service} is a request/response channel: each sample goes to one server or \
                 client, an observer would receive nothing (or take requests from servers)"
            ),
            Self::Init(e) => write!(f, "{e}"),
            Self::Subscribe { service, error } => {
                write!(f, "cannot subscribe to {service}: {error}")
            }
            Self::DaemonGone { domain } => write!(f, "zerocpd of domain {domain} stopped"),
            Self::Take(e) => write!(f, "{e}"),
            Self::Wait(e) => write!(f, "{e}"),
            Self::Output(e) => write!(f, "writing the output: {e}"),
        }
    }
}

impl std::error::Error for LiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Query(e) => Some(e),
            Self::Init(e) => Some(e),
            Self::Subscribe { error, .. } => Some(error),
            Self::Take(e) => Some(e),
            Self::Wait(e) => Some(e),
            Self::Output(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CtlError> for LiveError {
    fn from(e: CtlError) -> Self {
        Self::Query(e)
    }
}
