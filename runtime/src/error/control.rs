//! Failures of the control connection and of the shared-memory segments,
//! which initialisation and port creation embed.

use std::fmt;

use zerocp_core::group_control::GroupControlError;
use zerocp_core::mgmt::MgmtError;
use zerocp_os_linux::error::{MapError, ShmError};

pub use zerocp_os_linux::control_client::ControlError;

/// Mapping the shared-memory segments the daemon announced failed, or they
/// could not be used.
#[derive(Debug)]
pub enum MapSegmentsError {
    /// A reply did not carry the segment descriptors it promises.
    Descriptors {
        /// How many it should carry.
        expected: usize,
        /// How many it carried.
        received: usize,
    },
    /// A received segment descriptor is unusable (e.g. not sealed).
    Open(ShmError),
    /// Mapping it failed.
    Map(MapError),
    /// Its size differs from the size the daemon announced.
    SizeMismatch {
        /// The segment.
        name: String,
        /// Size announced in `Registered`.
        announced: u64,
        /// Size found.
        found: u64,
    },
    /// The mgmt segment's header or layout is invalid.
    Mgmt(MgmtError),
    /// A group control part's header or layout is invalid.
    Control(GroupControlError),
    /// A payload part does not match the mempools its control part records.
    Data {
        /// What does not match.
        detail: String,
    },
}

impl fmt::Display for MapSegmentsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Descriptors { expected, received } => write!(
                f,
                "the daemon's reply carried {received} segment descriptors, not {expected}"
            ),
            Self::Open(e) => e.fmt(f),
            Self::Map(e) => e.fmt(f),
            Self::SizeMismatch {
                name,
                announced,
                found,
            } => write!(
                f,
                "shared memory {name} has {found} bytes, the daemon announced {announced}"
            ),
            Self::Mgmt(e) => write!(f, "cannot attach the mgmt segment: {e}"),
            Self::Control(e) => write!(f, "cannot attach a group control part: {e}"),
            Self::Data { detail } => write!(f, "cannot use a payload part: {detail}"),
        }
    }
}

impl std::error::Error for MapSegmentsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open(e) => Some(e),
            Self::Map(e) => Some(e),
            Self::Mgmt(e) => Some(e),
            Self::Control(e) => Some(e),
            _ => None,
        }
    }
}
