//! [`Notifier`]: the sending end of an event service, and [`NotifierCore`],
//! its data path.
//!
//! `notify(id)` raises the id in every listener its topology names (the
//! daemon writes that topology, as a publisher's: [`crate::topology`]),
//! signals the wake descriptor of a listener armed with one (as a
//! publisher signals a subscriber's, `crate::publisher::wake_fd_cache`) and
//! wakes a listener that sleeps, at most once per sleep (the subscriber's
//! protocol, [`zerocp_core::wake_protocol`]). No payload, no chunk, no
//! queue: one `fetch_or`, a fence and a load per listener, and a futex wake
//! only for the first notifier to find a listener asleep. Every listener index read
//! from the topology is bounds-checked, and a listener is notified only
//! while its slot is `Active` with the generation the daemon routed.

use std::cell::RefCell;
use std::sync::Arc;

use zerocp_core::event::EventId;
use zerocp_core::listener_port::{ListenerPort, NotifierPort};
use zerocp_core::port::{PortState, TOPOLOGY_WORDS};
use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{PortKind, RevokeReason, WakeFdPort};
use zerocp_os_linux::wake_socket::WakeSender;

use crate::error::{CreatePortError, CreatePortReason, NotifyError};
use crate::event_port;
use crate::lifecycle::Lifecycle;
use crate::mapped::Mapped;
use crate::port_cell::{PortCell, PortCore};
use crate::port_owner::PortOwner;
use crate::port_status::PortStatus;
use crate::publisher::wake_fd_cache::WakeFdCache;
use crate::topology::{Peer, TopologyCache};
use crate::wait::{LinuxFutex, fence_after_pushes};

/// Options of a new notifier; made by [`Runtime::notifier`](crate::Runtime::notifier).
///
/// ```no_run
/// # let rt = zerocp::Runtime::init("doc")?;
/// let svc = zerocp::ServiceDescription::new("Robot", "Map", "Updated")?;
/// let notifier = rt.notifier(&svc).create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct NotifierBuilder<'r> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
}

impl<'r> NotifierBuilder<'r> {
    pub(crate) fn new(rt: &'r Arc<Lifecycle>, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
        }
    }

    /// Creates the notifier (one request to the daemon). The service's
    /// segment group must admit this process by its `publish` rule.
    pub fn create(self) -> Result<Notifier, CreatePortError> {
        let core =
            NotifierCore::create(self.rt, self.service).map_err(|reason| CreatePortError {
                kind: PortKind::Notifier,
                reason,
            })?;
        Ok(Notifier {
            cell: PortCell::new(core),
            service: self.service,
        })
    }
}

/// The sending end of an event service: raises event ids in every listener
/// of the service.
///
/// `Send`, not `Sync`. Dropping it removes the port. After a daemon restart
/// the same notifier goes on: its next `notify` creates the port again.
///
/// ```no_run
/// use zerocp::EventId;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Map", "Updated")?;
/// let notifier = rt.notifier(&svc).create()?;
/// let reached = notifier.notify(EventId::new(3)?)?;
/// println!("{reached} listeners notified");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Notifier {
    cell: PortCell<NotifierCore>,
    service: ServiceDescription,
}

impl Notifier {
    /// Raises `id` in every listener of the service and wakes those asleep;
    /// returns how many listeners it reached. An id raised again before a
    /// listener took it coalesces with the first ([`zerocp_core::event`]).
    ///
    /// Fails with [`NotifyError::DaemonGone`] once the daemon is gone,
    /// [`NotifyError::Unresponsive`] once it dropped this process,
    /// [`NotifyError::Revoked`] once it revoked this port;
    /// [`NotifyError::Disconnected`] while the daemon restarts.
    pub fn notify(&self, id: EventId) -> Result<usize, NotifyError> {
        self.cell.call(|core| core.notify(id), |_, n| n)
    }

    /// The service this notifier notifies.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// The port index in the daemon's registry (as `zerocpctl services` shows).
    pub fn port_index(&self) -> u32 {
        self.cell.get().index
    }
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("service", &self.service)
            .field("port", &self.port_index())
            .finish()
    }
}

/// The state of a notifier port.
pub(crate) struct NotifierCore {
    port: Mapped<NotifierPort>,
    status: Arc<PortStatus>,
    index: u32,
    service: ServiceDescription,
    /// The last topology snapshot read, and the buffer it is read through.
    topology: RefCell<(TopologyCache, [u32; TOPOLOGY_WORDS])>,
    /// The wake descriptors of the armed listeners notified (or refusals).
    wake_fds: RefCell<WakeFdCache>,
}

