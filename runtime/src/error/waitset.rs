//! Errors of a [`WaitSet`](crate::WaitSet): making one, attaching to it,
//! waiting on it.

use std::fmt;

use zerocp_core::wire::RevokeReason;
use zerocp_os_linux::error::PollError;

use super::{DISCONNECTED, GONE, WakeFdError, dropped, revoked};
use crate::waitset::AttachmentId;

/// Why [`WaitSet::new`](crate::WaitSet::new) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitSetCreateError {
    /// The epoll instance could not be made (out of descriptors?).
    Poll(PollError),
}

impl fmt::Display for WaitSetCreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Poll(e) => write!(f, "cannot make a wait set: {e}"),
        }
    }
}

impl std::error::Error for WaitSetCreateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Poll(e) => Some(e),
        }
    }
}

/// Why attaching to a [`WaitSet`](crate::WaitSet) failed.
#[derive(Debug)]
pub enum AttachError {
    /// The subscriber's wake descriptor could not be set up.
    WakeFd(WakeFdError),
    /// Duplicating the wake descriptor, or adding it to the wait set's
    /// epoll instance, failed.
    Poll(PollError),
    /// An interval or deadline period of zero.
    ZeroPeriod,
    /// An interval or deadline period longer than
    /// [`WaitSet::MAX_PERIOD`](crate::WaitSet::MAX_PERIOD).
    PeriodTooLong(std::time::Duration),
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WakeFd(e) => write!(f, "cannot attach the subscriber: {e}"),
            Self::Poll(e) => write!(f, "cannot attach to the wait set: {e}"),
            Self::ZeroPeriod => f.write_str("cannot attach a period of zero to a wait set"),
            Self::PeriodTooLong(period) => write!(
                f,
                "cannot attach a period of {period:?} to a wait set: the longest is {:?}",
                crate::WaitSet::MAX_PERIOD
            ),
        }
    }
}

impl std::error::Error for AttachError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::WakeFd(e) => Some(e),
            Self::Poll(e) => Some(e),
            Self::ZeroPeriod | Self::PeriodTooLong(_) => None,
        }
    }
}

/// Why [`WaitSet::wait`](crate::WaitSet::wait) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitSetWaitError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself: the
    /// subscribers re-attach at their next `take`; wait again after.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// The daemon revoked the port of an attachment.
    Revoked {
        /// The attachment.
        attachment: AttachmentId,
        /// What the daemon found.
        reason: RevokeReason,
    },
    /// `epoll_wait` failed.
    Poll(PollError),
}

impl fmt::Display for WaitSetWaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Revoked { attachment, reason } => {
                write!(f, "attachment {}: ", attachment.0)?;
                revoked(f, *reason)
            }
            Self::Poll(e) => write!(f, "wait set: {e}"),
        }
    }
}

impl std::error::Error for WaitSetWaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Poll(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::registration::Gone> for WaitSetWaitError {
    fn from(gone: crate::registration::Gone) -> Self {
        use crate::registration::Gone;
        match gone {
            Gone::Daemon => Self::DaemonGone,
            Gone::Disconnected => Self::Disconnected,
            Gone::Unresponsive { timeout_ms } => Self::Unresponsive { timeout_ms },
        }
    }
}
