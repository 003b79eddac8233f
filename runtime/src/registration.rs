//! [`Registration`]: what this process's registration with the daemon
//! consists of, shared by every port and the heartbeat thread: the mapped
//! mgmt segment and this process's heartbeat file (it owns their mappings,
//! and the table of the segment groups mapped for this process's ports), the
//! control connection, whether the daemon is still there, and this process's
//! ports as the daemon named them, with what it said about them (revoked,
//! [`crate::port_status`]).
//!
//! The daemon's notices (a port revoked, a late subscriber wanting a
//! publisher's history) arrive on the control connection unasked; whoever
//! reads the connection (a request in flight, or the heartbeat thread
//! between requests) hands them to the port table or to the history
//! servers ([`Registration::note_notices`], [`crate::history_on_connect`]).
//!
//! "The daemon is gone" is one process-wide flag, set when the control
//! connection closes or delivers `Shutdown` (seen by a request or by the
//! heartbeat thread), together with the mgmt segment's state word, which the
//! daemon sets to `SHUTTING_DOWN` first thing when it stops. Every operation
//! checks it and fails with a `DaemonGone` error, or the retryable
//! `Disconnected` when the runtime registers again ([`Gone::Disconnected`];
//! a new `Registration` then takes this one's place, [`crate::connection`]);
//! sleeping subscribers of this process are woken when it is set. The state word alone is not
//! trusted: only the daemon writes the (read-only) mgmt segment, but a
//! process of the daemon's own user, or root, could reopen it writable
//! through `/proc`, and a forged word must not shut every runtime out. So
//! it counts once the connection confirms it (`Shutdown` received, or
//! closed), which the daemon's real shutdown does right after setting it.
//!
//! The mgmt segment's header is the daemon's too: it repairs it before every
//! `Registered` reply (and on its audit timer), and a registration whose
//! mgmt segment does not attach because of a header word is made once more
//! before it fails with [`InitError::CorruptMgmt`].
//!
//! "This process was dropped" is the `dropped` word of its heartbeat file,
//! which the daemon sets when the process's heartbeat was older than the
//! timeout (it was stopped or hung) before it unroutes the process and
//! closes its connection. Every operation reads it first ([`Gone`]), so a
//! process resumed after being dropped fails its very next call with an
//! `Unresponsive` error, which says so, instead of `DaemonGone`, which would
//! be false: the daemon still runs, it only keeps this process's chunks
//! until it exits.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use zerocp_core::fixed_string::FixedString;
use zerocp_core::heartbeat::HeartbeatSlot;
use zerocp_core::mgmt::STATE_SHUTTING_DOWN;
use zerocp_core::sync::Ordering;
use zerocp_core::wire::{Message, PortKind};
use zerocp_os_linux::control_client::ControlClient;
use zerocp_os_linux::names::{DomainName, DomainPaths};

use crate::error::{ControlError, InitError, MapSegmentsError};
use crate::history_on_connect::HistoryServers;
use crate::port_status::{PortKey, PortStatus, PortTable};
use crate::register_request::connect_and_register;
use crate::segment_mappings::SegmentMappings;

/// Longest process name accepted by [`crate::Runtime::init`] (bytes).
pub const MAX_PROCESS_NAME_LEN: usize = 32;

/// How long a request waits for its reply. Generous: the daemon may be busy
/// cleaning up after a dead process, and CI runs under qemu.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Why this process can no longer work with the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gone {
    /// The daemon stopped, died or closed the connection.
    Daemon,
    /// As `Daemon`, and the runtime registers again (reconnecting on).
    Disconnected,
    /// The daemon dropped this process for missing heartbeats.
    Unresponsive {
        /// The daemon's heartbeat timeout.
        timeout_ms: u32,
    },
}

/// This process's registration (module docs).
pub(crate) struct Registration {
    segments: SegmentMappings,
    conn: Mutex<ControlClient>,
    gone: AtomicBool,
    /// The connection confirmed the shutdown the state word announced.
    shutdown_confirmed: AtomicBool,
    /// This process's ports: revoked when the daemon says so, the
    /// subscribers among them woken when the daemon is gone.
    ports: Mutex<PortTable>,
    /// Its publishers that keep history, served when the daemon says a late
    /// subscriber wants it ([`crate::history_on_connect`]).
    history: HistoryServers,
    slot: u32,
    /// Whether the runtime registers again once the daemon is gone (which
    /// `Gone` a gone daemon is).
    reconnecting: bool,
    /// The daemon's heartbeat timeout (for the `Unresponsive` error).
    heartbeat_timeout_ms: u32,
}

