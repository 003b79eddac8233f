//! The `Register` request: connecting to the daemon's socket and
//! registering, and connecting again while the daemon has no room for the
//! connection.
//!
//! The daemon never refuses a newcomer for room: it evicts an older
//! unregistered connection instead, telling it why (`LimitReached` with
//! request id 0, [`ControlError::Refused`]). So this process's connection
//! can be evicted before its `Register` was read, when many connections of
//! its uid arrive at once (sixteen processes of one user starting together,
//! or a process of its uid flooding the daemon). It then connects again
//! after a capped, jittered wait ([`Backoff`]), until
//! [`REGISTRATION_DEADLINE`] after the first attempt, and then fails with
//! [`InitError::NoRoom`], which names the attempts and the daemon's last
//! reason. Every other refusal is final: `AccessDenied`, or `LimitReached`
//! in reply to `Register` (the process table is full), is
//! [`InitError::Rejected`] with the daemon's reason; only a connection that
//! closes without any reason is taken for a daemon that stopped.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use zerocp_core::fixed_string::FixedString;
use zerocp_core::wire::{self, ErrorCode, Message, MessageKind, Register, Registered};
use zerocp_os_linux::backoff::Backoff;
use zerocp_os_linux::control_client::ControlClient;
use zerocp_os_linux::error::Errno;
use zerocp_os_linux::names::{DomainName, DomainPaths};

use crate::error::{ControlError, InitError};
use crate::registration::{MAX_PROCESS_NAME_LEN, REQUEST_TIMEOUT};

/// How long registering may take, from the first attempt, however often
/// the daemon had no room for the connection. Generous: CI runs under qemu.
pub(crate) const REGISTRATION_DEADLINE: Duration = REQUEST_TIMEOUT;
/// The first wait before connecting again (jittered down to half).
const FIRST_RETRY: Duration = Duration::from_millis(10);
/// The longest wait between two attempts.
const MAX_RETRY: Duration = Duration::from_millis(500);

/// Connects to the daemon of `domain` and registers as `name`, connecting
/// again while the daemon has no room (module docs); returns the
/// connection, the reply and the descriptors it carried.
pub(crate) fn connect_and_register(
    paths: &DomainPaths,
    domain: &DomainName,
    name: FixedString<MAX_PROCESS_NAME_LEN>,
) -> Result<(ControlClient, Registered, Vec<OwnedFd>), InitError> {
    let start = Instant::now();
    let deadline = start + REGISTRATION_DEADLINE;
    let mut backoff = Backoff::new(FIRST_RETRY, MAX_RETRY);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut conn = connect(paths, domain)?;
        let left = deadline.saturating_duration_since(Instant::now());
        let detail = match register(&mut conn, name, left) {
            Ok((registered, fds)) => return Ok((conn, registered, fds)),
            Err(InitError::NoRoom { detail, .. }) => detail,
            Err(e) => return Err(e),
        };
        let wait = backoff.next_wait();
        if Instant::now() + wait >= deadline {
            return Err(InitError::NoRoom {
                attempts,
                waited: start.elapsed(),
                detail,
            });
        }
        log::debug!("the daemon had no room for this connection ({detail}); again in {wait:?}");
        std::thread::sleep(wait);
    }
}

/// Connects to the daemon's socket.
fn connect(paths: &DomainPaths, domain: &DomainName) -> Result<ControlClient, InitError> {
    ControlClient::connect(&paths.socket).map_err(|e| match e.errno() {
        Some(errno @ (Errno::NOENT | Errno::CONNREFUSED)) => InitError::DaemonNotRunning {
            domain: domain.to_string(),
            socket: paths.socket.clone(),
            errno,
        },
        _ => InitError::Connect(e),
    })
}

/// One attempt: registers on `conn`, waiting at most `timeout`; a
/// connection the daemon had no room for is [`InitError::NoRoom`] (one
/// attempt).
fn register(
    conn: &mut ControlClient,
    process_name: FixedString<MAX_PROCESS_NAME_LEN>,
    timeout: Duration,
) -> Result<(Registered, Vec<OwnedFd>), InitError> {
    let request = Message::Register(Register {
        protocol_version: wire::PROTOCOL_VERSION,
        process_name,
    });
    match conn.request_with_fds(&request, timeout) {
        Ok((Message::Registered(reply), fds)) => Ok((reply, fds)),
        Ok((Message::Error(e), _)) => Err(InitError::Rejected {
            code: e.code,
            detail: e.detail.as_str().to_owned(),
        }),
        Ok((other, _)) => Err(InitError::Control(ControlError::Unexpected {
            request: MessageKind::Register,
            got: other.kind(),
        })),
        Err(ControlError::Refused {
            code: ErrorCode::LimitReached,
            detail,
        }) => Err(InitError::NoRoom {
            attempts: 1,
            waited: Duration::ZERO,
            detail,
        }),
        Err(ControlError::Refused { code, detail }) => Err(InitError::Rejected { code, detail }),
        Err(ControlError::Closed) => Err(InitError::Rejected {
            code: ErrorCode::ShuttingDown,
            detail: format!(
                "the daemon at {} closed the connection during registration without a \
                 reason: it stopped or died",
                conn.path().display()
            ),
        }),
        Err(e) => Err(InitError::Control(e)),
    }
}
