//! Why a subscriber's wake descriptor could not be set up
//! ([`Subscriber::as_fd`](crate::Subscriber::as_fd), attaching it to a
//! [`WaitSet`](crate::WaitSet)).

use std::fmt;

use zerocp_core::wire::{ErrorCode, RevokeReason};
use zerocp_os_linux::error::WakeSocketError;

use super::{ControlError, DISCONNECTED, GONE, PortNotRecreated, dropped, revoked};

/// Why a port's wake descriptor could not be made or handed to the daemon.
///
/// ```
/// use zerocp::error::WakeFdError;
/// use zerocp_core::wire::ErrorCode;
/// let e = WakeFdError::Refused { code: ErrorCode::NoSuchPort, detail: "no live port".into() };
/// assert!(e.to_string().contains("refused the wake descriptor"));
/// ```
#[derive(Debug)]
pub enum WakeFdError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on): retry the call later, the handle goes on.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats.
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
    /// Creating or signalling the wake socket failed (out of
    /// descriptors?).
    Socket(WakeSocketError),
    /// The daemon refused to keep the descriptor, and said why.
    Refused {
        /// The daemon's code.
        code: ErrorCode,
        /// The daemon's reason.
        detail: String,
    },
    /// The request to the daemon failed.
    Control(ControlError),
}

impl fmt::Display for WakeFdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Revoked { reason } => revoked(f, *reason),
            Self::NotRecreated(e) => e.fmt(f),
            Self::Socket(e) => e.fmt(f),
            Self::Refused { code, detail } => {
                write!(
                    f,
                    "the daemon refused the wake descriptor ({code}): {detail}"
                )
            }
            Self::Control(e) => write!(f, "cannot hand the daemon a wake descriptor: {e}"),
        }
    }
}

impl std::error::Error for WakeFdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotRecreated(e) => Some(e),
            Self::Socket(e) => Some(e),
            Self::Control(e) => Some(e),
            _ => None,
        }
    }
}
