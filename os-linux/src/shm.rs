//! Shared-memory segments as sealed anonymous memory files (`memfd_create`),
//! the backing of every ZeroCP segment.
//!
//! A segment has no name in any file system: the daemon creates it with
//! [`SharedMemory::create`] and hands its descriptor to the processes that
//! need it over the control socket (`SCM_RIGHTS`, see [`crate::seqpacket`]).
//! So nothing is left in `/dev/shm` by a crash of any process, the daemon
//! included: the kernel frees the memory when the last descriptor and the
//! last mapping are gone, and nobody without a descriptor can open it.
//!
//! [`SharedMemory::create`] makes a segment safe to hand out:
//!
//! 1. `fallocate` sizes it and commits every page at once, so too little
//!    memory fails at start (`ENOMEM`, naming the segment) instead of
//!    killing a process with `SIGBUS` at its first touch of a page. A
//!    segment made with [`SharedMemory::create_uncommitted`] is sized
//!    (`ftruncate`) but holds no page yet: memory is spent only on what is
//!    used. A range its creator commits with [`SharedMemory::commit`]
//!    before handing it out keeps the same promise; a page left uncommitted
//!    is allocated by whoever first touches it, reads included, and too
//!    little memory then hits that process (a memory cgroup's out-of-memory
//!    killer, or `SIGBUS` under strict overcommit);
//! 2. seals (`F_SEAL_SHRINK | F_SEAL_GROW`, then `F_SEAL_SEAL`) fix its size
//!    for good: no holder of a descriptor can `ftruncate` it under another
//!    process's mapping, and nobody can add seals that would lock others out
//!    (`F_SEAL_FUTURE_WRITE`);
//! 3. its mode is `0600`, owned by the creator: a process given a read-only
//!    descriptor cannot reopen it read-write through `/proc/self/fd` (that
//!    open checks the mode against its uid); only the creator's uid and root
//!    can, and both may do everything anyway.
//!
//! A process that receives a descriptor wraps it with
//! [`SharedMemory::from_fd`], which reads its size and access mode and
//! refuses a segment whose size is not sealed. [`SharedMemory::read_only`]
//! gives the creator a read-only descriptor of the same memory to hand to a
//! process that may only read it.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use rustix::fs::{FallocateFlags, MemfdFlags, Mode, OFlags, SealFlags};

use crate::error::{Errno, ShmError};
use crate::names::SegmentName;

/// A sealed shared-memory segment and its descriptor.
///
/// ```
/// use zerocp_os_linux::names::SegmentName;
/// use zerocp_os_linux::shm::SharedMemory;
/// let shm = SharedMemory::create(&SegmentName::new("zerocp.doc.example")?, 4096)?;
/// assert_eq!((shm.size(), shm.is_writable()), (4096, true));
/// let reader = shm.read_only()?; // what a process that may only read gets
/// assert_eq!((reader.size(), reader.is_writable()), (4096, false));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SharedMemory {
    fd: OwnedFd,
    name: SegmentName,
    size: usize,
    writable: bool,
}

/// The seals every segment carries, and a received one must carry.
fn required_seals() -> SealFlags {
    SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL
}

impl SharedMemory {
    /// The segment's permission bits (see the [module docs](self)).
    pub const MODE: u32 = 0o600;

    /// Creates the segment `name` of `size` bytes, all committed, sealed
    /// against resizing, mode [`SharedMemory::MODE`].
    pub fn create(name: &SegmentName, size: usize) -> Result<Self, ShmError> {
        let shm = Self::create_sized(name, size, commit)?;
        shm.seal()?;
        Ok(shm)
    }

