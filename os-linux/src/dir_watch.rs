//! [`DirWatch`]: an inotify descriptor watching one directory for names
//! appearing in it, for a thread that already sleeps in
//! [`crate::poller::Poller::wait`] (the runtime's heartbeat thread learns
//! this way that a restarted daemon's socket is there).
//!
//! One directory at a time: [`DirWatch::watch`] replaces the previous
//! watch. A name *appears* when it is created, moved in, or has its
//! attributes changed (`IN_CREATE`, `IN_MOVED_TO`, `IN_ATTRIB`: the daemon
//! binds its socket in place and then sets its mode). The watched
//! directory going away (`IN_DELETE_SELF`, `IN_MOVE_SELF`, `IN_IGNORED`)
//! is reported too, so the caller can watch its parent instead.
//!
//! The descriptor is nonblocking and close-on-exec; [`DirWatch::drain`]
//! reads a bounded number of buffers per call, so a process flooding the
//! directory with events cannot hold the caller (the rest stays readable
//! for the next wait). An overflowed queue (`IN_Q_OVERFLOW`) counts as
//! "something may have appeared".

use std::ffi::OsStr;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

use crate::error::{DirWatchError, Errno};

/// The buffers one [`DirWatch::drain`] reads at most.
const MAX_READS_PER_DRAIN: usize = 8;
/// One read's buffer: room for many events with short names.
const READ_BUFFER: usize = 4096;

/// What one [`DirWatch::drain`] saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drained {
    /// Whether the name the caller asked about appeared (or the event
    /// queue overflowed, so it may have).
    pub appeared: bool,
    /// Whether the watched directory went away (the watch is gone).
    pub dir_gone: bool,
}

/// An inotify descriptor watching at most one directory.
///
/// ```
/// use zerocp_os_linux::dir_watch::DirWatch;
/// let dir = std::env::temp_dir().join(format!("zerocp-doc-dirwatch-{}", std::process::id()));
/// std::fs::create_dir(&dir).unwrap();
/// let mut watch = DirWatch::new()?;
/// watch.watch(&dir)?;
/// assert!(!watch.drain("a.sock".as_ref())?.appeared);
/// std::fs::write(dir.join("other"), b"").unwrap();
/// std::fs::write(dir.join("a.sock"), b"").unwrap();
/// assert!(watch.drain("a.sock".as_ref())?.appeared);
/// std::fs::remove_file(dir.join("other")).unwrap();
/// std::fs::remove_file(dir.join("a.sock")).unwrap();
/// std::fs::remove_dir(&dir).unwrap();
/// assert!(watch.drain("a.sock".as_ref())?.dir_gone);
/// # Ok::<(), zerocp_os_linux::error::DirWatchError>(())
/// ```
#[derive(Debug)]
pub struct DirWatch {
    fd: OwnedFd,
    /// The watch descriptor and directory of the current watch.
    watched: Option<(i32, PathBuf)>,
}

impl DirWatch {
    /// A new inotify descriptor watching nothing yet (`ENOSYS`, `EMFILE`:
    /// inotify is unavailable, or the user's instances are used up).
    pub fn new() -> Result<Self, DirWatchError> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .map_err(|errno| DirWatchError::Create { errno })?;
        Ok(Self { fd, watched: None })
    }

    /// Watches `dir` for names appearing in it, instead of what was
    /// watched before (`ENOENT`: no such directory; `ENOSPC`: the user's
    /// watches are used up).
    pub fn watch(&mut self, dir: &Path) -> Result<(), DirWatchError> {
        self.unwatch();
        let flags = WatchFlags::CREATE
            | WatchFlags::MOVED_TO
            | WatchFlags::ATTRIB
            | WatchFlags::DELETE_SELF
            | WatchFlags::MOVE_SELF
            | WatchFlags::ONLYDIR;
        let wd =
            inotify::add_watch(&self.fd, dir, flags).map_err(|errno| DirWatchError::Watch {
                dir: dir.to_owned(),
                errno,
            })?;
        self.watched = Some((wd, dir.to_owned()));
        Ok(())
    }

    /// The directory watched, if any.
    pub fn watched(&self) -> Option<&Path> {
        self.watched.as_ref().map(|(_, dir)| dir.as_path())
    }

    /// Reads the pending events (a bounded number, module docs): whether
    /// `name` appeared in the watched directory, and whether the directory
    /// went away. Events of an earlier watch are ignored.
    pub fn drain(&mut self, name: &OsStr) -> Result<Drained, DirWatchError> {
        let mut drained = Drained::default();
        let mut buf = [MaybeUninit::<u8>::uninit(); READ_BUFFER];
        'reads: for _ in 0..MAX_READS_PER_DRAIN {
            let mut reader = inotify::Reader::new(&self.fd, &mut buf);
            loop {
                let event = match reader.next() {
                    Ok(event) => event,
                    Err(Errno::AGAIN) => break 'reads,
                    Err(Errno::INTR) => break,
                    Err(errno) => return Err(DirWatchError::Read { errno }),
                };
                let current = self.watched.as_ref().map(|(wd, _)| *wd);
                note(&mut drained, &event, current, name);
                if reader.is_buffer_empty() {
                    break;
                }
            }
        }
        if drained.dir_gone {
            self.watched = None;
        }
        Ok(drained)
    }

    /// Removes the current watch, if any (it may be gone already).
    fn unwatch(&mut self) {
        if let Some((wd, _)) = self.watched.take() {
            // EINVAL: the kernel removed it already (the directory went).
            let _ = inotify::remove_watch(&self.fd, wd);
        }
    }
}

/// Adds what `event` says to `drained`.
fn note(drained: &mut Drained, event: &inotify::Event<'_>, current: Option<i32>, name: &OsStr) {
    let flags = event.events();
    if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
        drained.appeared = true;
        return;
    }
    if current != Some(event.wd()) {
        return;
    }
    if flags.intersects(ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF | ReadFlags::IGNORED) {
        drained.dir_gone = true;
    }
    let appearing = ReadFlags::CREATE | ReadFlags::MOVED_TO | ReadFlags::ATTRIB;
    if flags.intersects(appearing)
        && event
            .file_name()
            .is_some_and(|n| OsStr::from_bytes(n.to_bytes()) == name)
    {
        drained.appeared = true;
    }
}

impl AsFd for DirWatch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