impl NotifierCore {
    fn create(
        lifecycle: &Arc<Lifecycle>,
        service: ServiceDescription,
    ) -> Result<Self, CreatePortReason> {
        let created = event_port::create(
            lifecycle,
            &service,
            PortKind::Notifier,
            |g, i| g.notifier(i),
            |p| &p.control,
        )?;
        Ok(Self {
            port: created.port,
            status: created.status,
            index: created.index,
            service,
            topology: RefCell::new((TopologyCache::new(), [0; TOPOLOGY_WORDS])),
            wake_fds: RefCell::new(WakeFdCache::default()),
        })
    }

    fn notify(&self, id: EventId) -> Result<usize, NotifyError> {
        if let Some(gone) = self.port.owner().registration().gone() {
            return Err(gone.into());
        }
        if let Some(reason) = self.status.revoked() {
            return Err(reason.into());
        }
        let mut topology = self.topology.borrow_mut();
        let (cache, words) = &mut *topology;
        self.refresh(cache, words);
        let mut reached = 0;
        for peer in cache.peers() {
            let Some(listener) = self.routed(*peer) else {
                continue;
            };
            listener.events.raise(id);
            fence_after_pushes();
            listener
                .wake
                .data()
                .wake(&LinuxFutex)
                .map_err(NotifyError::Futex)?;
            self.signal_armed(*peer, listener);
            reached += 1;
        }
        Ok(reached)
    }

    /// Re-reads the topology if its version moved (one load otherwise).
    fn refresh(&self, cache: &mut TopologyCache, words: &mut [u32; TOPOLOGY_WORDS]) {
        let topology = &self.port.get().topology;
        if cache.is_current(topology.version()) {
            return;
        }
        // A write in progress keeps the previous snapshot until the next call.
        if let Ok(snapshot) = topology.read(words) {
            let pairs = words[..snapshot.len].chunks_exact(2).map(|w| Peer {
                index: w[0],
                generation: w[1],
            });
            cache.replace(snapshot.version, pairs);
            self.wake_fds.borrow_mut().keep_only(cache.peers());
        }
    }

    /// After raising an id in `listener` (of `peer`) and the fence that
    /// follows: signals its wake descriptor if it is armed and no signal
    /// is pending ([`zerocp_core::notify_word`]); the descriptor comes from
    /// the daemon on first use, as a publisher's does.
    fn signal_armed(&self, peer: Peer, listener: &ListenerPort) {
        if !listener.notify.is_armed() || !listener.notify.mark_pending() {
            return;
        }
        let mut cache = self.wake_fds.borrow_mut();
        if let Some(fd) = cache.get_or_query(peer, || self.query_wake_fd(peer))
            && let Err(e) = fd.notify()
        {
            log::warn!(
                "notifier port {}: cannot signal listener port {}: {e}",
                self.index,
                peer.index
            );
        }
    }

    /// Asks the daemon for `peer`'s wake descriptor; `None` (logged) when
    /// it refuses or the request fails.
    fn query_wake_fd(&self, peer: Peer) -> Option<WakeSender> {
        let port = WakeFdPort {
            kind: PortKind::Listener,
            group: self.status.key().group,
            port_index: peer.index,
            generation: peer.generation,
        };
        let registration = self.port.owner().registration();
        match crate::wake_fd_request::query_wake_fd(registration, port) {
            Ok(fd) => Some(fd),
            Err(why) => {
                log::warn!(
                    "notifier port {}: listener port {} says it is armed, but has no wake \
                     descriptor for this notifier ({why}); not signalled until it is routed anew",
                    self.index,
                    peer.index
                );
                None
            }
        }
    }

    /// The listener `peer` names, if in range and still the routed one.
    fn routed(&self, peer: Peer) -> Option<&ListenerPort> {
        let port = self.port.group().control().listener(peer.index)?;
        (port.control.state() == Some(PortState::Active)
            && port.control.generation() == peer.generation)
            .then_some(port)
    }
}

impl PortCore for NotifierCore {
    const KIND: PortKind = PortKind::Notifier;

    fn owner(&self) -> &PortOwner {
        self.port.owner()
    }

    fn revoked(&self) -> Option<RevokeReason> {
        self.status.revoked()
    }

    fn service(&self) -> ServiceDescription {
        self.service
    }

    fn index(&self) -> u32 {
        self.index
    }

    fn recreate(&self) -> Result<Self, CreatePortReason> {
        Self::create(self.port.owner().lifecycle(), self.service)
    }
}

impl Drop for NotifierCore {
    fn drop(&mut self) {
        event_port::remove(self.port.owner(), &self.status);
    }
}