    /// Creates the segment `name` of `size` bytes like
    /// [`create`](Self::create), but commits no page: call
    /// [`commit`](Self::commit) for each range before it is used.
    ///
    /// ```
    /// use zerocp_os_linux::names::SegmentName;
    /// use zerocp_os_linux::shm::SharedMemory;
    /// let name = SegmentName::new("zerocp.doc.uncommitted")?;
    /// let shm = SharedMemory::create_uncommitted(&name, 1 << 20)?;
    /// assert_eq!(shm.committed_bytes()?, 0);
    /// shm.commit(8192, 100)?; // the page holding those bytes
    /// assert_eq!(shm.committed_bytes()?, rustix::param::page_size() as u64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_uncommitted(name: &SegmentName, size: usize) -> Result<Self, ShmError> {
        let shm = Self::create_sized(name, size, truncate)?;
        shm.seal()?;
        Ok(shm)
    }

    /// Commits the pages holding bytes `offset..offset + len` (one
    /// `fallocate`; pages already there are kept as they are; nothing for
    /// `len` 0). Too little memory is [`ShmError::Commit`] with `ENOMEM`, a
    /// range past the end `EPERM` (the size is sealed).
    pub fn commit(&self, offset: usize, len: usize) -> Result<(), ShmError> {
        if len == 0 {
            return Ok(());
        }
        let error = |errno| ShmError::Commit {
            name: self.name.clone(),
            offset,
            size: len,
            errno,
        };
        let start = u64::try_from(offset).map_err(|_| error(Errno::FBIG))?;
        let len64 = u64::try_from(len).map_err(|_| error(Errno::FBIG))?;
        rustix::fs::fallocate(&self.fd, FallocateFlags::empty(), start, len64).map_err(error)
    }

    /// The bytes of memory the segment holds now (`st_blocks`): its whole
    /// size rounded up to pages when created committed, the pages committed
    /// or touched since when created uncommitted.
    pub fn committed_bytes(&self) -> Result<u64, ShmError> {
        let stat = rustix::fs::fstat(&self.fd).map_err(|errno| ShmError::Stat {
            name: self.name.clone(),
            errno,
        })?;
        Ok(stat.st_blocks as u64 * 512)
    }

    /// A fresh memory file of `size` bytes, mode [`Self::MODE`], sized by
    /// `size_it`, not yet sealed.
    fn create_sized(
        name: &SegmentName,
        size: usize,
        size_it: fn(&OwnedFd, &SegmentName, usize) -> Result<(), ShmError>,
    ) -> Result<Self, ShmError> {
        if size == 0 {
            return Err(ShmError::ZeroSize { name: name.clone() });
        }
        let named = |errno| (name.clone(), errno);
        let fd = rustix::fs::memfd_create(
            name.as_str(),
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )
        .map_err(|errno| {
            let (name, errno) = named(errno);
            ShmError::Create { name, errno }
        })?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(Self::MODE)).map_err(|errno| {
            let (name, errno) = named(errno);
            ShmError::SetMode { name, errno }
        })?;
        size_it(&fd, name, size)?;
        Ok(Self {
            fd,
            name: name.clone(),
            size,
            writable: true,
        })
    }

    /// Seals the size for good (module docs).
    fn seal(&self) -> Result<(), ShmError> {
        rustix::fs::fcntl_add_seals(&self.fd, SealFlags::SHRINK | SealFlags::GROW)
            .and_then(|()| rustix::fs::fcntl_add_seals(&self.fd, SealFlags::SEAL))
            .map_err(|errno| ShmError::Seal {
                name: self.name.clone(),
                errno,
            })
    }

    /// Wraps a descriptor received from the segment's creator: reads its
    /// size and access mode, and refuses it unless its size is sealed.
    pub fn from_fd(fd: OwnedFd, name: SegmentName) -> Result<Self, ShmError> {
        let stat_error = |errno| ShmError::Stat {
            name: name.clone(),
            errno,
        };
        let seals = rustix::fs::fcntl_get_seals(&fd).map_err(stat_error)?;
        if !seals.contains(required_seals()) {
            return Err(ShmError::NotSealed { name });
        }
        let access = rustix::fs::fcntl_getfl(&fd).map_err(stat_error)? & OFlags::RWMODE;
        let raw_size = rustix::fs::fstat(&fd).map_err(stat_error)?.st_size;
        let size = usize::try_from(raw_size).map_err(|_| ShmError::TooLarge {
            name: name.clone(),
            size: raw_size as u64,
        })?;
        if size == 0 {
            return Err(ShmError::ZeroSize { name });
        }
        Ok(Self {
            fd,
            name,
            size,
            writable: access == OFlags::RDWR,
        })
    }

    /// A new, read-only descriptor of the same memory (opened through
    /// `/proc/self/fd`, so `/proc` must be mounted). A process given it can
    /// map the segment only with `PROT_READ`, and cannot reopen it writable
    /// (module docs).
    pub fn read_only(&self) -> Result<Self, ShmError> {
        let path = format!("/proc/self/fd/{}", self.fd.as_raw_fd());
        let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).map_err(
            |errno| ShmError::Reopen {
                name: self.name.clone(),
                errno,
            },
        )?;
        Ok(Self {
            fd,
            name: self.name.clone(),
            size: self.size,
            writable: false,
        })
    }

    /// The segment's name.
    pub fn name(&self) -> &SegmentName {
        &self.name
    }

    /// The segment's size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the descriptor is open read-write.
    pub fn is_writable(&self) -> bool {
        self.writable
    }
}

