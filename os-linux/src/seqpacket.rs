//! The control plane's `SOCK_SEQPACKET` Unix sockets.
//!
//! SEQPACKET keeps frame boundaries (one `send` is one `recv`), is reliable
//! and ordered, and tells the reader when a frame was longer than its buffer,
//! which [`SeqpacketConn::recv`] reports as [`RecvResult::TooLarge`] rather
//! than handing out a cut-off frame. A read of zero bytes means the peer is
//! gone, so empty frames are refused on send. Frames a peer sent before it
//! closed are read before [`RecvResult::Closed`], even when it closed with
//! frames of ours unread (which the kernel reports as `ECONNRESET` ahead of
//! them): a daemon that refuses a client and closes at once is still heard.
//!
//! The daemon binds a nonblocking [`SeqpacketListener`] (it drives it from
//! epoll), learns who connected from the kernel ([`SeqpacketConn::peer_credentials`],
//! `SO_PEERCRED`) and never from what a message claims. Every descriptor is
//! close-on-exec; sends never raise `SIGPIPE` (`MSG_NOSIGNAL`).
//!
//! **Descriptors.** A frame can carry up to [`MAX_FDS`] file descriptors
//! (`SCM_RIGHTS`): that is how the daemon hands out its memory segments.
//! Only a receiver that asks for them ([`SeqpacketConn::recv_timeout_with_fds`])
//! gets them, close-on-exec; plain receives (the daemon's, from clients)
//! let the kernel close whatever a peer attached, so a client can never
//! plant a descriptor in the daemon.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::fs::{FileType, Mode};
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, Shutdown, SocketAddrUnix, SocketFlags, SocketType,
};

use crate::error::{Errno, SocketError};

/// The longest socket path that fits into `sockaddr_un` with its NUL.
pub const MAX_PATH_LEN: usize = 107;
/// The most file descriptors one frame carries.
pub const MAX_FDS: usize = 4;
/// Connections waiting for `accept` before the kernel refuses more.
const BACKLOG: i32 = 128;

/// The outcome of a receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvResult {
    /// One whole frame of this many bytes is at the start of the buffer.
    Frame(usize),
    /// The next frame had `len` bytes, more than the buffer holds. It was
    /// consumed and dropped; the connection is still usable.
    TooLarge {
        /// The frame's real length.
        len: usize,
    },
    /// The peer closed its end (or died). Nothing more will arrive.
    Closed,
    /// Nonblocking mode and no frame is waiting ([`SeqpacketConn::recv`]).
    WouldBlock,
    /// No frame arrived in time ([`SeqpacketConn::recv_timeout`]).
    TimedOut,
}

/// Who is at the other end of a connection, as the kernel recorded it when
/// the connection was made (`SO_PEERCRED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCredentials {
    /// The peer's process id.
    pub pid: u32,
    /// The peer's effective user id.
    pub uid: u32,
    /// The peer's effective group id.
    pub gid: u32,
}

/// A listening SEQPACKET socket bound to a file path; nonblocking.
///
/// On drop the socket file is removed, but only if it still is the file this
/// listener created (same device and inode), so a daemon that replaced it
/// does not lose its socket to an older one shutting down.
///
/// ```
/// use zerocp_os_linux::seqpacket::{RecvResult, SeqpacketConn, SeqpacketListener};
/// let path = std::env::temp_dir().join(format!("zerocp-doc-{}.sock", std::process::id()));
/// let listener = SeqpacketListener::bind(&path, 0o600)?;
/// let client = SeqpacketConn::connect(&path)?;
/// let server = listener.accept()?.expect("a connection is waiting");
/// client.send(b"hello")?;
/// let mut buf = [0u8; 64];
/// assert_eq!(server.recv_timeout(&mut buf, std::time::Duration::from_secs(5))?, RecvResult::Frame(5));
/// assert_eq!(server.peer_credentials()?.pid, std::process::id());
/// drop(listener);
/// assert!(!path.exists());
/// # Ok::<(), zerocp_os_linux::error::SocketError>(())
/// ```
#[derive(Debug)]
pub struct SeqpacketListener {
    fd: OwnedFd,
    path: PathBuf,
    /// Device and inode of the socket file we created.
    file_id: (u64, u64),
}

