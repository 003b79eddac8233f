//! [`ControlClient`]: the client end of the control protocol, one
//! `SOCK_SEQPACKET` connection to the daemon with requests answered in order.
//! The runtime, `zerocpctl` and the tests all talk to the daemon through it.
//!
//! A request is encoded into a frame with a fresh, non-zero request id
//! (`zerocp_core::wire`), sent, and the reply carrying that id awaited for at
//! most a deadline. While waiting:
//!
//! - a frame with another id (the late reply to a request that timed out) is
//!   skipped;
//! - an `Error` frame with id 0 is the daemon refusing the connection itself
//!   before it closes it: [`ControlError::Refused`] with the daemon's code and
//!   reason (`AccessDenied`: this peer may not connect; `LimitReached`: the
//!   daemon had no room for another unregistered connection of this peer, or
//!   it did not register in time, and a new connection may get in);
//! - the unsolicited `Shutdown` frame, or the connection closing, means the
//!   daemon is gone: [`ControlError::Closed`];
//! - another unsolicited notice (`PortRevoked` with id 0,
//!   [`Message::is_notice`]) is kept, in order, for whoever tracks this
//!   client's ports: [`ControlClient::take_notices`]. [`ControlClient::poll_closed`]
//!   keeps them too, so no notice is lost whether it arrives during a
//!   request or between requests.
//!
//! A reply can carry file descriptors (the daemon's memory segments):
//! [`ControlClient::request_with_fds`] returns them with the reply; every
//! other frame's descriptors are closed as the frame is consumed.
//!
//! A daemon that refuses a connection sends its reason and closes at once,
//! so a send can fail with `EPIPE`, or a receive see the close first,
//! although the reason is waiting to be read: it is read all the same
//! ([`crate::seqpacket`] reads frames past a reset), and the request fails
//! with [`ControlError::Refused`].
//!
//! ```no_run
//! use std::time::Duration;
//! use zerocp_core::wire::Message;
//! use zerocp_os_linux::control_client::ControlClient;
//!
//! let mut client = ControlClient::connect("/run/zerocp/default.sock".as_ref())?;
//! match client.request(&Message::QueryStatus, Duration::from_secs(5))? {
//!     Message::Status(status) => println!("daemon pid {}", status.daemon_pid),
//!     other => println!("unexpected {:?}", other.kind()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use zerocp_core::wire::{
    self, DecodeError, EncodeError, ErrorCode, ErrorReply, FrameHeader, MAX_FRAME_SIZE, Message,
    MessageKind,
};

use crate::error::SocketError;
use crate::seqpacket::{RecvResult, SeqpacketConn};

/// A request to the daemon failed.
#[derive(Debug)]
pub enum ControlError {
    /// The request could not be encoded (a bug: every request fits a frame).
    Encode(EncodeError),
    /// Sending the request failed.
    Send(SocketError),
    /// Receiving the reply failed.
    Recv(SocketError),
    /// The daemon did not answer in time.
    Timeout {
        /// The request.
        request: MessageKind,
        /// How long the client waited.
        waited: Duration,
    },
    /// A frame from the daemon did not decode.
    Decode(DecodeError),
    /// The daemon answered with a message that is not a reply to the request.
    Unexpected {
        /// The request.
        request: MessageKind,
        /// Kind of the message received.
        got: MessageKind,
    },
    /// The daemon refused this connection (an `Error` frame with request
    /// id 0) and closed it.
    Refused {
        /// Its error code.
        code: ErrorCode,
        /// Its reason.
        detail: String,
    },
    /// The daemon closed the connection or announced its shutdown.
    Closed,
}

