//! Errors of the data path: loan, publish, update connections, take, wait.

use std::fmt;

use zerocp_core::wire::RevokeReason;
use zerocp_os_linux::error::FutexError;

use super::{
    DISCONNECTED, GONE, PortNotRecreated, PublishTimedOut, QuotaExceeded, dropped, revoked,
};

/// Why [`Publisher::loan_uninit`](crate::Publisher::loan_uninit) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoanError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on): retry the call later, the handle goes on.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats (it was
    /// stopped or hung for longer than the timeout); its ports are unrouted.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// The daemon revoked this port (drop it and create it again).
    Revoked {
        /// What the daemon found.
        reason: RevokeReason,
    },
    /// The daemon restarted and refused to create this port again with its
    /// options (the call is not retried before the next reconnection).
    NotRecreated(PortNotRecreated),
    /// A slice was asked for that is longer than the publisher's
    /// [`max_slice_len`](crate::PublisherBuilder::max_slice_len); nothing
    /// was loaned.
    SliceTooLong {
        /// The length asked for, in elements.
        len: usize,
        /// The publisher's maximum.
        max: u32,
    },
    /// A byte length was asked for that the port's declared type cannot
    /// have (a loan of an untyped publisher, client or server:
    /// [`crate::UntypedPublisher::loan_bytes`], [`crate::UntypedClient`]),
    /// or no value of a sized type (`loan_slice(0)`): not the type's size,
    /// or not a whole number of a slice's elements; nothing was loaned.
    PayloadSize {
        /// The length asked for, in bytes.
        bytes: usize,
        /// The declared type's size (a slice's element's).
        type_size: u32,
    },
    /// The publisher already has `max_loans` samples loaned.
    TooManyLoans {
        /// The publisher's `max_loans`.
        max: u32,
    },
    /// This process, or this publisher, holds as many chunks of the pool as
    /// its quota allows (`[quota]` in the daemon's configuration); nothing
    /// was taken from the pool.
    QuotaExceeded(QuotaExceeded),
    /// The mempool has no free chunk.
    OutOfChunks {
        /// The mempool.
        pool: u32,
        /// Its chunk size.
        chunk_size: u32,
    },
    /// The mempool refused the loan for another reason (its records in
    /// shared memory are inconsistent with the port).
    Mempool(zerocp_core::mempool_manager::LoanChunkError),
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
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Revoked { reason } => revoked(f, *reason),
            Self::NotRecreated(e) => e.fmt(f),
            Self::SliceTooLong { len, max } => write!(
                f,
                "slice of {len} elements is longer than the publisher's max_slice_len {max}"
            ),
            Self::PayloadSize { bytes, type_size } => write!(
                f,
                "a payload of {bytes} bytes does not fit the declared type: not its size, or not a whole number of its {type_size}-byte elements"
            ),
            Self::TooManyLoans { max } => write!(
                f,
                "too many loans: {max} samples are loaned already (publish or drop one, or raise max_loans)"
            ),
            Self::QuotaExceeded(e) => e.fmt(f),
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
            Self::NotRecreated(e) => Some(e),
            Self::Mempool(e) => Some(e),
            Self::QuotaExceeded(e) => Some(e),
            _ => None,
        }
    }
}

/// Why [`LoanedSample::publish`](crate::LoanedSample::publish) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishError {
    /// The daemon is gone; the sample was released.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on); the sample was released. Retry with a new loan.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats (it was
    /// stopped or hung for longer than the timeout); its ports are unrouted.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// The daemon revoked this port (drop it and create it again).
    Revoked {
        /// What the daemon found.
        reason: RevokeReason,
    },
    /// The sample was loaned before the daemon restarted (the runtime has
    /// registered again since): it was released into the old memory, never
    /// handed to the new daemon's queues. Loan a new one.
    LoanedBeforeReconnect,
    /// Waiting for space in a full queue failed.
    Wait(FutexError),
    /// A block-publisher subscriber kept its queue full past the publish
    /// timeout; it did not get the sample, every other subscriber did (only
    /// with [`PublishTimeout::Fail`](crate::PublishTimeout::Fail)).
    Timeout(PublishTimedOut),
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Revoked { reason } => revoked(f, *reason),
            Self::LoanedBeforeReconnect => f.write_str(
                "this sample was loaned before the daemon restarted: it was released into the \
                 old memory, not published; loan a new one",
            ),
            Self::Wait(e) => write!(f, "cannot wait for queue space: {e}"),
            Self::Timeout(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PublishError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Wait(e) => Some(e),
            Self::Timeout(e) => Some(e),
            Self::DaemonGone
            | Self::Disconnected
            | Self::Unresponsive { .. }
            | Self::Revoked { .. }
            | Self::LoanedBeforeReconnect => None,
        }
    }
}

/// Why [`Publisher::update_connections`](crate::Publisher::update_connections) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateConnectionsError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on): retry the call later, the handle goes on.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats (it was
    /// stopped or hung for longer than the timeout); its ports are unrouted.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// The daemon revoked this port (drop it and create it again).
    Revoked {
        /// What the daemon found.
        reason: RevokeReason,
    },
    /// The daemon restarted and refused to create this port again with its
    /// options (the call is not retried before the next reconnection).
    NotRecreated(PortNotRecreated),
    /// Waiting for space in a full queue failed.
    Wait(FutexError),
    /// A block-publisher subscriber kept its queue full past the publish
    /// timeout; it did not get the sample, every other subscriber did (only
    /// with [`PublishTimeout::Fail`](crate::PublishTimeout::Fail)).
    Timeout(PublishTimedOut),
}

