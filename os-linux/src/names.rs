//! The OS-visible names of a ZeroCP domain.
//!
//! A *domain* isolates one ZeroCP system from another on the same machine.
//! Every name the kernel sees derives from the domain name: the control
//! socket `<run_dir>/<domain>.sock`, the lock file `<run_dir>/<domain>.lock`
//! and the shared-memory objects `/zerocp.<domain>.mgmt` and
//! `/zerocp.<domain>.data`. This module owns those derivations and the
//! validation of names, which happens here, before any system call sees them.
//! Where `run_dir` is lives in [`crate::run_dir`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{NameError, NameKind, RunDirError};
use crate::run_dir::{RunDir, RunDirConfig};

/// The environment variable naming the domain.
pub const DOMAIN_ENV: &str = "ZEROCP_DOMAIN";

/// A validated domain name: 1 to [`DomainName::MAX_LEN`] ASCII letters,
/// digits, `_` or `-`.
///
/// ```
/// use zerocp_os_linux::names::DomainName;
/// let domain = DomainName::new("robot-1")?;
/// assert_eq!(domain.as_str(), "robot-1");
/// assert!(DomainName::new("no/slash").is_err());
/// # Ok::<(), zerocp_os_linux::error::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

impl DomainName {
    /// The longest domain name, in bytes.
    pub const MAX_LEN: usize = 32;
    /// The domain used when none is configured.
    pub const DEFAULT: &'static str = "default";

    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let kind = NameKind::Domain;
        check_len(kind, name, Self::MAX_LEN)?;
        check_chars(kind, name, 0, |c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '-'
        })?;
        Ok(Self(name.to_owned()))
    }

    /// The domain `default`.
    pub fn default_domain() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    /// The domain named by `ZEROCP_DOMAIN`, or `default` when it is unset or
    /// empty. An invalid value is an error naming the variable.
    pub fn from_env() -> Result<Self, NameError> {
        match std::env::var(DOMAIN_ENV) {
            Ok(value) if value.is_empty() => Ok(Self::default_domain()),
            Ok(value) => Self::new(&value).map_err(|source| NameError::Env {
                var: DOMAIN_ENV,
                source: Box::new(source),
            }),
            Err(std::env::VarError::NotPresent) => Ok(Self::default_domain()),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(NameError::EnvNotUnicode { var: DOMAIN_ENV })
            }
        }
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DomainName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        Self::new(s)
    }
}

/// A validated POSIX shared-memory object name: `/` followed by 1 to 254
/// ASCII letters, digits, `.`, `_` or `-` (not `.` or `..`), so it names
/// exactly one file directly in `/dev/shm`.
///
/// ```
/// use zerocp_os_linux::names::ShmName;
/// let name = ShmName::new("/zerocp.default.mgmt")?;
/// assert_eq!(name.as_str(), "/zerocp.default.mgmt");
/// assert!(ShmName::new("zerocp").is_err());      // no leading '/'
/// assert!(ShmName::new("/a/b").is_err());        // inner '/'
/// # Ok::<(), zerocp_os_linux::error::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShmName(String);

impl ShmName {
    /// The longest name in bytes, the leading `/` included (`NAME_MAX`).
    pub const MAX_LEN: usize = 255;

    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let kind = NameKind::SharedMemory;
        let Some(rest) = name.strip_prefix('/') else {
            return Err(if name.is_empty() {
                NameError::Empty { kind }
            } else {
                NameError::MissingSlash {
                    name: name.to_owned(),
                }
            });
        };
        check_len(kind, rest, Self::MAX_LEN - 1).map_err(|e| match e {
            NameError::TooLong { len, max, .. } => NameError::TooLong {
                kind,
                name: name.to_owned(),
                len: len + 1,
                max: max + 1,
            },
            other => other,
        })?;
        check_chars(kind, name, 1, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
        })?;
        if rest == "." || rest == ".." {
            return Err(NameError::Reserved {
                kind,
                name: name.to_owned(),
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// `/zerocp.<domain>.<suffix>`; valid by construction because domain
    /// characters are a subset of shared-memory name characters and the
    /// suffixes used are short literals.
    fn for_domain(domain: &DomainName, suffix: &str) -> Self {
        Self(format!("/zerocp.{domain}.{suffix}"))
    }

    /// The name as a string, leading `/` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ShmName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        Self::new(s)
    }
}

/// Rejects empty names and names longer than `max` bytes.
fn check_len(kind: NameKind, name: &str, max: usize) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty { kind });
    }
    if name.len() > max {
        return Err(NameError::TooLong {
            kind,
            name: name.to_owned(),
            len: name.len(),
            max,
        });
    }
    Ok(())
}

/// Rejects the first character at or after byte `from` that `allowed`
/// refuses.
fn check_chars(
    kind: NameKind,
    name: &str,
    from: usize,
    allowed: impl Fn(char) -> bool,
) -> Result<(), NameError> {
    match name[from..].char_indices().find(|&(_, c)| !allowed(c)) {
        Some((index, ch)) => Err(NameError::InvalidChar {
            kind,
            name: name.to_owned(),
            ch,
            index: from + index,
        }),
        None => Ok(()),
    }
}

