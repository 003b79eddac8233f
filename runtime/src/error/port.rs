//! Errors of port creation: [`CreatePortError`] (which kind of port, and
//! why: [`CreatePortReason`]), whose daemon's part is [`PortRequestError`].

use std::fmt;

use zerocp_core::group_control::GroupControlError;
use zerocp_core::mempool::PoolSelectError;
use zerocp_core::wire::{ErrorCode, PortKind};

use super::{ControlError, DISCONNECTED, GONE, MapSegmentsError, dropped};

/// Why the daemon or the connection refused a port (publisher or
/// subscriber): the part of [`CreatePortReason`] that the request returns.
#[derive(Debug)]
pub enum PortRequestError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on): retry the call later, the handle goes on.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats (it was
    /// stopped or hung for longer than the timeout).
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// Another port of the service has a different payload type.
    TypeMismatch {
        /// The service (`service/instance/event`).
        service: String,
        /// The daemon's explanation (names both types).
        detail: String,
    },
    /// The service's segment group does not let this process's uid/gid
    /// create this kind of port (its `publish` or `subscribe` rule).
    AccessDenied {
        /// The service (`service/instance/event`).
        service: String,
        /// The daemon's explanation: `access denied: uid … may not publish
        /// …: group "…" publish allows uids […] gids […]`.
        detail: String,
    },
    /// No mempool of the service's segment group can hold the payload.
    PayloadTooLarge {
        /// The service (`service/instance/event`).
        service: String,
        /// `size_of` the payload.
        size: u32,
        /// The daemon's explanation (names the largest chunk size and the group).
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
    /// The segment group's control or payload part that comes with the
    /// port could not be mapped or used.
    Payload(MapSegmentsError),
    /// The segment group's control part failed to attach because of a word
    /// of its header (or of a freelist header) twice: once, and again after
    /// the daemon, which owns and repairs that header, answered a second
    /// request. Another process of the group keeps overwriting it.
    CorruptGroup {
        /// The service (`service/instance/event`).
        service: String,
        /// The segment group (its index, `default` = 0).
        group: u32,
        /// What the second attach found.
        error: GroupControlError,
    },
}

impl fmt::Display for PortRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::TypeMismatch { service, detail } => {
                write!(f, "payload type mismatch on service {service}: {detail}")
            }
            Self::AccessDenied { service, detail } => {
                write!(f, "access denied to service {service}: {detail}")
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
            Self::Payload(e) => write!(f, "cannot map the port's segment group: {e}"),
            Self::CorruptGroup {
                service,
                group,
                error,
            } => write!(
                f,
                "the control part of segment group {group} (service {service}) is corrupt: \
                 {error}, twice, although the daemon repairs its header before every reply \
                 (see zerocpctl status)"
            ),
        }
    }
}

impl std::error::Error for PortRequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Control(e) => Some(e),
            Self::Payload(e) => Some(e),
            Self::CorruptGroup { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Why [`PublisherBuilder::create`](crate::PublisherBuilder::create) or
/// [`SubscriberBuilder::create`](crate::SubscriberBuilder::create) failed:
/// which kind of port, and why.
///
/// It prints `cannot create publisher: …` (or `subscriber`) and the reason.
#[derive(Debug)]
pub struct CreatePortError {
    /// The kind of port that was being created.
    pub kind: PortKind,
    /// Why it could not be created.
    pub reason: CreatePortReason,
}

/// Why a port could not be created: the builder's own checks, or the
/// daemon's and the connection's part ([`PortRequestError`]).
#[derive(Debug)]
pub enum CreatePortReason {
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
    /// A slice publisher (`Publisher<[T]>`) was created without
    /// [`max_slice_len`](crate::PublisherBuilder::max_slice_len): the
    /// daemon picks its mempool by it.
    MissingMaxSliceLen,
    /// The daemon or the connection refused the port.
    Request(PortRequestError),
}

/// Checks that builder option `option` = `value` lies in `min..=max`.
pub(crate) fn check_option(
    option: &'static str,
    value: u32,
    min: u32,
    max: u32,
) -> Result<(), CreatePortReason> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(CreatePortReason::InvalidOption {
            option,
            value,
            min,
            max,
        })
    }
}

impl CreatePortError {
    /// Whether the daemon is gone for now and the runtime registers again
    /// by itself (retry later).
    pub fn is_disconnected(&self) -> bool {
        matches!(
            self.reason,
            CreatePortReason::Request(PortRequestError::Disconnected)
        )
    }