/// Sizes the empty segment and commits its pages in one `fallocate`.
fn commit(fd: &OwnedFd, name: &SegmentName, size: usize) -> Result<(), ShmError> {
    let error = |errno| ShmError::Commit {
        name: name.clone(),
        offset: 0,
        size,
        errno,
    };
    let len = u64::try_from(size).map_err(|_| error(Errno::FBIG))?;
    rustix::fs::fallocate(fd, FallocateFlags::empty(), 0, len).map_err(error)
}

/// Sizes the empty segment without committing a page (`ftruncate`).
fn truncate(fd: &OwnedFd, name: &SegmentName, size: usize) -> Result<(), ShmError> {
    let error = |errno| ShmError::Size {
        name: name.clone(),
        size,
        errno,
    };
    let len = u64::try_from(size).map_err(|_| error(Errno::FBIG))?;
    rustix::fs::ftruncate(fd, len).map_err(error)
}

impl AsFd for SharedMemory {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::role::{role_args, spawn_child};
    use crate::testing::test_object_name;

    fn unique() -> SegmentName {
        SegmentName::new(&format!("zerocp.{}", test_object_name(120))).unwrap()
    }

    #[test]
    fn create_sizes_commits_seals_and_restricts_the_mode() {
        let shm = SharedMemory::create(&unique(), 3 * 4096 + 1).unwrap();
        let stat = rustix::fs::fstat(&shm).unwrap();
        assert_eq!(stat.st_size, 3 * 4096 + 1);
        assert_eq!(stat.st_mode & 0o777, 0o600);
        // fallocate committed the pages: 512-byte blocks cover the size.
        assert!(stat.st_blocks as u64 * 512 > 3 * 4096);
        let seals = rustix::fs::fcntl_get_seals(&shm).unwrap();
        assert!(seals.contains(required_seals()), "{seals:?}");
    }

    #[test]
    fn an_uncommitted_segment_holds_only_the_pages_committed_or_touched() {
        if crate::testing::shmem_huge_pages() {
            return;
        }
        let page = rustix::param::page_size();
        let shm = SharedMemory::create_uncommitted(&unique(), 64 * page).unwrap();
        let stat = rustix::fs::fstat(&shm).unwrap();
        assert_eq!(stat.st_size as usize, 64 * page);
        assert_eq!(shm.committed_bytes().unwrap(), 0);
        let seals = rustix::fs::fcntl_get_seals(&shm).unwrap();
        assert!(seals.contains(required_seals()), "{seals:?}");
        let pages = |n: usize| (n * page) as u64;
        // Two bytes straddling two pages: both are committed.
        shm.commit(page - 1, 2).unwrap();
        assert_eq!(shm.committed_bytes().unwrap(), pages(2));
        shm.commit(page, page).unwrap();
        shm.commit(5 * page, 0).unwrap();
        assert_eq!(shm.committed_bytes().unwrap(), pages(2), "kept as it was");
        let map = crate::mmap::Mapping::map(&shm, true).unwrap();
        // SAFETY: page 10 is inside the 64-page mapping.
        let byte = unsafe { map.as_ptr().add(10 * page) };
        // SAFETY: the mapping is read-write and ours alone.
        unsafe { byte.write(1) };
        assert_eq!(shm.committed_bytes().unwrap(), pages(3), "a touched page");
    }

