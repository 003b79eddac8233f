//! The control plane's side of `SetWakeFd` and `QueryWakeFd`: who may
//! hand the daemon a port's wake descriptor and who may have it
//! ([`crate::wake_fds`] for what is kept and when it is closed).
//!
//! Subscribers and listeners take a descriptor under the same rules: the
//! port must be the caller's and live; a sender (a publisher of the
//! subscriber's service, a notifier of the listener's) gets a copy only if
//! the route table lists one of its ports among that service's senders
//! and the port among its receivers.

use std::os::fd::{BorrowedFd, OwnedFd};

use zerocp_core::port::PortState;
use zerocp_core::wire::{ErrorCode, PortKind, WakeFdPort};
use zerocp_os_linux::wake_socket::WakeSender;

use crate::control_plane::ControlPlane;
use crate::port_id::PortId;
use crate::request_error::{RequestError, error};

fn port_id(msg: &WakeFdPort) -> PortId {
    PortId {
        group: msg.group,
        kind: msg.kind,
        index: msg.port_index,
        generation: msg.generation,
    }
}

/// Whether ports of `kind` receive (and so may take a wake descriptor).
fn receives(kind: PortKind) -> bool {
    matches!(kind, PortKind::Subscriber | PortKind::Listener)
}

impl ControlPlane<'_> {
    /// `SetWakeFd` from the process in `slot`: keeps `fds` (exactly one
    /// wake socket's sending end) as the wake descriptor of its receiving
    /// port (subscriber or listener) `msg` names.
    pub fn set_wake_fd(
        &mut self,
        slot: u32,
        msg: &WakeFdPort,
        mut fds: Vec<OwnedFd>,
    ) -> Result<(), RequestError> {
        let id = port_id(msg);
        if !receives(msg.kind) {
            return Err(error(
                ErrorCode::InvalidArgument,
                format!(
                    "SetWakeFd for {id}: only receiving ports (subscribers, listeners) take a \
                     wake descriptor"
                ),
            ));
        }
        if fds.len() != 1 {
            return Err(error(
                ErrorCode::InvalidArgument,
                format!(
                    "SetWakeFd for {id} carried {} descriptors: exactly one wake socket expected",
                    fds.len()
                ),
            ));
        }
        let owned = self.owner(slot)?.ports.contains(&id);
        if !owned || !self.ports.is_live(id) {
            return Err(error(
                ErrorCode::NoSuchPort,
                format!("SetWakeFd: this process has no live {id}"),
            ));
        }
        if self.wake_fds.contains(id) {
            return Err(error(
                ErrorCode::InvalidArgument,
                format!("SetWakeFd: {id} has a wake descriptor already (it never changes)"),
            ));
        }
        let fd = WakeSender::adopt(fds.remove(0))
            .map_err(|e| error(ErrorCode::InvalidArgument, format!("SetWakeFd: {e}")))?;
        self.wake_fds.insert(id, slot, fd);
        log::debug!("{id}: wake descriptor kept");
        Ok(())
    }

    /// `QueryWakeFd` from the process in `slot`: the port `msg` names (a
    /// subscriber, a listener), if a sending port of the caller (a
    /// publisher, a notifier) is routed to it and it has a wake descriptor
    /// (the event loop attaches it to the reply, [`ControlPlane::wake_fd`]).
    pub fn query_wake_fd(&self, slot: u32, msg: &WakeFdPort) -> Result<WakeFdPort, RequestError> {
        let id = port_id(msg);
        let caller = self.owner(slot)?;
        let service = self
            .routes
            .service_of(id)
            .filter(|_| receives(msg.kind) && self.receiver_state(id) == Some(PortState::Active));
        let routed = service.and_then(|s| self.routes.get(&s)).is_some_and(|r| {
            r.subscribers.contains(&id) && r.publishers.iter().any(|p| caller.ports.contains(p))
        });
        let refused = if !routed {
            error(
                ErrorCode::NotRouted,
                format!("QueryWakeFd: no port of this process is routed to {id}"),
            )
        } else if !self.wake_fds.contains(id) {
            error(
                ErrorCode::NotArmed,
                format!("QueryWakeFd: {id} has no wake descriptor (its owner never set one)"),
            )
        } else {
            return Ok(msg.clone());
        };
        log::debug!("{caller}: {refused}");
        Err(refused)
    }

    /// The wake descriptor of the port `msg` names, to attach to a
    /// `WakeFd` reply.
    pub fn wake_fd(&self, msg: &WakeFdPort) -> Option<BorrowedFd<'_>> {
        self.wake_fds.get(port_id(msg))
    }

    /// Wake descriptors held now.
    pub fn wake_fd_count(&self) -> usize {
        self.wake_fds.len()
    }

    /// The state of receiving port `id` (a subscriber, a listener), if
    /// its slot holds that generation.
    fn receiver_state(&self, id: PortId) -> Option<PortState> {
        let part = self.pool_manager(id.group)?;
        let control = part.control();
        let port = match id.kind {
            PortKind::Subscriber => &control.subscriber(id.index)?.control,
            PortKind::Listener => &control.listener(id.index)?.control,
            PortKind::Publisher | PortKind::Notifier => return None,
        };
        (port.generation() == id.generation)
            .then(|| port.state())
            .flatten()
    }
}
