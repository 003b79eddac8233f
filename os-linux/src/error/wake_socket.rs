//! Why an operation of a wake socket ([`crate::wake_socket`]) failed, or
//! why a descriptor handed over as one was refused.

use std::fmt;

use super::{Errno, ErrnoText};

/// An operation of [`WakeSocket`](crate::wake_socket::WakeSocket) or
/// [`WakeSender`](crate::wake_socket::WakeSender) failed, or a descriptor
/// handed over as a wake sender was refused.
///
/// ```
/// use zerocp_os_linux::error::WakeSocketError;
/// let e = WakeSocketError::WrongType { found: "an AF_UNIX SOCK_STREAM socket".into() };
/// assert!(e.to_string().contains("refused a wake descriptor"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WakeSocketError {
    /// `socketpair` failed (out of descriptors?).
    Create {
        /// The kernel's error.
        errno: Errno,
    },
    /// Sending the wake byte failed for a reason other than a full buffer
    /// or a waiter gone (which are not errors).
    Notify {
        /// The kernel's error.
        errno: Errno,
    },
    /// Receiving pending wake bytes failed.
    Drain {
        /// The kernel's error.
        errno: Errno,
    },
    /// Waiting for the receiving end to become readable failed.
    Wait {
        /// The kernel's error.
        errno: Errno,
    },
    /// A descriptor handed over as a wake sender could not be inspected
    /// (`ENOTSOCK`: it is no socket at all).
    Inspect {
        /// The kernel's error.
        errno: Errno,
    },
    /// A descriptor handed over as a wake sender is not the unnamed
    /// `AF_UNIX` `SOCK_SEQPACKET` end of a socket pair.
    WrongType {
        /// What it is instead (short: it goes into a wire error detail).
        found: String,
    },
}

impl fmt::Display for WakeSocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, errno) = match self {
            Self::Create { errno } => ("create", errno),
            Self::Notify { errno } => ("signal", errno),
            Self::Drain { errno } => ("drain", errno),
            Self::Wait { errno } => ("wait on", errno),
            Self::Inspect { errno } => {
                return write!(f, "refused a wake descriptor: {}", ErrnoText(*errno));
            }
            Self::WrongType { found } => {
                return write!(
                    f,
                    "refused a wake descriptor: {found}, not a SOCK_SEQPACKET pair's end"
                );
            }
        };
        write!(f, "cannot {what} wake socket: {}", ErrnoText(*errno))
    }
}

impl std::error::Error for WakeSocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Create { errno }
            | Self::Notify { errno }
            | Self::Drain { errno }
            | Self::Wait { errno }
            | Self::Inspect { errno } => Some(errno),
            Self::WrongType { .. } => None,
        }
    }
}
