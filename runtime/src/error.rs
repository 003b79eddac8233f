//! The errors of the runtime: one enum per operation.
//!
//! Every enum implements [`std::error::Error`] and prints one line that names
//! what went wrong with the values involved (the socket path tried, the
//! service, the sizes, the limit). The ones an application is expected to
//! handle have their own variants: [`LoanError::OutOfChunks`],
//! [`LoanError::TooManyLoans`], [`TakeError::TooManyHeld`], the type and
//! size checks of port creation, and `DaemonGone` everywhere: once the daemon
//! stopped (or dropped this process), every call fails with it, promptly.
//!
//! Failures of the control connection itself are a [`ControlError`], which
//! port creation and initialisation embed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use zerocp_core::mempool::PoolSelectError;
use zerocp_core::mgmt::MgmtError;
use zerocp_core::wire::{DecodeError, EncodeError, ErrorCode, MessageKind};
use zerocp_os_linux::error::{
    Errno, FutexError, MapError, NameError, RunDirError, ShmError, SocketError,
};

const GONE: &str = "the ZeroCP daemon is gone (it stopped, or it dropped this process)";

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

/// A shared-memory segment announced by the daemon could not be used.
#[derive(Debug)]
pub enum SegmentError {
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

impl fmt::Display for SegmentError {
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

impl std::error::Error for SegmentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open(e) => Some(e),
            Self::Map(e) => Some(e),
            Self::Mgmt(e) => Some(e),
            _ => None,
        }
    }
}

/// Why [`Runtime::init`](crate::Runtime::init) failed.
#[derive(Debug)]
pub enum InitError {
    /// The process name is empty, too long or has control characters.
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `ZEROCP_DOMAIN` holds an invalid domain name.
    Domain(NameError),
    /// No run directory could be determined.
    RunDir(RunDirError),
    /// Nothing listens on the domain's control socket.
    DaemonNotRunning {
        /// The domain.
        domain: String,
        /// The socket path tried.
        socket: PathBuf,
        /// The error `connect` returned.
        errno: Errno,
    },
    /// Connecting to the daemon failed otherwise (e.g. permission denied).
    Connect(SocketError),
    /// The daemon refused the registration.
    Rejected {
        /// Its error code.
        code: ErrorCode,
        /// Its explanation.
        detail: String,
    },
    /// The registration exchange failed.
    Control(ControlError),
    /// A shared-memory segment could not be used.
    Segment(SegmentError),
    /// The heartbeat thread could not be started.
    Heartbeat(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName { name, reason } => {
                write!(f, "invalid process name {name:?}: {reason}")
            }
            Self::Domain(e) => e.fmt(f),
            Self::RunDir(e) => e.fmt(f),
            Self::DaemonNotRunning {
                domain,
                socket,
                errno,
            } => write!(
                f,
                "the ZeroCP daemon of domain {domain:?} is not running: cannot connect to {} ({errno}); \
                 start `zerocpd --domain {domain}` or set ZEROCP_DOMAIN/ZEROCP_RUN_DIR",
                socket.display()
            ),
            Self::Connect(e) => e.fmt(f),
            Self::Rejected { code, detail } => {
                write!(
                    f,
                    "the daemon refused the registration ({code:?}): {detail}"
                )
            }
            Self::Control(e) => write!(f, "registration failed: {e}"),
            Self::Segment(e) => e.fmt(f),
            Self::Heartbeat(e) => write!(f, "cannot start the heartbeat thread: {e}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Domain(e) => Some(e),
            Self::RunDir(e) => Some(e),
            Self::DaemonNotRunning { errno, .. } => Some(errno),
            Self::Connect(e) => Some(e),
            Self::Control(e) => Some(e),
            Self::Segment(e) => Some(e),
            Self::Heartbeat(e) => Some(&**e),
            Self::InvalidName { .. } | Self::Rejected { .. } => None,
        }
    }
}

/// Why creating a port (publisher or subscriber) failed; the daemon's and the
/// connection's part, shared by [`CreatePublisherError`] and
/// [`CreateSubscriberError`].
#[derive(Debug)]
pub enum PortRequestError {
    /// The daemon is gone.
    DaemonGone,
    /// Another port of the service has a different payload type.
    TypeMismatch {
        /// The service (`service/instance/event`).
        service: String,
        /// The daemon's explanation (names both types).
        detail: String,
    },
    /// No mempool's chunks can hold the payload.
    PayloadTooLarge {
        /// The service (`service/instance/event`).
        service: String,
        /// `size_of` the payload.
        size: u32,
        /// The daemon's explanation (names the largest chunk size).
        detail: String,
    },
    /// The daemon refused the port for another reason (e.g. a limit).
    Rejected {
        /// The service (`service/instance/event`).
        service: String,
        /// Its error code.
        code: ErrorCode,
        /// Its explanation.
        detail: String,
    },
    /// The daemon answered with a port that does not exist or is not active.
    InvalidPort {
        /// The index it answered.
        index: u32,
    },
    /// The request failed on the control connection.
    Control(ControlError),
}

