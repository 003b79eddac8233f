//! Support for ZeroCP's own tests (feature `test-support`): names that say
//! which test made an OS object, a sweep of what killed test processes left
//! behind, a private, size-limited `/dev/shm`, checked `AtomicU32`s in a
//! mapping for tests that share words between processes, and child
//! processes that run one role of the test binary ([`role`]).
//!
//! **Names.** Every shared-memory object, domain and temporary path a test
//! creates is named with [`test_object_name`]: `ztest<pid>-<n>-<test>`, where
//! `<test>` is the running test's name (libtest names each test's thread
//! after it). A leftover thus names the test that made it, and the pid tells
//! whether its process is still alive.
//!
//! **Sweep.** Drop guards remove what a failing test created, but nothing
//! runs when a test process is killed. The first [`test_object_name`] call
//! of a process therefore removes every `/dev/shm/zerocp.ztest<pid>-…` object
//! and `$TMPDIR/zerocp-test-ztest<pid>-…` path whose `<pid>` no longer exists.
//!
//! **A private `/dev/shm`.** Tests that provoke "too large" errors must not
//! fill the machine's shared tmpfs: `/dev/shm` is usually as large as the
//! machine's memory, so a request that fits below its limit is really
//! allocated, and the kernel's OOM killer picks processes machine-wide.
//! [`with_private_dev_shm`] runs a closure on a thread of its own in a new
//! mount namespace with a small tmpfs on `/dev/shm`; processes spawned from
//! that thread inherit it. The limit is the test's own, and the memory goes
//! away with the namespace.
//!
//! **Words in a mapping.** [`atomic_u32_at`] is [`Mapping::ref_at`] for an
//! `AtomicU32`, made safe by refusing read-only mappings; the tests of
//! futexes, mappings and shared structures pass flags and counters through it.
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

use rustix::mount::{MountFlags, MountPropagationFlags};
use rustix::thread::UnshareFlags;

use crate::error::{Errno, ErrnoText, MapError};
use crate::mmap::Mapping;

/// The file-name prefix, in `/dev/shm`, of test objects ([`test_object_name`] follows it).
pub const SHM_PREFIX: &str = "zerocp.";
/// The file-name prefix, in the temporary directory, of test paths.
pub const TMP_PREFIX: &str = "zerocp-test-";
/// What every [`test_object_name`] starts with, before the pid: a mark no
/// real domain is expected to carry, so the sweep never touches one.
const NAME_MARK: &str = "ztest";
/// Set (to anything) where a test must not skip for want of namespaces: CI,
/// which runs as root.
pub const REQUIRE_NAMESPACES_ENV: &str = "ZEROCP_TEST_REQUIRE_NAMESPACES";

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
    sweep_dir(Path::new("/dev/shm"), SHM_PREFIX) + sweep_dir(&std::env::temp_dir(), TMP_PREFIX)
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
/// # use zerocp_os_linux::{names::ShmName, shm::SharedMemory, mmap::Mapping};
/// use std::sync::atomic::Ordering;
/// use zerocp_os_linux::testing::atomic_u32_at;
/// # let name = ShmName::new(&format!("/zerocp.doc.atomic.{}", std::process::id()))?;
/// # let shm = SharedMemory::create_exclusive(&name, 4096, 0o600)?;
/// let map = Mapping::map(&shm, true)?;
/// atomic_u32_at(&map, 64)?.store(7, Ordering::Release);
/// assert!(atomic_u32_at(&map, 66).is_err()); // misaligned
/// # SharedMemory::unlink(&name)?;
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

/// Why [`with_private_dev_shm`] could not set up its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateShmError {
    /// `unshare(CLONE_NEWNS)` failed: typically `EPERM` without
    /// `CAP_SYS_ADMIN`, or `ENOSYS`/`EINVAL` where namespaces are missing.
    Unshare(Errno),
    /// Making every mount private (so nothing propagates back to the
    /// machine's namespace) failed.
    MakePrivate(Errno),
    /// Mounting the small tmpfs on `/dev/shm` failed.
    Mount(Errno),
}

