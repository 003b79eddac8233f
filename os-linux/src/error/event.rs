//! Errors of waiting and waking: futexes, the epoll poller, the eventfd
//! wake-up and the inotify directory watch.

use std::fmt;
use std::path::PathBuf;

use super::{Errno, ErrnoText};

/// A futex call failed. `addr` is the word's address in this process, to
/// tell words apart in a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FutexError {
    /// `FUTEX_WAIT` failed.
    Wait {
        /// The word's address.
        addr: usize,
        /// The kernel's error.
        errno: Errno,
    },
    /// `FUTEX_WAKE` failed.
    Wake {
        /// The word's address.
        addr: usize,
        /// The kernel's error.
        errno: Errno,
    },
}

impl FutexError {
    /// The kernel's error.
    pub fn errno(&self) -> Errno {
        match self {
            Self::Wait { errno, .. } | Self::Wake { errno, .. } => *errno,
        }
    }
}

impl fmt::Display for FutexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wait { addr, errno } => write!(
                f,
                "futex wait on word {addr:#x} failed: {}",
                ErrnoText(*errno)
            ),
            Self::Wake { addr, errno } => write!(
                f,
                "futex wake on word {addr:#x} failed: {}",
                ErrnoText(*errno)
            ),
        }
    }
}

impl std::error::Error for FutexError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Wait { errno, .. } | Self::Wake { errno, .. } => Some(errno),
        }
    }
}

/// An epoll operation of [`crate::poller::Poller`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollError {
    /// `epoll_create1` failed.
    Create {
        /// The kernel's error.
        errno: Errno,
    },
    /// Registering a descriptor failed (`EEXIST`: already registered).
    Add {
        /// The descriptor.
        fd: i32,
        /// The token it was to carry.
        token: u64,
        /// The kernel's error.
        errno: Errno,
    },
    /// Changing a registration failed (`ENOENT`: not registered).
    Modify {
        /// The descriptor.
        fd: i32,
        /// The token it was to carry.
        token: u64,
        /// The kernel's error.
        errno: Errno,
    },
    /// Removing a registration failed (`ENOENT`: not registered).
    Delete {
        /// The descriptor.
        fd: i32,
        /// The kernel's error.
        errno: Errno,
    },
    /// `epoll_wait` failed.
    Wait {
        /// The kernel's error.
        errno: Errno,
    },
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create { errno } => {
                write!(f, "cannot create epoll instance: {}", ErrnoText(*errno))
            }
            Self::Add { fd, token, errno } => write!(
                f,
                "cannot add fd {fd} (token {token}) to epoll: {}",
                ErrnoText(*errno)
            ),
            Self::Modify { fd, token, errno } => write!(
                f,
                "cannot modify fd {fd} (token {token}) in epoll: {}",
                ErrnoText(*errno)
            ),
            Self::Delete { fd, errno } => {
                write!(f, "cannot remove fd {fd} from epoll: {}", ErrnoText(*errno))
            }
            Self::Wait { errno } => write!(f, "epoll wait failed: {}", ErrnoText(*errno)),
        }
    }
}

impl std::error::Error for PollError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Create { errno }
            | Self::Add { errno, .. }
            | Self::Modify { errno, .. }
            | Self::Delete { errno, .. }
            | Self::Wait { errno } => Some(errno),
        }
    }
}

/// An operation of the eventfd [`crate::wakeup::Wakeup`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WakeupError {
    /// `eventfd` failed.
    Create {
        /// The kernel's error.
        errno: Errno,
    },
    /// Writing the eventfd failed.
    Notify {
        /// The kernel's error.
        errno: Errno,
    },
    /// Reading the eventfd failed.
    Drain {
        /// The kernel's error.
        errno: Errno,
    },
    /// Waiting for the eventfd to become readable failed.
    Wait {
        /// The kernel's error.
        errno: Errno,
    },
}

impl fmt::Display for WakeupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, errno) = match self {
            Self::Create { errno } => ("create", errno),
            Self::Notify { errno } => ("signal", errno),
            Self::Drain { errno } => ("drain", errno),
            Self::Wait { errno } => ("wait on", errno),
        };
        write!(f, "cannot {what} wake-up eventfd: {}", ErrnoText(*errno))
    }
}

impl std::error::Error for WakeupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Create { errno }
            | Self::Notify { errno }
            | Self::Drain { errno }
            | Self::Wait { errno } => Some(errno),
        }
    }
}

/// An operation of the inotify [`crate::dir_watch::DirWatch`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirWatchError {
    /// `inotify_init1` failed (`ENOSYS`, `EMFILE`: no more instances).
    Create {
        /// The kernel's error.
        errno: Errno,
    },
    /// `inotify_add_watch` failed (`ENOENT`, `ENOSPC`: no more watches).
    Watch {
        /// The directory to watch.
        dir: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// Reading the events failed.
    Read {
        /// The kernel's error.
        errno: Errno,
    },
}

impl DirWatchError {
    /// The kernel's error.
    pub fn errno(&self) -> Errno {
        match self {
            Self::Create { errno } | Self::Watch { errno, .. } | Self::Read { errno } => *errno,
        }
    }
}

impl fmt::Display for DirWatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create { errno } => {
                write!(f, "cannot create inotify instance: {}", ErrnoText(*errno))
            }
            Self::Watch { dir, errno } => write!(
                f,
                "cannot watch directory {}: {}",
                dir.display(),
                ErrnoText(*errno)
            ),
            Self::Read { errno } => write!(f, "cannot read inotify events: {}", ErrnoText(*errno)),
        }
    }
}

impl std::error::Error for DirWatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Create { errno } | Self::Watch { errno, .. } | Self::Read { errno } => {
                Some(errno)
            }
        }
    }
}
