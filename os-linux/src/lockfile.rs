//! The daemon's per-domain lock file: one daemon per domain.
//!
//! `zerocpd` takes an exclusive `flock` on `<run_dir>/<domain>.lock` before
//! it touches anything of the domain. Holding it is what entitles the daemon
//! to remove stale shared memory and sockets of that domain. The kernel
//! drops the lock when the holder's descriptor closes, including when the
//! holder crashes, so a lock never outlives its daemon.
//!
//! The holder writes its pid into the file so that a second daemon can say
//! who is in the way. The pid is informational only: the lock, not the file
//! content, decides.
//!
//! The lock belongs to the open file description: it is released when the
//! [`LockFile`] is dropped (the descriptor is close-on-exec, so programs the
//! daemon starts do not inherit it).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, Mode, OFlags};

use crate::error::{Errno, LockError};

/// Mode of a new lock file: everyone may read the holder's pid.
const LOCK_FILE_MODE: u32 = 0o644;
/// How often to retry when the file is replaced between open and lock.
const MAX_ATTEMPTS: u32 = 16;

/// An exclusive, held lock on a lock file; released on drop.
///
/// ```
/// use zerocp_os_linux::error::LockError;
/// use zerocp_os_linux::lockfile::LockFile;
/// let path = std::env::temp_dir().join(format!("zerocp-doc-{}.lock", std::process::id()));
/// let lock = LockFile::acquire(&path)?;
/// match LockFile::acquire(&path) {
///     Err(LockError::AlreadyLocked { holder_pid, .. }) => {
///         assert_eq!(holder_pid, Some(std::process::id()))
///     }
///     other => panic!("expected AlreadyLocked, got {other:?}"),
/// }
/// lock.remove()?;
/// assert!(!path.exists());
/// # Ok::<(), LockError>(())
/// ```
#[derive(Debug)]
pub struct LockFile {
    fd: OwnedFd,
    path: PathBuf,
}

impl LockFile {
    /// Creates `path` if needed and locks it exclusively without waiting;
    /// [`LockError::AlreadyLocked`] (with the holder's pid when readable) if
    /// another process holds it. Writes this process's pid into the file.
    pub fn acquire(path: &Path) -> Result<Self, LockError> {
        for _ in 0..MAX_ATTEMPTS {
            if let Some(lock) = Self::try_acquire(path)? {
                lock.write_pid()?;
                return Ok(lock);
            }
        }
        // The file was replaced under us every time: someone keeps removing
        // and recreating it, which a working daemon never does.
        Err(LockError::Lock {
            path: path.to_owned(),
            errno: Errno::BUSY,
        })
    }

    /// One attempt: `None` when the file we locked is no longer the one at
    /// `path` (its holder removed it between our open and our lock).
    fn try_acquire(path: &Path) -> Result<Option<Self>, LockError> {
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let fd = rustix::fs::open(path, flags, Mode::from_raw_mode(LOCK_FILE_MODE)).map_err(
            |errno| LockError::Open {
                path: path.to_owned(),
                errno,
            },
        )?;
        let lock_err = |errno| LockError::Lock {
            path: path.to_owned(),
            errno,
        };
        match rustix::io::retry_on_intr(|| {
            rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive)
        }) {
            Ok(()) => {}
            Err(Errno::WOULDBLOCK) => {
                return Err(LockError::AlreadyLocked {
                    path: path.to_owned(),
                    holder_pid: read_pid(&fd),
                });
            }
            Err(errno) => return Err(lock_err(errno)),
        }
        let ours = rustix::fs::fstat(&fd).map_err(lock_err)?;
        match rustix::fs::stat(path) {
            Ok(now) if (now.st_dev, now.st_ino) == (ours.st_dev, ours.st_ino) => Ok(Some(Self {
                fd,
                path: path.to_owned(),
            })),
            Ok(_) | Err(Errno::NOENT) => Ok(None),
            Err(errno) => Err(lock_err(errno)),
        }
    }

    /// Replaces the file's content with `<pid>\n`.
    fn write_pid(&self) -> Result<(), LockError> {
        let err = |errno| LockError::WritePid {
            path: self.path.clone(),
            errno,
        };
        let text = format!("{}\n", std::process::id());
        rustix::fs::ftruncate(&self.fd, 0).map_err(err)?;
        let written = rustix::io::pwrite(&self.fd, text.as_bytes(), 0).map_err(err)?;
        if written != text.len() {
            return Err(err(Errno::NOSPC));
        }
        Ok(())
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file, then releases the lock (in that order, so no other
    /// process can lock the file we are deleting and believe it holds the
    /// domain; contenders that opened it before retry on the new file).
    pub fn remove(self) -> Result<(), LockError> {
        rustix::fs::unlink(&self.path).map_err(|errno| LockError::Remove {
            path: self.path.clone(),
            errno,
        })
    }
}

impl AsFd for LockFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The pid a holder wrote into the file, if the content is one.
fn read_pid(fd: &OwnedFd) -> Option<u32> {
    let mut buf = [0u8; 24];
    let len = rustix::io::pread(fd, &mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..len]).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TMP_PREFIX, test_object_name};

    fn unique_path() -> PathBuf {
        std::env::temp_dir().join(format!("{TMP_PREFIX}{}.lock", test_object_name(120)))
    }

    #[test]
    fn second_acquire_reports_the_holder_and_drop_releases() {
        let path = unique_path();
        let lock = LockFile::acquire(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        let err = LockFile::acquire(&path).unwrap_err();
        assert_eq!(
            err,
            LockError::AlreadyLocked {
                path: path.clone(),
                holder_pid: Some(std::process::id())
            }
        );
        assert!(
            err.to_string()
                .contains(&format!("process {}", std::process::id()))
        );
        drop(lock);
        // Released: the file stays, and the next acquire succeeds.
        let again = LockFile::acquire(&path).unwrap();
        again.remove().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn unparsable_content_gives_no_pid() {
        let path = unique_path();
        let lock = LockFile::acquire(&path).unwrap();
        std::fs::write(&path, b"not a pid").unwrap();
        assert!(matches!(
            LockFile::acquire(&path),
            Err(LockError::AlreadyLocked {
                holder_pid: None,
                ..
            })
        ));
        lock.remove().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn missing_directory_is_an_open_error() {
        let path = unique_path().join("x.lock");
        let err = LockFile::acquire(&path).unwrap_err();
        assert!(matches!(
            err,
            LockError::Open {
                errno: Errno::NOENT,
                ..
            }
        ));
        assert!(err.to_string().contains(&path.display().to_string()));
    }
}
