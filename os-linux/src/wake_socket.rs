//! A receiving port's wake descriptor: an `AF_UNIX` `SOCK_SEQPACKET`
//! socket pair. The waiting process keeps the receiving end (it polls and
//! drains it, [`WakeSocket`]); the sending end goes to the daemon and from
//! there to the port's senders ([`WakeSender`]), which send one byte to
//! wake it.
//!
//! **Why not an eventfd.** Every copy of an eventfd is the same open file
//! description: the waiter could clear `O_NONBLOCK` on its copy and
//! saturate the counter (write `0xffff_ffff_ffff_fffe`), and a sender's
//! next `write` would block until the waiter read. Here the senders'
//! descriptor is a different socket from the waiter's, and every send is
//! `send(MSG_DONTWAIT | MSG_NOSIGNAL)`:
//!
//! - `MSG_DONTWAIT` makes that one call nonblocking whatever the file's
//!   `O_NONBLOCK` says (and whatever `SO_SNDTIMEO` is set): a waiter that
//!   keeps a copy of the sending end and clears `O_NONBLOCK` on it changes
//!   nothing for them. A full buffer (the waiter does not drain) fails at
//!   once with `EAGAIN`, which means a wake byte is still queued: the
//!   waiter is readable already.
//! - `MSG_NOSIGNAL`: a waiter that closed its receiving end (or died)
//!   makes a send fail with `EPIPE`, never raise `SIGPIPE` in the sender.
//! - A connected `SOCK_SEQPACKET` socket cannot be connected again
//!   (`EISCONN`), so its holder cannot point the senders' bytes at another
//!   service; [`WakeSender::adopt`] accepts only an `AF_UNIX`
//!   `SOCK_SEQPACKET` socket whose peer is unnamed, as the end of a
//!   `socketpair` is (a socket connected to a listening one has a named
//!   peer).
//!
//! What the waiter can still do to its own socket (shut it down, never
//! drain it) only stops its own wakes. A sender's byte carries nothing:
//! any readability means "look". [`WakeSocket::drain`] receives a bounded
//! number of bytes per call, so a flooding sender cannot keep a waiter in
//! it; what is left keeps the socket readable (one look more).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketFlags, SocketType};

use crate::error::{Errno, WakeSocketError};

/// Most wake bytes one [`WakeSocket::drain`] receives (module docs).
const DRAIN_LIMIT: usize = 64;

/// What a [`WakeSender::notify`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notified {
    /// A wake byte was queued.
    Sent,
    /// The buffer is full (`EAGAIN`): wake bytes are queued already.
    Pending,
    /// The receiving end is closed (`EPIPE`, `ECONNREFUSED`,
    /// `ECONNRESET`): nobody waits any more.
    WaiterGone,
}

/// The sending end of a wake socket, as the daemon and a port's senders
/// hold it (module docs). Once every copy of the waiter's end is closed, a
/// send says [`Notified::WaiterGone`] (tests/wake_socket.rs shows it: not
/// here, because a doctest shares its process with others that spawn
/// children, and a child holds a copy of every descriptor from its fork to
/// its exec).
///
/// ```
/// use std::os::fd::{AsFd, OwnedFd};
/// use zerocp_os_linux::error::WakeSocketError;
/// use zerocp_os_linux::wake_socket::{Notified, WakeSender, WakeSocket};
/// let waiter = WakeSocket::new()?;
/// let sender = WakeSender::adopt(waiter.sender().as_fd().try_clone_to_owned().unwrap())?;
/// assert_eq!(sender.notify()?, Notified::Sent);
/// assert!(waiter.drain()?);
/// let file: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
/// assert!(matches!(WakeSender::adopt(file), Err(WakeSocketError::Inspect { .. })));
/// # Ok::<(), WakeSocketError>(())
/// ```
#[derive(Debug)]
pub struct WakeSender {
    fd: OwnedFd,
}

impl WakeSender {
    /// Takes `fd`, received from another process as a wake descriptor:
    /// refuses anything but the unnamed `AF_UNIX` `SOCK_SEQPACKET` end of a
    /// socket pair ([`WakeSocketError::WrongType`],
    /// [`WakeSocketError::Inspect`]). Its file flags are left alone: every
    /// send is nonblocking by its own flags.
    pub fn adopt(fd: OwnedFd) -> Result<Self, WakeSocketError> {
        let inspect = |errno| WakeSocketError::Inspect { errno };
        let domain = rustix::net::sockopt::socket_domain(&fd).map_err(inspect)?;
        let kind = rustix::net::sockopt::socket_type(&fd).map_err(inspect)?;
        if domain != AddressFamily::UNIX || kind != SocketType::SEQPACKET {
            return Err(WakeSocketError::WrongType {
                found: format!("an {} {} socket", family_name(domain), type_name(kind)),
            });
        }
        match rustix::net::getpeername(&fd) {
            Ok(None) => {}
            Ok(Some(peer)) => match SocketAddrUnix::try_from(peer) {
                Ok(unix) if !is_named(&unix) => {}
                Ok(_) => {
                    return Err(WakeSocketError::WrongType {
                        found: "a socket connected to a named one".into(),
                    });
                }
                Err(_) => return Err(inspect(Errno::AFNOSUPPORT)),
            },
            Err(Errno::NOTCONN) => {
                return Err(WakeSocketError::WrongType {
                    found: "an unconnected socket".into(),
                });
            }
            Err(errno) => return Err(inspect(errno)),
        }
        Ok(Self { fd })
    }

