//! `ControlPlane`: the state behind Diroute and every change to it.
//!
//! It owns the [`ProcessManager`], the [`PortRegistry`] and the
//! [`RouteTable`], works the mgmt segment through [`Mgmt`], and owns each
//! segment group's memory, one [`GroupMemory`] per group by group index
//! (a port's group picks the memory every one of its indices is resolved
//! in; a reset replaces it, [`crate::group_reset`]). The event loop
//! ([`crate::diroute`]) turns frames into calls here and the results into
//! reply frames; nothing here does I/O on sockets, so every rule can be
//! exercised directly: what a change has to tell a process unasked (a port
//! revoked, [`crate::revocation`]) is queued here as a notice for the loop
//! to send.
//!
//! Requests are checked before anything is changed, and a change that fails
//! half-way is rolled back (a port slot taken for a request that then fails
//! is freed again), so a refused request leaves no trace.
//!
//! A port request is checked in this order: the owner is registered; its
//! uid/gid may create this kind of port in the service's segment group
//! ([`crate::segment_groups`]; refused as `AccessDenied`, logged once as a
//! warning); the type agrees with the service's other ports; a pool *of the
//! service's group* holds the payload (`PayloadTooLarge` names the group); a
//! publisher's history fits the pool's port quota (`LimitReached` names the
//! quota, see [`crate::quota_config`]).

use std::os::fd::BorrowedFd;

use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::mgmt::Mgmt;
use zerocp_core::port::{FullPolicy, MAX_HELD, MAX_LOANS, PortSettings};
use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{
    self, CreatePublisher, CreateSubscriber, ErrorCode, Message, PayloadShape, PortCreated,
    PortKind, Register, Registered, RemovePort,
};
use zerocp_os_linux::seqpacket::PeerCredentials;

use crate::audit::Audit;
use crate::config::DaemonConfig;
pub use crate::daemon_identity::DaemonIdentity;
use crate::group_memory::GroupMemory;
use crate::group_reset::PendingResets;
use crate::heartbeat_scheduler::HeartbeatScheduler;
use crate::port_id::PortId;
use crate::port_registry::PortRegistry;
use crate::port_type::PortType;
use crate::process_manager::{ConnId, Process, ProcessManager, RegisterError};
use crate::quota_config;
use crate::reclaim;
pub use crate::request_error::RequestError;
use crate::request_error::{check_range, error};
use crate::route_table::RouteTable;
use crate::segment_groups::SegmentGroups;
use crate::service_layout;
use crate::wake_fds::WakeFds;

mod event_ports;
mod port_admission;

/// Why a process is being removed (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// It sent `Unregister`.
    Unregistered,
    /// Its control connection closed or failed.
    ConnectionClosed,
    /// Its pidfd became readable: the process exited.
    Exited,
}

impl std::fmt::Display for Departure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unregistered => "unregistered",
            Self::ConnectionClosed => "connection closed",
            Self::Exited => "process exited",
        })
    }
}

/// The daemon's state: processes, ports, routes, and the shared memory they live in.
pub struct ControlPlane<'a> {
    pub(crate) mgmt: Mgmt<'a>,
    /// Each group's memory (its chunk manager, and through it its control
    /// part), by group index.
    pub(crate) parts: Vec<GroupMemory>,
    pub(crate) config: DaemonConfig,
    pub(crate) groups: SegmentGroups,
    pub(crate) identity: DaemonIdentity,
    pub(crate) processes: ProcessManager,
    pub(crate) ports: PortRegistry,
    pub(crate) routes: RouteTable,
    pub(crate) heartbeat: HeartbeatScheduler,
    /// Messages for processes, sent unasked by the event loop
    /// ([`ControlPlane::take_notices`]): (owner's connection, message).
    pub(crate) notices: Vec<(ConnId, Message)>,
    /// Groups to reset once they have no port left (`[audit]
    /// on_corrupt_pool = "reset-when-empty"`).
    pub(crate) pending_resets: PendingResets,
    pub(crate) audit: Audit,
    /// The wake descriptors of ports ([`crate::wake_fds`]).
    pub(crate) wake_fds: WakeFds,
}