impl ControlError {
    /// Whether the daemon refused this connection for lack of room
    /// (`LimitReached`: too many unregistered connections of this peer's
    /// uid or of all, or it did not register within the daemon's
    /// `limits.register_timeout_ms`), so that a new connection, a little
    /// later, may get in.
    ///
    /// ```
    /// use zerocp_core::wire::ErrorCode;
    /// use zerocp_os_linux::control_client::ControlError;
    /// let refused = |code| ControlError::Refused { code, detail: "why".into() };
    /// assert!(refused(ErrorCode::LimitReached).is_refused_for_room());
    /// assert!(!refused(ErrorCode::AccessDenied).is_refused_for_room());
    /// ```
    pub fn is_refused_for_room(&self) -> bool {
        matches!(
            self,
            Self::Refused {
                code: ErrorCode::LimitReached,
                ..
            }
        )
    }
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(e) => write!(f, "cannot encode a control request: {e}"),
            Self::Send(e) => write!(f, "cannot send to the daemon: {e}"),
            Self::Recv(e) => write!(f, "cannot receive from the daemon: {e}"),
            Self::Timeout { request, waited } => {
                write!(f, "the daemon did not answer {request:?} within {waited:?}")
            }
            Self::Decode(e) => write!(f, "malformed frame from the daemon: {e}"),
            Self::Unexpected { request, got } => {
                write!(f, "the daemon answered {request:?} with {got:?}")
            }
            Self::Refused { code, detail } => {
                write!(f, "the daemon refused this connection ({code}): {detail}")
            }
            Self::Closed => f.write_str("the daemon closed the connection (it is gone)"),
        }
    }
}

impl std::error::Error for ControlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Encode(e) => Some(e),
            Self::Send(e) | Self::Recv(e) => Some(e),
            Self::Decode(e) => Some(e),
            Self::Timeout { .. }
            | Self::Unexpected { .. }
            | Self::Refused { .. }
            | Self::Closed => None,
        }
    }
}

/// A connection to the daemon's control socket (module docs).
#[derive(Debug)]
pub struct ControlClient {
    conn: SeqpacketConn,
    next_id: u32,
    buf: Box<[u8; MAX_FRAME_SIZE]>,
    /// The descriptors attached to the frame received last.
    fds: Vec<OwnedFd>,
    /// Notices received and not yet taken, oldest first.
    notices: Vec<Message>,
}

