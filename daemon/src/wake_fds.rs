//! Wake descriptors: the sending ends of the socket pairs processes hand
//! the daemon for their receiving ports, kept for the port's life, handed
//! to the senders routed to it, and signalled by the daemon itself when it
//! stops.
//!
//! A runtime that waits on a subscriber through a descriptor (a WaitSet,
//! `Subscriber::as_fd`) makes one socket pair for the port and sends its
//! sending end with `SetWakeFd`; the daemon checks that the port is the
//! caller's, live, and of the generation named, that the descriptor is the
//! unnamed `AF_UNIX` `SOCK_SEQPACKET` end of a socket pair
//! ([`WakeSender::adopt`]: `SO_DOMAIN`, `SO_TYPE`, its peer's name), and
//! that the port has none yet (a port's
//! descriptor never changes, so a publisher's cached copy never goes
//! stale). A publisher that finds the port armed asks with `QueryWakeFd`
//! and gets a copy only if one of its own ports is routed to that port
//! (`NotRouted` otherwise) and the port has one (`NotArmed`).
//!
//! **Bounded and closed.** At most one descriptor per port slot, so the
//! ports limit bounds them; a port's descriptor is closed when the port is
//! retired (removed, or its process gone), and every descriptor of a
//! process when the process is removed. When the daemon stops it signals
//! every descriptor it holds, so every waiter wakes and finds the daemon
//! gone.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd};

use zerocp_os_linux::wake_socket::WakeSender;

use crate::port_id::PortId;

/// The wake descriptors the daemon holds, by port.
#[derive(Debug, Default)]
pub struct WakeFds {
    fds: HashMap<PortId, (u32, WakeSender)>,
}

impl WakeFds {
    /// None held.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether port `id` has a descriptor.
    pub fn contains(&self, id: PortId) -> bool {
        self.fds.contains_key(&id)
    }

    /// Keeps `fd` for port `id` of the process in `owner`.
    pub fn insert(&mut self, id: PortId, owner: u32, fd: WakeSender) {
        self.fds.insert(id, (owner, fd));
    }

    /// Port `id`'s descriptor, to send.
    pub fn get(&self, id: PortId) -> Option<BorrowedFd<'_>> {
        self.fds.get(&id).map(|(_, fd)| fd.as_fd())
    }

    /// Closes port `id`'s descriptor, if any.
    pub fn remove(&mut self, id: PortId) {
        self.fds.remove(&id);
    }

    /// Closes every descriptor of the process in `owner`.
    pub fn remove_owner(&mut self, owner: u32) {
        self.fds.retain(|_, (slot, _)| *slot != owner);
    }

    /// Signals port `id`'s descriptor, if it has one (its senders changed).
    pub fn signal(&self, id: PortId) {
        if let Some((_, fd)) = self.fds.get(&id)
            && let Err(e) = fd.notify()
        {
            log::warn!("cannot wake the waiter of {id}: {e}");
        }
    }

    /// Signals every descriptor (the daemon stops: every waiter wakes).
    pub fn signal_all(&self) {
        for (id, (_, fd)) in &self.fds {
            if let Err(e) = fd.notify() {
                log::warn!("cannot wake the waiter of {id}: {e}");
            }
        }
    }

    /// Descriptors held.
    pub fn len(&self) -> usize {
        self.fds.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }
}
