//! [`InitError`]: why `Runtime::init` failed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use zerocp_core::mgmt::MgmtError;
use zerocp_core::wire::ErrorCode;
use zerocp_os_linux::error::{Errno, NameError, RunDirError, SocketError};

use super::{ControlError, MapSegmentsError};

/// Why [`Runtime::init`](crate::Runtime::init) failed.
#[derive(Debug)]
pub enum InitError {
    /// The process name is empty, too long or has control characters.
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `ZEROCP_DOMAIN` holds an invalid domain name.
    Domain(NameError),
    /// No run directory could be determined.
    RunDir(RunDirError),
    /// Nothing listens on the domain's control socket.
    DaemonNotRunning {
        /// The domain.
        domain: String,
        /// The socket path tried.
        socket: PathBuf,
        /// The error `connect` returned.
        errno: Errno,
    },
    /// Connecting to the daemon failed otherwise (e.g. permission denied).
    Connect(SocketError),
    /// The daemon had no room for this process's connection at any
    /// attempt until the registration deadline: it evicted the connection
    /// before it registered, to make room for newer ones of the same uid
    /// (`limits.max_pending_per_uid`) or of the uid holding the most
    /// (`limits.max_pending_connections`).
    NoRoom {
        /// Connections tried.
        attempts: u32,
        /// How long the attempts took.
        waited: Duration,
        /// The daemon's last reason.
        detail: String,
    },
    /// The daemon refused the registration.
    Rejected {
        /// Its error code.
        code: ErrorCode,
        /// Its explanation.
        detail: String,
    },
    /// The registration exchange failed.
    Control(ControlError),
    /// A shared-memory segment could not be used.
    Segment(MapSegmentsError),
    /// The mgmt segment failed to attach because of a word of its header
    /// twice: once, and again after the daemon, which owns and repairs that
    /// header, answered a second registration. Only a process of the
    /// daemon's own user (or root) can write it.
    CorruptMgmt(MgmtError),
    /// The heartbeat thread could not be started.
    Heartbeat(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName { name, reason } => {
                write!(f, "invalid process name {name:?}: {reason}")
            }
            Self::Domain(e) => e.fmt(f),
            Self::RunDir(e) => e.fmt(f),
            Self::DaemonNotRunning {
                domain,
                socket,
                errno,
            } => write!(
                f,
                "the ZeroCP daemon of domain {domain:?} is not running: cannot connect to {} ({errno}); \
                 start `zerocpd --domain {domain}` or set ZEROCP_DOMAIN/ZEROCP_RUN_DIR",
                socket.display()
            ),
            Self::Connect(e) => e.fmt(f),
            Self::NoRoom {
                attempts,
                waited,
                detail,
            } => write!(
                f,
                "the daemon had no room for this process's connection: it was turned away \
                 before it could register, {attempts} times in {:.1} s (LimitReached): {detail}",
                waited.as_secs_f64()
            ),
            Self::Rejected { code, detail } => {
                write!(
                    f,
                    "the daemon refused the registration ({code:?}): {detail}"
                )
            }
            Self::Control(e) => write!(f, "registration failed: {e}"),
            Self::Segment(e) => e.fmt(f),
            Self::CorruptMgmt(e) => write!(
                f,
                "the domain's mgmt segment is corrupt: {e}, twice, although the daemon repairs \
                 its header before every registration (only the daemon's user or root can write \
                 it; see zerocpctl status)"
            ),
            Self::Heartbeat(e) => write!(f, "cannot start the heartbeat thread: {e}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Domain(e) => Some(e),
            Self::RunDir(e) => Some(e),
            Self::DaemonNotRunning { errno, .. } => Some(errno),
            Self::Connect(e) => Some(e),
            Self::Control(e) => Some(e),
            Self::Segment(e) => Some(e),
            Self::CorruptMgmt(e) => Some(e),
            Self::Heartbeat(e) => Some(&**e),
            Self::InvalidName { .. } | Self::NoRoom { .. } | Self::Rejected { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_running_names_the_socket_and_domain() {
        let e = InitError::DaemonNotRunning {
            domain: "car".into(),
            socket: PathBuf::from("/run/zerocp/car.sock"),
            errno: Errno::NOENT,
        };
        let text = e.to_string();
        assert!(text.contains("/run/zerocp/car.sock"), "{text}");
        assert!(text.contains("\"car\""), "{text}");
    }

    #[test]
    fn no_room_says_what_was_turned_away_how_often_and_why() {
        let e = InitError::NoRoom {
            attempts: 7,
            waited: Duration::from_millis(20_040),
            detail: "evicted: uid 1000 opened more than 8 unregistered connections".into(),
        };
        let text = e.to_string();
        assert!(
            text.contains("no room for this process's connection"),
            "{text}"
        );
        assert!(text.contains("7 times in 20.0 s (LimitReached)"), "{text}");
        assert!(
            text.ends_with("more than 8 unregistered connections"),
            "{text}"
        );
    }
}