impl<'a> ControlPlane<'a> {
    /// A control plane over a freshly created mgmt segment and every group's
    /// memory (`parts`, by group index), with the segment groups of `config`
    /// ([`DaemonConfig::segment_groups`]).
    pub fn new(
        mgmt: Mgmt<'a>,
        parts: Vec<GroupMemory>,
        config: DaemonConfig,
        groups: SegmentGroups,
        identity: DaemonIdentity,
    ) -> Self {
        let limits = config.limits;
        let heartbeat = HeartbeatScheduler::new(
            config.heartbeat.interval_ms,
            config.heartbeat.timeout_ms,
            identity.started_ms,
        );
        let configs = parts.iter().map(|p| *p.manager().control().config());
        let port_limits: Vec<(u32, u32)> = configs
            .clone()
            .map(|c| (c.max_publishers(), c.max_subscribers()))
            .collect();
        let event_limits: Vec<(u32, u32)> = configs
            .map(|c| (c.max_notifiers(), c.max_listeners()))
            .collect();
        Self {
            mgmt,
            pending_resets: PendingResets::new(parts.len()),
            audit: Audit::new(config.audit, &parts, identity.started_ms),
            parts,
            notices: Vec::new(),
            processes: ProcessManager::new(limits.max_processes, identity.domain.clone()),
            ports: PortRegistry::new(&port_limits).with_event_ports(&event_limits),
            routes: RouteTable::new(),
            heartbeat,
            config,
            groups,
            identity,
            wake_fds: WakeFds::new(),
        }
    }

