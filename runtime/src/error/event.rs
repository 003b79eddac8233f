//! [`NotifyError`]: why [`Notifier::notify`](crate::Notifier::notify) failed.
//! A listener's `try_wait` and `wait` fail with [`WaitError`](super::WaitError),
//! as a subscriber's `wait` does.

use std::fmt;

use zerocp_core::wire::RevokeReason;
use zerocp_os_linux::error::FutexError;

use super::{DISCONNECTED, GONE, PortNotRecreated, dropped, revoked};

/// Why [`Notifier::notify`](crate::Notifier::notify) failed.
///
/// ```
/// use zerocp::NotifyError;
/// assert!(NotifyError::DaemonGone.to_string().contains("daemon is gone"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on): retry the call later, the handle goes on.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats; its ports
    /// are unrouted.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// The daemon revoked this port (drop it and create it again).
    Revoked {
        /// What the daemon found.
        reason: RevokeReason,
    },
    /// The daemon restarted and refused to create this port again.
    NotRecreated(PortNotRecreated),
    /// Waking a listener (futex wake) failed.
    Futex(FutexError),
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Revoked { reason } => revoked(f, *reason),
            Self::NotRecreated(e) => e.fmt(f),
            Self::Futex(e) => write!(f, "waking a listener failed: {e}"),
        }
    }
}

impl std::error::Error for NotifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotRecreated(e) => Some(e),
            Self::Futex(e) => Some(e),
            Self::DaemonGone
            | Self::Disconnected
            | Self::Unresponsive { .. }
            | Self::Revoked { .. } => None,
        }
    }
}
