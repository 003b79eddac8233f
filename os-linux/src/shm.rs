//! POSIX shared-memory objects (`shm_open`), the backing of ZeroCP's mgmt
//! and data segments.
//!
//! The daemon creates each segment once with
//! [`SharedMemory::create_exclusive`], which commits every page at once
//! (`fallocate`), so a `/dev/shm` that is too small fails at start with
//! `ENOSPC` instead of killing a process with `SIGBUS` at its first touch of
//! an uncommitted page. Applications [`SharedMemory::open`] it and map it
//! with [`crate::mmap::Mapping`].
//!
//! **Lifetime of the name.** Dropping a [`SharedMemory`] closes its
//! descriptor and never removes the name: the daemon creates the object but
//! many processes use it, and a handle going away (or a process crashing)
//! must not pull the name from under the others. The owner removes it
//! explicitly with [`SharedMemory::unlink`] (at shutdown) or
//! [`SharedMemory::remove_if_exists`] (stale objects at start, which it may
//! do because it holds the domain's lock file). Existing mappings stay valid
//! after the name is gone.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{FallocateFlags, Mode};
use rustix::shm;

use crate::error::{Errno, ShmError};
use crate::names::ShmName;

/// An open POSIX shared-memory object.
///
/// ```
/// use zerocp_os_linux::names::ShmName;
/// use zerocp_os_linux::shm::SharedMemory;
/// let name = ShmName::new(&format!("/zerocp.doc.shm.{}", std::process::id()))?;
/// let shm = SharedMemory::create_exclusive(&name, 4096, 0o600)?;
/// assert_eq!(shm.size(), 4096);
/// let again = SharedMemory::open(&name, false)?;
/// assert_eq!(again.size(), 4096);
/// SharedMemory::unlink(&name)?;
/// assert!(!SharedMemory::remove_if_exists(&name)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SharedMemory {
    fd: OwnedFd,
    name: ShmName,
    size: usize,
    writable: bool,
}

/// `O_NOFOLLOW`, which glibc's `shm_open` also adds: a symbolic link planted
/// in `/dev/shm` must not redirect us to another file.
fn nofollow() -> shm::OFlags {
    shm::OFlags::from_bits_retain(rustix::fs::OFlags::NOFOLLOW.bits())
}

impl SharedMemory {
    /// Creates the object `name`, which must not exist yet (`O_EXCL`), with
    /// `size` bytes, all committed (`fallocate`), and permission bits `mode`
    /// (set with `fchmod`, so the umask does not reduce them). On any
    /// failure after creation the name is removed again.
    pub fn create_exclusive(name: &ShmName, size: usize, mode: u32) -> Result<Self, ShmError> {
        if mode & !0o777 != 0 {
            return Err(ShmError::InvalidMode {
                name: name.clone(),
                mode,
            });
        }
        if size == 0 {
            return Err(ShmError::ZeroSize { name: name.clone() });
        }
        let flags = shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR | nofollow();
        let fd = shm::open(name.as_str(), flags, Mode::from_raw_mode(mode)).map_err(|errno| {
            ShmError::Create {
                name: name.clone(),
                errno,
            }
        })?;
        let shm = Self {
            fd,
            name: name.clone(),
            size,
            writable: true,
        };
        if let Err(err) = shm.set_up(mode) {
            if let Err(unlink_err) = Self::unlink(name) {
                log::warn!("after failing to set it up: {unlink_err}");
            }
            return Err(err);
        }
        Ok(shm)
    }

    /// Mode, size and committed pages of a freshly created object.
    fn set_up(&self, mode: u32) -> Result<(), ShmError> {
        let name = || self.name.clone();
        rustix::fs::fchmod(&self.fd, Mode::from_raw_mode(mode)).map_err(|errno| {
            ShmError::SetMode {
                name: name(),
                mode,
                errno,
            }
        })?;
        let size = self.size;
        let len = size as u64;
        rustix::fs::ftruncate(&self.fd, len).map_err(|errno| ShmError::Resize {
            name: name(),
            size,
            errno,
        })?;
        match rustix::fs::fallocate(&self.fd, FallocateFlags::empty(), 0, len) {
            Ok(()) => Ok(()),
            // Kernels before 3.5 cannot fallocate tmpfs: the segment works,
            // only the early ENOSPC check is lost.
            Err(Errno::OPNOTSUPP) => {
                log::warn!(
                    "shared memory {}: fallocate not supported, pages not committed up front",
                    self.name
                );
                Ok(())
            }
            Err(errno) => Err(ShmError::Commit {
                name: name(),
                size,
                errno,
            }),
        }
    }

    /// Opens the existing object `name`, read-write when `writable`, and
    /// reads its size.
    pub fn open(name: &ShmName, writable: bool) -> Result<Self, ShmError> {
        let access = if writable {
            shm::OFlags::RDWR
        } else {
            shm::OFlags::RDONLY
        };
        let fd = shm::open(name.as_str(), access | nofollow(), Mode::empty()).map_err(|errno| {
            ShmError::Open {
                name: name.clone(),
                errno,
            }
        })?;
        let stat = rustix::fs::fstat(&fd).map_err(|errno| ShmError::Stat {
            name: name.clone(),
            errno,
        })?;
        let raw_size = stat.st_size;
        let size = usize::try_from(raw_size).map_err(|_| ShmError::TooLarge {
            name: name.clone(),
            size: raw_size as u64,
        })?;
        if size == 0 {
            return Err(ShmError::ZeroSize { name: name.clone() });
        }
        Ok(Self {
            fd,
            name: name.clone(),
            size,
            writable,
        })
    }

