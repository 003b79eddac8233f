//! `Diroute`: the daemon's event loop.
//!
//! One thread waits in epoll for everything at once: the listening socket,
//! every client connection, the pidfd of every registered process, and the
//! descriptors of the stop signals ([`crate::stop_signals`]). The wait's
//! timeout is the next heartbeat tick, at which expired heartbeats and
//! unregistered connections past their time are dealt with, or the next
//! service-manager watchdog ping ([`crate::sd_notify`]) when that comes
//! first: the loop itself feeds the watchdog, so a hung loop is noticed.
//!
//! Every client is hostile until proven otherwise: sockets are nonblocking,
//! each wake-up reads at most a few frames per connection (so one chatty
//! client cannot starve the others), a frame that does not decode is
//! answered with an `Error` and counted (too many and the client is dropped).
//! Connections are admitted by the `admission` submodule: a peer `[access]`
//! refuses is told so at accept and closed, never taking a slot;
//! unregistered connections are limited per uid and in all, a newcomer
//! evicting an older one instead of being refused
//! ([`crate::pending_limits`]), and live at most
//! `limits.register_timeout_ms` from their accept. Every connection turned
//! away is told why, counted for `Status`, and logged at most once per
//! second per kind ([`crate::connection_refusals`]). The wait also ends for
//! the audit of shared memory when it is due ([`crate::audit`]); the notices
//! a change queued for processes (a port revoked) are sent after every
//! event.
//!
//! A process is dead when its connection closes or fails or when its pidfd
//! turns readable; both lead to [`ControlPlane::remove_process`] and the
//! closing of its connection. A heartbeat timeout is not death
//! ([`crate::unresponsive`]): the process is unrouted and its connection
//! closed at once, but its pidfd stays watched, and only its exit (killed
//! first when `heartbeat.kill_unresponsive` is set) reclaims it.
//! What the control plane has to tell a process unasked (one of its ports
//! was revoked, [`crate::revocation`]) is sent after every round of events,
//! on the process's connection, with request id 0.
//! On a stop signal the loop ends and [`Diroute::shutdown`] tells every client.

mod admission;

use std::collections::HashMap;
use std::fmt;
use std::os::fd::{BorrowedFd, OwnedFd};

use zerocp_core::wire::{self, DecodeError, ErrorCode, MAX_FRAME_SIZE, Message, PortKind};
use zerocp_os_linux::clock::monotonic_ms;
use zerocp_os_linux::error::{PollError, SocketError};
use zerocp_os_linux::poller::{Events, Interest, PollEvent, Poller};
use zerocp_os_linux::seqpacket::{RecvResult, SeqpacketListener};

use crate::client_connection::ClientConnection;
use crate::connection_refusals::ConnectionRefusals;
use crate::control_plane::{ControlPlane, Departure, RequestError};
use crate::process_manager::ConnId;
use crate::sd_notify::ServiceManager;
use crate::segment_owner::SegmentOwner;
use crate::stop_signals::{SignalError, StopSignal, StopSignals};

/// Token of the listening socket.
const LISTENER: u64 = 0;
/// Token of the first stop signal's descriptor (the others follow, in
/// [`StopSignal::ALL`] order).
const SIGNALS: u64 = 1;
/// First connection id (connection tokens are their ids).
const FIRST_CONN: ConnId = 16;
/// Marks a pidfd token: `PIDFD | slot << 32 | generation`.
const PIDFD: u64 = 1 << 63;
/// Frames read from one connection per wake-up.
const FRAMES_PER_WAKE: usize = 16;
/// Connections accepted per wake-up.
const ACCEPTS_PER_WAKE: usize = 64;

/// The event loop failed (the daemon stops).
#[derive(Debug)]
pub enum DirouteError {
    /// epoll failed.
    Poll(PollError),
    /// Installing the signal handlers failed.
    Signals(SignalError),
}

impl fmt::Display for DirouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Poll(e) => write!(f, "event loop: {e}"),
            Self::Signals(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DirouteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Poll(e) => Some(e),
            Self::Signals(e) => Some(e),
        }
    }
}

/// The event loop and the connections it serves.
pub struct Diroute<'a> {
    plane: ControlPlane<'a>,
    /// The mgmt segment, whose descriptor registrations carry (a port's
    /// group memory comes from the control plane, which may replace it).
    segments: &'a SegmentOwner,
    poller: Poller,
    listener: SeqpacketListener,
    signals: StopSignals,
    service: ServiceManager,
    conns: HashMap<ConnId, ClientConnection>,
    next_conn: ConnId,
    stop: Option<StopSignal>,
    /// `accept` failed (e.g. out of descriptors): the listener is out of
    /// epoll until the next tick, so a level-triggered listener cannot spin.
    accept_paused: bool,
    /// Connections turned away: counters and log summaries.
    refusals: ConnectionRefusals,
}