impl fmt::Display for PortRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::TypeMismatch { service, detail } => {
                write!(f, "payload type mismatch on service {service}: {detail}")
            }
            Self::PayloadTooLarge {
                service,
                size,
                detail,
            } => write!(
                f,
                "payload of {size} bytes is too large for service {service}: {detail}"
            ),
            Self::Rejected {
                service,
                code,
                detail,
            } => write!(
                f,
                "the daemon refused a port on {service} ({code:?}): {detail}"
            ),
            Self::InvalidPort { index } => {
                write!(
                    f,
                    "the daemon answered with port {index}, which is not active"
                )
            }
            Self::Control(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PortRequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Control(e) => Some(e),
            _ => None,
        }
    }
}

/// Why [`PublisherBuilder::create`](crate::PublisherBuilder::create) failed.
#[derive(Debug)]
pub enum CreatePublisherError {
    /// An option is out of range.
    InvalidOption {
        /// The option.
        option: &'static str,
        /// The value given.
        value: u32,
        /// Smallest value allowed.
        min: u32,
        /// Largest value allowed.
        max: u32,
    },
    /// The payload's alignment is larger than a chunk provides.
    UnsupportedAlignment(PoolSelectError),
    /// The daemon or the connection refused the port.
    Request(PortRequestError),
}

/// Why [`SubscriberBuilder::create`](crate::SubscriberBuilder::create) failed.
#[derive(Debug)]
pub enum CreateSubscriberError {
    /// An option is out of range.
    InvalidOption {
        /// The option.
        option: &'static str,
        /// The value given.
        value: u32,
        /// Smallest value allowed.
        min: u32,
        /// Largest value allowed.
        max: u32,
    },
    /// The payload's alignment is larger than a chunk provides.
    UnsupportedAlignment(PoolSelectError),
    /// The daemon or the connection refused the port.
    Request(PortRequestError),
}

macro_rules! create_error_impls {
    ($t:ident, $what:literal) => {
        impl $t {
            /// Whether the daemon is gone.
            pub fn is_daemon_gone(&self) -> bool {
                matches!(self, Self::Request(PortRequestError::DaemonGone))
            }

            /// Whether the daemon refused the payload type (size, alignment
            /// or name differ from the service's other ports).
            pub fn is_type_mismatch(&self) -> bool {
                matches!(self, Self::Request(PortRequestError::TypeMismatch { .. }))
            }

            /// Whether the payload is larger than the largest mempool chunk.
            pub fn is_payload_too_large(&self) -> bool {
                matches!(
                    self,
                    Self::Request(PortRequestError::PayloadTooLarge { .. })
                )
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    Self::InvalidOption {
                        option,
                        value,
                        min,
                        max,
                    } => write!(
                        f,
                        concat!("cannot create ", $what, ": {} = {} is not in {}..={}"),
                        option, value, min, max
                    ),
                    Self::UnsupportedAlignment(e) => {
                        write!(f, concat!("cannot create ", $what, ": {}"), e)
                    }
                    Self::Request(e) => write!(f, concat!("cannot create ", $what, ": {}"), e),
                }
            }
        }

        impl std::error::Error for $t {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self {
                    Self::UnsupportedAlignment(e) => Some(e),
                    Self::Request(e) => Some(e),
                    Self::InvalidOption { .. } => None,
                }
            }
        }

        impl From<PortRequestError> for $t {
            fn from(e: PortRequestError) -> Self {
                Self::Request(e)
            }
        }
    };
}

create_error_impls!(CreatePublisherError, "publisher");
create_error_impls!(CreateSubscriberError, "subscriber");