impl Registration {
    /// Connects to the daemon of `domain`, registers as `name` (connecting
    /// again while the daemon has no room, [`crate::register_request`]),
    /// maps the segments it announces and writes a first heartbeat; returns
    /// the registration and the heartbeat interval the daemon asks for.
    /// `reconnecting` says whether the runtime registers again once the
    /// daemon is gone ([`Gone::Disconnected`] rather than [`Gone::Daemon`]);
    /// `patience` bounds each registration's waiting for the daemon
    /// ([`crate::register_request::REGISTRATION_DEADLINE`] for
    /// `Runtime::init`, shorter while reconnecting, [`crate::heartbeat_thread`]).
    pub(crate) fn establish(
        name: &str,
        domain: &DomainName,
        reconnecting: bool,
        patience: Duration,
    ) -> Result<(Self, Duration), InitError> {
        let process_name = check_name(name)?;
        let paths = DomainPaths::for_client(domain).map_err(InitError::RunDir)?;
        let mut attempts = 0;
        let (conn, registered, segments) = loop {
            attempts += 1;
            let (conn, registered, fds) = connect_and_register(&paths, process_name, patience)?;
            match SegmentMappings::map(domain, &registered, fds) {
                Ok(segments) => break (conn, registered, segments),
                Err(MapSegmentsError::Mgmt(e)) if e.is_header_word() => {
                    if attempts == REGISTER_ATTEMPTS {
                        return Err(InitError::CorruptMgmt(e));
                    }
                    // Closing the connection unregisters; the daemon
                    // repairs the header before its next `Registered`.
                    log::warn!("the mgmt segment did not attach ({e}); registering again");
                }
                Err(e) => return Err(InitError::Segment(e)),
            }
        };
        let slot = registered.process_slot;
        segments
            .heartbeat()
            .beat(zerocp_os_linux::clock::monotonic_ms());
        let interval = Duration::from_millis(u64::from(registered.heartbeat_interval_ms.max(1)));
        let registration = Self {
            segments,
            conn: Mutex::new(conn),
            gone: AtomicBool::new(false),
            shutdown_confirmed: AtomicBool::new(false),
            ports: Mutex::new(PortTable::default()),
            history: HistoryServers::default(),
            slot,
            reconnecting,
            heartbeat_timeout_ms: registered.heartbeat_timeout_ms,
        };
        Ok((registration, interval))
    }

    /// The mapped segments.
    pub(crate) fn segments(&self) -> &SegmentMappings {
        &self.segments
    }

    /// This process's heartbeat slot.
    pub(crate) fn heartbeat_slot(&self) -> &HeartbeatSlot {
        self.segments.heartbeat()
    }

    /// This process's slot index (the owner of its ports).
    pub(crate) fn slot(&self) -> u32 {
        self.slot
    }

    /// Whether this process can no longer work with the daemon ([`Gone`]).
    pub(crate) fn is_gone(&self) -> bool {
        self.gone().is_some()
    }

    /// Why this process can no longer work with the daemon, if it cannot:
    /// the daemon dropped it for missing heartbeats (its heartbeat slot says
    /// so), or the daemon is gone (the connection closed, or the daemon
    /// announced its shutdown in the mgmt segment and the connection
    /// confirmed it).
    pub(crate) fn gone(&self) -> Option<Gone> {
        // The file is this process's alone, so its `dropped` word is about
        // this process (an Acquire load, see `HeartbeatSlot`).
        if self.heartbeat_slot().is_dropped() {
            return Some(Gone::Unresponsive {
                timeout_ms: self.heartbeat_timeout_ms,
            });
        }
        // SeqCst: a sleeper reads its futex word before this load; the
        // heartbeat thread stores the flag before bumping that word (see
        // `crate::wait`), so a sleeper cannot miss both.
        let daemon_gone = self.gone.load(Ordering::SeqCst) || self.shutdown_announced();
        daemon_gone.then(|| self.daemon_gone())
    }

