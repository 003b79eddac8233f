//! Why `top` ended with an error.

use std::fmt;
use std::io;

use crate::ctl::CtlError;

/// `top` failed.
#[derive(Debug)]
pub enum TopError {
    /// The first query failed (no daemon, access refused, ...).
    Query(CtlError),
    /// The daemon stopped while `top` was watching it.
    /// (A later query found nothing answering on its socket, or the
    /// connection closed.)
    DaemonGone {
        /// The domain.
        domain: String,
    },
    /// Drawing on or reading the terminal failed.
    Terminal(io::Error),
    /// The live view was asked for, but stdout is not a terminal.
    NotATerminal,
    /// The live view was asked for, but this `zerocpctl` was built
    /// without it (feature `tui`).
    NoLiveView,
}

impl fmt::Display for TopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Query(e) => write!(f, "{e}"),
            Self::DaemonGone { domain, .. } => write!(f, "zerocpd of domain {domain} stopped"),
            Self::Terminal(e) => write!(f, "the terminal: {e}"),
            Self::NotATerminal => f.write_str(
                "top draws on a terminal, and stdout is not one: use `top --once` \
                 (plain text, or --json) in scripts and pipes",
            ),
            Self::NoLiveView => f.write_str(
                "this zerocpctl was built without the live view (feature `tui`): \
                 use `top --once`",
            ),
        }
    }
}

impl std::error::Error for TopError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Query(e) => Some(e),
            Self::Terminal(e) => Some(e),
            Self::DaemonGone { .. } | Self::NotATerminal | Self::NoLiveView => None,
        }
    }
}

impl From<io::Error> for TopError {
    fn from(e: io::Error) -> Self {
        Self::Terminal(e)
    }
}