fn pidfd_token(slot: u32, generation: u32) -> u64 {
    PIDFD | (u64::from(slot) << 32) | u64::from(generation)
}

impl<'a> Diroute<'a> {
    /// Sets up epoll over `listener` and the stop signals; `service` is
    /// fed from the loop (watchdog) and told when it stops. Registered
    /// processes receive the descriptors of `segments`.
    pub fn new(
        plane: ControlPlane<'a>,
        segments: &'a SegmentOwner,
        listener: SeqpacketListener,
        signals: StopSignals,
        service: ServiceManager,
    ) -> Result<Self, DirouteError> {
        let poller = Poller::new().map_err(DirouteError::Poll)?;
        poller
            .add(&listener, LISTENER, Interest::Readable)
            .map_err(DirouteError::Poll)?;
        for (token, (_, fd)) in (SIGNALS..).zip(signals.descriptors()) {
            poller
                .add(fd, token, Interest::Readable)
                .map_err(DirouteError::Poll)?;
        }
        Ok(Self {
            plane,
            segments,
            poller,
            listener,
            signals,
            service,
            conns: HashMap::new(),
            next_conn: FIRST_CONN,
            stop: None,
            accept_paused: false,
            refusals: ConnectionRefusals::default(),
        })
    }

    /// Serves until a stop signal; returns which one.
    pub fn run(&mut self) -> Result<StopSignal, DirouteError> {
        let mut events = Events::with_capacity(64);
        loop {
            let now = monotonic_ms();
            self.service.feed_watchdog(now);
            let tick_ms = self.plane.heartbeat_mut().millis_until_tick(now);
            let wait_ms = [
                self.service.millis_until_watchdog(now),
                self.plane.millis_until_audit(now),
            ]
            .into_iter()
            .flatten()
            .fold(tick_ms, u64::min);
            let timeout = std::time::Duration::from_millis(wait_ms);
            self.poller
                .wait(&mut events, Some(timeout))
                .map_err(DirouteError::Poll)?;
            for event in events.iter() {
                self.dispatch(event);
            }
            if let Some(signal) = self.stop {
                return Ok(signal);
            }
            let now = monotonic_ms();
            if self.plane.heartbeat_mut().tick_due(now) {
                self.tick(now);
            }
            self.plane.audit_if_due(now);
            self.send_notices();
        }
    }

    fn dispatch(&mut self, event: PollEvent) {
        match event.token {
            LISTENER => self.accept_all(),
            token if (SIGNALS..SIGNALS + StopSignal::ALL.len() as u64).contains(&token) => {
                self.on_signal(StopSignal::ALL[(token - SIGNALS) as usize]);
            }
            token if token & PIDFD != 0 => {
                let slot = ((token & !PIDFD) >> 32) as u32;
                self.on_pidfd(slot, token as u32);
            }
            token => self.on_connection(token, event),
        }
    }

    fn on_signal(&mut self, signal: StopSignal) {
        self.signals.acknowledge(signal);
        log::info!("received {signal}, stopping");
        self.service
            .stopping(&format!("received {signal}, stopping"));
        self.stop = Some(signal);
    }

    fn accept_all(&mut self) {
        for _ in 0..ACCEPTS_PER_WAKE {
            match self.listener.accept() {
                Ok(Some(socket)) => self.admit(socket),
                Ok(None) => return,
                Err(e) => {
                    // EMFILE and friends: retry at the next tick.
                    log::error!("{e}; accepting again at the next tick");
                    match self.poller.delete(&self.listener) {
                        Ok(()) => self.accept_paused = true,
                        Err(e) => log::error!("{e}"),
                    }
                    return;
                }
            }
        }
    }

    fn on_connection(&mut self, id: ConnId, event: PollEvent) {
        if self.read_frames(id) && event.error && !event.readable {
            self.close(id, Departure::ConnectionClosed);
        }
    }