impl SeqpacketListener {
    /// Binds to `path` (which must not exist: `EADDRINUSE` otherwise),
    /// sets the file's permission bits to `mode` (who may connect: `connect`
    /// needs write permission), and listens.
    pub fn bind(path: &Path, mode: u32) -> Result<Self, SocketError> {
        let err_path = || path.to_owned();
        if mode & !0o777 != 0 {
            return Err(SocketError::InvalidMode {
                path: err_path(),
                mode,
            });
        }
        let addr = unix_addr(path)?;
        let fd = new_socket(path, SocketFlags::NONBLOCK)?;
        rustix::net::bind(&fd, &addr).map_err(|errno| SocketError::Bind {
            path: err_path(),
            errno,
        })?;
        // From here the file exists: remove it again if setting up fails.
        let set_up = || -> Result<(u64, u64), SocketError> {
            // Before listen(), so nobody connects under the umask's mode.
            rustix::fs::chmod(path, Mode::from_raw_mode(mode)).map_err(|errno| {
                SocketError::SetMode {
                    path: err_path(),
                    mode,
                    errno,
                }
            })?;
            let stat = rustix::fs::stat(path).map_err(|errno| SocketError::Bind {
                path: err_path(),
                errno,
            })?;
            rustix::net::listen(&fd, BACKLOG).map_err(|errno| SocketError::Listen {
                path: err_path(),
                errno,
            })?;
            Ok((stat.st_dev, stat.st_ino))
        };
        match set_up() {
            Ok(file_id) => Ok(Self {
                fd,
                path: path.to_owned(),
                file_id,
            }),
            Err(err) => {
                if let Err(errno) = rustix::fs::unlink(path) {
                    log::warn!(
                        "cannot remove {} after failed bind: {}",
                        path.display(),
                        crate::error::ErrnoText(errno)
                    );
                }
                Err(err)
            }
        }
    }

    /// Like [`SeqpacketListener::bind`], but first removes a socket file
    /// left at `path` by a previous run. Only call it when no one else can
    /// be serving there (the daemon holds the domain's lock file). A file at
    /// `path` that is not a socket is left alone and reported.
    pub fn bind_replacing_stale(path: &Path, mode: u32) -> Result<Self, SocketError> {
        match rustix::fs::lstat(path) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Socket => {
                rustix::fs::unlink(path).map_err(|errno| SocketError::RemoveStale {
                    path: path.to_owned(),
                    errno,
                })?;
                log::info!("removed stale socket {}", path.display());
            }
            Ok(_) => {
                return Err(SocketError::NotASocket {
                    path: path.to_owned(),
                });
            }
            Err(Errno::NOENT) => {}
            Err(errno) => {
                return Err(SocketError::RemoveStale {
                    path: path.to_owned(),
                    errno,
                });
            }
        }
        Self::bind(path, mode)
    }

    /// Accepts one waiting connection, or `None` when none is waiting. The
    /// new connection is nonblocking (for the daemon's event loop) and
    /// close-on-exec.
    pub fn accept(&self) -> Result<Option<SeqpacketConn>, SocketError> {
        let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
        loop {
            return match rustix::net::accept_with(&self.fd, flags) {
                Ok(fd) => Ok(Some(SeqpacketConn {
                    fd,
                    path: self.path.clone(),
                })),
                Err(Errno::AGAIN) => Ok(None),
                // A client that gave up before we accepted it, or a signal.
                Err(Errno::CONNABORTED | Errno::INTR) => continue,
                Err(errno) => Err(SocketError::Accept {
                    path: self.path.clone(),
                    errno,
                }),
            };
        }
    }

    /// The socket file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AsFd for SeqpacketListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for SeqpacketListener {
    fn drop(&mut self) {
        let ours =
            rustix::fs::lstat(&self.path).is_ok_and(|s| (s.st_dev, s.st_ino) == self.file_id);
        if ours && let Err(errno) = rustix::fs::unlink(&self.path) {
            log::warn!(
                "cannot remove socket {}: {}",
                self.path.display(),
                crate::error::ErrnoText(errno)
            );
        }
    }
}