    /// Sends one wake byte without ever blocking or raising `SIGPIPE`
    /// (module docs); a full buffer and a closed receiving end are
    /// outcomes, not errors.
    pub fn notify(&self) -> Result<Notified, WakeSocketError> {
        let flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
        match rustix::io::retry_on_intr(|| rustix::net::send(&self.fd, &[1], flags)) {
            Ok(_) => Ok(Notified::Sent),
            Err(Errno::AGAIN) => Ok(Notified::Pending),
            Err(Errno::PIPE | Errno::CONNREFUSED | Errno::CONNRESET) => Ok(Notified::WaiterGone),
            Err(errno) => Err(WakeSocketError::Notify { errno }),
        }
    }
}

/// `domain` as its C name.
fn family_name(domain: AddressFamily) -> String {
    match domain {
        AddressFamily::UNIX => "AF_UNIX".into(),
        AddressFamily::INET => "AF_INET".into(),
        AddressFamily::INET6 => "AF_INET6".into(),
        AddressFamily::NETLINK => "AF_NETLINK".into(),
        other => format!("AF_{}", other.as_raw()),
    }
}

/// `kind` as its C name.
fn type_name(kind: SocketType) -> String {
    match kind {
        SocketType::STREAM => "SOCK_STREAM".into(),
        SocketType::DGRAM => "SOCK_DGRAM".into(),
        SocketType::SEQPACKET => "SOCK_SEQPACKET".into(),
        SocketType::RAW => "SOCK_RAW".into(),
        other => format!("SOCK_{}", other.as_raw()),
    }
}

/// Whether `addr` names a path or an abstract name (an unnamed peer, as a
/// socket pair's, has neither).
fn is_named(addr: &SocketAddrUnix) -> bool {
    addr.path_bytes().is_some_and(|p| !p.is_empty())
        || addr.abstract_name().is_some_and(|n| !n.is_empty())
}

impl AsFd for WakeSender {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The waiting process's wake socket: the receiving end it polls, and the
/// sending end it hands the daemon ([`WakeSocket::sender`]) and signals
/// itself with (module docs). `AsFd` is the receiving end.
///
/// ```
/// use zerocp_os_linux::wake_socket::WakeSocket;
/// let wake = WakeSocket::new()?;
/// assert!(!wake.drain()?);
/// wake.notify()?;
/// wake.notify()?;
/// assert!(wake.wait_readable(Some(std::time::Duration::ZERO))?);
/// assert!(wake.drain()?);
/// assert!(!wake.drain()?);
/// # Ok::<(), zerocp_os_linux::error::WakeSocketError>(())
/// ```
#[derive(Debug)]
pub struct WakeSocket {
    receiver: OwnedFd,
    sender: WakeSender,
}

impl WakeSocket {
    /// A new close-on-exec socket pair with nothing pending.
    pub fn new() -> Result<Self, WakeSocketError> {
        let (receiver, sender) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC,
            None,
        )
        .map_err(|errno| WakeSocketError::Create { errno })?;
        Ok(Self {
            receiver,
            sender: WakeSender { fd: sender },
        })
    }

    /// The sending end, to hand the daemon.
    pub fn sender(&self) -> &WakeSender {
        &self.sender
    }

    /// Makes the receiving end readable until the next
    /// [`WakeSocket::drain`] (the runtime waking its own waiters).
    pub fn notify(&self) -> Result<(), WakeSocketError> {
        self.sender.notify().map(|_| ())
    }

    /// Receives pending wake bytes (at most a bounded number, module
    /// docs); returns whether there were any.
    pub fn drain(&self) -> Result<bool, WakeSocketError> {
        let mut buf = [0u8; 1];
        for received in 0..DRAIN_LIMIT {
            let got = rustix::io::retry_on_intr(|| {
                rustix::net::recv(&self.receiver, &mut buf, RecvFlags::DONTWAIT)
            });
            match got {
                // 0 bytes from a SEQPACKET socket: the sending end is shut
                // down, nothing more will come.
                Ok((_, 0)) => return Ok(received > 0),
                Ok(_) => {}
                Err(Errno::AGAIN) => return Ok(received > 0),
                Err(errno) => return Err(WakeSocketError::Drain { errno }),
            }
        }
        Ok(true)
    }

    /// Waits until the receiving end is readable or `timeout` passes
    /// (`None`: no limit); returns whether it is readable. Does not drain.
    pub fn wait_readable(&self, timeout: Option<Duration>) -> Result<bool, WakeSocketError> {
        let mut polled = [PollFd::new(&self.receiver, PollFlags::IN)];
        let limit = timeout.map(crate::clock::timespec);
        match rustix::event::poll(&mut polled, limit.as_ref()) {
            Ok(n) => Ok(n > 0),
            Err(Errno::INTR) => Ok(false),
            Err(errno) => Err(WakeSocketError::Wait { errno }),
        }
    }
}

impl AsFd for WakeSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.receiver.as_fd()
    }
}
