//! [`ClientConnection`]: one client connection of the event loop and its frame I/O.
//!
//! Connections are nonblocking: the daemon never waits for a client. A reply
//! that does not fit the client's receive queue (a client that sends requests
//! but never reads) is not buffered; the connection is dropped instead, so no
//! client can make the daemon hold memory or block on its behalf.

use std::fmt;
use std::os::fd::{BorrowedFd, OwnedFd};

use zerocp_core::wire::{self, ErrorCode, ErrorReply, MAX_FRAME_SIZE, Message};
use zerocp_os_linux::error::SocketError;
use zerocp_os_linux::seqpacket::{PeerCredentials, RecvResult, SeqpacketConn};

use crate::pending_limits::PendingConn;
use crate::process_manager::ConnId;

/// A client that sent this many bad frames is disconnected.
pub const MAX_STRIKES: u32 = 16;

/// Sending a frame to a client failed; the connection should be dropped.
#[derive(Debug)]
pub enum SendError {
    /// The message did not encode (cannot happen for messages the daemon builds).
    Encode(wire::EncodeError),
    /// The socket refused the frame (peer gone, or its queue is full).
    Socket(SocketError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(e) => write!(f, "cannot encode reply: {e}"),
            Self::Socket(e) if e.is_would_block() => {
                write!(f, "{e} (the client does not read its replies)")
            }
            Self::Socket(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Encode(e) => Some(e),
            Self::Socket(e) => Some(e),
        }
    }
}

/// A connected client (a runtime, `zerocpctl`, or anything else that connected).
#[derive(Debug)]
pub struct ClientConnection {
    /// Its id (also its event-loop token).
    pub id: ConnId,
    /// The socket.
    pub socket: SeqpacketConn,
    /// Who connected, from the kernel.
    pub creds: PeerCredentials,
    /// Its process slot once it registered.
    pub process: Option<u32>,
    /// `CLOCK_MONOTONIC` ms since which it is unregistered: its accept, or
    /// its `Unregister`. Frames do not move it: an unregistered connection
    /// lives `limits.register_timeout_ms` from then.
    pub pending_since_ms: u64,
    /// Bad frames so far.
    pub strikes: u32,
}

impl fmt::Display for ClientConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connection {} (pid {}, uid {})",
            self.id, self.creds.pid, self.creds.uid
        )
    }
}

impl ClientConnection {
    /// Wraps an accepted (nonblocking) socket.
    pub fn new(id: ConnId, socket: SeqpacketConn, creds: PeerCredentials, now_ms: u64) -> Self {
        Self {
            id,
            socket,
            creds,
            process: None,
            pending_since_ms: now_ms,
            strikes: 0,
        }
    }

    /// What the limits on unregistered connections see of it, while it is
    /// not registered ([`crate::pending_limits`]).
    pub fn pending(&self) -> Option<PendingConn> {
        self.process.is_none().then_some(PendingConn {
            id: self.id,
            uid: self.creds.uid,
            since_ms: self.pending_since_ms,
        })
    }

    /// Receives the next frame into `buf` (nonblocking), and the
    /// descriptors attached to it into `fds` (a wake descriptor; any other
    /// request's are closed as `fds` is cleared).
    pub fn recv(
        &self,
        buf: &mut [u8; MAX_FRAME_SIZE],
        fds: &mut Vec<OwnedFd>,
    ) -> Result<RecvResult, SocketError> {
        self.socket.recv_with_fds(buf, fds)
    }

    /// Encodes and sends `msg` with `request_id`.
    pub fn send(&self, msg: &Message, request_id: u32) -> Result<(), SendError> {
        self.send_with_fds(msg, request_id, &[])
    }

    /// Encodes and sends `msg` with `request_id`, the descriptors `fds`
    /// attached (the segments, to a process that registered).
    pub fn send_with_fds(
        &self,
        msg: &Message,
        request_id: u32,
        fds: &[BorrowedFd<'_>],
    ) -> Result<(), SendError> {
        let mut buf = [0u8; MAX_FRAME_SIZE];
        let len = wire::encode(msg, request_id, &mut buf).map_err(SendError::Encode)?;
        self.socket
            .send_with_fds(&buf[..len], fds)
            .map_err(SendError::Socket)
    }

    /// Sends an `Error` reply.
    pub fn send_error(
        &self,
        code: ErrorCode,
        detail: &str,
        request_id: u32,
    ) -> Result<(), SendError> {
        self.send(&Message::Error(ErrorReply::new(code, detail)), request_id)
    }

    /// Counts a bad frame; true when the client has used up its strikes.
    pub fn strike(&mut self) -> bool {
        self.strikes += 1;
        self.strikes >= MAX_STRIKES
    }
}
