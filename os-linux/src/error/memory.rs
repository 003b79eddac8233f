//! Errors of shared-memory objects and their mappings.

use std::fmt;

use super::{Errno, ErrnoText};
use crate::names::SegmentName;

/// A shared-memory segment operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShmError {
    /// `memfd_create` failed (`EMFILE`: too many open files).
    Create {
        /// The segment.
        name: SegmentName,
        /// The kernel's error.
        errno: Errno,
    },
    /// Setting the permission bits (`fchmod`) failed.
    SetMode {
        /// The segment.
        name: SegmentName,
        /// The kernel's error.
        errno: Errno,
    },
    /// Sizing a segment, or committing pages of it (`fallocate`), failed:
    /// `ENOMEM` when the machine or the daemon's memory cgroup has too
    /// little memory, `EFBIG` when `RLIMIT_FSIZE` is below the size, `EPERM`
    /// for a range past a sealed segment's end.
    Commit {
        /// The segment.
        name: SegmentName,
        /// Where the range starts, in bytes (0 when creating).
        offset: usize,
        /// The range's length in bytes (the whole size when creating).
        size: usize,
        /// The kernel's error.
        errno: Errno,
    },
    /// Sizing a segment created uncommitted (`ftruncate`) failed: `EFBIG`
    /// when `RLIMIT_FSIZE` is below the size.
    Size {
        /// The segment.
        name: SegmentName,
        /// The requested size in bytes.
        size: usize,
        /// The kernel's error.
        errno: Errno,
    },
    /// Sealing the size (`F_ADD_SEALS`) failed.
    Seal {
        /// The segment.
        name: SegmentName,
        /// The kernel's error.
        errno: Errno,
    },
    /// Reading a received descriptor's size, access mode or seals failed.
    Stat {
        /// The segment.
        name: SegmentName,
        /// The kernel's error.
        errno: Errno,
    },
    /// A received descriptor's size can still change: a peer could shrink
    /// it under this process's mapping, so it is refused.
    NotSealed {
        /// The segment.
        name: SegmentName,
    },
    /// Opening a read-only descriptor of the segment failed.
    Reopen {
        /// The segment.
        name: SegmentName,
        /// The kernel's error.
        errno: Errno,
    },
    /// A size of zero was requested, or the segment received has size zero.
    ZeroSize {
        /// The segment.
        name: SegmentName,
    },
    /// The segment is larger than this process can address.
    TooLarge {
        /// The segment.
        name: SegmentName,
        /// Its size in bytes.
        size: u64,
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
            | Self::SetMode { errno, .. }
            | Self::Commit { errno, .. }
            | Self::Size { errno, .. }
            | Self::Seal { errno, .. }
            | Self::Stat { errno, .. }
            | Self::Reopen { errno, .. } => Some(errno),
            Self::NotSealed { .. } | Self::ZeroSize { .. } | Self::TooLarge { .. } => None,
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
            Self::SetMode { name, errno } => write!(
                f,
                "cannot restrict the mode of shared memory {name}: {}",
                ErrnoText(*errno)
            ),
            Self::Commit {
                name,
                offset: 0,
                size,
                errno,
            } => write!(
                f,
                "cannot commit {size} bytes of shared memory {name}: {}{}",
                ErrnoText(*errno),
                commit_hint(*errno)
            ),
            Self::Commit {
                name,
                offset,
                size,
                errno,
            } => write!(
                f,
                "cannot commit {size} bytes at offset {offset} of shared memory {name}: {}{}",
                ErrnoText(*errno),
                commit_hint(*errno)
            ),
            Self::Size { name, size, errno } => write!(
                f,
                "cannot size shared memory {name} to {size} bytes: {}{}",
                ErrnoText(*errno),
                commit_hint(*errno)
            ),
            Self::Seal { name, errno } => {
                write!(f, "cannot seal shared memory {name}: {}", ErrnoText(*errno))
            }
            Self::Stat { name, errno } => {
                write!(
                    f,
                    "cannot inspect shared memory {name}: {}",
                    ErrnoText(*errno)
                )
            }
            Self::NotSealed { name } => write!(
                f,
                "shared memory {name} is not sealed against resizing; refusing to map it"
            ),
            Self::Reopen { name, errno } => write!(
                f,
                "cannot open shared memory {name} read-only: {}",
                ErrnoText(*errno)
            ),
            Self::ZeroSize { name } => write!(f, "shared memory {name} has size zero"),
            Self::TooLarge { name, size } => write!(
                f,
                "shared memory {name} has {size} bytes, more than this process can map"
            ),
        }
    }
}

fn commit_hint(errno: Errno) -> &'static str {
    match errno {
        Errno::NOMEM | Errno::NOSPC => {
            " (too little memory: check free memory and the memory cgroup limit)"
        }
        Errno::FBIG => " (RLIMIT_FSIZE is below the size)",
        _ => "",
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
        name: SegmentName,
        /// The requested length.
        len: usize,
        /// The kernel's error.
        errno: Errno,
    },
    /// A writable mapping of an object opened read-only was requested.
    NotWritable {
        /// The object.
        name: SegmentName,
    },
    /// A value at `offset` of `size` bytes would reach past the mapping.
    OutOfBounds {
        /// The object.
        name: SegmentName,
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
        name: SegmentName,
        /// The requested offset.
        offset: usize,
        /// The alignment the type needs.
        align: usize,
    },
    /// Locking the pages in memory (`mlock`) failed (`ENOMEM`/`EPERM`: see
    /// `RLIMIT_MEMLOCK`).
    Lock {
        /// The object.
        name: SegmentName,
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