    /// What a gone daemon is for this runtime: [`Gone::Disconnected`] when
    /// it registers again, else [`Gone::Daemon`].
    pub(crate) fn daemon_gone(&self) -> Gone {
        if self.reconnecting {
            Gone::Disconnected
        } else {
            Gone::Daemon
        }
    }

    /// Whether the mgmt segment's state word says `SHUTTING_DOWN` and the
    /// control connection confirms it (module docs). While a request holds
    /// the connection it is not asked: that request sees a closed
    /// connection itself, and the heartbeat thread looks again.
    #[inline]
    fn shutdown_announced(&self) -> bool {
        // SeqCst: as the `gone` flag (see `gone`).
        if self.shutdown_confirmed.load(Ordering::SeqCst) {
            return true;
        }
        // Two loads on every data-path call; the rest is out of line.
        self.segments.mgmt().state() == STATE_SHUTTING_DOWN && self.confirm_shutdown()
    }

    /// The state word says `SHUTTING_DOWN`: whether the control connection
    /// confirms it (once it does, `shutdown_confirmed` answers).
    #[cold]
    #[inline(never)]
    fn confirm_shutdown(&self) -> bool {
        let Some(mut conn) = self.try_connection() else {
            return false;
        };
        let confirmed = conn.poll_closed();
        let notices = conn.take_notices();
        drop(conn);
        self.note_notices(notices);
        if confirmed {
            // SeqCst: as above.
            self.shutdown_confirmed.store(true, Ordering::SeqCst);
        }
        confirmed
    }

    /// Records that the daemon is gone (or dropped this process) and wakes
    /// this process's sleeping subscribers, once.
    pub(crate) fn mark_gone(&self) {
        // SeqCst: see `gone`.
        if self.gone.swap(true, Ordering::SeqCst) {
            return;
        }
        match self.gone() {
            Some(Gone::Unresponsive { timeout_ms }) => log::error!(
                "the ZeroCP daemon dropped this process for missing heartbeats (none for longer \
                 than {timeout_ms} ms); every further call fails with Unresponsive"
            ),
            Some(Gone::Disconnected) => {
                log::warn!(
                    "the ZeroCP daemon is gone; calls fail with Disconnected until it is back"
                )
            }
            _ => log::warn!("the ZeroCP daemon is gone; every further call fails with DaemonGone"),
        }
        for port in lock(&self.ports).iter() {
            port.wake_sleepers();
        }
    }

    /// Sends a request and waits for its reply; a closed connection marks
    /// the daemon gone.
    pub(crate) fn request(
        &self,
        msg: &Message,
        timeout: Duration,
    ) -> Result<Message, ControlError> {
        self.request_with_fds(msg, timeout).map(|(reply, _)| reply)
    }

    /// As [`Registration::request`], and the descriptors the reply carried.
    fn request_with_fds(
        &self,
        msg: &Message,
        timeout: Duration,
    ) -> Result<(Message, Vec<OwnedFd>), ControlError> {
        self.request_sending_fds(msg, &[], timeout)
    }