/// One end of a SEQPACKET connection; closed on drop.
#[derive(Debug)]
pub struct SeqpacketConn {
    fd: OwnedFd,
    /// The listener's path (both ends), for error messages.
    path: PathBuf,
}

impl SeqpacketConn {
    /// Connects to the listener at `path`; the connection is blocking.
    /// Nobody listening is `ENOENT` (no file) or `ECONNREFUSED` (stale
    /// file), and the error says the daemon may not be running.
    pub fn connect(path: &Path) -> Result<Self, SocketError> {
        Self::connect_waiting(path, None)
    }

    /// As [`SeqpacketConn::connect`], waiting at most `timeout` (at least
    /// 1 ms) for room in the listener's backlog: a listener that accepts no
    /// connections (a hung daemon) lets its backlog fill, and a plain
    /// connect then waits until it accepts. Past the timeout it fails with
    /// `Connect` and `EAGAIN`. The connection is blocking, without a send
    /// timeout, as one of `connect`.
    pub fn connect_within(path: &Path, timeout: Duration) -> Result<Self, SocketError> {
        Self::connect_waiting(path, Some(timeout.max(Duration::from_millis(1))))
    }

    /// Connects, the kernel waiting at most `timeout` for backlog room
    /// (`SO_SNDTIMEO`, which bounds a Unix socket's `connect`).
    fn connect_waiting(path: &Path, timeout: Option<Duration>) -> Result<Self, SocketError> {
        let failed = |errno| SocketError::Connect {
            path: path.to_owned(),
            errno,
        };
        let addr = unix_addr(path)?;
        let fd = new_socket(path, SocketFlags::empty())?;
        if timeout.is_some() {
            set_socket_timeout(&fd, Timeout::Send, timeout).map_err(failed)?;
        }
        rustix::net::connect(&fd, &addr).map_err(failed)?;
        if timeout.is_some() {
            set_socket_timeout(&fd, Timeout::Send, None).map_err(failed)?;
        }
        Ok(Self {
            fd,
            path: path.to_owned(),
        })
    }