impl ControlClient {
    /// Wraps a connected socket.
    pub fn new(conn: SeqpacketConn) -> Self {
        Self {
            conn,
            next_id: 1,
            buf: Box::new([0; MAX_FRAME_SIZE]),
            fds: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// Connects to the control socket at `path`.
    pub fn connect(path: &Path) -> Result<Self, SocketError> {
        SeqpacketConn::connect(path).map(Self::new)
    }

    /// Connects to the control socket at `path`, waiting at most `timeout`
    /// for a daemon that accepts no connections
    /// ([`SeqpacketConn::connect_within`]).
    pub fn connect_within(path: &Path, timeout: Duration) -> Result<Self, SocketError> {
        SeqpacketConn::connect_within(path, timeout).map(Self::new)
    }

    /// The socket (e.g. to wait for it in a poller).
    pub fn socket(&self) -> &SeqpacketConn {
        &self.conn
    }

    /// The socket path, for messages.
    pub fn path(&self) -> &Path {
        self.conn.path()
    }

    /// Sends `frame` as it is: for tests of the daemon's handling of
    /// malformed frames.
    pub fn send_frame(&self, frame: &[u8]) -> Result<(), ControlError> {
        self.conn.send(frame).map_err(send_error)
    }

    /// Receives the next frame within `timeout` (`None`: none came).
    pub fn recv(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<(FrameHeader, Message)>, ControlError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let received = self
                .conn
                .recv_timeout_with_fds(&mut self.buf[..], left, &mut self.fds);
            match received {
                Ok(RecvResult::Frame(len)) => {
                    return wire::decode(&self.buf[..len])
                        .map(Some)
                        .map_err(ControlError::Decode);
                }
                Ok(RecvResult::Closed) => return Err(ControlError::Closed),
                Ok(RecvResult::TimedOut | RecvResult::WouldBlock) if left.is_zero() => {
                    return Ok(None);
                }
                Ok(RecvResult::TooLarge { len }) => {
                    log::warn!("dropped a {len}-byte frame from the daemon (too large)");
                }
                // A spurious wake-up: wait for the rest of the time.
                Ok(RecvResult::TimedOut | RecvResult::WouldBlock) => {}
                Err(e) if e.is_disconnected() => return Err(ControlError::Closed),
                Err(e) => return Err(ControlError::Recv(e)),
            }
        }
    }

    /// Sends `msg` and returns the daemon's answer to it (which may be
    /// [`Message::Error`]), waiting at most `timeout`. Descriptors attached
    /// to the answer are closed. A refusal of the connection itself is
    /// [`ControlError::Refused`].
    pub fn request(&mut self, msg: &Message, timeout: Duration) -> Result<Message, ControlError> {
        self.request_with_fds(msg, timeout).map(|(reply, _)| reply)
    }

    /// As [`ControlClient::request`], and the descriptors the daemon attached
    /// to the answer, in the order it sent them.
    pub fn request_with_fds(
        &mut self,
        msg: &Message,
        timeout: Duration,
    ) -> Result<(Message, Vec<OwnedFd>), ControlError> {
        self.request_sending_fds(msg, &[], timeout)
    }

    /// As [`ControlClient::request_with_fds`], with the descriptors `send`
    /// attached to the request (a wake descriptor for the daemon).
    pub fn request_sending_fds(
        &mut self,
        msg: &Message,
        send: &[BorrowedFd<'_>],
        timeout: Duration,
    ) -> Result<(Message, Vec<OwnedFd>), ControlError> {
        let id = self.next_id;
        // Ids only need to differ from recent ones; 0 is the daemon's id for
        // frames nobody asked for.
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let len = wire::encode(msg, id, &mut self.buf[..]).map_err(ControlError::Encode)?;
        if let Err(e) = self.conn.send_with_fds(&self.buf[..len], send) {
            return Err(match send_error(e) {
                ControlError::Closed => self.refusal().unwrap_or(ControlError::Closed),
                other => other,
            });
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (header, reply) = self.recv(left)?.ok_or(ControlError::Timeout {
                request: msg.kind(),
                waited: timeout,
            })?;
            match reply {
                Message::Shutdown => return Err(ControlError::Closed),
                reply if header.request_id == id => {
                    return Ok((reply, std::mem::take(&mut self.fds)));
                }
                Message::Error(reply) if header.request_id == 0 => return Err(refused(&reply)),
                notice if header.request_id == 0 && notice.is_notice() => {
                    self.notices.push(notice);
                }
                _ => log::debug!(
                    "skipping a {:?} frame for request {} while waiting for {:?} ({id})",
                    header.kind,
                    header.request_id,
                    msg.kind()
                ),
            }
        }
    }

    /// The refusal a daemon left before it closed, if any.
    fn refusal(&mut self) -> Option<ControlError> {
        match self.recv(Duration::ZERO) {
            Ok(Some((_, Message::Error(reply)))) => Some(refused(&reply)),
            _ => None,
        }
    }

    /// The notices received so far (module docs), oldest first; taking
    /// them empties the list.
    pub fn take_notices(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.notices)
    }

    /// Between requests: consumes whatever the daemon sent unasked (keeping
    /// notices for [`take_notices`](Self::take_notices)) and reports whether
    /// the daemon is gone (connection closed, `Shutdown` received, or the
    /// socket failed).
    pub fn poll_closed(&mut self) -> bool {
        loop {
            match self.recv(Duration::ZERO) {
                Ok(Some((_, Message::Shutdown))) | Err(ControlError::Closed) => return true,
                Ok(Some((header, notice))) if header.request_id == 0 && notice.is_notice() => {
                    self.notices.push(notice);
                }
                // A late reply to a request that timed out: nobody waits for it.
                Ok(Some(_)) => {}
                Ok(None) => return false,
                Err(ControlError::Decode(e)) => log::warn!("malformed frame from the daemon: {e}"),
                Err(e) => {
                    log::warn!("control connection failed: {e}");
                    return true;
                }
            }
        }
    }
}

/// The connection refused with `reply`.
fn refused(reply: &ErrorReply) -> ControlError {
    ControlError::Refused {
        code: reply.code,
        detail: reply.detail.as_str().to_owned(),
    }
}

fn send_error(e: SocketError) -> ControlError {
    if e.is_disconnected() {
        ControlError::Closed
    } else {
        ControlError::Send(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::wire::{ErrorCode, ErrorReply};

    const WAIT: Duration = Duration::from_secs(10);

    /// A client and the daemon's end of its connection.
    fn pair() -> (ControlClient, SeqpacketConn) {
        let (client, daemon) = SeqpacketConn::pair().unwrap();
        (ControlClient::new(client), daemon)
    }

    fn send(daemon: &SeqpacketConn, msg: &Message, request_id: u32) {
        let mut buf = [0u8; MAX_FRAME_SIZE];
        let len = wire::encode(msg, request_id, &mut buf).unwrap();
        daemon.send(&buf[..len]).unwrap();
    }

    /// The request id of the next frame the daemon's end receives.
    fn received_id(daemon: &SeqpacketConn) -> u32 {
        let mut buf = [0u8; MAX_FRAME_SIZE];
        let Ok(RecvResult::Frame(len)) = daemon.recv_timeout(&mut buf, WAIT) else {
            panic!("no request arrived");
        };
        wire::decode(&buf[..len]).unwrap().0.request_id
    }

    fn refused() -> ErrorReply {
        ErrorReply::new(ErrorCode::AccessDenied, "uid 1 may not connect")
    }

    /// Whether `result` is the connection refused with [`refused`].
    fn is_refused<T>(result: &Result<T, ControlError>) -> bool {
        matches!(result, Err(ControlError::Refused { code: ErrorCode::AccessDenied, detail })
            if detail == "uid 1 may not connect")
    }

    #[test]
    fn replies_are_matched_by_id_and_late_ones_skipped() {
        let (mut client, daemon) = pair();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let id = received_id(&daemon);
                assert_ne!(id, 0);
                send(&daemon, &Message::Unregistered, id + 100);
                send(&daemon, &Message::PortRemoved, id);
            });
            let reply = client.request(&Message::QueryMempools, WAIT).unwrap();
            assert_eq!(reply, Message::PortRemoved);
        });
    }

    #[test]
    fn an_unsolicited_error_is_the_answer_and_shutdown_means_gone() {
        let (mut client, daemon) = pair();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                received_id(&daemon);
                send(&daemon, &Message::Error(refused()), 0);
                received_id(&daemon);
                send(&daemon, &Message::Shutdown, 0);
            });
            assert!(is_refused(&client.request(&Message::QueryStatus, WAIT)));
            assert!(matches!(
                client.request(&Message::QueryStatus, WAIT),
                Err(ControlError::Closed)
            ));
        });
    }

    #[test]
    fn notices_are_kept_during_requests_and_between_them() {
        use zerocp_core::wire::{PortKind, PortRevoked, RevokeReason};
        let revoked = |port_index| {
            Message::PortRevoked(PortRevoked {
                kind: PortKind::Subscriber,
                port_index,
                group: 1,
                generation: 3,
                reason: RevokeReason::CorruptQueue,
            })
        };
        let (mut client, daemon) = pair();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let id = received_id(&daemon);
                send(&daemon, &revoked(1), 0);
                send(&daemon, &Message::PortRemoved, id);
            });
            let reply = client.request(&Message::QueryMempools, WAIT).unwrap();
            assert_eq!(reply, Message::PortRemoved);
        });
        send(&daemon, &revoked(2), 0);
        send(&daemon, &Message::Unregistered, 77);
        assert!(!client.poll_closed());
        assert_eq!(client.take_notices(), [revoked(1), revoked(2)]);
        assert!(client.take_notices().is_empty());
    }

    #[test]
    fn a_silent_daemon_is_a_timeout_naming_the_request() {
        let (mut client, _daemon) = pair();
        let err = client
            .request(&Message::QueryStatus, Duration::from_millis(20))
            .unwrap_err();
        assert!(matches!(
            err,
            ControlError::Timeout {
                request: MessageKind::QueryStatus,
                waited,
            } if waited == Duration::from_millis(20)
        ));
        assert!(err.to_string().contains("QueryStatus"), "{err}");
        assert!(!client.poll_closed());
    }

    #[test]
    fn a_refusing_daemon_s_reason_survives_its_close() {
        let (mut client, daemon) = pair();
        send(&daemon, &Message::Error(refused()), 0);
        drop(daemon);
        assert!(is_refused(&client.request(&Message::QueryStatus, WAIT)));
        assert!(client.poll_closed());
    }

    /// The daemon refuses after the request arrived and closes without
    /// reading it: the kernel reports a reset first, the reason is still read.
    #[test]
    fn a_refusal_survives_a_close_with_the_request_unread() {
        let (mut client, daemon) = pair();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut polled = [rustix::event::PollFd::new(
                    &daemon,
                    rustix::event::PollFlags::IN,
                )];
                rustix::event::poll(&mut polled, None).unwrap();
                send(&daemon, &Message::Error(refused()), 0);
            });
            let result = client.request(&Message::QueryStatus, WAIT);
            assert!(is_refused(&result), "{result:?}");
        });
        let crowded = ControlError::Refused {
            code: ErrorCode::LimitReached,
            detail: "full".into(),
        };
        assert!(
            crowded.to_string().contains("(LimitReached): full"),
            "{crowded}"
        );
    }
}
