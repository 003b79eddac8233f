//! The runtime's errors as [`Failure`]s: each operation's error enum maps
//! its variants to a class (`zerocp_result_t`); the message is the error's
//! own `Display`, which names what was wrong.

use zerocp::error::{CreatePortReason, PortRequestError};
use zerocp::{
    AttachError, CreatePortError, EventIdError, InitError, LoanError, NotifyError, PublishError,
    TakeError, WaitError, WaitSetCreateError, WaitSetWaitError, WakeFdError,
};

use crate::error::{Failure, zerocp_result_t};
use zerocp_result_t::*;

fn failure(code: zerocp_result_t, e: &dyn std::error::Error) -> Failure {
    Failure::new(code, e.to_string())
}

impl From<InitError> for Failure {
    fn from(e: InitError) -> Self {
        let code = match e {
            InitError::InvalidName { .. } | InitError::Domain(_) => ZEROCP_ERR_INVALID_ARGUMENT,
            InitError::RunDir(_) | InitError::DaemonNotRunning { .. } | InitError::Connect(_) => {
                ZEROCP_ERR_DAEMON
            }
            InitError::NoRoom { .. } | InitError::Rejected { .. } => ZEROCP_ERR_REFUSED,
            _ => ZEROCP_ERR_INTERNAL,
        };
        failure(code, &e)
    }
}

impl From<CreatePortError> for Failure {
    fn from(e: CreatePortError) -> Self {
        let code = match &e.reason {
            CreatePortReason::InvalidOption { .. }
            | CreatePortReason::UnsupportedAlignment(_)
            | CreatePortReason::MissingMaxSliceLen => ZEROCP_ERR_INVALID_ARGUMENT,
            CreatePortReason::Request(request) => match request {
                PortRequestError::DaemonGone
                | PortRequestError::Disconnected
                | PortRequestError::Unresponsive { .. } => ZEROCP_ERR_DAEMON,
                PortRequestError::TypeMismatch { .. }
                | PortRequestError::AccessDenied { .. }
                | PortRequestError::PayloadTooLarge { .. }
                | PortRequestError::Rejected { .. } => ZEROCP_ERR_REFUSED,
                _ => ZEROCP_ERR_INTERNAL,
            },
        };
        failure(code, &e)
    }
}

impl From<LoanError> for Failure {
    fn from(e: LoanError) -> Self {
        let code = match e {
            LoanError::DaemonGone
            | LoanError::Disconnected
            | LoanError::Unresponsive { .. }
            | LoanError::NotRecreated(_) => ZEROCP_ERR_DAEMON,
            LoanError::Revoked { .. } => ZEROCP_ERR_REVOKED,
            LoanError::SliceTooLong { .. } | LoanError::PayloadSize { .. } => {
                ZEROCP_ERR_INVALID_ARGUMENT
            }
            LoanError::TooManyLoans { .. }
            | LoanError::QuotaExceeded(_)
            | LoanError::OutOfChunks { .. } => ZEROCP_ERR_LIMIT,
            _ => ZEROCP_ERR_INTERNAL,
        };
        failure(code, &e)
    }
}

impl From<PublishError> for Failure {
    fn from(e: PublishError) -> Self {
        let code = match e {
            PublishError::DaemonGone
            | PublishError::Disconnected
            | PublishError::Unresponsive { .. }
            | PublishError::LoanedBeforeReconnect => ZEROCP_ERR_DAEMON,
            PublishError::Revoked { .. } => ZEROCP_ERR_REVOKED,
            PublishError::Timeout(_) => ZEROCP_ERR_PUBLISH_TIMEOUT,
            _ => ZEROCP_ERR_INTERNAL,
        };
        failure(code, &e)
    }
}

impl From<TakeError> for Failure {
    fn from(e: TakeError) -> Self {
        let code = match e {
            TakeError::DaemonGone
            | TakeError::Disconnected
            | TakeError::Unresponsive { .. }
            | TakeError::NotRecreated(_) => ZEROCP_ERR_DAEMON,
            TakeError::Revoked { .. } => ZEROCP_ERR_REVOKED,
            TakeError::TooManyHeld { .. } | TakeError::QuotaExceeded(_) => ZEROCP_ERR_LIMIT,
            _ => ZEROCP_ERR_INTERNAL,
        };
        failure(code, &e)
    }
}

impl From<WaitError> for Failure {
    fn from(e: WaitError) -> Self {
        let code = match e {
            WaitError::DaemonGone
            | WaitError::Disconnected
            | WaitError::Unresponsive { .. }
            | WaitError::NotRecreated(_) => ZEROCP_ERR_DAEMON,
            WaitError::Revoked { .. } => ZEROCP_ERR_REVOKED,
            _ => ZEROCP_ERR_INTERNAL,
        };
        failure(code, &e)
    }
}

impl From<NotifyError> for Failure {
    fn from(e: NotifyError) -> Self {
        let code = match e {
            NotifyError::DaemonGone
            | NotifyError::Disconnected
            | NotifyError::Unresponsive { .. }
            | NotifyError::NotRecreated(_) => ZEROCP_ERR_DAEMON,
            NotifyError::Revoked { .. } => ZEROCP_ERR_REVOKED,
            _ => ZEROCP_ERR_INTERNAL,
        };
        failure(code, &e)
    }
}

impl From<EventIdError> for Failure {
    fn from(e: EventIdError) -> Self {
        failure(ZEROCP_ERR_INVALID_ARGUMENT, &e)
    }
}

impl From<WakeFdError> for Failure {
    fn from(e: WakeFdError) -> Self {
        let code = match e {
            WakeFdError::DaemonGone
            | WakeFdError::Disconnected
            | WakeFdError::Unresponsive { .. }
            | WakeFdError::NotRecreated(_) => ZEROCP_ERR_DAEMON,
            WakeFdError::Revoked { .. } => ZEROCP_ERR_REVOKED,
            WakeFdError::Refused { .. } => ZEROCP_ERR_REFUSED,
            _ => ZEROCP_ERR_INTERNAL,
        };
        failure(code, &e)
    }
}

impl From<WaitSetCreateError> for Failure {
    fn from(e: WaitSetCreateError) -> Self {
        failure(ZEROCP_ERR_INTERNAL, &e)
    }
}

impl From<AttachError> for Failure {
    fn from(e: AttachError) -> Self {
        match e {
            AttachError::WakeFd(wake) => {
                let inner = Failure::from(wake);
                Failure::new(
                    inner.code,
                    format!("cannot attach the subscriber: {}", inner.message),
                )
            }
            AttachError::ZeroPeriod | AttachError::PeriodTooLong(_) => {
                failure(ZEROCP_ERR_INVALID_ARGUMENT, &e)
            }
            _ => failure(ZEROCP_ERR_INTERNAL, &e),
        }
    }
}

impl From<WaitSetWaitError> for Failure {
    fn from(e: WaitSetWaitError) -> Self {
        let code = match e {
            WaitSetWaitError::DaemonGone
            | WaitSetWaitError::Disconnected
            | WaitSetWaitError::Unresponsive { .. } => ZEROCP_ERR_DAEMON,
            WaitSetWaitError::Revoked { .. } => ZEROCP_ERR_REVOKED,
            _ => ZEROCP_ERR_INTERNAL,
        };
        failure(code, &e)
    }
}