    /// Serves at most [`FRAMES_PER_WAKE`] frames of connection `id`; false
    /// if the connection is gone.
    fn read_frames(&mut self, id: ConnId) -> bool {
        let mut buf = [0u8; MAX_FRAME_SIZE];
        let mut fds = Vec::new();
        for _ in 0..FRAMES_PER_WAKE {
            let Some(conn) = self.conns.get(&id) else {
                return false;
            };
            match conn.recv(&mut buf, &mut fds) {
                Ok(RecvResult::Frame(len)) => {
                    if !self.on_frame(id, &buf[..len], std::mem::take(&mut fds)) {
                        return false;
                    }
                }
                Ok(RecvResult::TooLarge { len }) => {
                    let detail = format!(
                        "frame of {len} bytes exceeds the maximum of {MAX_FRAME_SIZE} bytes"
                    );
                    if !self.reject(id, ErrorCode::Malformed, &detail, 0) {
                        return false;
                    }
                }
                Ok(RecvResult::Closed) => {
                    self.close(id, Departure::ConnectionClosed);
                    return false;
                }
                Ok(RecvResult::WouldBlock | RecvResult::TimedOut) => break,
                Err(e) => {
                    self.drop_on_error(id, &e);
                    return false;
                }
            }
        }
        true
    }

    fn drop_on_error(&mut self, id: ConnId, e: &SocketError) {
        log::warn!("connection {id}: {e}");
        self.close(id, Departure::ConnectionClosed);
    }

    /// Answers a bad frame with an error and counts it; false if the connection was dropped.
    fn reject(&mut self, id: ConnId, code: ErrorCode, detail: &str, request_id: u32) -> bool {
        let Some(conn) = self.conns.get_mut(&id) else {
            return false;
        };
        log::warn!("{conn}: {detail}");
        let exhausted = conn.strike();
        if let Err(e) = conn.send_error(code, detail, request_id) {
            log::warn!("{conn}: {e}");
            self.close(id, Departure::ConnectionClosed);
            return false;
        }
        if exhausted {
            log::warn!("connection {id}: too many bad frames, disconnecting");
            self.close(id, Departure::ConnectionClosed);
            return false;
        }
        true
    }

    /// Handles one frame and the descriptors it carried (closed unless the
    /// request keeps them); false if the connection was dropped.
    fn on_frame(&mut self, id: ConnId, frame: &[u8], fds: Vec<OwnedFd>) -> bool {
        let now = monotonic_ms();
        let (header, msg) = match wire::decode(frame) {
            Ok(decoded) => decoded,
            Err(e) => {
                let request_id = wire::FrameHeader::salvage_request_id(frame);
                let code = match e {
                    DecodeError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion,
                    _ => ErrorCode::Malformed,
                };
                return self.reject(id, code, &format!("malformed frame: {e}"), request_id);
            }
        };
        let request_id = header.request_id;
        if msg.direction() == wire::Direction::DaemonToClient {
            let detail = format!("{:?} is a daemon-to-client message", msg.kind());
            return self.reject(id, ErrorCode::UnexpectedMessage, &detail, request_id);
        }
        let reply = match (msg, self.conns.get(&id).and_then(|c| c.process)) {
            (Message::SetWakeFd(m), Some(slot)) => {
                reply_or_error(self.plane.set_wake_fd(slot, &m, fds), |()| {
                    Message::WakeFdSet
                })
            }
            (msg, _) => self.handle(id, msg, now),
        };
        self.reply(id, &reply, request_id)
    }

    fn reply(&mut self, id: ConnId, reply: &Message, request_id: u32) -> bool {
        let Some(conn) = self.conns.get(&id) else {
            return false;
        };
        let fds = self.descriptors_for(reply);
        if let Err(e) = conn.send_with_fds(reply, request_id, &fds) {
            log::warn!("{conn}: {e}");
            self.close(id, Departure::ConnectionClosed);
            return false;
        }
        true
    }

