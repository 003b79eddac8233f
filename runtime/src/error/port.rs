//! Errors of port creation: [`CreatePublisherError`], [`CreateSubscriberError`]
//! and the daemon's part both share, [`PortRequestError`].

use std::fmt;

use zerocp_core::mempool::PoolSelectError;
use zerocp_core::wire::ErrorCode;

use super::{ControlError, GONE};

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

/// A builder option outside its range (converted into either builder's error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidOption {
    option: &'static str,
    value: u32,
    min: u32,
    max: u32,
}

/// Checks that builder option `option` = `value` lies in `min..=max`.
pub(crate) fn check_option(
    option: &'static str,
    value: u32,
    min: u32,
    max: u32,
) -> Result<(), InvalidOption> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(InvalidOption {
            option,
            value,
            min,
            max,
        })
    }
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

        impl From<InvalidOption> for $t {
            fn from(e: InvalidOption) -> Self {
                Self::InvalidOption {
                    option: e.option,
                    value: e.value,
                    min: e.min,
                    max: e.max,
                }
            }
        }
    };
}

create_error_impls!(CreatePublisherError, "publisher");
create_error_impls!(CreateSubscriberError, "subscriber");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_named_with_their_range() {
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
