//! Support for ZeroCP's own tests (feature `test-support`): names that say
//! which test made an OS object, a sweep of what killed test processes left
//! behind, checked `AtomicU32`s in a mapping for tests that share words
//! between processes, and child processes that run one role of the test
//! binary ([`role`]).
//!
//! **Names.** Every segment, domain and temporary path a test
//! creates is named with [`test_object_name`]: `ztest<pid>-<n>-<test>`, where
//! `<test>` is the running test's name (libtest names each test's thread
//! after it). A leftover thus names the test that made it, and the pid tells
//! whether its process is still alive.
//!
//! **Sweep.** Drop guards remove what a failing test created, but nothing
//! runs when a test process is killed. The first [`test_object_name`] call
//! of a process therefore removes every `$TMPDIR/zerocp-test-ztest<pid>-…`
//! path whose `<pid>` no longer exists. Segments need no sweep: they are
//! memory files without a name in any file system, freed with their last
//! holder.
//!
//! **Words in a mapping.** [`atomic_u32_at`] is [`Mapping::ref_at`] for an
//! `AtomicU32`, made safe by refusing read-only mappings; the tests of
//! futexes, mappings and shared structures pass flags and counters through it.
//!
//! **Segments of other processes.** Segments have no name to open: a test
//! that shares one with a child, or inspects the daemon's, opens the owner's
//! descriptor through `/proc/<pid>/fd` ([`open_segment_of`],
//! [`segment_fd_of`]), which the segment's mode allows for its owner's uid
//! and root.
//!
//! **Roles.** A test that needs more than one process re-executes its own
//! test binary to run one of its functions, a role, in a child:
//! [`role::spawn_child`] starts it and returns a [`role::TestChild`] to talk
//! to it and wait for it, [`role::role_args`] gives the role its arguments.
//! The crate's integration tests and the daemon's share this one runner.

pub mod role;

use std::path::Path;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use std::os::fd::RawFd;

use rustix::fs::{Mode, OFlags};

use crate::error::{MapError, ShmError};
use crate::mmap::Mapping;
use crate::names::SegmentName;
use crate::shm::SharedMemory;

/// The file-name prefix, in the temporary directory, of test paths.
pub const TMP_PREFIX: &str = "zerocp-test-";
/// What every [`test_object_name`] starts with, before the pid: a mark no
/// real domain is expected to carry, so the sweep never touches one.
const NAME_MARK: &str = "ztest";

/// A name unique to this call that says which test made it:
/// `ztest<pid>-<n>-<test>`, at most `max_len` bytes of `[A-Za-z0-9_-]` (valid as
/// a domain name and inside shared-memory names and paths). The first call
/// in a process sweeps up what dead test processes left (module docs).
///
/// ```
/// use zerocp_os_linux::testing::test_object_name;
/// let name = test_object_name(32);
/// assert!(name.len() <= 32);
/// assert!(name.starts_with(&format!("ztest{}-", std::process::id())));
/// ```
pub fn test_object_name(max_len: usize) -> String {
    static SWEEP: Once = Once::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    SWEEP.call_once(|| {
        sweep_dead_test_objects();
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("{NAME_MARK}{}-{n}-", std::process::id());
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("main");
    // `module::test_name`: the last part is the test; keep what fits.
    let test = test.rsplit("::").next().unwrap_or(test);
    let room = max_len.saturating_sub(name.len());
    name.extend(
        test.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .take(room),
    );
    name.truncate(max_len);
    name
}

/// Removes the test objects of processes that are gone (module docs);
/// returns how many it removed. Failures are printed, not fatal: a sweep
/// is a courtesy to the next run.
pub fn sweep_dead_test_objects() -> usize {
    sweep_dir(&std::env::temp_dir(), TMP_PREFIX)
}

fn sweep_dir(dir: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|name| name.strip_prefix(prefix))
            .and_then(owner_pid)
        else {
            continue;
        };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        let result = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match result {
            Ok(()) => removed += 1,
            Err(err) => eprintln!("test sweep: cannot remove {}: {err}", path.display()),
        }
    }
    removed
}

/// The pid in a name that starts `ztest<pid>-`.
fn owner_pid(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(NAME_MARK)?.split_once('-')?.0;
    digits.parse().ok().filter(|&pid| pid > 0)
}

