//! An epoll event loop for the daemon: one thread waits for the listener,
//! every client connection, every client's pidfd and a [`crate::wakeup::Wakeup`]
//! at once.
//!
//! Each registered descriptor carries a caller-chosen `u64` token that comes
//! back with its events, so the caller maps events to its own objects
//! without this module knowing about them. Registrations are
//! level-triggered: an event repeats until the condition is handled.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::event::epoll;

use crate::error::{Errno, PollError};

/// The longest single wait (`epoll_pwait` takes an `int` of milliseconds).
const MAX_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// `epoll::add` or `epoll::modify`: the epoll instance, the descriptor, its
/// token and its flags.
type EpollCtl<'a> = fn(
    BorrowedFd<'a>,
    BorrowedFd<'a>,
    epoll::EventData,
    epoll::EventFlags,
) -> rustix::io::Result<()>;

/// What to wait for on a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Readable (incoming data or connections, hang-up, process exit).
    Readable,
    /// Writable (room in the send buffer).
    Writable,
    /// Either.
    Both,
}

impl Interest {
    fn flags(self) -> epoll::EventFlags {
        match self {
            Self::Readable => epoll::EventFlags::IN,
            Self::Writable => epoll::EventFlags::OUT,
            Self::Both => epoll::EventFlags::IN | epoll::EventFlags::OUT,
        }
    }
}

/// One descriptor's readiness, as returned by [`Poller::wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollEvent {
    /// The token the descriptor was registered with.
    pub token: u64,
    /// Data (or a connection, or an exit) can be read.
    pub readable: bool,
    /// Data can be written.
    pub writable: bool,
    /// The peer hung up (the descriptor also reads as readable then).
    pub hangup: bool,
    /// An error is pending on the descriptor.
    pub error: bool,
}

/// The buffer [`Poller::wait`] fills.
pub struct Events {
    buf: Vec<epoll::Event>,
}

impl Events {
    /// Room for `capacity` events per wait (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity.max(1)),
        }
    }

    /// The events of the last wait.
    pub fn iter(&self) -> impl Iterator<Item = PollEvent> + '_ {
        self.buf.iter().map(|event| {
            let flags = event.flags;
            PollEvent {
                token: event.data.u64(),
                readable: flags.contains(epoll::EventFlags::IN),
                writable: flags.contains(epoll::EventFlags::OUT),
                hangup: flags.intersects(epoll::EventFlags::HUP | epoll::EventFlags::RDHUP),
                error: flags.contains(epoll::EventFlags::ERR),
            }
        })
    }

    /// How many events the last wait returned.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the last wait returned no event (timeout or signal).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// An epoll instance.
///
/// ```
/// use std::time::Duration;
/// use zerocp_os_linux::poller::{Events, Interest, Poller};
/// use zerocp_os_linux::wakeup::Wakeup;
/// let poller = Poller::new()?;
/// let wakeup = Wakeup::new()?;
/// poller.add(&wakeup, 7, Interest::Readable)?;
/// wakeup.notify()?;
/// let mut events = Events::with_capacity(8);
/// poller.wait(&mut events, Some(Duration::from_secs(5)))?;
/// assert_eq!(events.iter().next().map(|e| e.token), Some(7));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Poller {
    fd: OwnedFd,
}

impl Poller {
    /// A new, empty epoll instance (close-on-exec).
    pub fn new() -> Result<Self, PollError> {
        let fd = epoll::create(epoll::CreateFlags::CLOEXEC)
            .map_err(|errno| PollError::Create { errno })?;
        Ok(Self { fd })
    }

    /// Registers `fd` with `token` (`EEXIST` if already registered).
    pub fn add(&self, fd: impl AsFd, token: u64, interest: Interest) -> Result<(), PollError> {
        self.control(fd.as_fd(), token, interest, epoll::add)
            .map_err(|(fd, errno)| PollError::Add { fd, token, errno })
    }

    /// Changes the token and interest of a registered `fd`.
    pub fn modify(&self, fd: impl AsFd, token: u64, interest: Interest) -> Result<(), PollError> {
        self.control(fd.as_fd(), token, interest, epoll::modify)
            .map_err(|(fd, errno)| PollError::Modify { fd, token, errno })
    }

    /// [`add`](Self::add) or [`modify`](Self::modify) (`op`): every
    /// registration carries its token and also reports peer hang-up
    /// (`EPOLLRDHUP`). On failure, the descriptor's number and the errno.
    fn control<'a>(
        &'a self,
        fd: BorrowedFd<'a>,
        token: u64,
        interest: Interest,
        op: EpollCtl<'a>,
    ) -> Result<(), (RawFd, Errno)> {
        let data = epoll::EventData::new_u64(token);
        let flags = interest.flags() | epoll::EventFlags::RDHUP;
        op(self.fd.as_fd(), fd, data, flags).map_err(|errno| (fd.as_raw_fd(), errno))
    }

    /// Unregisters `fd`. (Closing a descriptor also unregisters it, unless
    /// a duplicate of it is still open.)
    pub fn delete(&self, fd: impl AsFd) -> Result<(), PollError> {
        let raw = fd.as_fd().as_raw_fd();
        epoll::delete(&self.fd, fd).map_err(|errno| PollError::Delete { fd: raw, errno })
    }

    /// Waits up to `timeout` (`None`: no limit) for events, replacing the
    /// content of `events`; returns how many arrived (0 on timeout or when a
    /// signal interrupted the wait; timeouts beyond 24 days may end early).
    pub fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> Result<usize, PollError> {
        events.buf.clear();
        // Longer waits would need epoll_pwait2 (Linux 5.11, not in every
        // qemu-user); returning early with no events is within the contract.
        let timeout = timeout.map(|t| crate::clock::timespec(t.min(MAX_TIMEOUT)));
        match epoll::wait(
            &self.fd,
            rustix::buffer::spare_capacity(&mut events.buf),
            timeout.as_ref(),
        ) {
            Ok(n) => Ok(n),
            Err(Errno::INTR) => Ok(0),
            Err(errno) => Err(PollError::Wait { errno }),
        }
    }
}

impl AsFd for Poller {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
