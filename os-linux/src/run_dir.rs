//! Where the daemon's control socket and lock file live.
//!
//! The run directory is, in this order:
//!
//! 1. `$ZEROCP_RUN_DIR` when set and non-empty: used as given (it must be an
//!    absolute path), created with its parents if missing, mode `0755`; no
//!    fallback, since the user asked for this one;
//! 2. `/run/zerocp`, the system location, when it is (or can be created) a
//!    writable directory; created with mode `0755` so applications of other
//!    users can reach the socket (whose own mode decides who may connect);
//! 3. `$XDG_RUNTIME_DIR/zerocp`, the per-user location, mode `0700`;
//! 4. `/tmp/zerocp-<uid>`, mode `0700`. Because `/tmp` is shared, an
//!    existing directory there is only used when it is a real directory (no
//!    symbolic link), owned by this user, and not writable by group or
//!    others; otherwise another user could plant a fake daemon socket.
//!
//! Modes are set with `chmod` after `mkdir`, so the umask does not change
//! them; the modes of existing directories are left alone.
//!
//! The daemon *creates* its run directory ([`RunDirConfig::create`]);
//! applications only *look* for the daemon's socket
//! ([`RunDirConfig::locate`]), so a user's application finds a system
//! daemon's `/run/zerocp` even though it could not write there itself.
//!
//! The daemon removes what it created and nothing else: [`RunDir`] records
//! the directories `create` made, and [`RunDir::remove_created`] removes
//! those that are empty at stop, innermost first. A directory it found (one
//! systemd's `RuntimeDirectory=` made, or another daemon's) stays.

use std::path::{Path, PathBuf};

use rustix::fs::{Access, FileType, Mode};

use crate::error::{Errno, RunDirError, RunDirProblem};

/// The environment variable that overrides the run directory.
pub const RUN_DIR_ENV: &str = "ZEROCP_RUN_DIR";
/// The system-wide run directory.
pub const SYSTEM_RUN_DIR: &str = "/run/zerocp";

/// Mode of run directories shared between users.
const SHARED_DIR_MODE: u32 = 0o755;
/// Mode of per-user run directories.
const PRIVATE_DIR_MODE: u32 = 0o700;

/// The daemon's run directory, created if missing (see the module docs for
/// the order of candidates).
///
/// ```no_run
/// let dir = zerocp_os_linux::run_dir::run_dir()?;
/// println!("sockets live in {}", dir.display());
/// # Ok::<(), zerocp_os_linux::error::RunDirError>(())
/// ```
pub fn run_dir() -> Result<PathBuf, RunDirError> {
    RunDirConfig::from_env().create().map(|dir| dir.path)
}

/// A run directory the daemon made sure of, and the directories it had to
/// create for it (outermost first).
///
/// ```
/// use zerocp_os_linux::run_dir::RunDirConfig;
/// let base = std::env::temp_dir().join(format!("zerocp-doc-rundir-{}", std::process::id()));
/// let config = RunDirConfig { explicit: Some(base.join("a/b")), ..RunDirConfig::from_env() };
/// let dir = config.create()?;
/// assert_eq!(dir.path(), base.join("a/b"));
/// assert_eq!(dir.created(), [base.clone(), base.join("a"), base.join("a/b")]);
/// assert!(dir.remove_created().is_empty());
/// assert!(!base.exists());
/// # Ok::<(), zerocp_os_linux::error::RunDirError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
    created: Vec<PathBuf>,
}

impl RunDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directories [`RunDirConfig::create`] created, outermost first
    /// (empty when the run directory existed).
    pub fn created(&self) -> &[PathBuf] {
        &self.created
    }

    /// Removes the created directories, innermost first, stopping at the
    /// first that cannot go (typically `ENOTEMPTY`: another daemon's socket
    /// lives there). Returns what stayed and why.
    pub fn remove_created(self) -> Vec<(PathBuf, Errno)> {
        let mut created = self.created;
        while let Some(dir) = created.pop() {
            match rustix::fs::rmdir(&dir) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(errno) => {
                    let mut stayed = vec![(dir, errno)];
                    stayed.extend(created.into_iter().rev().map(|d| (d, Errno::NOTEMPTY)));
                    return stayed;
                }
            }
        }
        Vec::new()
    }
}

/// The inputs of run-directory resolution, read from the environment by
/// [`RunDirConfig::from_env`] or set explicitly (tests, tools).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDirConfig {
    /// `$ZEROCP_RUN_DIR`, when set and non-empty.
    pub explicit: Option<PathBuf>,
    /// The system location, normally [`SYSTEM_RUN_DIR`].
    pub system: PathBuf,
    /// `$XDG_RUNTIME_DIR`, when set and non-empty.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// The shared temporary directory, normally `/tmp`.
    pub tmp: PathBuf,
    /// This process's real uid.
    pub uid: u32,
}

