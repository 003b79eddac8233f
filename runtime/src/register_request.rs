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
//! reason (also when the deadline cuts short a retry the daemon had not
//! answered yet). Every other refusal is final: `AccessDenied`, or `LimitReached`
//! in reply to `Register` (the process table is full), is
//! [`InitError::Rejected`] with the daemon's reason; only a connection that
//! closes without any reason is taken for a daemon that stopped.
//!
//! Connecting counts against the same deadline: a daemon that accepts no
//! connections (hung, stopped) lets its socket's backlog fill, and a plain
//! `connect` would then wait for it without limit (the heartbeat thread
//! registering again would never end, nor would dropping the runtime).

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use zerocp_core::fixed_string::FixedString;
use zerocp_core::wire::{self, ErrorCode, Message, MessageKind, Register, Registered};
use zerocp_os_linux::backoff::Backoff;
use zerocp_os_linux::control_client::ControlClient;
use zerocp_os_linux::error::Errno;
use zerocp_os_linux::names::DomainPaths;

use crate::error::{ControlError, InitError};
use crate::registration::{MAX_PROCESS_NAME_LEN, REQUEST_TIMEOUT};

/// How long registering may take, from the first attempt, however often
/// the daemon had no room for the connection. Generous: CI runs under qemu.
pub(crate) const REGISTRATION_DEADLINE: Duration = REQUEST_TIMEOUT;
/// The first wait before connecting again (jittered down to half).
const FIRST_RETRY: Duration = Duration::from_millis(10);
/// The longest wait between two attempts.
const MAX_RETRY: Duration = Duration::from_millis(500);

