//! [`DaemonConnection`]: the runtime's control connection to the daemon, one
//! `SOCK_SEQPACKET` connection per process, requests answered in order.
//!
//! A request is encoded into a frame with a fresh request id, sent, and the
//! reply with that id awaited for at most a deadline. Frames with another id
//! (the late reply to a request that timed out) are skipped; the unsolicited
//! `Shutdown` frame, or the connection closing, means the daemon is gone.
//!
//! The connection sits behind a mutex shared with the heartbeat thread, which
//! looks at it between requests ([`DaemonConnection::poll_closed`]) to notice the
//! daemon going away while the application is not talking to it.

use std::path::Path;
use std::time::{Duration, Instant};

use zerocp_core::wire::{self, MAX_FRAME_SIZE, Message};
use zerocp_os_linux::seqpacket::{RecvResult, SeqpacketConn};

use crate::error::ControlError;

/// How long a request waits for its reply. Generous: the daemon may be busy
/// cleaning up after a dead process, and CI runs under qemu.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The connected control channel to the daemon.
#[derive(Debug)]
pub(crate) struct DaemonConnection {
    conn: SeqpacketConn,
    next_id: u32,
    buf: Box<[u8; MAX_FRAME_SIZE]>,
}

impl DaemonConnection {
    /// Wraps a connected socket.
    pub(crate) fn new(conn: SeqpacketConn) -> Self {
        Self {
            conn,
            next_id: 1,
            buf: Box::new([0; MAX_FRAME_SIZE]),
        }
    }

    /// The socket (for the heartbeat thread's poller).
    pub(crate) fn socket(&self) -> &SeqpacketConn {
        &self.conn
    }

    /// The socket path, for messages.
    pub(crate) fn path(&self) -> &Path {
        self.conn.path()
    }

    /// Sends `msg` and returns the daemon's reply to it (which may be
    /// [`Message::Error`]); `name` names the request in errors.
    pub(crate) fn request(
        &mut self,
        msg: &Message,
        name: &'static str,
        timeout: Duration,
    ) -> Result<Message, ControlError> {
        let id = self.next_id;
        // Request ids only need to differ from recent ones; 0 is the
        // daemon's id for unsolicited frames.
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let len = wire::encode(msg, id, &mut self.buf[..]).map_err(ControlError::Encode)?;
        self.conn.send(&self.buf[..len]).map_err(|e| {
            if e.is_disconnected() {
                ControlError::Closed
            } else {
                ControlError::Send(e)
            }
        })?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let len = match self.conn.recv_timeout(&mut self.buf[..], left) {
                Ok(RecvResult::Frame(len)) => len,
                Ok(RecvResult::Closed) => return Err(ControlError::Closed),
                Ok(RecvResult::TimedOut | RecvResult::WouldBlock) if left.is_zero() => {
                    return Err(ControlError::Timeout {
                        request: name,
                        waited: timeout,
                    });
                }
                // A frame too large for any message, or a spurious wake-up:
                // keep waiting for the reply.
                Ok(RecvResult::TimedOut | RecvResult::WouldBlock | RecvResult::TooLarge { .. }) => {
                    continue;
                }
                Err(e) if e.is_disconnected() => return Err(ControlError::Closed),
                Err(e) => return Err(ControlError::Recv(e)),
            };
            let (header, reply) = wire::decode(&self.buf[..len]).map_err(ControlError::Decode)?;
            if matches!(reply, Message::Shutdown) {
                return Err(ControlError::Closed);
            }
            if header.request_id == id {
                return Ok(reply);
            }
            log::debug!(
                "skipping a {:?} frame for request {} while waiting for {name} ({id})",
                header.kind,
                header.request_id
            );
        }
    }

    /// Between requests: consumes whatever the daemon sent unasked and
    /// reports whether the daemon is gone (connection closed, `Shutdown`
    /// received, or the socket failed).
    pub(crate) fn poll_closed(&mut self) -> bool {
        loop {
            match self.conn.recv_timeout(&mut self.buf[..], Duration::ZERO) {
                Ok(RecvResult::Frame(len)) => match wire::decode(&self.buf[..len]) {
                    Ok((_, Message::Shutdown)) => return true,
                    // A late reply to a request that timed out: nobody waits for it.
                    Ok(_) => continue,
                    Err(e) => {
                        log::warn!("malformed frame from the daemon: {e}");
                        continue;
                    }
                },
                Ok(RecvResult::TooLarge { len }) => {
                    log::warn!("dropped a {len}-byte frame from the daemon (too large)");
                    continue;
                }
                Ok(RecvResult::Closed) => return true,
                Ok(RecvResult::TimedOut | RecvResult::WouldBlock) => return false,
                Err(e) => {
                    log::warn!("control connection failed: {e}");
                    return true;
                }
            }
        }
    }
}
