//! The daemon's socket appearing, while the runtime is disconnected: lets
//! the heartbeat thread register again as soon as a restarted daemon binds
//! its socket, instead of at the end of its current backoff wait
//! ([`crate::heartbeat_thread`]).
//!
//! It watches (inotify, [`DirWatch`]) the run directory an application
//! looks in ([`DomainPaths::for_client`]) for `<domain>.sock` being
//! created, moved in or re-moded (the daemon binds it in place, then sets
//! its mode). A daemon may remove the run directory it created when it
//! stops; then the watch is on the directory's parent, for the run
//! directory to appear, and moves to the run directory once it is there
//! (checking for a socket that appeared in between). Events for other
//! names only cost a read: they never make an attempt.
//!
//! inotify is an optimisation only: when it cannot be had (`ENOSYS`, the
//! user's instances or watches used up, no parent directory) or fails
//! later, the watch logs at debug level and the backoff alone drives the
//! attempts. Dropping it closes the descriptor (which leaves the epoll set
//! with it).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use zerocp_os_linux::dir_watch::DirWatch;
use zerocp_os_linux::error::DirWatchError;
use zerocp_os_linux::names::{DomainName, DomainPaths};
use zerocp_os_linux::poller::{Interest, Poller};

/// Watches for a domain's daemon socket to appear (module docs).
pub(crate) struct SocketWatch {
    watch: DirWatch,
    /// The run directory the socket appears in.
    run_dir: PathBuf,
    /// `<domain>.sock`.
    socket_name: OsString,
    /// The socket's full path.
    socket: PathBuf,
}

impl SocketWatch {
    /// Watches for `domain`'s socket, readable in `poller` as `token`;
    /// `None` (logged at debug level) when inotify cannot be had.
    pub(crate) fn start(domain: &DomainName, poller: &Poller, token: u64) -> Option<Self> {
        match DomainPaths::for_client(domain) {
            Ok(paths) => Self::start_at(paths, poller, token),
            Err(e) => {
                log::debug!("not watching for the daemon's socket ({e}): backoff only");
                None
            }
        }
    }

    /// [`SocketWatch::start`] for the socket at `paths`.
    fn start_at(paths: DomainPaths, poller: &Poller, token: u64) -> Option<Self> {
        let started = Self::new(paths).and_then(|mut watch| {
            watch.rewatch()?;
            Ok(watch)
        });
        let watch = match started {
            Ok(watch) => watch,
            Err(e) => {
                log::debug!("not watching for the daemon's socket ({e}): backoff only");
                return None;
            }
        };
        match poller.add(&watch.watch, token, Interest::Readable) {
            Ok(()) => Some(watch),
            Err(e) => {
                log::debug!("not watching for the daemon's socket ({e}): backoff only");
                None
            }
        }
    }

    fn new(paths: DomainPaths) -> Result<Self, String> {
        let socket_name = paths
            .socket
            .file_name()
            .map(ToOwned::to_owned)
            .ok_or_else(|| format!("{} has no file name", paths.socket.display()))?;
        let watch = DirWatch::new().map_err(|e| e.to_string())?;
        Ok(Self {
            watch,
            run_dir: paths.run_dir,
            socket_name,
            socket: paths.socket,
        })
    }

    /// Reads the pending events: whether the socket (may have) appeared,
    /// so that an attempt to register is worth making now. On failure it
    /// logs at debug level, leaves `poller` (a descriptor that stays
    /// readable must not make the thread spin) and answers `false` (the
    /// backoff goes on).
    pub(crate) fn socket_appeared(&mut self, poller: &Poller) -> bool {
        match self.read_events() {
            Ok(appeared) => appeared,
            Err(e) => {
                log::debug!("watching for the daemon's socket: {e}; backoff only");
                if let Err(e) = poller.delete(&self.watch) {
                    log::debug!("watching for the daemon's socket: {e}");
                }
                false
            }
        }
    }

