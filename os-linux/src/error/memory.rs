//! Errors of shared-memory objects and their mappings.

use std::fmt;

use super::{Errno, ErrnoText};
use crate::names::ShmName;

/// A shared-memory object operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShmError {
    /// `shm_open(O_CREAT|O_EXCL)` failed (`EEXIST`: the name is taken).
    Create {
        /// The object.
        name: ShmName,
        /// The kernel's error.
        errno: Errno,
    },
    /// `shm_open` of an existing object failed (`ENOENT`: not there).
    Open {
        /// The object.
        name: ShmName,
        /// The kernel's error.
        errno: Errno,
    },
    /// Setting the size (`ftruncate`) failed.
    Resize {
        /// The object.
        name: ShmName,
        /// The requested size in bytes.
        size: usize,
        /// The kernel's error.
        errno: Errno,
    },
    /// Committing the pages (`fallocate`) failed; `ENOSPC` means `/dev/shm`
    /// is too small.
    Commit {
        /// The object.
        name: ShmName,
        /// The requested size in bytes.
        size: usize,
        /// The kernel's error.
        errno: Errno,
    },
    /// Setting the permission bits (`fchmod`) failed.
    SetMode {
        /// The object.
        name: ShmName,
        /// The requested mode.
        mode: u32,
        /// The kernel's error.
        errno: Errno,
    },
    /// Reading the object's size (`fstat`) failed.
    Stat {
        /// The object.
        name: ShmName,
        /// The kernel's error.
        errno: Errno,
    },
    /// `shm_unlink` failed.
    Unlink {
        /// The object.
        name: ShmName,
        /// The kernel's error.
        errno: Errno,
    },
    /// A size of zero was requested, or the object found has size zero.
    ZeroSize {
        /// The object.
        name: ShmName,
    },
    /// The object is larger than this process can address.
    TooLarge {
        /// The object.
        name: ShmName,
        /// Its size in bytes.
        size: u64,
    },
    /// The mode has bits outside `0o777`.
    InvalidMode {
        /// The object.
        name: ShmName,
        /// The rejected mode.
        mode: u32,
    },
}

impl ShmError {
    /// The kernel's error, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        self.errno_ref().copied()
    }

    fn errno_ref(&self) -> Option<&Errno> {
        match self {
            Self::Create { errno, .. }
            | Self::Open { errno, .. }
            | Self::Resize { errno, .. }
            | Self::Commit { errno, .. }
            | Self::SetMode { errno, .. }
            | Self::Stat { errno, .. }
            | Self::Unlink { errno, .. } => Some(errno),
            Self::ZeroSize { .. } | Self::TooLarge { .. } | Self::InvalidMode { .. } => None,
        }
    }
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create { name, errno } => write!(
                f,
                "cannot create shared memory {name}: {}",
                ErrnoText(*errno)
            ),
            Self::Open { name, errno } => {
                write!(f, "cannot open shared memory {name}: {}", ErrnoText(*errno))
            }
            Self::Resize { name, size, errno } => write!(
                f,
                "cannot resize shared memory {name} to {size} bytes: {}",
                ErrnoText(*errno)
            ),
            Self::Commit { name, size, errno } => write!(
                f,
                "cannot commit {size} bytes of shared memory {name}: {}{}",
                ErrnoText(*errno),
                if *errno == Errno::NOSPC {
                    " (is /dev/shm large enough?)"
                } else {
                    ""
                }
            ),
            Self::SetMode { name, mode, errno } => write!(
                f,
                "cannot set mode {mode:04o} on shared memory {name}: {}",
                ErrnoText(*errno)
            ),
            Self::Stat { name, errno } => {
                write!(f, "cannot stat shared memory {name}: {}", ErrnoText(*errno))
            }
            Self::Unlink { name, errno } => write!(
                f,
                "cannot unlink shared memory {name}: {}",
                ErrnoText(*errno)
            ),
            Self::ZeroSize { name } => write!(f, "shared memory {name} has size zero"),
            Self::TooLarge { name, size } => write!(
                f,
                "shared memory {name} has {size} bytes, more than this process can map"
            ),
            Self::InvalidMode { name, mode } => write!(
                f,
                "invalid mode {mode:o} for shared memory {name}: only permission bits 0777 allowed"
            ),
        }
    }
}

impl std::error::Error for ShmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errno_ref().map(|e| e as _)
    }
}

/// Mapping a shared-memory object failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// `mmap` failed.
    Map {
        /// The object.
        name: ShmName,
        /// The requested length.
        len: usize,
        /// The kernel's error.
        errno: Errno,
    },
    /// A writable mapping of an object opened read-only was requested.
    NotWritable {
        /// The object.
        name: ShmName,
    },
    /// A value at `offset` of `size` bytes would reach past the mapping.
    OutOfBounds {
        /// The object.
        name: ShmName,
        /// The requested offset.
        offset: usize,
        /// The size of the value.
        size: usize,
        /// The mapping's length.
        len: usize,
    },
    /// The address at `offset` is not aligned for the requested type.
    Misaligned {
        /// The object.
        name: ShmName,
        /// The requested offset.
        offset: usize,
        /// The alignment the type needs.
        align: usize,
    },
    /// Locking the pages in memory (`mlock`) failed (`ENOMEM`/`EPERM`: see
    /// `RLIMIT_MEMLOCK`).
    Lock {
        /// The object.
        name: ShmName,
        /// The mapping's length.
        len: usize,
        /// The kernel's error.
        errno: Errno,
    },
}

impl MapError {
    /// The kernel's error, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        self.errno_ref().copied()
    }

    fn errno_ref(&self) -> Option<&Errno> {
        match self {
            Self::Map { errno, .. } | Self::Lock { errno, .. } => Some(errno),
            Self::NotWritable { .. } | Self::OutOfBounds { .. } | Self::Misaligned { .. } => None,
        }
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Map { name, len, errno } => write!(
                f,
                "cannot map {len} bytes of shared memory {name}: {}",
                ErrnoText(*errno)
            ),
            Self::NotWritable { name } => write!(
                f,
                "cannot map shared memory {name} writable: it was opened read-only"
            ),
            Self::OutOfBounds {
                name,
                offset,
                size,
                len,
            } => write!(
                f,
                "{size} bytes at offset {offset} reach past the {len}-byte mapping of {name}"
            ),
            Self::Misaligned {
                name,
                offset,
                align,
            } => write!(
                f,
                "offset {offset} in the mapping of {name} is not {align}-byte aligned"
            ),
            Self::Lock { name, len, errno } => write!(
                f,
                "cannot lock {len} bytes of shared memory {name} in RAM: {} (see RLIMIT_MEMLOCK)",
                ErrnoText(*errno)
            ),
        }
    }
}

impl std::error::Error for MapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errno_ref().map(|e| e as _)
    }
}