impl core::fmt::Display for PrivateShmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (what, errno) = match *self {
            Self::Unshare(e) => ("cannot create a private mount namespace", e),
            Self::MakePrivate(e) => ("cannot make the mounts of a new namespace private", e),
            Self::Mount(e) => ("cannot mount a private tmpfs on /dev/shm", e),
        };
        write!(f, "{what}: {}", ErrnoText(errno))
    }
}

impl std::error::Error for PrivateShmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Unshare(e) | Self::MakePrivate(e) | Self::Mount(e) => Some(e),
        }
    }
}

/// Runs `f` on a new thread that sees a fresh tmpfs of `size` bytes on
/// `/dev/shm`, in a mount namespace of its own (module docs); processes it
/// spawns see the same. The machine's `/dev/shm` is untouched. Returns
/// `f`'s result, or why the namespace could not be made (callers skip with
/// that reason where the process may not unshare). A panic in `f` is
/// passed on to the caller.
///
/// ```no_run
/// use zerocp_os_linux::testing::with_private_dev_shm;
/// let free = with_private_dev_shm(1 << 20, || {
///     let vfs = rustix::fs::statvfs("/dev/shm").unwrap();
///     vfs.f_blocks * vfs.f_frsize
/// })?;
/// assert_eq!(free, 1 << 20);
/// # Ok::<(), zerocp_os_linux::testing::PrivateShmError>(())
/// ```
pub fn with_private_dev_shm<R: Send>(
    size: usize,
    f: impl FnOnce() -> R + Send,
) -> Result<R, PrivateShmError> {
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            enter_private_dev_shm(size)?;
            Ok(f())
        });
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// What a test does when [`with_private_dev_shm`] failed: prints that it
/// skips and why, or panics with the reason where
/// [`REQUIRE_NAMESPACES_ENV`] is set.
pub fn skip_without_namespaces(err: &PrivateShmError) {
    assert!(
        std::env::var_os(REQUIRE_NAMESPACES_ENV).is_none(),
        "{err}, and {REQUIRE_NAMESPACES_ENV} is set"
    );
    eprintln!("skipped: {err}");
}

/// Moves the calling thread into a new mount namespace with a `size`-byte
/// tmpfs on `/dev/shm`. Only for a thread that ends after its work: the
/// namespace stays with the thread.
fn enter_private_dev_shm(size: usize) -> Result<(), PrivateShmError> {
    // SAFETY: NEWNS (with the FS it implies) gives this thread its own mount
    // namespace, root and cwd; it unshares no file descriptor table, so no
    // other thread's view of descriptors changes.
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNS) }
        .map_err(PrivateShmError::Unshare)?;
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::REC | MountPropagationFlags::PRIVATE,
    )
    .map_err(PrivateShmError::MakePrivate)?;
    let options = std::ffi::CString::new(format!("size={size},mode=1777"))
        .expect("the options have no NUL byte");
    rustix::mount::mount(
        "zerocp-test",
        "/dev/shm",
        "tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        options.as_c_str(),
    )
    .map_err(PrivateShmError::Mount)
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

    #[test]
    fn private_dev_shm_is_small_and_private() {
        let file = format!("/dev/shm/{SHM_PREFIX}{}", test_object_name(64));
        let inner = file.clone();
        let result = with_private_dev_shm(1 << 20, move || {
            let vfs = rustix::fs::statvfs("/dev/shm").unwrap();
            std::fs::write(&inner, b"private").unwrap();
            vfs.f_blocks * vfs.f_frsize
        });
        match result {
            Ok(total) => assert_eq!(total, 1 << 20),
            Err(err) => return skip_without_namespaces(&err),
        }
        assert!(
            !Path::new(&file).exists(),
            "{file} leaked into the machine's /dev/shm"
        );
    }
}