/// Why [`Publisher::loan_uninit`](crate::Publisher::loan_uninit) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoanError {
    /// The daemon is gone.
    DaemonGone,
    /// The publisher already has `max_loans` samples loaned.
    TooManyLoans {
        /// The publisher's `max_loans`.
        max: u32,
    },
    /// The mempool has no free chunk.
    OutOfChunks {
        /// The mempool.
        pool: u32,
        /// Its chunk size.
        chunk_size: u32,
    },
    /// The mempool refused the loan for another reason (its records in
    /// shared memory are inconsistent with the port).
    Mempool(zerocp_core::mempool_manager::LoanError),
    /// The mempool handed out a chunk that fails the checks (the shared
    /// memory is corrupt); it was given back.
    CorruptChunk {
        /// The chunk index.
        index: u32,
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for LoanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::TooManyLoans { max } => write!(
                f,
                "too many loans: {max} samples are loaned already (publish or drop one, or raise max_loans)"
            ),
            Self::OutOfChunks { pool, chunk_size } => write!(
                f,
                "out of chunks: mempool {pool} ({chunk_size}-byte chunks) has no free chunk"
            ),
            Self::Mempool(e) => e.fmt(f),
            Self::CorruptChunk { index, reason } => {
                write!(f, "cannot loan chunk {index}: {reason}")
            }
        }
    }
}

impl std::error::Error for LoanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Mempool(e) => Some(e),
            _ => None,
        }
    }
}

/// Why [`LoanedSample::publish`](crate::LoanedSample::publish) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishError {
    /// The daemon is gone; the sample was released.
    DaemonGone,
    /// Waiting for space in a full queue failed.
    Wait(FutexError),
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Wait(e) => write!(f, "cannot wait for queue space: {e}"),
        }
    }
}

impl std::error::Error for PublishError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Wait(e) => Some(e),
            Self::DaemonGone => None,
        }
    }
}

/// Why [`Publisher::update_connections`](crate::Publisher::update_connections) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateConnectionsError {
    /// The daemon is gone.
    DaemonGone,
    /// Waiting for space in a full queue failed.
    Wait(FutexError),
}

impl fmt::Display for UpdateConnectionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Wait(e) => write!(f, "cannot wait for queue space: {e}"),
        }
    }
}

impl std::error::Error for UpdateConnectionsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Wait(e) => Some(e),
            Self::DaemonGone => None,
        }
    }
}

/// Why [`Subscriber::take`](crate::Subscriber::take) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeError {
    /// The daemon is gone.
    DaemonGone,
    /// The subscriber already holds `max_held` samples.
    TooManyHeld {
        /// The subscriber's `max_held`.
        max: u32,
    },
    /// The queue delivered a chunk that fails the checks (index out of range,
    /// header inconsistent, payload size not the port's); it was discarded.
    CorruptChunk {
        /// The chunk index.
        index: u32,
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for TakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::TooManyHeld { max } => write!(
                f,
                "too many samples held: {max} are taken and not dropped (drop one, or raise max_held)"
            ),
            Self::CorruptChunk { index, reason } => {
                write!(f, "discarded corrupt chunk {index}: {reason}")
            }
        }
    }
}

impl std::error::Error for TakeError {}

/// Why [`Subscriber::wait`](crate::Subscriber::wait) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitError {
    /// The daemon is gone.
    DaemonGone,
    /// The futex wait failed.
    Futex(FutexError),
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Futex(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for WaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Futex(e) => Some(e),
            Self::DaemonGone => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_values() {
        let e = InitError::DaemonNotRunning {
            domain: "car".into(),
            socket: PathBuf::from("/run/zerocp/car.sock"),
            errno: Errno::NOENT,
        };
        let text = e.to_string();
        assert!(text.contains("/run/zerocp/car.sock"), "{text}");
        assert!(text.contains("\"car\""), "{text}");
        let e = CreatePublisherError::InvalidOption {
            option: "max_loans",
            value: 99,
            min: 1,
            max: 32,
        };
        assert_eq!(
            e.to_string(),
            "cannot create publisher: max_loans = 99 is not in 1..=32"
        );
        let e = LoanError::OutOfChunks {
            pool: 2,
            chunk_size: 4096,
        };
        assert!(e.to_string().contains("4096-byte"));
    }

    #[test]
    fn classification_helpers() {
        let gone = CreateSubscriberError::from(PortRequestError::DaemonGone);
        assert!(gone.is_daemon_gone() && !gone.is_type_mismatch());
        let big = CreatePublisherError::from(PortRequestError::PayloadTooLarge {
            service: "a/b/c".into(),
            size: 1 << 30,
            detail: "largest chunk is 4194304".into(),
        });
        assert!(big.is_payload_too_large());
        assert!(big.to_string().contains("a/b/c"));
    }
}