    /// Two connected ends without a file (`socketpair`), both blocking.
    pub fn pair() -> Result<(Self, Self), SocketError> {
        let path = PathBuf::from("(socketpair)");
        let (a, b) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC,
            None,
        )
        .map_err(|errno| SocketError::Create {
            path: path.clone(),
            errno,
        })?;
        Ok((
            Self {
                fd: a,
                path: path.clone(),
            },
            Self { fd: b, path },
        ))
    }

    /// Sends `frame` as one message. Blocks while the peer's queue is full
    /// unless nonblocking (then fails with `EAGAIN`,
    /// [`SocketError::is_would_block`]). A vanished peer is `EPIPE`
    /// ([`SocketError::is_disconnected`]), never `SIGPIPE`.
    pub fn send(&self, frame: &[u8]) -> Result<(), SocketError> {
        self.send_with_fds(frame, &[])
    }

    /// Sends `frame` with the descriptors `fds` attached (at most
    /// [`MAX_FDS`]); the peer gets its own descriptors of the same open
    /// files. Otherwise as [`SeqpacketConn::send`].
    pub fn send_with_fds(&self, frame: &[u8], fds: &[BorrowedFd<'_>]) -> Result<(), SocketError> {
        if frame.is_empty() {
            return Err(SocketError::EmptyFrame {
                path: self.path.clone(),
            });
        }
        if fds.len() > MAX_FDS {
            return Err(SocketError::TooManyFds {
                path: self.path.clone(),
                count: fds.len(),
                max: MAX_FDS,
            });
        }
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        // Cannot fail: the space holds MAX_FDS descriptors (checked above).
        let pushed = fds.is_empty() || control.push(SendAncillaryMessage::ScmRights(fds));
        debug_assert!(pushed);
        let iov = [IoSlice::new(frame)];
        let sent = rustix::io::retry_on_intr(|| {
            rustix::net::sendmsg(&self.fd, &iov, &mut control, SendFlags::NOSIGNAL)
        })
        .map_err(|errno| SocketError::Send {
            path: self.path.clone(),
            errno,
        })?;
        if sent != frame.len() {
            return Err(SocketError::ShortSend {
                path: self.path.clone(),
                sent,
                len: frame.len(),
            });
        }
        Ok(())
    }

    /// Receives one frame into `buf`: waits for it when blocking, returns
    /// [`RecvResult::WouldBlock`] when nonblocking and none is there.
    /// Descriptors attached to the frame are closed unseen.
    pub fn recv(&self, buf: &mut [u8]) -> Result<RecvResult, SocketError> {
        self.recv_with(buf, RecvFlags::empty(), None)
    }

    /// As [`SeqpacketConn::recv`], and the descriptors attached to the
    /// frame (at most [`MAX_FDS`]; the kernel closes any beyond) replace
    /// the contents of `fds`.
    pub fn recv_with_fds(
        &self,
        buf: &mut [u8],
        fds: &mut Vec<OwnedFd>,
    ) -> Result<RecvResult, SocketError> {
        fds.clear();
        self.recv_with(buf, RecvFlags::empty(), Some(fds))
    }

    /// Receives one frame into `buf`, waiting at most `timeout` (whatever
    /// the blocking mode); [`RecvResult::TimedOut`] if none arrived.
    /// Descriptors attached to the frame are closed unseen.
    pub fn recv_timeout(
        &self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<RecvResult, SocketError> {
        self.recv_waiting(buf, timeout, None)
    }

    /// As [`SeqpacketConn::recv_timeout`], and the descriptors attached to
    /// the frame (at most [`MAX_FDS`]; the kernel closes any beyond) replace
    /// the contents of `fds`.
    pub fn recv_timeout_with_fds(
        &self,
        buf: &mut [u8],
        timeout: Duration,
        fds: &mut Vec<OwnedFd>,
    ) -> Result<RecvResult, SocketError> {
        fds.clear();
        self.recv_waiting(buf, timeout, Some(fds))
    }

    fn recv_waiting(
        &self,
        buf: &mut [u8],
        timeout: Duration,
        mut fds: Option<&mut Vec<OwnedFd>>,
    ) -> Result<RecvResult, SocketError> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let mut polled = [PollFd::new(&self.fd, PollFlags::IN)];
            let ready = rustix::event::poll(&mut polled, left.map(crate::clock::timespec).as_ref());
            match ready {
                Ok(0) => return Ok(RecvResult::TimedOut),
                Ok(_) | Err(Errno::INTR) => {}
                Err(errno) => {
                    return Err(SocketError::Recv {
                        path: self.path.clone(),
                        errno,
                    });
                }
            }
            match self.recv_with(buf, RecvFlags::DONTWAIT, fds.as_deref_mut())? {
                // Readable but nothing to take (raced with another reader):
                // wait again for the rest of the time.
                RecvResult::WouldBlock if left != Some(Duration::ZERO) => continue,
                RecvResult::WouldBlock => return Ok(RecvResult::TimedOut),
                other => return Ok(other),
            }
        }
    }

    /// One receive. `ECONNRESET` only says that the peer closed while
    /// frames of ours were unread in its queue (a daemon refusing a client
    /// that already sent its request): the kernel reports it once, ahead of
    /// the frames the peer sent before closing, and clears it. So a reset
    /// is read again without waiting, and delivers such a frame (the
    /// refusal's reason) when there is one; else it is `Closed`.
    fn recv_with(
        &self,
        buf: &mut [u8],
        flags: RecvFlags,
        mut fds: Option<&mut Vec<OwnedFd>>,
    ) -> Result<RecvResult, SocketError> {
        // MSG_TRUNC makes the kernel return the frame's real length.
        let flags = flags | RecvFlags::TRUNC;
        let result = match self.recv_once(buf, flags, fds.as_deref_mut()) {
            Err(Errno::CONNRESET) => match self.recv_once(buf, flags | RecvFlags::DONTWAIT, fds) {
                Err(Errno::AGAIN) => Err(Errno::CONNRESET),
                other => other,
            },
            other => other,
        };
        match result {
            Ok(0) | Err(Errno::CONNRESET) => Ok(RecvResult::Closed),
            Ok(len) if len > buf.len() => Ok(RecvResult::TooLarge { len }),
            Ok(len) => Ok(RecvResult::Frame(len)),
            Err(Errno::AGAIN) => Ok(RecvResult::WouldBlock),
            Err(errno) => Err(SocketError::Recv {
                path: self.path.clone(),
                errno,
            }),
        }
    }

    /// `recv` (descriptors closed unseen) or, given `fds`, `recvmsg`;
    /// returns the frame's real length.
    fn recv_once(
        &self,
        buf: &mut [u8],
        flags: RecvFlags,
        fds: Option<&mut Vec<OwnedFd>>,
    ) -> Result<usize, Errno> {
        match fds {
            None => rustix::io::retry_on_intr(|| rustix::net::recv(&self.fd, &mut *buf, flags))
                .map(|(_, len)| len),
            Some(fds) => self.recv_fds(buf, flags, fds),
        }
    }

    /// `recvmsg` with room for [`MAX_FDS`] descriptors, which it appends to
    /// `fds`; returns the frame's real length.
    fn recv_fds(
        &self,
        buf: &mut [u8],
        flags: RecvFlags,
        fds: &mut Vec<OwnedFd>,
    ) -> Result<usize, Errno> {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut iov = [IoSliceMut::new(buf)];
        let received = rustix::io::retry_on_intr(|| {
            rustix::net::recvmsg(
                &self.fd,
                &mut iov,
                &mut control,
                flags | RecvFlags::CMSG_CLOEXEC,
            )
        })?;
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(rights) = message {
                fds.extend(rights);
            }
        }
        Ok(received.bytes)
    }

    /// Switches between blocking and nonblocking mode.
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<(), SocketError> {
        rustix::io::ioctl_fionbio(&self.fd, nonblocking).map_err(|errno| {
            SocketError::SetNonblocking {
                path: self.path.clone(),
                errno,
            }
        })
    }

    /// The peer's pid, uid and gid as the kernel recorded them at connect.
    pub fn peer_credentials(&self) -> Result<PeerCredentials, SocketError> {
        let cred = rustix::net::sockopt::socket_peercred(&self.fd).map_err(|errno| {
            SocketError::PeerCredentials {
                path: self.path.clone(),
                errno,
            }
        })?;
        Ok(PeerCredentials {
            pid: cred.pid.as_raw_nonzero().get().unsigned_abs(),
            uid: cred.uid.as_raw(),
            gid: cred.gid.as_raw(),
        })
    }

    /// Shuts down both directions: the peer reads [`RecvResult::Closed`],
    /// and a thread of ours blocked in `recv` wakes up.
    pub fn shutdown(&self) -> Result<(), SocketError> {
        rustix::net::shutdown(&self.fd, Shutdown::Both).map_err(|errno| SocketError::Shutdown {
            path: self.path.clone(),
            errno,
        })
    }

    /// The listener's path this connection belongs to (`(socketpair)` for
    /// pairs).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AsFd for SeqpacketConn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The `sockaddr_un` of `path`, or a typed error when it does not fit.
fn unix_addr(path: &Path) -> Result<SocketAddrUnix, SocketError> {
    if path.as_os_str().len() > MAX_PATH_LEN {
        return Err(SocketError::PathTooLong {
            path: path.to_owned(),
            max: MAX_PATH_LEN,
        });
    }
    SocketAddrUnix::new(path).map_err(|errno| match errno {
        Errno::NAMETOOLONG => SocketError::PathTooLong {
            path: path.to_owned(),
            max: MAX_PATH_LEN,
        },
        errno => SocketError::Create {
            path: path.to_owned(),
            errno,
        },
    })
}

/// A close-on-exec SEQPACKET Unix socket with the extra `flags`.
fn new_socket(path: &Path, flags: SocketFlags) -> Result<OwnedFd, SocketError> {
    rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC | flags,
        None,
    )
    .map_err(|errno| SocketError::Create {
        path: path.to_owned(),
        errno,
    })
}