    /// The descriptors `reply` carries. The rights follow the role: a
    /// registration hands over the mgmt segment read-only and the process's
    /// own heartbeat file; a port its group's control part and payload part,
    /// read-write to a publisher and read-only to a subscriber; a `WakeFd`
    /// the port's wake descriptor; nothing else carries descriptors.
    fn descriptors_for(&self, reply: &Message) -> Vec<BorrowedFd<'_>> {
        let fds = match reply {
            Message::Registered(r) => self
                .plane
                .processes()
                .get(r.process_slot)
                .map(|p| [self.segments.registration_fd(), p.heartbeat.fd()]),
            Message::PublisherCreated(c) => self.plane.port_fds(c.group, PortKind::Publisher),
            Message::SubscriberCreated(c) => self.plane.port_fds(c.group, PortKind::Subscriber),
            Message::NotifierCreated(c) => self.plane.port_fds(c.group, PortKind::Notifier),
            Message::ListenerCreated(c) => self.plane.port_fds(c.group, PortKind::Listener),
            Message::WakeFd(port) => return self.plane.wake_fd(port).into_iter().collect(),
            _ => None,
        };
        fds.map_or_else(Vec::new, Vec::from)
    }

    /// Computes the reply to a client-to-daemon message.
    fn handle(&mut self, id: ConnId, msg: Message, now: u64) -> Message {
        let Some(conn) = self.conns.get(&id) else {
            return error_message(ErrorCode::Internal, "connection vanished");
        };
        let (process, creds) = (conn.process, conn.creds);
        match (msg, process) {
            (Message::QueryStatus, _) => {
                Message::Status(self.plane.status(now, self.refusals.counters()))
            }
            (Message::QueryProcesses(page), _) => {
                Message::ProcessesPage(self.plane.processes_page(page.start, now))
            }
            (Message::QueryServices(page), _) => {
                Message::PortsPage(self.plane.ports_page(page.start))
            }
            (Message::QueryMempools, _) => Message::Mempools(self.plane.mempools()),
            (Message::QueryGroups(page), _) => {
                Message::GroupsPage(self.plane.groups_page(page.start))
            }
            (Message::QueryServiceLayout(service), _) => {
                reply_or_error(self.plane.service_layout(&service), Message::ServiceLayout)
            }
            (Message::ResetGroup(m), _) => reply_or_error(
                self.plane.reset_group_request(&creds, &m),
                Message::GroupReset,
            ),
            (Message::RevokePort(m), _) => reply_or_error(
                self.plane.revoke_port_request(&creds, &m),
                Message::PortRevoked,
            ),
            (Message::Register(_), Some(slot)) => error_message(
                ErrorCode::AlreadyRegistered,
                &format!("this connection is already registered (process slot {slot})"),
            ),
            (Message::Register(register), None) => self.register(id, &register, now),
            (msg, None) => error_message(
                ErrorCode::NotRegistered,
                &format!(
                    "{:?} needs a registered connection: send Register first",
                    msg.kind()
                ),
            ),
            (Message::Unregister, Some(slot)) => {
                self.remove_process(slot, Departure::Unregistered);
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.process = None;
                    conn.pending_since_ms = now;
                }
                Message::Unregistered
            }
            (Message::CreatePublisher(m), Some(slot)) => reply_or_error(
                self.plane.create_publisher(slot, &m),
                Message::PublisherCreated,
            ),
            (Message::CreateSubscriber(m), Some(slot)) => reply_or_error(
                self.plane.create_subscriber(slot, &m),
                Message::SubscriberCreated,
            ),
            (Message::CreateNotifier(m), Some(slot)) => reply_or_error(
                self.plane.create_notifier(slot, &m),
                Message::NotifierCreated,
            ),
            (Message::CreateListener(m), Some(slot)) => reply_or_error(
                self.plane.create_listener(slot, &m),
                Message::ListenerCreated,
            ),
            (Message::RemovePort(m), Some(slot)) => {
                reply_or_error(self.plane.remove_port(slot, &m), |()| Message::PortRemoved)
            }
            (Message::QueryWakeFd(m), Some(slot)) => {
                reply_or_error(self.plane.query_wake_fd(slot, &m), Message::WakeFd)
            }
            (msg, Some(_)) => error_message(
                ErrorCode::UnexpectedMessage,
                &format!("{:?} is not a request", msg.kind()),
            ),
        }
    }

    fn register(&mut self, id: ConnId, msg: &wire::Register, now: u64) -> Message {
        let Some(creds) = self.conns.get(&id).map(|c| c.creds) else {
            return error_message(ErrorCode::Internal, "connection vanished");
        };
        let (slot, generation, registered) = match self.plane.register(creds, id, msg, now) {
            Ok((process, registered)) => {
                log::info!("{process} registered on connection {id}");
                (process.slot, process.generation, registered)
            }
            Err(e) => {
                log::warn!("connection {id}: registration refused: {e}");
                return Message::Error(e.to_reply());
            }
        };
        let watched = self.plane.processes().get(slot).map(|p| {
            self.poller
                .add(&p.pidfd, pidfd_token(slot, generation), Interest::Readable)
        });
        if let Some(Err(e)) = watched {
            log::error!("cannot watch the pidfd of slot {slot}: {e}");
            self.plane.remove_process(slot, Departure::ConnectionClosed);
            return error_message(ErrorCode::Internal, &e.to_string());
        }
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.process = Some(slot);
        }
        Message::Registered(registered)
    }

    fn on_pidfd(&mut self, slot: u32, generation: u32) {
        let conn = match self.plane.processes().get(slot) {
            Some(p) if p.generation == generation => p.conn,
            _ => return,
        };
        self.remove_process(slot, Departure::Exited);
        self.drop_connection(conn);
    }

    /// Removes the process in `slot` (its ports and heartbeat) and stops watching its pidfd.
    fn remove_process(&mut self, slot: u32, why: Departure) {
        if let Some(process) = self.plane.processes().get(slot)
            && let Err(e) = self.poller.delete(&process.pidfd)
        {
            log::warn!("{process}: {e}");
        }
        self.plane.remove_process(slot, why);
    }

    /// Unroutes the unresponsive process in `slot` and closes its connection;
    /// keeps watching its pidfd (its exit reclaims it), after sending it
    /// `SIGKILL` when `heartbeat.kill_unresponsive` is set.
    fn drop_unresponsive(&mut self, slot: u32, now: u64) {
        let kill = self.plane.config().heartbeat.kill_unresponsive;
        let Some(process) = self.plane.drop_unresponsive(slot, now) else {
            return;
        };
        let conn = process.conn;
        if kill && let Err(e) = process.pidfd.kill() {
            log::error!("{process}: {e}");
        }
        self.drop_connection(conn);
    }

    /// Closes connection `id`, removing its process (if registered) as `why`.
    fn close(&mut self, id: ConnId, why: Departure) {
        let slot = self.conns.get(&id).and_then(|c| c.process);
        if let Some(slot) = slot {
            self.remove_process(slot, why);
        }
        self.drop_connection(id);
    }

    fn drop_connection(&mut self, id: ConnId) {
        if let Some(conn) = self.conns.remove(&id) {
            if let Err(e) = self.poller.delete(&conn.socket) {
                log::warn!("{conn}: {e}");
            }
            log::debug!("{conn}: closed");
        }
    }

    /// Sends what the control plane has to tell processes unasked (a port
    /// revoked) on their connections, with request id 0; a connection that
    /// cannot take it is closed like one whose reply fails. A process that
    /// has no connection any more (dropped as unresponsive) is not told.
    fn send_notices(&mut self) {
        loop {
            let notices = self.plane.take_notices();
            if notices.is_empty() {
                return;
            }
            for (id, notice) in notices {
                let Some(conn) = self.conns.get(&id) else {
                    log::debug!("connection {id} is gone: {:?} not sent", notice.kind());
                    continue;
                };
                if let Err(e) = conn.send(&notice, 0) {
                    log::warn!("{conn}: {e}");
                    self.close(id, Departure::ConnectionClosed);
                }
            }
        }
    }

    fn tick(&mut self, now: u64) {
        if self.accept_paused {
            match self
                .poller
                .add(&self.listener, LISTENER, Interest::Readable)
            {
                Ok(()) => self.accept_paused = false,
                Err(e) => log::error!("{e}"),
            }
        }
        for slot in self.plane.expired_processes(now) {
            self.drop_unresponsive(slot, now);
        }
        self.expire_pending(now);
        self.refusals.tick(now);
    }

    /// Stops serving: marks the mgmt segment, sends `Shutdown` to every
    /// client, closes every connection, wakes every sleeping subscriber.
    /// Returns the listener (dropping it removes the socket file).
    pub fn shutdown(mut self) -> SeqpacketListener {
        self.plane.mark_shutting_down();
        self.refusals.finish(monotonic_ms());
        for conn in self.conns.values() {
            if let Err(e) = conn.send(&Message::Shutdown, 0) {
                log::debug!("{conn}: {e}");
            }
            drop(conn.socket.shutdown());
        }
        self.conns.clear();
        self.plane.wake_all_sleepers();
        log::info!(
            "stopped; {} processes were registered",
            self.plane.processes().count()
        );
        self.listener
    }
}

/// The request id of a frame that did not decode, when its header at least
/// starts like one (magic in place), so the error reply can be matched; else 0.
fn error_message(code: ErrorCode, detail: &str) -> Message {
    Message::Error(wire::ErrorReply::new(code, detail))
}

fn reply_or_error<T>(result: Result<T, RequestError>, ok: impl FnOnce(T) -> Message) -> Message {
    match result {
        Ok(value) => ok(value),
        Err(e) => Message::Error(e.to_reply()),
    }
}