    /// Whether the daemon is gone.
    pub fn is_daemon_gone(&self) -> bool {
        matches!(
            self.reason,
            CreatePortReason::Request(PortRequestError::DaemonGone)
        )
    }

    /// Whether the daemon dropped this process for missing heartbeats.
    pub fn is_unresponsive(&self) -> bool {
        matches!(
            self.reason,
            CreatePortReason::Request(PortRequestError::Unresponsive { .. })
        )
    }

    /// Whether the daemon refused the payload type (size, alignment or name
    /// differ from the service's other ports).
    pub fn is_type_mismatch(&self) -> bool {
        matches!(
            self.reason,
            CreatePortReason::Request(PortRequestError::TypeMismatch { .. })
        )
    }

    /// Whether the service's segment group refused this process's
    /// credentials (its `publish` or `subscribe` rule).
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.reason,
            CreatePortReason::Request(PortRequestError::AccessDenied { .. })
        )
    }

    /// Whether the payload is larger than the largest mempool chunk.
    pub fn is_payload_too_large(&self) -> bool {
        matches!(
            self.reason,
            CreatePortReason::Request(PortRequestError::PayloadTooLarge { .. })
        )
    }

    /// Whether the service's segment group's control part would not attach
    /// because of its header, even after the daemon repaired it: another
    /// process of the group keeps overwriting it.
    pub fn is_corrupt_group(&self) -> bool {
        matches!(
            self.reason,
            CreatePortReason::Request(PortRequestError::CorruptGroup { .. })
        )
    }
}

impl fmt::Display for CreatePortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot create {}: {}", self.kind.noun(), self.reason)
    }
}

impl std::error::Error for CreatePortError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.reason.source()
    }
}

impl fmt::Display for CreatePortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidOption {
                option,
                value,
                min,
                max,
            } => write!(f, "{option} = {value} is not in {min}..={max}"),
            Self::UnsupportedAlignment(e) => e.fmt(f),
            Self::MissingMaxSliceLen => f.write_str(
                "a slice publisher needs max_slice_len (the longest slice it loans) before create",
            ),
            Self::Request(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CreatePortReason {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::UnsupportedAlignment(e) => Some(e),
            Self::Request(e) => Some(e),
            Self::InvalidOption { .. } | Self::MissingMaxSliceLen => None,
        }
    }
}

impl From<PortRequestError> for CreatePortReason {
    fn from(e: PortRequestError) -> Self {
        Self::Request(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_named_with_their_range() {
        let e = CreatePortError {
            kind: PortKind::Publisher,
            reason: CreatePortReason::InvalidOption {
                option: "max_loans",
                value: 99,
                min: 1,
                max: 32,
            },
        };
        assert_eq!(
            e.to_string(),
            "cannot create publisher: max_loans = 99 is not in 1..=32"
        );
    }

    #[test]
    fn classification_helpers() {
        let gone = CreatePortError {
            kind: PortKind::Subscriber,
            reason: PortRequestError::DaemonGone.into(),
        };
        assert!(gone.is_daemon_gone() && !gone.is_type_mismatch());
        let big = CreatePortError {
            kind: PortKind::Publisher,
            reason: PortRequestError::PayloadTooLarge {
                service: "a/b/c".into(),
                size: 1 << 30,
                detail: "largest chunk is 4194304".into(),
            }
            .into(),
        };
        assert!(big.is_payload_too_large());
        assert!(big.to_string().contains("a/b/c"));
        let corrupt = CreatePortError {
            kind: PortKind::Subscriber,
            reason: PortRequestError::CorruptGroup {
                service: "a/b/c".into(),
                group: 2,
                error: GroupControlError::NotReady { state: 2 },
            }
            .into(),
        };
        assert!(corrupt.is_corrupt_group() && !corrupt.is_daemon_gone());
        let text = corrupt.to_string();
        assert!(
            text.contains("control part of segment group 2") && text.contains("corrupt"),
            "{text}"
        );
        let denied = CreatePortError {
            kind: PortKind::Publisher,
            reason: PortRequestError::AccessDenied {
                service: "Robot/Nav/Pose".into(),
                detail: "access denied: uid 7 gid 7 may not publish Robot/Nav/Pose".into(),
            }
            .into(),
        };
        assert!(denied.is_access_denied() && !denied.is_payload_too_large());
        assert!(
            denied
                .to_string()
                .starts_with("cannot create publisher: access denied to service Robot/Nav/Pose"),
            "{denied}"
        );
    }
}
