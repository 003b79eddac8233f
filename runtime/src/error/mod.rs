//! The errors of the runtime: one error type per operation (creating a
//! publisher and creating a subscriber share [`CreatePortError`], which names
//! the kind of port).
//!
//! Every error implements [`std::error::Error`] and prints one line that names
//! what went wrong with the values involved (the socket path tried, the
//! service, the sizes, the limit). The ones an application is expected to
//! handle have their own variants: [`LoanError::OutOfChunks`],
//! [`LoanError::TooManyLoans`], [`TakeError::TooManyHeld`], the type and
//! size checks of port creation ([`CreatePortError::is_type_mismatch`],
//! [`CreatePortError::is_payload_too_large`]), and `DaemonGone` everywhere: once the daemon
//! stopped (or dropped this process), every call fails with it, promptly.
//!
//! Failures of the control connection itself are a [`ControlError`], which
//! port creation and initialisation embed.

mod control;
mod data;
mod init;
mod port;

pub use control::{ControlError, MapSegmentsError};
pub use data::{LoanError, PublishError, TakeError, UpdateConnectionsError, WaitError};
pub use init::InitError;
pub(crate) use port::check_option;
pub use port::{CreatePortError, CreatePortReason, PortRequestError};

/// What every `DaemonGone` prints.
const GONE: &str = "the ZeroCP daemon is gone (it stopped, or it dropped this process)";