/// Every OS-visible name of one domain.
///
/// ```
/// use std::path::Path;
/// use zerocp_os_linux::names::{DomainName, DomainPaths};
/// let paths = DomainPaths::new(Path::new("/run/zerocp"), &DomainName::new("car")?);
/// assert_eq!(paths.socket, Path::new("/run/zerocp/car.sock"));
/// assert_eq!(paths.lock, Path::new("/run/zerocp/car.lock"));
/// assert_eq!(paths.mgmt_shm.as_str(), "/zerocp.car.mgmt");
/// assert_eq!(paths.data_shm.as_str(), "/zerocp.car.data");
/// # Ok::<(), zerocp_os_linux::error::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainPaths {
    /// The domain these names belong to.
    pub domain: DomainName,
    /// The run directory the socket and lock file are in.
    pub run_dir: PathBuf,
    /// The daemon's control socket, `<run_dir>/<domain>.sock`.
    pub socket: PathBuf,
    /// The daemon's lock file, `<run_dir>/<domain>.lock`.
    pub lock: PathBuf,
    /// The management segment, `/zerocp.<domain>.mgmt`.
    pub mgmt_shm: ShmName,
    /// The chunk (payload) segment, `/zerocp.<domain>.data`.
    pub data_shm: ShmName,
}

impl DomainPaths {
    /// The names of `domain` with the socket and lock file in `run_dir`.
    pub fn new(run_dir: &Path, domain: &DomainName) -> Self {
        Self {
            domain: domain.clone(),
            run_dir: run_dir.to_owned(),
            socket: run_dir.join(format!("{domain}.sock")),
            lock: run_dir.join(format!("{domain}.lock")),
            mgmt_shm: ShmName::for_domain(domain, "mgmt"),
            data_shm: ShmName::for_domain(domain, "data"),
        }
    }

    /// The names the daemon uses: the run directory is resolved from the
    /// environment and created if missing ([`crate::run_dir::run_dir`]).
    /// Returns the run directory too, which knows what it created.
    pub fn for_daemon(domain: &DomainName) -> Result<(Self, RunDir), RunDirError> {
        let run_dir = RunDirConfig::from_env().create()?;
        Ok((Self::new(run_dir.path(), domain), run_dir))
    }

    /// The names an application uses to reach the daemon of `domain`: the
    /// first run-directory candidate that holds `<domain>.sock`, else the
    /// directory the daemon would pick ([`RunDirConfig::locate`]). Creates
    /// nothing.
    pub fn for_client(domain: &DomainName) -> Result<Self, RunDirError> {
        let run_dir = RunDirConfig::from_env().locate(&format!("{domain}.sock"))?;
        Ok(Self::new(&run_dir, domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_validated() {
        assert!(DomainName::new("a").is_ok());
        assert!(DomainName::new("A_b-9").is_ok());
        assert!(DomainName::new(&"x".repeat(32)).is_ok());
        assert_eq!(
            DomainName::new(""),
            Err(NameError::Empty {
                kind: NameKind::Domain
            })
        );
        assert!(matches!(
            DomainName::new(&"x".repeat(33)),
            Err(NameError::TooLong {
                len: 33,
                max: 32,
                ..
            })
        ));
        assert!(matches!(
            DomainName::new("a.b"),
            Err(NameError::InvalidChar {
                ch: '.',
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            DomainName::new("ä"),
            Err(NameError::InvalidChar {
                ch: 'ä',
                index: 0,
                ..
            })
        ));
    }

    #[test]
    fn shm_names_are_validated() {
        assert!(ShmName::new("/x").is_ok());
        assert!(ShmName::new(&format!("/{}", "x".repeat(254))).is_ok());
        assert!(matches!(
            ShmName::new(&format!("/{}", "x".repeat(255))),
            Err(NameError::TooLong {
                len: 256,
                max: 255,
                ..
            })
        ));
        assert!(matches!(
            ShmName::new("x"),
            Err(NameError::MissingSlash { .. })
        ));
        assert!(matches!(ShmName::new("/"), Err(NameError::Empty { .. })));
        assert!(matches!(ShmName::new(""), Err(NameError::Empty { .. })));
        assert!(matches!(
            ShmName::new("/a/b"),
            Err(NameError::InvalidChar {
                ch: '/',
                index: 2,
                ..
            })
        ));
        assert!(matches!(
            ShmName::new("//a"),
            Err(NameError::InvalidChar {
                ch: '/',
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            ShmName::new("/.."),
            Err(NameError::Reserved { .. })
        ));
        assert!(matches!(
            ShmName::new("/a\0b"),
            Err(NameError::InvalidChar { ch: '\0', .. })
        ));
    }

    #[test]
    fn error_messages_name_the_value() {
        let err = DomainName::new("a b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid domain name \"a b\": character ' ' at byte 1 is not allowed \
             (allowed: ASCII letters, digits, '_' and '-')"
        );
        let err = ShmName::new("zerocp").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid shared memory name \"zerocp\": it must start with '/'"
        );
    }

    #[test]
    fn longest_domain_gives_valid_shm_names() {
        let domain = DomainName::new(&"d".repeat(DomainName::MAX_LEN)).unwrap();
        let paths = DomainPaths::new(Path::new("/run/zerocp"), &domain);
        for name in [&paths.mgmt_shm, &paths.data_shm] {
            assert_eq!(ShmName::new(name.as_str()).as_ref(), Ok(name));
        }
    }
}
