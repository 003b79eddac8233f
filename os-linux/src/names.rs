//! The OS-visible names of a ZeroCP domain.
//!
//! A *domain* isolates one ZeroCP system from another on the same machine.
//! Every name the kernel sees derives from the domain name: the control
//! socket `<run_dir>/<domain>.sock`, the lock file `<run_dir>/<domain>.lock`
//! and the names of its memory segments, `zerocp.<domain>.mgmt`,
//! `zerocp.<domain>.heartbeat.<slot>` and `zerocp.<domain>.<group>.<part>` (labels of anonymous memory files, not
//! paths: nothing of a domain lives in `/dev/shm`). This module owns those derivations and the
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

/// The segment group of the services no configured group claims.
pub const DEFAULT_GROUP: &str = "default";
/// The part of a segment group that holds its chunks (headers and payloads).
pub const PAYLOAD_PART: &str = "payload";
/// The part of a segment group that holds its ports, freelists and refcounts.
pub const CONTROL_PART: &str = "control";

/// A validated name of a shared-memory segment: 1 to 249 ASCII letters,
/// digits, `.`, `_` or `-`.
///
/// Segments are anonymous memory files (`memfd_create`): the name is not a
/// path and opens nothing. It is what `/proc/<pid>/maps` and
/// `/proc/<pid>/fd` show (as `/memfd:<name>`), so an operator can tell which
/// domain, group and part a mapping belongs to. The limit is the kernel's:
/// `NAME_MAX` less the `memfd:` prefix.
///
/// ```
/// use zerocp_os_linux::names::{DomainName, SegmentName};
/// let domain = DomainName::new("car")?;
/// assert_eq!(SegmentName::mgmt(&domain).as_str(), "zerocp.car.mgmt");
/// assert_eq!(SegmentName::heartbeat(&domain, 3).as_str(), "zerocp.car.heartbeat.3");
/// assert_eq!(SegmentName::group_part(&domain, "default", "payload").as_str(), "zerocp.car.default.payload");
/// assert!(SegmentName::new("zerocp.car.mgmt").is_ok());
/// assert!(SegmentName::new("/dev/shm/x").is_err()); // not a path
/// # Ok::<(), zerocp_os_linux::error::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentName(String);

impl SegmentName {
    /// The longest name in bytes (`NAME_MAX` less `memfd:`).
    pub const MAX_LEN: usize = 249;

    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let kind = NameKind::Segment;
        check_len(kind, name, Self::MAX_LEN)?;
        check_chars(kind, name, 0, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
        })?;
        Ok(Self(name.to_owned()))
    }

    /// `zerocp.<domain>.mgmt`, the domain-wide management segment.
    pub fn mgmt(domain: &DomainName) -> Self {
        Self(format!("zerocp.{domain}.mgmt"))
    }

    /// `zerocp.<domain>.heartbeat.<slot>`, the heartbeat file of the
    /// process registered in `slot` (one file per registration; the slot
    /// only labels it).
    pub fn heartbeat(domain: &DomainName, slot: u32) -> Self {
        Self(format!("zerocp.{domain}.heartbeat.{slot}"))
    }

    /// `zerocp.<domain>.<group>.<part>`, one part of a segment group. Valid
    /// by construction when `group` and `part` are (domain characters are a
    /// subset of segment-name characters); the caller passes group names it
    /// validated and literal part names.
    pub fn group_part(domain: &DomainName, group: &str, part: &str) -> Self {
        Self(format!("zerocp.{domain}.{group}.{part}"))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SegmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SegmentName {
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
}

impl DomainPaths {
    /// The names of `domain` with the socket and lock file in `run_dir`.
    pub fn new(run_dir: &Path, domain: &DomainName) -> Self {
        Self {
            domain: domain.clone(),
            run_dir: run_dir.to_owned(),
            socket: run_dir.join(format!("{domain}.sock")),
            lock: run_dir.join(format!("{domain}.lock")),
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
    fn segment_names_are_validated() {
        assert!(SegmentName::new("x").is_ok());
        assert!(SegmentName::new(&"x".repeat(249)).is_ok());
        assert!(matches!(
            SegmentName::new(&"x".repeat(250)),
            Err(NameError::TooLong {
                len: 250,
                max: 249,
                ..
            })
        ));
        assert!(matches!(SegmentName::new(""), Err(NameError::Empty { .. })));
        assert!(matches!(
            SegmentName::new("a/b"),
            Err(NameError::InvalidChar {
                ch: '/',
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            SegmentName::new("a\0b"),
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
        let err = SegmentName::new("zerocp/x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid segment name \"zerocp/x\": character '/' at byte 6 is not allowed \
             (allowed: ASCII letters, digits, '.', '_' and '-')"
        );
    }

    #[test]
    fn longest_domain_gives_valid_segment_names() {
        let domain = DomainName::new(&"d".repeat(DomainName::MAX_LEN)).unwrap();
        let group = "g".repeat(32);
        for name in [
            SegmentName::mgmt(&domain),
            SegmentName::heartbeat(&domain, u32::MAX),
            SegmentName::group_part(&domain, &group, "control"),
        ] {
            assert_eq!(SegmentName::new(name.as_str()).as_ref(), Ok(&name));
        }
    }
}