    fn read_events(&mut self) -> Result<bool, String> {
        let on_run_dir = self.watch.watched() == Some(self.run_dir.as_path());
        let name = if on_run_dir {
            self.socket_name.clone()
        } else {
            dir_name(&self.run_dir)?
        };
        let drained = self.watch.drain(&name).map_err(|e| e.to_string())?;
        if on_run_dir && !drained.dir_gone {
            return Ok(drained.appeared);
        }
        if drained.appeared || drained.dir_gone {
            // The run directory appeared (watch it) or went (watch its parent).
            return self.rewatch().map_err(|e| e.to_string());
        }
        Ok(false)
    }

    /// Watches the run directory if it exists, else its parent; returns
    /// whether the socket is there already (it may have appeared before
    /// the watch was in place).
    fn rewatch(&mut self) -> Result<bool, String> {
        match self.watch.watch(&self.run_dir) {
            Ok(()) => return Ok(self.socket.exists()),
            Err(DirWatchError::Watch { errno, .. })
                if errno == zerocp_os_linux::error::Errno::NOENT => {}
            Err(e) => return Err(e.to_string()),
        }
        let parent = self
            .run_dir
            .parent()
            .ok_or_else(|| format!("{} has no parent", self.run_dir.display()))?;
        self.watch.watch(parent).map_err(|e| e.to_string())?;
        // The run directory may have appeared before the watch was in place.
        if self.run_dir.is_dir() {
            return self.rewatch_run_dir();
        }
        Ok(false)
    }

    /// Moves the watch from the parent to the run directory, which exists.
    fn rewatch_run_dir(&mut self) -> Result<bool, String> {
        self.watch.watch(&self.run_dir).map_err(|e| e.to_string())?;
        Ok(self.socket.exists())
    }

    /// The inotify descriptor, to take it out of the poller.
    pub(crate) fn dir_watch(&self) -> &DirWatch {
        &self.watch
    }
}

/// The last component of `dir`, the name it appears under in its parent.
fn dir_name(dir: &Path) -> Result<OsString, String> {
    dir.file_name()
        .map(ToOwned::to_owned)
        .ok_or_else(|| format!("{} has no file name", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_os_linux::poller::Events;

    /// Waits (10 s at most) for the watch's descriptor to be readable.
    fn readable(poller: &Poller) -> bool {
        let mut events = Events::with_capacity(1);
        poller
            .wait(&mut events, Some(std::time::Duration::from_secs(10)))
            .expect("epoll wait")
            > 0
    }

    #[test]
    fn the_watch_follows_the_run_directory_going_and_coming_back() {
        let base = std::env::temp_dir().join(format!("zerocp-sockwatch-{}", std::process::id()));
        std::fs::create_dir(&base).expect("create the parent");
        let run_dir = base.join("run");
        let domain = DomainName::new("sockwatch").expect("a domain name");
        let paths = DomainPaths::new(&run_dir, &domain);
        let socket = paths.socket.clone();
        let poller = Poller::new().expect("epoll");
        let mut watch = SocketWatch::start_at(paths, &poller, 7).expect("inotify");
        assert_eq!(watch.dir_watch().watched(), Some(base.as_path()));
        std::fs::create_dir(&run_dir).expect("create the run directory");
        assert!(readable(&poller));
        assert!(!watch.socket_appeared(&poller), "a directory is no socket");
        assert_eq!(watch.dir_watch().watched(), Some(run_dir.as_path()));
        std::fs::write(run_dir.join("sockwatch.lock"), b"").expect("another file");
        assert!(readable(&poller));
        assert!(!watch.socket_appeared(&poller), "another name is no socket");
        std::fs::write(&socket, b"").expect("the socket's name");
        assert!(readable(&poller));
        assert!(watch.socket_appeared(&poller));
        std::fs::remove_dir_all(&run_dir).expect("remove the run directory");
        assert!(readable(&poller));
        assert!(!watch.socket_appeared(&poller));
        assert_eq!(watch.dir_watch().watched(), Some(base.as_path()));
        // The socket there before the watch moved in: seen by the move.
        std::fs::create_dir(&run_dir).expect("create the run directory again");
        std::fs::write(&socket, b"").expect("the socket's name");
        assert!(readable(&poller));
        assert!(watch.socket_appeared(&poller));
        drop(watch);
        std::fs::remove_dir_all(&base).expect("clean up");
    }
}