/// One place the run directory may be.
struct Candidate {
    path: PathBuf,
    mode: u32,
    /// Set when the parent is writable by other users: the uid that must
    /// own the directory (which must also not be group/other-writable).
    required_owner: Option<u32>,
}

impl RunDirConfig {
    /// Reads `ZEROCP_RUN_DIR`, `XDG_RUNTIME_DIR` and the real uid.
    pub fn from_env() -> Self {
        let non_empty = |var: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            explicit: non_empty(RUN_DIR_ENV),
            system: PathBuf::from(SYSTEM_RUN_DIR),
            xdg_runtime_dir: non_empty("XDG_RUNTIME_DIR"),
            tmp: PathBuf::from("/tmp"),
            uid: rustix::process::getuid().as_raw(),
        }
    }

    /// The daemon's rule: the first candidate that is, or can be created
    /// as, a writable directory. Creates it, and says what it created.
    pub fn create(&self) -> Result<RunDir, RunDirError> {
        self.resolve(|c| prepare(c, true))
            .map(|(path, created)| RunDir { path, created })
    }

    /// The application's rule: the explicit directory if set (as given);
    /// else the first candidate that holds `file_name` (the daemon's socket);
    /// when none does, the directory the daemon would pick, so a "cannot
    /// connect" error names the expected path. Creates nothing.
    pub fn locate(&self, file_name: &str) -> Result<PathBuf, RunDirError> {
        if self.explicit.is_some() {
            return self.resolve(|_| Ok(Vec::new())).map(|(path, _)| path);
        }
        if let Some(found) = self
            .candidates()
            .into_iter()
            .find(|c| trusted_existing(c).is_ok() && c.path.join(file_name).exists())
        {
            return Ok(found.path);
        }
        self.resolve(|c| prepare(c, false)).map(|(path, _)| path)
    }

    /// Runs `accept` on the explicit directory or else on each candidate in
    /// order, returning the first accepted one with what `accept` created.
    fn resolve(
        &self,
        accept: impl Fn(&Candidate) -> Result<Vec<PathBuf>, RunDirProblem>,
    ) -> Result<(PathBuf, Vec<PathBuf>), RunDirError> {
        if let Some(path) = &self.explicit {
            let explicit = |problem| RunDirError::Explicit {
                var: RUN_DIR_ENV,
                path: path.clone(),
                problem,
            };
            if !path.is_absolute() {
                return Err(explicit(RunDirProblem::NotAbsolute));
            }
            let candidate = &self.candidates()[0];
            return accept(candidate)
                .map(|created| (candidate.path.clone(), created))
                .map_err(explicit);
        }
        let mut tried = Vec::new();
        for candidate in self.candidates() {
            match accept(&candidate) {
                Ok(created) => return Ok((candidate.path, created)),
                Err(problem) => tried.push((candidate.path, problem)),
            }
        }
        Err(RunDirError::NoneUsable { tried })
    }

    /// The candidates in order of preference: only the explicit directory
    /// when one is set.
    fn candidates(&self) -> Vec<Candidate> {
        if let Some(path) = &self.explicit {
            return vec![Candidate {
                path: path.clone(),
                mode: SHARED_DIR_MODE,
                required_owner: None,
            }];
        }
        let mut out = vec![Candidate {
            path: self.system.clone(),
            mode: SHARED_DIR_MODE,
            required_owner: None,
        }];
        if let Some(xdg) = &self.xdg_runtime_dir {
            out.push(Candidate {
                path: xdg.join("zerocp"),
                mode: PRIVATE_DIR_MODE,
                required_owner: None,
            });
        }
        out.push(Candidate {
            path: self.tmp.join(format!("zerocp-{}", self.uid)),
            mode: PRIVATE_DIR_MODE,
            required_owner: Some(self.uid),
        });
        out
    }
}

