//! Errors of the control-plane `SOCK_SEQPACKET` Unix sockets.

use std::fmt;
use std::path::PathBuf;

use super::{Errno, ErrnoText};

/// A Unix `SOCK_SEQPACKET` socket operation failed.
///
/// `path` is the socket's file path; connections made with
/// [`crate::seqpacket::SeqpacketConn::pair`] have no file and show
/// `(socketpair)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketError {
    /// `socket`/`socketpair` failed (`EMFILE`: out of descriptors).
    Create {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// The path does not fit into `sockaddr_un` (at most `max` bytes).
    PathTooLong {
        /// The socket's path.
        path: PathBuf,
        /// The longest path that fits.
        max: usize,
    },
    /// `bind` failed (`EADDRINUSE`: the file exists).
    Bind {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// The mode has bits outside `0o777`.
    InvalidMode {
        /// The socket's path.
        path: PathBuf,
        /// The rejected mode.
        mode: u32,
    },
    /// Setting the socket file's mode (`chmod`) failed.
    SetMode {
        /// The socket's path.
        path: PathBuf,
        /// The requested mode.
        mode: u32,
        /// The kernel's error.
        errno: Errno,
    },
    /// A stale file at the socket's path is not a socket, so it was kept.
    NotASocket {
        /// The socket's path.
        path: PathBuf,
    },
    /// Removing a stale socket file failed.
    RemoveStale {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// `listen` failed.
    Listen {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// `accept` failed.
    Accept {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// `connect` failed (`ENOENT`/`ECONNREFUSED`: nobody listens there).
    Connect {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// `send` failed (`EAGAIN`: nonblocking and the peer's queue is full;
    /// `EPIPE`: the peer is gone).
    Send {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// The kernel accepted only part of a frame.
    ShortSend {
        /// The socket's path.
        path: PathBuf,
        /// Bytes sent.
        sent: usize,
        /// Bytes in the frame.
        len: usize,
    },
    /// More descriptors than a frame carries were to be sent.
    TooManyFds {
        /// The socket's path.
        path: PathBuf,
        /// How many were given.
        count: usize,
        /// The most a frame carries.
        max: usize,
    },
    /// An empty frame was to be sent; it would read as end-of-stream.
    EmptyFrame {
        /// The socket's path.
        path: PathBuf,
    },
    /// `recv` (or the `poll` before it) failed.
    Recv {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// Reading `SO_PEERCRED` failed.
    PeerCredentials {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// Switching blocking mode failed.
    SetNonblocking {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// `shutdown` failed.
    Shutdown {
        /// The socket's path.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
}

impl SocketError {
    /// The kernel's error, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        self.errno_ref().copied()
    }

    /// True when the peer is gone (`EPIPE`, `ECONNRESET`, `ENOTCONN`).
    pub fn is_disconnected(&self) -> bool {
        matches!(
            self.errno(),
            Some(Errno::PIPE | Errno::CONNRESET | Errno::NOTCONN)
        )
    }

    /// True when a nonblocking call would have had to wait (`EAGAIN`).
    pub fn is_would_block(&self) -> bool {
        self.errno() == Some(Errno::AGAIN)
    }

    /// The socket's path (`(socketpair)` for unnamed pairs).
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Create { path, .. }
            | Self::PathTooLong { path, .. }
            | Self::Bind { path, .. }
            | Self::InvalidMode { path, .. }
            | Self::SetMode { path, .. }
            | Self::NotASocket { path }
            | Self::RemoveStale { path, .. }
            | Self::Listen { path, .. }
            | Self::Accept { path, .. }
            | Self::Connect { path, .. }
            | Self::Send { path, .. }
            | Self::ShortSend { path, .. }
            | Self::EmptyFrame { path }
            | Self::TooManyFds { path, .. }
            | Self::Recv { path, .. }
            | Self::PeerCredentials { path, .. }
            | Self::SetNonblocking { path, .. }
            | Self::Shutdown { path, .. } => path,
        }
    }

    fn errno_ref(&self) -> Option<&Errno> {
        match self {
            Self::Create { errno, .. }
            | Self::Bind { errno, .. }
            | Self::SetMode { errno, .. }
            | Self::RemoveStale { errno, .. }
            | Self::Listen { errno, .. }
            | Self::Accept { errno, .. }
            | Self::Connect { errno, .. }
            | Self::Send { errno, .. }
            | Self::Recv { errno, .. }
            | Self::PeerCredentials { errno, .. }
            | Self::SetNonblocking { errno, .. }
            | Self::Shutdown { errno, .. } => Some(errno),
            Self::PathTooLong { .. }
            | Self::InvalidMode { .. }
            | Self::NotASocket { .. }
            | Self::ShortSend { .. }
            | Self::EmptyFrame { .. }
            | Self::TooManyFds { .. } => None,
        }
    }
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path().display();
        match self {
            Self::Create { errno, .. } => {
                write!(f, "cannot create socket {path}: {}", ErrnoText(*errno))
            }
            Self::PathTooLong { max, .. } => write!(
                f,
                "socket path {path} is too long: at most {max} bytes fit (use a shorter ZEROCP_RUN_DIR)"
            ),
            Self::Bind { errno, .. } => write!(f, "cannot bind {path}: {}", ErrnoText(*errno)),
            Self::InvalidMode { mode, .. } => write!(
                f,
                "invalid mode {mode:o} for socket {path}: only permission bits 0777 allowed"
            ),
            Self::SetMode { mode, errno, .. } => write!(
                f,
                "cannot set mode {mode:04o} on socket {path}: {}",
                ErrnoText(*errno)
            ),
            Self::NotASocket { .. } => {
                write!(
                    f,
                    "{path} exists and is not a socket; refusing to remove it"
                )
            }
            Self::RemoveStale { errno, .. } => write!(
                f,
                "cannot remove stale socket {path}: {}",
                ErrnoText(*errno)
            ),
            Self::Listen { errno, .. } => {
                write!(f, "cannot listen on {path}: {}", ErrnoText(*errno))
            }
            Self::Accept { errno, .. } => {
                write!(f, "cannot accept on {path}: {}", ErrnoText(*errno))
            }
            Self::Connect { errno, .. } => {
                write!(f, "cannot connect to {path}: {}", ErrnoText(*errno))?;
                if matches!(*errno, Errno::NOENT | Errno::CONNREFUSED) {
                    f.write_str("; is the daemon running (and in this domain)?")?;
                } else if *errno == Errno::AGAIN {
                    f.write_str("; its backlog stayed full: the daemon accepts no connections")?;
                } else if matches!(*errno, Errno::ACCESS | Errno::PERM) {
                    f.write_str(
                        "; the socket's owner and mode refuse this user: see [access] in \
                         the daemon's configuration",
                    )?;
                }
                Ok(())
            }
            Self::Send { errno, .. } => write!(f, "cannot send on {path}: {}", ErrnoText(*errno)),
            Self::ShortSend { sent, len, .. } => write!(
                f,
                "cannot send on {path}: only {sent} of {len} bytes of the frame went out"
            ),
            Self::TooManyFds { count, max, .. } => write!(
                f,
                "cannot send {count} descriptors in one frame: at most {max}"
            ),
            Self::EmptyFrame { .. } => write!(
                f,
                "cannot send an empty frame on {path}: it would read as end-of-stream"
            ),
            Self::Recv { errno, .. } => {
                write!(f, "cannot receive on {path}: {}", ErrnoText(*errno))
            }
            Self::PeerCredentials { errno, .. } => write!(
                f,
                "cannot read peer credentials on {path}: {}",
                ErrnoText(*errno)
            ),
            Self::SetNonblocking { errno, .. } => write!(
                f,
                "cannot switch blocking mode of {path}: {}",
                ErrnoText(*errno)
            ),
            Self::Shutdown { errno, .. } => {
                write!(f, "cannot shut down {path}: {}", ErrnoText(*errno))
            }
        }
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errno_ref().map(|e| e as _)
    }
}
