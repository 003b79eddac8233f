//! Errors of name validation and run-directory resolution.

use std::fmt;
use std::path::PathBuf;

use super::{Errno, ErrnoText};

/// Which kind of name a [`NameError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// A ZeroCP domain name ([`crate::names::DomainName`]).
    Domain,
    /// A memory segment's name ([`crate::names::SegmentName`]).
    Segment,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Domain => "domain name",
            Self::Segment => "segment name",
        })
    }
}

/// A domain or segment name was rejected before any system call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    Empty {
        /// What kind of name it was.
        kind: NameKind,
    },
    /// The name is longer than allowed.
    TooLong {
        /// What kind of name it was.
        kind: NameKind,
        /// The rejected name.
        name: String,
        /// Its length in bytes.
        len: usize,
        /// The maximum length in bytes.
        max: usize,
    },
    /// The name contains a character outside the allowed set.
    InvalidChar {
        /// What kind of name it was.
        kind: NameKind,
        /// The rejected name.
        name: String,
        /// The first offending character.
        ch: char,
        /// Its byte offset in the name.
        index: usize,
    },
    /// An environment variable holds an invalid name.
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong with its value.
        source: Box<NameError>,
    },
    /// An environment variable is not valid Unicode.
    EnvNotUnicode {
        /// The variable.
        var: &'static str,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { kind } => write!(f, "invalid {kind}: it is empty"),
            Self::TooLong {
                kind,
                name,
                len,
                max,
            } => write!(
                f,
                "invalid {kind} \"{name}\": {len} bytes long, at most {max} allowed"
            ),
            Self::InvalidChar {
                kind,
                name,
                ch,
                index,
            } => {
                let allowed = match kind {
                    NameKind::Domain => "ASCII letters, digits, '_' and '-'",
                    NameKind::Segment => "ASCII letters, digits, '.', '_' and '-'",
                };
                write!(
                    f,
                    "invalid {kind} \"{}\": character {ch:?} at byte {index} is not allowed \
                     (allowed: {allowed})",
                    name.escape_debug()
                )
            }
            Self::Env { var, source } => write!(f, "environment variable {var}: {source}"),
            Self::EnvNotUnicode { var } => {
                write!(f, "environment variable {var} is not valid Unicode")
            }
        }
    }
}

impl std::error::Error for NameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Env { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// Why one run-directory candidate could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunDirProblem {
    /// A system call on it failed.
    Os(Errno),
    /// The path is relative; run directories must be absolute.
    NotAbsolute,
    /// The path exists but is not a directory (or is a symbolic link).
    NotADirectory,
    /// The directory belongs to another user (only checked in shared `/tmp`).
    WrongOwner {
        /// Its owner.
        owner: u32,
        /// The uid that should own it.
        expected: u32,
    },
    /// Group or others may write the directory (only checked in shared `/tmp`).
    TooPermissive {
        /// Its permission bits.
        mode: u32,
    },
}

impl fmt::Display for RunDirProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Os(errno) => ErrnoText(*errno).fmt(f),
            Self::NotAbsolute => f.write_str("not an absolute path"),
            Self::NotADirectory => f.write_str("not a directory"),
            Self::WrongOwner { owner, expected } => {
                write!(f, "owned by uid {owner}, expected uid {expected}")
            }
            Self::TooPermissive { mode } => {
                write!(f, "mode {mode:04o} lets group or others write it")
            }
        }
    }
}

/// No usable run directory (for the control socket and lock file) was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunDirError {
    /// The directory named by an environment variable is unusable.
    Explicit {
        /// The variable (`ZEROCP_RUN_DIR`).
        var: &'static str,
        /// Its value.
        path: PathBuf,
        /// What is wrong with it.
        problem: RunDirProblem,
    },
    /// Every default candidate failed; each with its reason, in order tried.
    NoneUsable {
        /// The candidates and why each was refused.
        tried: Vec<(PathBuf, RunDirProblem)>,
    },
}

impl fmt::Display for RunDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Explicit { var, path, problem } => write!(
                f,
                "cannot use run directory {} (from {var}): {problem}",
                path.display()
            ),
            Self::NoneUsable { tried } => {
                f.write_str("no usable run directory (set ZEROCP_RUN_DIR)")?;
                for (path, problem) in tried {
                    write!(f, "; {}: {problem}", path.display())?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for RunDirError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Explicit {
                problem: RunDirProblem::Os(errno),
                ..
            } => Some(errno),
            _ => None,
        }
    }
}