    #[test]
    fn a_commit_past_the_sealed_end_is_refused_naming_the_range() {
        let name = unique();
        let shm = SharedMemory::create_uncommitted(&name, 8192).unwrap();
        let err = shm.commit(4096, 8192).unwrap_err();
        assert_eq!(
            err,
            ShmError::Commit {
                name: name.clone(),
                offset: 4096,
                size: 8192,
                errno: Errno::PERM
            }
        );
        let text = err.to_string();
        assert!(text.contains("8192 bytes at offset 4096") && text.contains(name.as_str()));
        assert_eq!(shm.committed_bytes().unwrap(), 0, "nothing was committed");
    }

    #[test]
    fn nobody_can_resize_or_reseal_a_segment() {
        let shm = SharedMemory::create(&unique(), 8192).unwrap();
        assert_eq!(rustix::fs::ftruncate(&shm, 4096), Err(Errno::PERM));
        assert_eq!(rustix::fs::ftruncate(&shm, 16384), Err(Errno::PERM));
        assert_eq!(
            rustix::fs::fallocate(&shm, FallocateFlags::empty(), 0, 16384),
            Err(Errno::PERM)
        );
        assert_eq!(
            rustix::fs::fcntl_add_seals(&shm, SealFlags::FUTURE_WRITE),
            Err(Errno::PERM)
        );
        assert_eq!(rustix::fs::fstat(&shm).unwrap().st_size, 8192);
    }

    #[test]
    fn received_descriptors_are_checked() {
        let name = unique();
        let shm = SharedMemory::create(&name, 8192).unwrap();
        let ro = SharedMemory::from_fd(shm.read_only().unwrap().fd, name.clone()).unwrap();
        assert_eq!((ro.size(), ro.is_writable()), (8192, false));
        let rw = SharedMemory::from_fd(shm.fd, name.clone()).unwrap();
        assert_eq!(
            (rw.size(), rw.is_writable(), rw.name()),
            (8192, true, &name)
        );
        let unsealed = rustix::fs::memfd_create("zerocp.unsealed", MemfdFlags::CLOEXEC).unwrap();
        rustix::fs::ftruncate(&unsealed, 4096).unwrap();
        assert_eq!(
            SharedMemory::from_fd(unsealed, name.clone()).unwrap_err(),
            ShmError::NotSealed { name }
        );
    }

    #[test]
    fn zero_size_is_rejected_before_creating_anything() {
        let name = unique();
        assert_eq!(
            SharedMemory::create(&name, 0).unwrap_err(),
            ShmError::ZeroSize { name }
        );
    }

    /// The size limit comes from `RLIMIT_FSIZE` in a child of its own, so no
    /// memory is exhausted and no other test is limited.
    #[test]
    fn too_large_fails_at_creation_naming_the_segment() {
        spawn_child(
            "shm::tests::child_creates_beyond_its_file_size_limit",
            &[],
            &[],
        )
        .expect_success(std::time::Duration::from_secs(60));
    }

    #[test]
    #[ignore = "a child role, run by spawn_child: not a test"]
    fn child_creates_beyond_its_file_size_limit() {
        if role_args("shm::tests::child_creates_beyond_its_file_size_limit").is_none() {
            return;
        }
        const LIMIT: u64 = 1 << 20;
        // Handled, so the limit is an error return, not a signal that kills us.
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGXFSZ, flag).unwrap();
        rustix::process::setrlimit(
            rustix::process::Resource::Fsize,
            rustix::process::Rlimit {
                current: Some(LIMIT),
                maximum: Some(LIMIT),
            },
        )
        .unwrap();
        let name = unique();
        let err = SharedMemory::create(&name, 4 << 20).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::FBIG), "{err}");
        assert!(err.to_string().contains(name.as_str()), "{err}");
        assert!(err.to_string().contains("RLIMIT_FSIZE"), "{err}");
        let err = SharedMemory::create_uncommitted(&name, 4 << 20).unwrap_err();
        assert_eq!(
            err,
            ShmError::Size {
                name: name.clone(),
                size: 4 << 20,
                errno: Errno::FBIG
            }
        );
        assert!(err.to_string().contains("cannot size"), "{err}");
        // Below the limit, the same call succeeds: the limit is what failed.
        assert_eq!(SharedMemory::create(&name, 4096).unwrap().size(), 4096);
    }
}
