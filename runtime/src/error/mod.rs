//! The errors of the runtime: one error type per operation (creating a
//! publisher and creating a subscriber share [`CreatePortError`], which names
//! the kind of port).
//!
//! Every error implements [`std::error::Error`] and prints one line that names
//! what went wrong with the values involved (the socket path tried, the
//! service, the sizes, the limit). The ones an application is expected to
//! handle have their own variants: [`LoanError::OutOfChunks`],
//! [`LoanError::TooManyLoans`], [`TakeError::TooManyHeld`], a chunk quota
//! reached ([`LoanError::QuotaExceeded`], [`TakeError::QuotaExceeded`],
//! naming the quota's configuration key), a block-publisher subscriber that
//! kept its queue full past the publish timeout ([`PublishError::Timeout`], [`PublishTimedOut`],
//! when the publisher asked for it), the type and
//! size checks of port creation ([`CreatePortError::is_type_mismatch`],
//! [`CreatePortError::is_payload_too_large`]), and `DaemonGone` everywhere: once the daemon
//! stopped (or closed this process's connection), every call fails with it, promptly.
//! With reconnecting on (the default, [`crate::RuntimeBuilder::reconnect`])
//! the retryable `Disconnected` takes `DaemonGone`'s place: the runtime
//! registers again once a daemon is back. `Unresponsive` (everywhere too) is its counterpart for a process the daemon
//! dropped for missing heartbeats: it was stopped or hung longer than the
//! heartbeat timeout, the daemon unrouted it and keeps its chunks until it
//! exits; every call after it resumes fails with it. `Revoked` (on the data
//! path) says that the daemon revoked that one port and why
//! ([`RevokeReason`]): the port is out of service, the process must drop it
//! and create it again. After a reconnection a port re-attaches on its next
//! call; `NotRecreated` ([`PortNotRecreated`]) says that the restarted
//! daemon refused it (its type or pool no longer fit), and
//! [`PublishError::LoanedBeforeReconnect`] that a sample loaned before the
//! restart was released instead of published.
//!
//! Failures of the control connection itself are a [`ControlError`], which
//! port creation and initialisation embed.

mod control;
mod data;
mod discovery;
mod event;
mod init;
#[cfg(feature = "tokio")]
mod listener_receive;
mod not_recreated;
mod port;
mod quota;
#[cfg(feature = "tokio")]
mod receive;
mod request_response;
mod timeout;
mod waitset;
mod wake_fd;

use zerocp_core::wire::RevokeReason;

use crate::registration::Gone;

pub use control::{ControlError, MapSegmentsError};
pub use data::{LoanError, PublishError, TakeError, UpdateConnectionsError, WaitError};
pub use discovery::{CreateWatcherError, ServicesError, WatchError};
pub use event::NotifyError;
pub use init::InitError;
#[cfg(feature = "tokio")]
pub use listener_receive::ListenerReceiveError;
pub use not_recreated::PortNotRecreated;
pub(crate) use port::check_option;
pub use port::{CreatePortError, CreatePortReason, PortRequestError};
pub use quota::{QuotaExceeded, QuotaScope};
#[cfg(feature = "tokio")]
pub use receive::ReceiveError;
pub use request_response::{CreateExchangeError, RespondError, ResponseError, SendRequestError};
pub use timeout::PublishTimedOut;
pub use waitset::{AttachError, WaitSetCreateError, WaitSetWaitError};
pub use wake_fd::WakeFdError;

/// What every `DaemonGone` prints.
const GONE: &str = "the ZeroCP daemon is gone (it stopped, or it dropped this process)";

/// What every `Disconnected` prints.
const DISCONNECTED: &str = "the ZeroCP daemon is gone for now; the runtime registers again as soon as \
     it is back (retry the call)";

/// What every `Unresponsive` prints.
fn dropped(f: &mut std::fmt::Formatter<'_>, timeout_ms: u32) -> std::fmt::Result {
    write!(
        f,
        "the ZeroCP daemon dropped this process for missing heartbeats: it sent none for \
         longer than the {timeout_ms} ms timeout (it was stopped or hung), so its ports were \
         unrouted; the daemon is still running"
    )
}

/// What every `Revoked` prints.
fn revoked(f: &mut std::fmt::Formatter<'_>, reason: RevokeReason) -> std::fmt::Result {
    write!(
        f,
        "the daemon revoked this port: {}; drop it and create it again",
        reason.explanation()
    )
}

/// The error of each data-path operation for a revoked port.
macro_rules! from_revoked {
    ($($error:ty),*) => {$(
        impl From<RevokeReason> for $error {
            fn from(reason: RevokeReason) -> Self {
                Self::Revoked { reason }
            }
        }
    )*};
}

from_revoked!(
    WakeFdError,
    LoanError,
    PublishError,
    UpdateConnectionsError,
    TakeError,
    WaitError,
    NotifyError
);

/// The error of each operation for each way of being gone.
macro_rules! from_gone {
    ($($error:ty),*) => {$(
        impl From<Gone> for $error {
            fn from(gone: Gone) -> Self {
                match gone {
                    Gone::Daemon => Self::DaemonGone,
                    Gone::Disconnected => Self::Disconnected,
                    Gone::Unresponsive { timeout_ms } => Self::Unresponsive { timeout_ms },
                }
            }
        }
    )*};
}

from_gone!(
    WakeFdError,
    LoanError,
    PublishError,
    UpdateConnectionsError,
    TakeError,
    WaitError,
    NotifyError,
    PortRequestError,
    ServicesError
);