/// Makes sure `c` is a usable directory: writable if it exists, else (when
/// `create`) created, or (when not) at least creatable: its parent exists
/// and is writable. Returns the directories it created, outermost first.
fn prepare(c: &Candidate, create: bool) -> Result<Vec<PathBuf>, RunDirProblem> {
    match trusted_existing(c) {
        Ok(()) => return writable(&c.path).map(|()| Vec::new()),
        Err(RunDirProblem::Os(Errno::NOENT)) => {}
        Err(problem) => return Err(problem),
    }
    if !create {
        let parent = c.path.parent().ok_or(RunDirProblem::NotADirectory)?;
        return writable(parent).map(|()| Vec::new());
    }
    let mut created = create_parents(&c.path)?;
    match rustix::fs::mkdir(&c.path, Mode::from_raw_mode(c.mode)) {
        // Set the mode explicitly: mkdir's is reduced by the umask.
        Ok(()) => {
            created.push(c.path.clone());
            rustix::fs::chmod(&c.path, Mode::from_raw_mode(c.mode)).map_err(RunDirProblem::Os)?;
            Ok(created)
        }
        // Someone else created it meanwhile: judge what is there now.
        Err(Errno::EXIST) => trusted_existing(c)
            .and_then(|()| writable(&c.path))
            .map(|()| created),
        Err(errno) => Err(RunDirProblem::Os(errno)),
    }
}

/// Checks that `c` exists as a directory we may trust (`Os(ENOENT)` if it
/// does not exist).
fn trusted_existing(c: &Candidate) -> Result<(), RunDirProblem> {
    let stat = if c.required_owner.is_some() {
        rustix::fs::lstat(&c.path)
    } else {
        rustix::fs::stat(&c.path)
    }
    .map_err(RunDirProblem::Os)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
        return Err(RunDirProblem::NotADirectory);
    }
    if let Some(expected) = c.required_owner {
        if stat.st_uid != expected {
            return Err(RunDirProblem::WrongOwner {
                owner: stat.st_uid,
                expected,
            });
        }
        let mode = stat.st_mode & 0o7777;
        if mode & 0o022 != 0 {
            return Err(RunDirProblem::TooPermissive { mode });
        }
    }
    Ok(())
}

/// Checks that this process may create files in `dir`.
fn writable(dir: &Path) -> Result<(), RunDirProblem> {
    rustix::fs::access(dir, Access::WRITE_OK | Access::EXEC_OK).map_err(RunDirProblem::Os)
}

