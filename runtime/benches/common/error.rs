//! The benchmarks' error type: every failure names the step that failed, and
//! a benchmark ends with one line on stderr and exit status 1, never a panic.

use std::error::Error;
use std::fmt;

/// Why a benchmark (or one of its child processes) stopped.
#[derive(Debug)]
pub enum BenchError {
    /// The command line or an environment variable is invalid.
    Usage(String),
    /// A system call, a process or a file operation failed.
    Os {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: Box<dyn Error + Send + Sync>,
    },
    /// A ZeroCP call (runtime, publisher, subscriber) failed.
    Zerocp {
        /// The call and its context.
        what: String,
        /// The runtime's error.
        source: Box<dyn Error + Send + Sync>,
    },
    /// A child process misbehaved: died, answered wrongly or stalled.
    Peer {
        /// The child's role.
        role: String,
        /// What went wrong.
        detail: String,
    },
    /// The private daemon failed to start or to stop cleanly.
    Daemon(String),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(msg) => write!(f, "usage: {msg}"),
            Self::Os { what, source } => write!(f, "{what}: {source}"),
            Self::Zerocp { what, source } => write!(f, "zerocp {what}: {source}"),
            Self::Peer { role, detail } => write!(f, "child process ({role}): {detail}"),
            Self::Daemon(msg) => write!(f, "private zerocpd: {msg}"),
        }
    }
}

impl Error for BenchError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Os { source, .. } | Self::Zerocp { source, .. } => Some(source.as_ref()),
            Self::Usage(_) | Self::Peer { .. } | Self::Daemon(_) => None,
        }
    }
}

/// Attaches the failed step to an error.
pub trait Context<T> {
    /// A system-level failure of `what`.
    fn os(self, what: impl FnOnce() -> String) -> Result<T, BenchError>;
    /// A ZeroCP API failure of `what`.
    fn zerocp(self, what: &str) -> Result<T, BenchError>;
}

impl<T, E: Error + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn os(self, what: impl FnOnce() -> String) -> Result<T, BenchError> {
        self.map_err(|e| BenchError::Os {
            what: what(),
            source: Box::new(e),
        })
    }

    fn zerocp(self, what: &str) -> Result<T, BenchError> {
        self.map_err(|e| BenchError::Zerocp {
            what: what.to_owned(),
            source: Box::new(e),
        })
    }
}
