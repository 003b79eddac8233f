//! Errors of process-level objects: the daemon's lock file, pidfds and CPU
//! affinity.

use std::fmt;
use std::path::PathBuf;

use super::{Errno, ErrnoText};

/// Taking or releasing the domain's lock file failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockError {
    /// Opening or creating the file failed.
    Open {
        /// The lock file.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// Another process holds the lock.
    AlreadyLocked {
        /// The lock file.
        path: PathBuf,
        /// The pid the holder wrote into the file, if it could be read.
        holder_pid: Option<u32>,
    },
    /// `flock` or `fstat` failed for another reason than contention.
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// Writing this process's pid into the file failed.
    WritePid {
        /// The lock file.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
    /// Removing the file failed.
    Remove {
        /// The lock file.
        path: PathBuf,
        /// The kernel's error.
        errno: Errno,
    },
}

impl LockError {
    /// The kernel's error, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        self.errno_ref().copied()
    }

    fn errno_ref(&self) -> Option<&Errno> {
        match self {
            Self::Open { errno, .. }
            | Self::Lock { errno, .. }
            | Self::WritePid { errno, .. }
            | Self::Remove { errno, .. } => Some(errno),
            Self::AlreadyLocked { .. } => None,
        }
    }
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { path, errno } => write!(
                f,
                "cannot open lock file {}: {}",
                path.display(),
                ErrnoText(*errno)
            ),
            Self::AlreadyLocked { path, holder_pid } => {
                write!(f, "lock file {} is held by ", path.display())?;
                match holder_pid {
                    Some(pid) => write!(f, "process {pid}")?,
                    None => f.write_str("another process")?,
                }
                f.write_str("; is a daemon of this domain already running?")
            }
            Self::Lock { path, errno } => {
                write!(f, "cannot lock {}: {}", path.display(), ErrnoText(*errno))
            }
            Self::WritePid { path, errno } => write!(
                f,
                "cannot write pid into lock file {}: {}",
                path.display(),
                ErrnoText(*errno)
            ),
            Self::Remove { path, errno } => write!(
                f,
                "cannot remove lock file {}: {}",
                path.display(),
                ErrnoText(*errno)
            ),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errno_ref().map(|e| e as _)
    }
}

/// A pidfd operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidFdError {
    /// The pid is 0 or does not fit a kernel `pid_t`.
    InvalidPid {
        /// The rejected pid.
        pid: u32,
    },
    /// `pidfd_open` failed (`ESRCH`: no such process; `ENOSYS`: the kernel
    /// is older than 5.3).
    Open {
        /// The process.
        pid: u32,
        /// The kernel's error.
        errno: Errno,
    },
    /// `poll` on the pidfd failed.
    Poll {
        /// The process.
        pid: u32,
        /// The kernel's error.
        errno: Errno,
    },
    /// `pidfd_send_signal` failed (`ESRCH`: the process has exited; `EPERM`:
    /// it belongs to another user).
    Signal {
        /// The process.
        pid: u32,
        /// The kernel's error.
        errno: Errno,
    },
}

impl PidFdError {
    /// The kernel's error, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        self.errno_ref().copied()
    }

    fn errno_ref(&self) -> Option<&Errno> {
        match self {
            Self::Open { errno, .. } | Self::Poll { errno, .. } | Self::Signal { errno, .. } => {
                Some(errno)
            }
            Self::InvalidPid { .. } => None,
        }
    }
}

impl fmt::Display for PidFdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPid { pid } => write!(f, "invalid pid {pid}"),
            Self::Open { pid, errno } => {
                write!(
                    f,
                    "cannot open pidfd of process {pid}: {}",
                    ErrnoText(*errno)
                )?;
                if *errno == Errno::NOSYS {
                    f.write_str(" (pidfd needs Linux 5.3 or later)")?;
                }
                Ok(())
            }
            Self::Poll { pid, errno } => write!(
                f,
                "cannot poll pidfd of process {pid}: {}",
                ErrnoText(*errno)
            ),
            Self::Signal { pid, errno } => write!(
                f,
                "cannot send SIGKILL to process {pid} through its pidfd: {}",
                ErrnoText(*errno)
            ),
        }
    }
}

impl std::error::Error for PidFdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errno_ref().map(|e| e as _)
    }
}

/// Pinning a thread to a CPU failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AffinityError {
    /// The CPU number is beyond what a CPU set can hold.
    CpuOutOfRange {
        /// The requested CPU.
        cpu: usize,
        /// The largest CPU number a set can hold, plus one.
        max: usize,
    },
    /// `sched_setaffinity` failed (`EINVAL`: the CPU is offline or not
    /// allowed to this process).
    Set {
        /// The requested CPU.
        cpu: usize,
        /// The kernel's error.
        errno: Errno,
    },
    /// `sched_getaffinity` failed.
    Get {
        /// The kernel's error.
        errno: Errno,
    },
}

impl fmt::Display for AffinityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CpuOutOfRange { cpu, max } => {
                write!(f, "CPU {cpu} is out of range (CPU sets hold 0..{max})")
            }
            Self::Set { cpu, errno } => write!(
                f,
                "cannot pin this thread to CPU {cpu}: {}",
                ErrnoText(*errno)
            ),
            Self::Get { errno } => write!(
                f,
                "cannot read this thread's CPU affinity: {}",
                ErrnoText(*errno)
            ),
        }
    }
}

impl std::error::Error for AffinityError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Set { errno, .. } | Self::Get { errno } => Some(errno),
            Self::CpuOutOfRange { .. } => None,
        }
    }
}