/// Creates the missing ancestors of `path` (mode `0755`), like `mkdir -p`
/// without the last component; returns those it created, outermost first.
fn create_parents(path: &Path) -> Result<Vec<PathBuf>, RunDirProblem> {
    let missing: Vec<&Path> = path
        .ancestors()
        .skip(1)
        .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
        .collect();
    let mut created = Vec::new();
    for dir in missing.into_iter().rev() {
        match rustix::fs::mkdir(dir, Mode::from_raw_mode(SHARED_DIR_MODE)) {
            Ok(()) => created.push(dir.to_owned()),
            Err(Errno::EXIST) => {}
            Err(errno) => return Err(RunDirProblem::Os(errno)),
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TMP_PREFIX, test_object_name};

    /// A fresh scratch directory, removed (and checked gone) on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            let path = std::env::temp_dir().join(format!("{TMP_PREFIX}{}", test_object_name(120)));
            std::fs::create_dir(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.0).unwrap();
            assert!(!self.0.exists());
        }
    }

    fn mode_of(path: &Path) -> u32 {
        rustix::fs::stat(path).unwrap().st_mode & 0o7777
    }

    /// A config whose defaults all live in `scratch`; the system candidate
    /// sits under a regular file, so it can never be created.
    fn config(scratch: &Scratch) -> RunDirConfig {
        let blocker = scratch.0.join("not-a-dir");
        std::fs::write(&blocker, b"").unwrap();
        RunDirConfig {
            explicit: None,
            system: blocker.join("zerocp"),
            xdg_runtime_dir: None,
            tmp: scratch.0.join("tmp"),
            uid: rustix::process::getuid().as_raw(),
        }
    }

    #[test]
    fn explicit_directory_is_created_with_parents_and_mode() {
        let scratch = Scratch::new();
        let dir = scratch.0.join("a/b/run");
        let cfg = RunDirConfig {
            explicit: Some(dir.clone()),
            ..config(&scratch)
        };
        let created = cfg.create().unwrap();
        assert_eq!(created.path(), dir);
        assert_eq!(
            created.created(),
            [scratch.0.join("a"), scratch.0.join("a/b"), dir.clone()]
        );
        assert_eq!(mode_of(&dir), 0o755);
        // Existing: used as is, and not this call's to remove.
        let found = cfg.create().unwrap();
        assert_eq!(found.path(), dir);
        assert!(found.created().is_empty());
        assert!(found.remove_created().is_empty());
        assert!(dir.exists());
    }

    #[test]
    fn only_empty_created_directories_are_removed() {
        let scratch = Scratch::new();
        let dir = scratch.0.join("a/run");
        let cfg = RunDirConfig {
            explicit: Some(dir.clone()),
            ..config(&scratch)
        };
        let created = cfg.create().unwrap();
        std::fs::write(dir.join("other.sock"), b"").unwrap();
        let stayed = created.clone().remove_created();
        assert_eq!(
            stayed,
            [
                (dir.clone(), Errno::NOTEMPTY),
                (scratch.0.join("a"), Errno::NOTEMPTY)
            ]
        );
        std::fs::remove_file(dir.join("other.sock")).unwrap();
        assert!(created.remove_created().is_empty());
        assert!(!scratch.0.join("a").exists());
    }

    #[test]
    fn relative_explicit_directory_is_refused() {
        let scratch = Scratch::new();
        let cfg = RunDirConfig {
            explicit: Some(PathBuf::from("run/zerocp")),
            ..config(&scratch)
        };
        let err = cfg.create().unwrap_err();
        assert_eq!(
            err,
            RunDirError::Explicit {
                var: RUN_DIR_ENV,
                path: PathBuf::from("run/zerocp"),
                problem: RunDirProblem::NotAbsolute
            }
        );
        assert!(err.to_string().contains("ZEROCP_RUN_DIR"));
    }

    #[test]
    fn falls_back_to_xdg_then_tmp() {
        let scratch = Scratch::new();
        let mut cfg = config(&scratch);
        std::fs::create_dir(scratch.0.join("tmp")).unwrap();
        let tmp_dir = scratch.0.join("tmp").join(format!("zerocp-{}", cfg.uid));
        assert_eq!(cfg.create().unwrap().path(), tmp_dir);
        assert_eq!(mode_of(&tmp_dir), 0o700);

        cfg.xdg_runtime_dir = Some(scratch.0.join("xdg"));
        std::fs::create_dir(scratch.0.join("xdg")).unwrap();
        assert_eq!(cfg.create().unwrap().path(), scratch.0.join("xdg/zerocp"));
        assert_eq!(mode_of(&scratch.0.join("xdg/zerocp")), 0o700);
    }

    #[test]
    fn untrusted_tmp_directory_is_refused() {
        let scratch = Scratch::new();
        let mut cfg = config(&scratch);
        std::fs::create_dir(scratch.0.join("tmp")).unwrap();
        let tmp_dir = scratch.0.join("tmp").join(format!("zerocp-{}", cfg.uid));
        std::fs::create_dir(&tmp_dir).unwrap();
        rustix::fs::chmod(&tmp_dir, Mode::from_raw_mode(0o777)).unwrap();
        let Err(RunDirError::NoneUsable { tried }) = cfg.create() else {
            panic!("a world-writable directory was accepted");
        };
        assert_eq!(tried.len(), 2);
        assert_eq!(tried[0].1, RunDirProblem::Os(Errno::NOTDIR));
        assert_eq!(
            tried[1],
            (
                tmp_dir.clone(),
                RunDirProblem::TooPermissive { mode: 0o777 }
            )
        );

        rustix::fs::chmod(&tmp_dir, Mode::from_raw_mode(0o700)).unwrap();
        // Not the uid the directory name is for: refused as someone else's.
        cfg.uid += 1;
        let planted = scratch.0.join("tmp").join(format!("zerocp-{}", cfg.uid));
        std::fs::create_dir(&planted).unwrap();
        let Err(RunDirError::NoneUsable { tried }) = cfg.create() else {
            panic!("a directory owned by another uid was accepted");
        };
        assert!(matches!(tried[1].1, RunDirProblem::WrongOwner { .. }));
    }

    #[test]
    fn locate_finds_the_socket_and_creates_nothing() {
        let scratch = Scratch::new();
        let mut cfg = config(&scratch);
        std::fs::create_dir(scratch.0.join("tmp")).unwrap();
        std::fs::create_dir(scratch.0.join("xdg")).unwrap();
        cfg.xdg_runtime_dir = Some(scratch.0.join("xdg"));
        // Nothing exists yet: the daemon's choice, not created.
        assert_eq!(cfg.locate("d.sock").unwrap(), scratch.0.join("xdg/zerocp"));
        assert!(!scratch.0.join("xdg/zerocp").exists());
        // A daemon that ran from /tmp: found there, although xdg comes first.
        let tmp_dir = cfg.create_in_tmp_for_test();
        std::fs::write(tmp_dir.join("d.sock"), b"").unwrap();
        assert_eq!(cfg.locate("d.sock").unwrap(), tmp_dir);
    }

    impl RunDirConfig {
        fn create_in_tmp_for_test(&self) -> PathBuf {
            let candidate = self.candidates().pop().unwrap();
            prepare(&candidate, true).unwrap();
            candidate.path
        }
    }
}