    /// The chunk manager (and control part) of segment group `group`.
    pub(crate) fn part(&self, group: u32) -> Result<&MemPoolManager<'_>, RequestError> {
        self.pool_manager(group).ok_or_else(|| {
            error(
                ErrorCode::Internal,
                format!("segment group {group} has no memory"),
            )
        })
    }

    /// The chunk manager of segment group `group`, if there is one.
    pub(crate) fn pool_manager(&self, group: u32) -> Option<&MemPoolManager<'_>> {
        self.parts.get(group as usize).map(GroupMemory::manager)
    }

    /// The descriptors of the memory of `group` a `kind` port's reply
    /// carries ([`GroupMemory::port_fds`]).
    pub fn port_fds(&self, group: u32, kind: PortKind) -> Option<[BorrowedFd<'_>; 2]> {
        self.parts.get(group as usize).map(|m| m.port_fds(kind))
    }

    /// The configuration in force.
    pub fn config(&self) -> &DaemonConfig {
        &self.config
    }

    /// The registered processes.
    pub fn processes(&self) -> &ProcessManager {
        &self.processes
    }

    /// The heartbeat scheduler (tick timing).
    pub fn heartbeat_mut(&mut self) -> &mut HeartbeatScheduler {
        &mut self.heartbeat
    }

    /// Whether a peer with these credentials may use the daemon.
    pub fn allows(&self, creds: &PeerCredentials) -> bool {
        self.config
            .access
            .allows(creds.uid, creds.gid, self.identity.uid)
    }

    /// Registers the peer of connection `conn`.
    pub fn register(
        &mut self,
        creds: PeerCredentials,
        conn: ConnId,
        msg: &Register,
        now_ms: u64,
    ) -> Result<(&Process, Registered), RequestError> {
        if msg.protocol_version != wire::PROTOCOL_VERSION {
            return Err(error(
                ErrorCode::UnsupportedVersion,
                format!(
                    "protocol version {} is not supported; the daemon speaks {}",
                    msg.protocol_version,
                    wire::PROTOCOL_VERSION
                ),
            ));
        }
        self.repair_before_registration_reply();
        let process = self
            .processes
            .register(creds, msg.process_name.as_str(), conn, now_ms)
            .map_err(|e| match e {
                RegisterError::Full { .. } | RegisterError::Heartbeat(_) => {
                    error(ErrorCode::LimitReached, e.to_string())
                }
                RegisterError::PidFd(_) => error(ErrorCode::Internal, e.to_string()),
            })?;
        let id = &self.identity;
        let hb = &self.config.heartbeat;
        let registered = Registered {
            process_slot: process.slot,
            daemon_pid: id.pid,
            epoch: id.epoch,
            mgmt_size: id.mgmt_size,
            heartbeat_size: u32::try_from(process.heartbeat.size()).unwrap_or(u32::MAX),
            group_count: self.parts.len() as u32,
            heartbeat_interval_ms: u32::try_from(hb.interval_ms).unwrap_or(u32::MAX),
            heartbeat_timeout_ms: u32::try_from(hb.timeout_ms).unwrap_or(u32::MAX),
        };
        Ok((process, registered))
    }

    pub(crate) fn owner(&self, slot: u32) -> Result<&Process, RequestError> {
        self.processes
            .get(slot)
            .ok_or_else(|| error(ErrorCode::NotRegistered, "the process is not registered"))
    }

    /// Creates a publisher port for the process in `slot`.
    pub fn create_publisher(
        &mut self,
        slot: u32,
        msg: &CreatePublisher,
    ) -> Result<PortCreated, RequestError> {
        let max_history = self.config.limits.max_history;
        check_range(msg.history, 0, max_history, || {
            format!(
                "history {} exceeds limits.max_history {max_history}",
                msg.history
            )
        })?;
        check_range(msg.max_loans, 1, MAX_LOANS as u32, || {
            format!("max_loans {} is not in 1..={MAX_LOANS}", msg.max_loans)
        })?;
        service_layout::checked(&msg.layout, msg.type_info.size)?;
        let port_type = PortType::of_publisher(msg);
        let (group, base) = self.base_settings(
            slot,
            &msg.service,
            &port_type,
            msg.max_slice_len,
            PortKind::Publisher,
        )?;
        let quota = self.mgmt.config().quotas().get(group, base.mempool);
        quota_config::check_history(quota, msg.history, self.groups.name(group))
            .map_err(|detail| error(ErrorCode::LimitReached, detail))?;
        let settings = PortSettings {
            capacity: msg.max_loans,
            history: msg.history,
            policy: FullPolicy::DiscardOldest,
            ..base
        };
        self.add_port(
            slot,
            group,
            &msg.service,
            &port_type,
            PortKind::Publisher,
            &settings,
        )
        .inspect(|_| self.routes.offer_layout(&msg.service, &msg.layout))
    }

    /// Creates a subscriber port for the process in `slot`.
    pub fn create_subscriber(
        &mut self,
        slot: u32,
        msg: &CreateSubscriber,
    ) -> Result<PortCreated, RequestError> {
        let limits = self.config.limits;
        check_range(msg.queue_capacity, 1, limits.max_queue_capacity, || {
            format!(
                "queue capacity {} is not in 1..={} (limits.max_queue_capacity)",
                msg.queue_capacity, limits.max_queue_capacity
            )
        })?;
        check_range(msg.history_request, 0, limits.max_history, || {
            format!(
                "history request {} exceeds limits.max_history {}",
                msg.history_request, limits.max_history
            )
        })?;
        check_range(msg.max_held, 1, MAX_HELD as u32, || {
            format!("max_held {} is not in 1..={MAX_HELD}", msg.max_held)
        })?;
        service_layout::checked(&msg.layout, msg.type_info.size)?;
        let port_type = PortType::of_subscriber(msg);
        // A slice subscriber's pool (for its quota count) is the one of a
        // single element: its publishers may each use another.
        let one = u32::from(msg.shape == PayloadShape::Slice);
        let (group, base) =
            self.base_settings(slot, &msg.service, &port_type, one, PortKind::Subscriber)?;
        let settings = PortSettings {
            capacity: msg.queue_capacity,
            history: msg.history_request,
            policy: msg.full_policy,
            max_held: msg.max_held,
            ..base
        };
        self.add_port(
            slot,
            group,
            &msg.service,
            &port_type,
            PortKind::Subscriber,
            &settings,
        )
        .inspect(|_| self.routes.offer_layout(&msg.service, &msg.layout))
    }

    /// Checks owner, group access, type and route, picks the mempool of the
    /// service's group (by `max_slice_len`, see [`Self::checked_type`]); the
    /// group and the settings every port shares.
    fn base_settings(
        &self,
        slot: u32,
        service: &ServiceDescription,
        port_type: &PortType,
        max_slice_len: u32,
        kind: PortKind,
    ) -> Result<(u32, PortSettings), RequestError> {
        let owner = self.owner(slot)?;
        Self::check_not_reserved(service, kind)?;
        let group = self.admitted_group(owner, service, kind)?;
        self.check_route(service, port_type, kind)?;
        let mempool = self.checked_type(port_type, max_slice_len, group)?;
        let type_info = &port_type.payload;
        let settings = PortSettings {
            owner_slot: owner.slot,
            owner_pid: owner.creds.pid,
            payload_size: type_info.size,
            payload_align: type_info.align,
            mempool,
            service_hash: service.stable_hash(),
            ..PortSettings::default()
        };
        Ok((group, settings))
    }

    fn add_port(
        &mut self,
        slot: u32,
        group: u32,
        service: &ServiceDescription,
        port_type: &PortType,
        kind: PortKind,
        settings: &PortSettings,
    ) -> Result<PortCreated, RequestError> {
        let memory = self
            .parts
            .get(group as usize)
            .ok_or_else(|| error(ErrorCode::Internal, format!("no segment group {group}")))?;
        let part = memory.manager();
        let control = part.control();
        let id = self
            .ports
            .allocate_committing(group, kind, |index| memory.commit_port(kind, index))
            .map_err(|e| error(ErrorCode::LimitReached, e.to_string()))?;
        let init = match kind {
            PortKind::Publisher => self.ports.init_publisher(control, id, settings),
            PortKind::Notifier => self.ports.init_notifier(control, id, settings),
            PortKind::Listener => self.ports.init_listener(control, id, settings),
            PortKind::Subscriber => {
                if let Some(port) = control.subscriber(id.index) {
                    let late = reclaim::drain_subscriber(part, id, port);
                    if late.released > 0 {
                        log::info!("{id}: released {} late deliveries", late.released);
                    }
                }
                self.ports.init_subscriber(control, id, settings)
            }
        };
        let routed = init
            .map_err(|e| error(ErrorCode::Internal, e.to_string()))
            .and_then(|()| {
                self.routes
                    .add(control, service, port_type, id)
                    .map_err(|e| error(ErrorCode::Internal, e.to_string()))
            });
        if let Err(e) = routed {
            self.ports.free(control, id);
            return Err(e);
        }
        let created = PortCreated {
            port_index: id.index,
            group,
            incarnation: memory.incarnation(),
            generation: id.generation,
            control_size: control.layout().total_size(),
            payload_size: part.layout().total_bytes(),
        };
        self.announce_senders(group, service);
        self.announce_service_change(service);
        self.announce_history_wanted(id, service, settings.history);
        if let Some(owner) = self.processes.get_mut(slot) {
            owner.ports.push(id);
            log::info!("{owner} created {id} on {service}");
        }
        self.repair_before_port_reply(group);
        Ok(created)
    }

    /// Removes one of the ports of the process in `slot` (a port its
    /// group's reset took from it is only forgotten: its memory is gone).
    pub fn remove_port(&mut self, slot: u32, msg: &RemovePort) -> Result<(), RequestError> {
        let wanted = PortId {
            group: msg.group,
            kind: msg.kind,
            index: msg.port_index,
            generation: msg.generation,
        };
        self.owner(slot)?;
        let Some(owner) = self.processes.get_mut(slot) else {
            return Err(error(
                ErrorCode::NotRegistered,
                "the process is not registered",
            ));
        };
        if let Some(pos) = owner.reset_ports.iter().position(|p| *p == wanted) {
            owner.reset_ports.swap_remove(pos);
            return Ok(());
        }
        let Some(pos) = owner.ports.iter().position(|p| *p == wanted) else {
            return Err(error(
                ErrorCode::NoSuchPort,
                format!("this process has no {wanted}"),
            ));
        };
        let id = owner.ports.remove(pos);
        self.retire_port(id);
        self.reset_if_quiet(id.group);
        Ok(())
    }

    /// Retires port `id` and takes it out of its service's routes, so no
    /// topology names it any more (idempotent). Its chunks and its slot stay.
    pub(crate) fn unroute_port(&mut self, id: PortId) {
        let Some(part) = self.parts.get(id.group as usize).map(GroupMemory::manager) else {
            log::error!("cannot unroute {id}: no such segment group");
            return;
        };
        self.ports.retire(part.control(), id);
        if let Some(service) = self.routes.service_of(id) {
            self.routes.remove(part.control(), &service, id);
            self.announce_senders(id.group, &service);
            self.announce_service_change(&service);
        }
    }

    /// Retires, unroutes, reclaims and frees port `id`.
    fn retire_port(&mut self, id: PortId) -> reclaim::Reclaimed {
        self.unroute_port(id);
        self.wake_fds.remove(id);
        let Some(part) = self.parts.get(id.group as usize).map(GroupMemory::manager) else {
            return reclaim::Reclaimed::default();
        };
        let done = reclaim::reclaim(part, id);
        self.ports.free(part.control(), id);
        log::debug!(
            "{id} reclaimed: {} references released, {} chunks freed, {} bad indices skipped",
            done.released,
            done.freed,
            done.rejected
        );
        done
    }

    /// Removes the process in `slot`: every port reclaimed, slot freed.
    /// Returns it (its connection is the caller's to close; dropping it
    /// unmaps and closes its heartbeat file).
    pub fn remove_process(&mut self, slot: u32, why: Departure) -> Option<Process> {
        let ports = std::mem::take(&mut self.processes.get_mut(slot)?.ports);
        let mut total = reclaim::Reclaimed::default();
        let mut groups: Vec<u32> = ports.iter().map(|id| id.group).collect();
        groups.sort_unstable();
        groups.dedup();
        for id in ports {
            total.add(self.retire_port(id));
        }
        self.audit_groups(&groups);
        self.wake_fds.remove_owner(slot);
        let process = self
            .processes
            .unregister(slot, why, total.released.into())?;
        for &group in &groups {
            self.reset_if_quiet(group);
        }
        match process.unresponsive_since_ms {
            Some(since) => log::info!(
                "{process} removed: {why}, {} ms after it was dropped as unresponsive; \
                 reclaimed {} chunk references ({} chunks freed)",
                zerocp_os_linux::clock::monotonic_ms().saturating_sub(since),
                total.released,
                total.freed
            ),
            None => log::info!("{process} removed: {why}"),
        }
        Some(process)
    }

    /// Slots of processes whose heartbeat timed out at `now_ms`.
    pub fn expired_processes(&self, now_ms: u64) -> Vec<u32> {
        self.heartbeat.expired(&self.processes, now_ms)
    }

    /// Daemon stopping: marks the mgmt segment `SHUTTING_DOWN`, so runtimes
    /// fail their next call with `DaemonGone`.
    pub fn mark_shutting_down(&self) {
        self.mgmt.set_shutting_down();
    }

    /// Bumps and futex-wakes the wake words of every subscriber and
    /// listener port, and signals every wake descriptor, so no thread stays
    /// asleep on a daemon that is gone.
    pub fn wake_all_sleepers(&self) {
        self.wake_fds.signal_all();
        for process in self.processes.iter() {
            for id in &process.ports {
                if let Some(part) = self.pool_manager(id.group) {
                    reclaim::wake_port(part.control(), *id);
                }
            }
        }
    }
}
