//! The two requests of the wake-descriptor path, shared by every kind of
//! receiving port (subscribers, listeners) and sender (publishers,
//! notifiers): `SetWakeFd` hands the daemon the sending end of a port's wake
//! socket, `QueryWakeFd` asks it for that end of a port the caller sends to
//! ([`zerocp_core::notify_word`] for the protocol, the daemon's
//! `wake_fd_requests` for who may do what).

use std::cell::OnceCell;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::notify_word::NotifyWord;
use zerocp_core::wire::{Message, WakeFdPort};
use zerocp_os_linux::wake_socket::{WakeSender, WakeSocket};

use crate::error::{ControlError, WakeFdError};
use crate::port_status::{PortKey, PortStatus};
use crate::registration::Registration;

/// Arms a receiving port (a subscriber, a listener) with `fd`: hands it to
/// the daemon, keeps it in `kept`, records it in the port's `status` (which
/// signals it when the daemon goes or revokes the port) and sets `armed` in
/// `word`; then signals it at once if `pending` finds something that
/// arrived before the senders could see `armed`, so nothing is missed.
pub(crate) fn arm_port(
    shared: &Registration,
    status: &PortStatus,
    kept: &OnceCell<Arc<WakeSocket>>,
    word: &NotifyWord,
    fd: &Arc<WakeSocket>,
    pending: impl FnOnce() -> bool,
) -> Result<(), WakeFdError> {
    set_wake_fd(shared, status.key(), fd)?;
    let _ = kept.set(Arc::clone(fd));
    status.set_wake_fd(fd);
    word.arm();
    if pending() {
        fd.notify().map_err(WakeFdError::Socket)?;
    }
    Ok(())
}

/// Hands the daemon `fd` as the wake descriptor of this process's port
/// `key`; [`arm_port`] arms the port's `NotifyWord` once it returns `Ok`.
fn set_wake_fd(shared: &Registration, key: PortKey, fd: &WakeSocket) -> Result<(), WakeFdError> {
    let request = Message::SetWakeFd(WakeFdPort {
        kind: key.kind,
        group: key.group,
        port_index: key.index,
        generation: key.generation,
    });
    match shared.call_sending_fd(&request, fd.sender().as_fd()) {
        Ok((Message::WakeFdSet, _)) => Ok(()),
        Ok((Message::Error(e), _)) => Err(WakeFdError::Refused {
            code: e.code,
            detail: e.detail.as_str().to_owned(),
        }),
        Ok((other, _)) => Err(WakeFdError::Control(ControlError::Unexpected {
            request: request.kind(),
            got: other.kind(),
        })),
        Err(ControlError::Closed) => {
            Err(shared.gone().unwrap_or_else(|| shared.daemon_gone()).into())
        }
        Err(e) => Err(WakeFdError::Control(e)),
    }
}

/// Asks the daemon for the wake descriptor of the receiving port `port`
/// names; `Err` says why there is none (a refusal, a failed request), for
/// the caller's log.
pub(crate) fn query_wake_fd(shared: &Registration, port: WakeFdPort) -> Result<WakeSender, String> {
    answer(shared.call_with_fds(&Message::QueryWakeFd(port)))
}

/// Why [`try_query_wake_fd`] got no descriptor.
#[derive(Debug)]
pub(crate) enum QueryFailed {
    /// A request of the application held the connection: not asked.
    Busy,
    /// No answer within the timeout (the answer, if it comes, is skipped
    /// as a late reply).
    Timeout(String),
    /// A refusal, or another failure: as [`query_wake_fd`]'s `Err`.
    Other(String),
}

impl QueryFailed {
    /// The reason, for the log.
    pub(crate) fn into_reason(self) -> String {
        match self {
            Self::Busy => "the control connection was busy".to_owned(),
            Self::Timeout(why) | Self::Other(why) => why,
        }
    }
}

/// As [`query_wake_fd`], for a thread that must not wait: asks only if no
/// request holds the connection, and waits at most `timeout`.
pub(crate) fn try_query_wake_fd(
    shared: &Registration,
    port: WakeFdPort,
    timeout: Duration,
) -> Result<WakeSender, QueryFailed> {
    let reply = shared
        .try_request_with_fds(&Message::QueryWakeFd(port), timeout)
        .ok_or(QueryFailed::Busy)?;
    match reply {
        Err(e @ ControlError::Timeout { .. }) => Err(QueryFailed::Timeout(e.to_string())),
        reply => answer(reply).map_err(QueryFailed::Other),
    }
}

/// The descriptor a `QueryWakeFd` reply carries, or why there is none.
fn answer(reply: Result<(Message, Vec<OwnedFd>), ControlError>) -> Result<WakeSender, String> {
    match reply {
        Ok((Message::WakeFd(_), mut fds)) if fds.len() == 1 => {
            WakeSender::adopt(fds.remove(0)).map_err(|e| e.to_string())
        }
        Ok((Message::Error(e), _)) => Err(format!("{}: {}", e.code, e.detail.as_str())),
        Ok((other, fds)) => Err(format!("{:?} with {} descriptors", other.kind(), fds.len())),
        Err(e) => Err(e.to_string()),
    }
}

/// The wake socket a port keeps in `cell`, made on first use (not yet
/// armed: the caller hands it to the daemon with [`set_wake_fd`]).
pub(crate) fn wake_socket(
    cell: &OnceCell<Arc<WakeSocket>>,
) -> Result<&Arc<WakeSocket>, WakeFdError> {
    if let Some(fd) = cell.get() {
        return Ok(fd);
    }
    let fd = Arc::new(WakeSocket::new().map_err(WakeFdError::Socket)?);
    Ok(cell.get_or_init(|| fd))
}
