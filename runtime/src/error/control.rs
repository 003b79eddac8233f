//! Failures of the control connection and of the shared-memory segments,
//! which initialisation and port creation embed.

use std::fmt;
use std::time::Duration;

use zerocp_core::mgmt::MgmtError;
use zerocp_core::wire::{DecodeError, EncodeError, MessageKind};
use zerocp_os_linux::error::{MapError, ShmError, SocketError};

use super::GONE;

/// A request to the daemon failed on the control connection.
#[derive(Debug)]
pub enum ControlError {
    /// The request could not be encoded (a bug: every request fits a frame).
    Encode(EncodeError),
    /// Sending the request failed.
    Send(SocketError),
    /// Receiving the reply failed.
    Recv(SocketError),
    /// The daemon did not answer in time.
    Timeout {
        /// The request.
        request: &'static str,
        /// How long the runtime waited.
        waited: Duration,
    },
    /// The reply did not decode.
    Decode(DecodeError),
    /// The daemon answered with a message that is not a reply to the request.
    Unexpected {
        /// The request.
        request: &'static str,
        /// Kind of the message received.
        got: MessageKind,
    },
    /// The daemon closed the connection or announced its shutdown.
    Closed,
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(e) => write!(f, "cannot encode a control request: {e}"),
            Self::Send(e) => write!(f, "cannot send to the daemon: {e}"),
            Self::Recv(e) => write!(f, "cannot receive from the daemon: {e}"),
            Self::Timeout { request, waited } => {
                write!(f, "the daemon did not answer {request} within {waited:?}")
            }
            Self::Decode(e) => write!(f, "malformed reply from the daemon: {e}"),
            Self::Unexpected { request, got } => {
                write!(f, "the daemon answered {request} with {got:?}")
            }
            Self::Closed => f.write_str(GONE),
        }
    }
}

impl std::error::Error for ControlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Encode(e) => Some(e),
            Self::Send(e) | Self::Recv(e) => Some(e),
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }
}

/// Mapping the shared-memory segments the daemon announced failed, or they
/// could not be used.
#[derive(Debug)]
pub enum MapSegmentsError {
    /// Opening the segment failed.
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
    /// The data segment does not match the mempools the mgmt segment records.
    Data {
        /// What does not match.
        detail: String,
    },
}

impl fmt::Display for MapSegmentsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
            Self::Data { detail } => write!(f, "cannot use the data segment: {detail}"),
        }
    }
}

impl std::error::Error for MapSegmentsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open(e) => Some(e),
            Self::Map(e) => Some(e),
            Self::Mgmt(e) => Some(e),
            _ => None,
        }
    }
}