/// Connects to the daemon at `paths` and registers as `name`, connecting
/// again while the daemon has no room, for at most `patience` from now
/// ([`REGISTRATION_DEADLINE`], module docs); returns the connection, the
/// reply and the descriptors it carried.
pub(crate) fn connect_and_register(
    paths: &DomainPaths,
    name: FixedString<MAX_PROCESS_NAME_LEN>,
    patience: Duration,
) -> Result<(ControlClient, Registered, Vec<OwnedFd>), InitError> {
    let start = Instant::now();
    let deadline = start + patience;
    let mut backoff = Backoff::new(FIRST_RETRY, MAX_RETRY);
    let mut attempts = 0;
    let mut no_room: Option<String> = None;
    loop {
        attempts += 1;
        let mut conn = connect(paths, deadline.saturating_duration_since(Instant::now()))?;
        let left = deadline.saturating_duration_since(Instant::now());
        let detail = match register(&mut conn, name, left) {
            Ok((registered, fds)) => return Ok((conn, registered, fds)),
            Err(InitError::NoRoom { detail, .. }) => detail,
            // A retry that ran out of patience before the daemon answered
            // ends as the refusals before it did: no room.
            Err(InitError::Control(ControlError::Timeout { .. })) if no_room.is_some() => {
                return Err(InitError::NoRoom {
                    attempts,
                    waited: start.elapsed(),
                    detail: no_room.unwrap_or_default(),
                });
            }
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
        no_room = Some(detail);
        std::thread::sleep(wait);
    }
}

/// Connects to the daemon's socket, waiting at most `timeout` for a daemon
/// that accepts no connections (its backlog full).
fn connect(paths: &DomainPaths, timeout: Duration) -> Result<ControlClient, InitError> {
    ControlClient::connect_within(&paths.socket, timeout).map_err(|e| match e.errno() {
        Some(errno @ (Errno::NOENT | Errno::CONNREFUSED)) => InitError::DaemonNotRunning {
            domain: paths.domain.to_string(),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    use zerocp_core::wire::{ErrorReply, MAX_FRAME_SIZE};
    use zerocp_os_linux::names::DomainName;
    use zerocp_os_linux::poller::{Events, Interest, Poller};
    use zerocp_os_linux::seqpacket::SeqpacketListener;
    use zerocp_os_linux::testing::{TMP_PREFIX, test_object_name};

    use super::*;

    const WAIT: Duration = Duration::from_secs(10);

    /// The daemon's side of connection refusals, on a socket of its own:
    /// each connection's request is answered with the next of `replies`
    /// (the last one repeated) as an `Error` with request id 0, and closed.
    /// Counts the connections, also those of a client that gave up before
    /// its answer (a last attempt cut short by its deadline); once `stop`
    /// is set it counts what is still queued and returns.
    fn turn_away(
        listener: &SeqpacketListener,
        replies: &[ErrorReply],
        served: &AtomicU32,
        stop: &AtomicBool,
    ) {
        let poller = Poller::new().unwrap();
        poller.add(listener, 0, Interest::Readable).unwrap();
        let mut events = Events::with_capacity(4);
        let mut buf = [0u8; MAX_FRAME_SIZE];
        loop {
            let stopping = stop.load(Ordering::Acquire);
            if !stopping {
                poller
                    .wait(&mut events, Some(Duration::from_millis(20)))
                    .unwrap();
            }
            while let Some(conn) = listener.accept().unwrap() {
                let n = served.fetch_add(1, Ordering::Relaxed) as usize;
                if stopping || conn.recv_timeout(&mut buf, WAIT).is_err() {
                    continue;
                }
                let reply = Message::Error(replies[n.min(replies.len() - 1)].clone());
                let len = wire::encode(&reply, 0, &mut buf).unwrap();
                // The client may have given up already (EPIPE): it counts
                // that attempt all the same.
                let _ = conn.send(&buf[..len]);
            }
            if stopping {
                return;
            }
        }
    }

    /// Registers through a refusing peer (`replies`) for at most
    /// `patience`; returns the outcome and how many connections it made.
    fn register_against(replies: &[ErrorReply], patience: Duration) -> (InitError, u32) {
        let name = test_object_name(DomainName::MAX_LEN);
        let domain = DomainName::new(&name).unwrap();
        let dir = std::env::temp_dir().join(format!("{TMP_PREFIX}{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let paths = DomainPaths::new(&dir, &domain);
        let listener = SeqpacketListener::bind(&paths.socket, 0o600).unwrap();
        let (served, stop) = (AtomicU32::new(0), Arc::new(AtomicBool::new(false)));
        let outcome = std::thread::scope(|scope| {
            scope.spawn(|| turn_away(&listener, replies, &served, &stop));
            let name = FixedString::from_str_truncated("retrier");
            let outcome = connect_and_register(&paths, name, patience);
            // Every connection the client made is in the listener's queue by
            // now (its connect returned): the server counts them before it
            // returns.
            stop.store(true, Ordering::Release);
            outcome
        });
        drop(listener);
        std::fs::remove_dir(&dir).unwrap();
        match outcome {
            Ok(_) => panic!("registered with a peer that only refuses"),
            Err(e) => (e, served.load(Ordering::Relaxed)),
        }
    }

    fn no_room() -> ErrorReply {
        ErrorReply::new(ErrorCode::LimitReached, "evicted: no room")
    }

    #[test]
    fn a_connection_turned_away_for_room_is_tried_again_until_the_deadline() {
        let (e, connections) = register_against(&[no_room()], Duration::from_millis(300));
        match e {
            InitError::NoRoom {
                attempts, detail, ..
            } => {
                assert!(attempts >= 2, "{attempts} attempts");
                assert_eq!(attempts, connections);
                assert_eq!(detail, "evicted: no room");
            }
            other => panic!("expected NoRoom, got {other}"),
        }
    }

    #[test]
    fn any_other_refusal_is_final() {
        let denied = ErrorReply::new(ErrorCode::AccessDenied, "uid 7 may not");
        let (e, connections) = register_against(&[no_room(), denied], WAIT);
        assert!(
            matches!(&e, InitError::Rejected { code: ErrorCode::AccessDenied, detail }
                if detail == "uid 7 may not"),
            "{e}"
        );
        assert_eq!(connections, 2);
    }
}