/// The `AtomicU32` at byte `offset` of `map`, checked to lie inside the
/// mapping and to be 4-byte aligned. Needs a writable mapping, since a store
/// through the reference would otherwise fault.
///
/// ```
/// # use zerocp_os_linux::{names::SegmentName, shm::SharedMemory, mmap::Mapping};
/// use std::sync::atomic::Ordering;
/// use zerocp_os_linux::testing::atomic_u32_at;
/// # let shm = SharedMemory::create(&SegmentName::new("zerocp.doc.atomic")?, 4096)?;
/// let map = Mapping::map(&shm, true)?;
/// atomic_u32_at(&map, 64)?.store(7, Ordering::Release);
/// assert!(atomic_u32_at(&map, 66).is_err()); // misaligned
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn atomic_u32_at(map: &Mapping, offset: usize) -> Result<&AtomicU32, MapError> {
    if !map.is_writable() {
        return Err(MapError::NotWritable {
            name: map.name().clone(),
        });
    }
    // SAFETY: every bit pattern is a valid AtomicU32, all concurrent
    // access to it goes through atomic operations (its interior
    // mutability), and the mapping is writable, so stores cannot fault.
    unsafe { map.ref_at(offset) }
}

/// Opens the segment `name` that process `pid` holds as descriptor `fd`,
/// read-write when `writable` (module docs).
///
/// ```
/// use std::os::fd::{AsFd, AsRawFd};
/// use zerocp_os_linux::{names::SegmentName, shm::SharedMemory, testing::open_segment_of};
/// let name = SegmentName::new("zerocp.doc.of")?;
/// let mine = SharedMemory::create(&name, 4096)?;
/// let again = open_segment_of(std::process::id(), mine.as_fd().as_raw_fd(), name, true)?;
/// assert_eq!(again.size(), 4096);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_segment_of(
    pid: u32,
    fd: RawFd,
    name: SegmentName,
    writable: bool,
) -> Result<SharedMemory, ShmError> {
    let access = if writable {
        OFlags::RDWR
    } else {
        OFlags::RDONLY
    };
    let path = format!("/proc/{pid}/fd/{fd}");
    match rustix::fs::open(path, access | OFlags::CLOEXEC, Mode::empty()) {
        Ok(opened) => SharedMemory::from_fd(opened, name),
        Err(errno) => Err(ShmError::Reopen { name, errno }),
    }
}

/// Whether memory files get transparent huge pages
/// (`/sys/kernel/mm/transparent_hugepage/shmem_enabled` is `always`,
/// `within_size` or `force`): then pages are committed 2 MiB at a time, and
/// a test that counts committed pages must skip its counts. Says so on
/// stderr when they do.
pub fn shmem_huge_pages() -> bool {
    let setting = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
    let huge = setting.is_ok_and(|text| {
        ["[always]", "[within_size]", "[force]"]
            .iter()
            .any(|mode| text.contains(mode))
    });
    if huge {
        eprintln!(
            "skipped: memory files get huge pages here (shmem_enabled), pages are not counted"
        );
    }
    huge
}

/// The descriptor number under which process `pid` holds the segment `name`.
pub fn segment_fd_of(pid: u32, name: &SegmentName) -> Option<RawFd> {
    let target = format!("/memfd:{name} (deleted)");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(Result::ok)
        .find(|entry| {
            std::fs::read_link(entry.path()).is_ok_and(|link| link.as_os_str() == target.as_str())
        })?
        .file_name()
        .to_str()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_pid_and_test_and_fit() {
        let name = test_object_name(32);
        assert!(name.len() <= 32, "{name}");
        assert_eq!(owner_pid(&name), Some(std::process::id()));
        let long = test_object_name(200);
        assert!(long.ends_with("names_carry_pid_and_test_and_fit"), "{long}");
        assert_ne!(test_object_name(200), long, "names repeat");
    }

    #[test]
    fn owner_pid_reads_only_test_names() {
        assert_eq!(owner_pid("ztest42-0-x"), Some(42));
        assert_eq!(owner_pid("ztest0-0-x"), None);
        assert_eq!(owner_pid("default.mgmt"), None);
        assert_eq!(owner_pid("t42-0-x"), None);
        assert_eq!(owner_pid("ztestx-1"), None);
        assert_eq!(owner_pid("ztest42"), None);
    }

    #[test]
    fn sweep_removes_dead_and_keeps_living() {
        // A pid above the kernel's maximum (4194304) is never alive.
        let dead = std::env::temp_dir().join(format!("{TMP_PREFIX}{NAME_MARK}4194305-0-sweep"));
        let alive = std::env::temp_dir().join(format!("{TMP_PREFIX}{}", test_object_name(64)));
        std::fs::create_dir_all(dead.join("inner")).unwrap();
        std::fs::create_dir_all(&alive).unwrap();
        assert!(sweep_dir(&std::env::temp_dir(), TMP_PREFIX) >= 1);
        assert!(!dead.exists());
        assert!(alive.exists());
        std::fs::remove_dir(&alive).unwrap();
    }
}