impl fmt::Display for UpdateConnectionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Revoked { reason } => revoked(f, *reason),
            Self::NotRecreated(e) => e.fmt(f),
            Self::Wait(e) => write!(f, "cannot wait for queue space: {e}"),
            Self::Timeout(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for UpdateConnectionsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotRecreated(e) => Some(e),
            Self::Wait(e) => Some(e),
            Self::Timeout(e) => Some(e),
            Self::DaemonGone
            | Self::Disconnected
            | Self::Unresponsive { .. }
            | Self::Revoked { .. } => None,
        }
    }
}

/// Why [`Subscriber::take`](crate::Subscriber::take) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on): retry the call later, the handle goes on.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats (it was
    /// stopped or hung for longer than the timeout); its ports are unrouted.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// The daemon revoked this port (drop it and create it again).
    Revoked {
        /// What the daemon found.
        reason: RevokeReason,
    },
    /// The daemon restarted and refused to create this port again with its
    /// options (the call is not retried before the next reconnection).
    NotRecreated(PortNotRecreated),
    /// The subscriber already holds `max_held` samples.
    TooManyHeld {
        /// The subscriber's `max_held`.
        max: u32,
    },
    /// This process, or this subscriber, holds as many chunks of the pool
    /// as its quota allows (`[quota]` in the daemon's configuration); the
    /// sample stays queued.
    QuotaExceeded(QuotaExceeded),
    /// The queue delivered a chunk that fails the checks (index out of range,
    /// a header that names another chunk or mempool or is inconsistent with
    /// its pool, a payload size not the port's); it was discarded.
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
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Revoked { reason } => revoked(f, *reason),
            Self::NotRecreated(e) => e.fmt(f),
            Self::TooManyHeld { max } => write!(
                f,
                "too many samples held: {max} are taken and not dropped (drop one, or raise max_held)"
            ),
            Self::QuotaExceeded(e) => e.fmt(f),
            Self::CorruptChunk { index, reason } => {
                write!(f, "discarded corrupt chunk {index}: {reason}")
            }
        }
    }
}

impl std::error::Error for TakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotRecreated(e) => Some(e),
            Self::QuotaExceeded(e) => Some(e),
            _ => None,
        }
    }
}

/// Why [`Subscriber::wait`](crate::Subscriber::wait) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitError {
    /// The daemon is gone.
    DaemonGone,
    /// The daemon is gone and the runtime registers again by itself
    /// (reconnecting on): retry the call later, the handle goes on.
    Disconnected,
    /// The daemon dropped this process for missing heartbeats (it was
    /// stopped or hung for longer than the timeout); its ports are unrouted.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
    /// The daemon revoked this port (drop it and create it again).
    Revoked {
        /// What the daemon found.
        reason: RevokeReason,
    },
    /// The daemon restarted and refused to create this port again with its
    /// options (the call is not retried before the next reconnection).
    NotRecreated(PortNotRecreated),
    /// The futex wait failed.
    Futex(FutexError),
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DaemonGone => f.write_str(GONE),
            Self::Disconnected => f.write_str(DISCONNECTED),
            Self::Unresponsive { timeout_ms } => dropped(f, *timeout_ms),
            Self::Revoked { reason } => revoked(f, *reason),
            Self::NotRecreated(e) => e.fmt(f),
            Self::Futex(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for WaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotRecreated(e) => Some(e),
            Self::Futex(e) => Some(e),
            Self::DaemonGone
            | Self::Disconnected
            | Self::Unresponsive { .. }
            | Self::Revoked { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unresponsive_says_missing_heartbeats_not_daemon_gone() {
        let texts = [
            LoanError::Unresponsive { timeout_ms: 300 }.to_string(),
            PublishError::Unresponsive { timeout_ms: 300 }.to_string(),
            TakeError::Unresponsive { timeout_ms: 300 }.to_string(),
            WaitError::Unresponsive { timeout_ms: 300 }.to_string(),
        ];
        for text in texts {
            assert!(text.contains("missing heartbeats"), "{text}");
            assert!(text.contains("300 ms timeout"), "{text}");
            assert!(!text.contains("is gone"), "{text}");
        }
    }

    #[test]
    fn revoked_says_what_the_daemon_found_and_what_to_do() {
        let reason = RevokeReason::CorruptQueue;
        let texts = [
            LoanError::Revoked { reason }.to_string(),
            PublishError::Revoked { reason }.to_string(),
            UpdateConnectionsError::Revoked { reason }.to_string(),
            TakeError::Revoked { reason }.to_string(),
            WaitError::Revoked { reason }.to_string(),
        ];
        for text in texts {
            assert!(
                text.starts_with("the daemon revoked this port: its queue"),
                "{text}"
            );
            assert!(text.ends_with("drop it and create it again"), "{text}");
        }
    }

    #[test]
    fn loaned_before_reconnect_says_what_happened_and_what_to_do() {
        let text = PublishError::LoanedBeforeReconnect.to_string();
        assert!(
            text.contains("loaned before the daemon restarted"),
            "{text}"
        );
        assert!(
            text.contains("released") && text.ends_with("loan a new one"),
            "{text}"
        );
        assert_ne!(
            PublishError::LoanedBeforeReconnect,
            PublishError::Disconnected
        );
    }

    #[test]
    fn out_of_chunks_names_the_pool() {
        let e = LoanError::OutOfChunks {
            pool: 2,
            chunk_size: 4096,
        };
        assert!(
            e.to_string().contains("mempool 2 (4096-byte chunks)"),
            "{e}"
        );
    }
}