    /// Removes the name `name` (`shm_unlink`). Open handles and mappings
    /// stay valid; the memory is freed when the last one goes.
    pub fn unlink(name: &ShmName) -> Result<(), ShmError> {
        shm::unlink(name.as_str()).map_err(|errno| ShmError::Unlink {
            name: name.clone(),
            errno,
        })
    }

    /// Removes `name` if it exists; returns whether it did.
    pub fn remove_if_exists(name: &ShmName) -> Result<bool, ShmError> {
        match Self::unlink(name) {
            Ok(()) => Ok(true),
            Err(ShmError::Unlink {
                errno: Errno::NOENT,
                ..
            }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The object's name.
    pub fn name(&self) -> &ShmName {
        &self.name
    }

    /// The object's size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the object was opened read-write.
    pub fn is_writable(&self) -> bool {
        self.writable
    }
}

impl AsFd for SharedMemory {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{skip_without_namespaces, test_object_name, with_private_dev_shm};
    use std::path::Path;

    /// A name no other test (or test run) uses, naming the test.
    fn unique() -> ShmName {
        ShmName::new(&format!("/zerocp.{}", test_object_name(120))).unwrap()
    }

    fn in_dev_shm(name: &ShmName) -> bool {
        Path::new("/dev/shm").join(&name.as_str()[1..]).exists()
    }

    #[test]
    fn create_sets_size_and_mode_and_commits_pages() {
        let name = unique();
        let shm = SharedMemory::create_exclusive(&name, 3 * 4096 + 1, 0o640).unwrap();
        let stat = rustix::fs::fstat(&shm).unwrap();
        assert_eq!(stat.st_size, 3 * 4096 + 1);
        assert_eq!(stat.st_mode & 0o777, 0o640);
        // fallocate committed the pages: 512-byte blocks cover the size.
        assert!(stat.st_blocks as u64 * 512 > 3 * 4096);
        SharedMemory::unlink(&name).unwrap();
        assert!(!in_dev_shm(&name));
    }

    #[test]
    fn second_exclusive_create_fails_naming_the_object() {
        let name = unique();
        let _first = SharedMemory::create_exclusive(&name, 4096, 0o600).unwrap();
        let err = SharedMemory::create_exclusive(&name, 4096, 0o600).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EXIST));
        assert_eq!(
            err.to_string(),
            format!("cannot create shared memory {name}: file exists (EEXIST)")
        );
        assert!(std::error::Error::source(&err).is_some());
        // The failed second attempt must not have removed the first's name.
        assert!(in_dev_shm(&name));
        assert!(SharedMemory::remove_if_exists(&name).unwrap());
        assert!(!in_dev_shm(&name));
    }

    #[test]
    fn open_missing_fails_with_enoent() {
        let name = unique();
        let err = SharedMemory::open(&name, true).unwrap_err();
        assert!(matches!(
            err,
            ShmError::Open {
                errno: Errno::NOENT,
                ..
            }
        ));
        assert!(err.to_string().contains(name.as_str()));
        assert!(!SharedMemory::remove_if_exists(&name).unwrap());
        assert!(matches!(
            SharedMemory::unlink(&name),
            Err(ShmError::Unlink {
                errno: Errno::NOENT,
                ..
            })
        ));
    }

    #[test]
    fn open_reads_size_and_access() {
        let name = unique();
        let _created = SharedMemory::create_exclusive(&name, 8192, 0o600).unwrap();
        let ro = SharedMemory::open(&name, false).unwrap();
        assert_eq!((ro.size(), ro.is_writable()), (8192, false));
        assert_eq!(ro.name(), &name);
        let rw = SharedMemory::open(&name, true).unwrap();
        assert_eq!((rw.size(), rw.is_writable()), (8192, true));
        SharedMemory::unlink(&name).unwrap();
        assert!(!in_dev_shm(&name));
    }

    #[test]
    fn bad_arguments_are_rejected_before_creating_anything() {
        let name = unique();
        assert_eq!(
            SharedMemory::create_exclusive(&name, 0, 0o600).unwrap_err(),
            ShmError::ZeroSize { name: name.clone() }
        );
        assert_eq!(
            SharedMemory::create_exclusive(&name, 4096, 0o4755).unwrap_err(),
            ShmError::InvalidMode {
                name: name.clone(),
                mode: 0o4755
            }
        );
        assert!(!in_dev_shm(&name));
    }

    /// Asks for more than a private 4 MiB `/dev/shm` holds (see
    /// [`crate::testing`]): the machine's own `/dev/shm` is never filled.
    #[test]
    fn too_large_for_dev_shm_fails_now_and_leaves_nothing() {
        const LIMIT: usize = 4 << 20;
        let checked = with_private_dev_shm(LIMIT, || {
            let name = unique();
            let err = SharedMemory::create_exclusive(&name, 2 * LIMIT, 0o600).unwrap_err();
            assert!(
                matches!(
                    err,
                    ShmError::Commit {
                        errno: Errno::NOSPC,
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains(name.as_str()), "{err}");
            assert!(!in_dev_shm(&name));
            // Below the limit, the same call succeeds: the limit is what failed.
            let fits = SharedMemory::create_exclusive(&name, LIMIT / 2, 0o600).unwrap();
            assert_eq!(fits.size(), LIMIT / 2);
            SharedMemory::unlink(&name).unwrap();
        });
        if let Err(err) = checked {
            skip_without_namespaces(&err);
        }
    }
}