    /// As [`Registration::request_with_fds`], with `send` attached to the
    /// request.
    fn request_sending_fds(
        &self,
        msg: &Message,
        send: &[BorrowedFd<'_>],
        timeout: Duration,
    ) -> Result<(Message, Vec<OwnedFd>), ControlError> {
        if self.is_gone() {
            return Err(ControlError::Closed);
        }
        let (result, notices) = {
            let mut conn = lock(&self.conn);
            let result = conn.request_sending_fds(msg, send, timeout);
            (result, conn.take_notices())
        };
        self.note_notices(notices);
        if matches!(result, Err(ControlError::Closed)) {
            self.mark_gone();
        }
        result
    }

    /// Hands the daemon's notices (read from the connection) to the port
    /// table (each revocation revokes its port and wakes its sleepers) and
    /// to the history servers (each `HistoryWanted` is served at once if
    /// the port's state is free, else soon: [`crate::history_on_connect`]).
    pub(crate) fn note_notices(&self, notices: Vec<Message>) {
        if notices.is_empty() {
            return;
        }
        let (wanted, others): (Vec<_>, Vec<_>) = notices
            .into_iter()
            .partition(|n| matches!(n, Message::HistoryWanted(_)));
        if !others.is_empty() {
            lock(&self.ports).apply(others);
        }
        for notice in &wanted {
            if let Message::HistoryWanted(w) = notice {
                self.history.want(PortKey {
                    kind: PortKind::Publisher,
                    group: w.group,
                    index: w.port_index,
                    generation: w.generation,
                });
            }
        }
        if !wanted.is_empty() {
            self.history.serve(self);
        }
    }

    /// Serves the history still wanted (the heartbeat thread's retry);
    /// returns whether some is still wanted.
    pub(crate) fn serve_history(&self) -> bool {
        if !self.history.is_wanted() {
            return false;
        }
        self.history.serve(self);
        self.history.is_wanted()
    }

    /// This registration's publishers that keep history.
    pub(crate) fn history(&self) -> &HistoryServers {
        &self.history
    }

    /// As [`Registration::call_with_fds`] with `timeout`, unless a request
    /// holds the connection (then `None`): for the background thread, which
    /// must not wait behind a request of the application.
    pub(crate) fn try_request_with_fds(
        &self,
        msg: &Message,
        timeout: Duration,
    ) -> Option<Result<(Message, Vec<OwnedFd>), ControlError>> {
        if self.is_gone() {
            return Some(Err(ControlError::Closed));
        }
        let (result, notices) = {
            let mut conn = match self.conn.try_lock() {
                Ok(conn) => conn,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return None,
            };
            let result = conn.request_sending_fds(msg, &[], timeout);
            (result, conn.take_notices())
        };
        self.note_notices(notices);
        if matches!(result, Err(ControlError::Closed)) {
            self.mark_gone();
        }
        Some(result)
    }

    /// Sends a request with the standard timeout.
    pub(crate) fn call(&self, msg: &Message) -> Result<Message, ControlError> {
        self.request(msg, REQUEST_TIMEOUT)
    }

    /// As [`Registration::call`], and the descriptors the reply carried.
    pub(crate) fn call_with_fds(
        &self,
        msg: &Message,
    ) -> Result<(Message, Vec<OwnedFd>), ControlError> {
        self.request_with_fds(msg, REQUEST_TIMEOUT)
    }

    /// As [`Registration::call_with_fds`], with `fd` attached to the
    /// request (a wake descriptor).
    pub(crate) fn call_sending_fd(
        &self,
        msg: &Message,
        fd: BorrowedFd<'_>,
    ) -> Result<(Message, Vec<OwnedFd>), ControlError> {
        self.request_sending_fds(msg, &[fd], REQUEST_TIMEOUT)
    }

    /// The control connection (for the heartbeat thread).
    pub(crate) fn connection(&self) -> MutexGuard<'_, ControlClient> {
        lock(&self.conn)
    }

    /// The control connection, unless a request holds it.
    pub(crate) fn try_connection(&self) -> Option<MutexGuard<'_, ControlClient>> {
        match self.conn.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Adds a port of this process: revoked when the daemon says so (also
    /// if it said so already), woken (a subscriber) when the daemon goes.
    pub(crate) fn add_port(&self, status: &Arc<PortStatus>) {
        lock(&self.ports).add(Arc::clone(status));
    }

    /// Removes a port added with [`Registration::add_port`].
    pub(crate) fn remove_port(&self, status: &Arc<PortStatus>) {
        lock(&self.ports).remove(status);
    }
}

/// Registrations made at most: one whose mgmt segment does not attach
/// because of a header word is made once more.
const REGISTER_ATTEMPTS: u32 = 2;

/// Locks `mutex`, ignoring poisoning: every value behind the runtime's
/// mutexes stays consistent when a holder panics.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn check_name(name: &str) -> Result<FixedString<MAX_PROCESS_NAME_LEN>, InitError> {
    let invalid = |reason| InitError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("it contains control characters"));
    }
    FixedString::try_from_str(name).map_err(|_| invalid("it is longer than 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_names_are_checked() {
        assert!(check_name("planner").is_ok());
        assert!(check_name(&"x".repeat(32)).is_ok());
        for bad in ["", "a\nb", &"x".repeat(33)] {
            let e = check_name(bad).unwrap_err();
            assert!(matches!(e, InitError::InvalidName { .. }), "{bad:?}: {e}");
        }
    }
}
