//! The heartbeat thread: proves to the daemon that this process is alive and
//! notices when the daemon is not.
//!
//! Every heartbeat interval it writes `CLOCK_MONOTONIC` milliseconds into the
//! process's heartbeat file, shared with the daemon only (the daemon drops a process whose beat is older
//! than its timeout as unresponsive: it unroutes it, marks the slot dropped
//! and closes the connection, and reclaims its chunks only when it exits).
//! Between beats it sleeps in epoll on the control socket and on an eventfd
//! used to stop it:
//!
//! - the socket becoming readable while no request is in flight means the
//!   daemon sent a notice, `Shutdown`, or closed the connection (it died,
//!   or dropped this process). A notice (one of this process's ports was
//!   revoked) goes to the port table, which marks the port and wakes its
//!   sleepers ([`crate::port_status`]); a `HistoryWanted` notice has the
//!   thread hand a late subscriber its history at once, or, while the
//!   publisher is inside a publish, after waits of
//!   [`RETRY_INTERVAL`] instead of the full interval
//!   ([`crate::history_on_connect`]); otherwise the thread marks the
//!   daemon gone, which wakes this process's sleeping subscribers, and ends;
//!   the heartbeat slot's `dropped` word tells the two apart
//!   (`Unresponsive` or `DaemonGone`);
//! - the mgmt segment's state word saying `SHUTTING_DOWN`, or the slot's
//!   `dropped` word, has the same effect.
//!
//! So a `kill -9` of the daemon is noticed at once (the kernel closes its
//! sockets). Then, with reconnecting on (the default,
//! [`crate::RuntimeBuilder::reconnect`]), the thread marks the connection
//! `Disconnected` and tries to register again: at once, then after waits
//! that double up to the ceiling, sleeping in epoll on its stop eventfd (so
//! dropping the runtime meanwhile returns at once) and on an inotify
//! descriptor watching the run directory for the daemon's socket
//! ([`SocketWatch`]): the socket appearing brings the next attempt forward
//! to now (at least [`MIN_EARLY_ATTEMPT_GAP`] after the previous one, one
//! attempt per burst of events) and starts the doubling over, since the
//! daemon may not listen yet; without inotify the backoff alone finds the
//! daemon, within one ceiling. The descriptor lives only while
//! disconnected. Each attempt waits for
//! the daemon at most [`attempt_deadline`] (the ceiling, kept between
//! [`MIN_ATTEMPT_DEADLINE`] and [`MAX_ATTEMPT_DEADLINE`]), not the 20 s of
//! `Runtime::init`: a daemon that accepts but does not answer, or has no
//! room, must not hold the thread (dropping the runtime waits for the
//! attempt in flight), and the backoff loop tries again anyway. Once
//! registered it swaps the new registration in ([`crate::connection`],
//! which wakes the watchers and calls the application's callback, as on
//! every transition) and beats for it. With
//! reconnecting off, or when the daemon dropped this process, the thread
//! marks the connection `Gone` and ends, and every later call of the
//! application fails with `DaemonGone` (or `Unresponsive`).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zerocp_core::sync::Ordering;
use zerocp_os_linux::backoff::Backoff;
use zerocp_os_linux::clock::monotonic_ms;
use zerocp_os_linux::error::{PollError, WakeupError};
use zerocp_os_linux::names::DomainName;
use zerocp_os_linux::poller::{Events, Interest, Poller};
use zerocp_os_linux::wakeup::Wakeup;

use crate::connection::Connection;
use crate::history_on_connect::RETRY_INTERVAL;
use crate::registration::{Gone, Registration};
use crate::runtime_builder::ReconnectPolicy;
use crate::socket_watch::SocketWatch;

/// The first wait before registering again after a failed attempt (the
/// first attempt comes at once; jittered down to half).
const FIRST_RECONNECT_WAIT: Duration = Duration::from_millis(2);

/// The shortest time between two attempts to register again that the
/// daemon's socket appearing brings forward ([`SocketWatch`]).
const MIN_EARLY_ATTEMPT_GAP: Duration = Duration::from_millis(1);

/// The shortest time one attempt to register again waits for the daemon:
/// long enough for a daemon under load (CI runs under qemu) to answer.
const MIN_ATTEMPT_DEADLINE: Duration = Duration::from_millis(500);

/// The longest time one attempt to register again waits for the daemon.
const MAX_ATTEMPT_DEADLINE: Duration = Duration::from_secs(2);

/// How long one attempt to register again may wait for the daemon, with
/// the policy's `ceiling` (module docs).
fn attempt_deadline(ceiling: Duration) -> Duration {
    ceiling.clamp(MIN_ATTEMPT_DEADLINE, MAX_ATTEMPT_DEADLINE)
}

/// What this process registers as, again after a daemon restart.
pub(crate) struct Identity {
    /// The process name.
    pub(crate) name: String,
    /// The domain.
    pub(crate) domain: DomainName,
    /// Whether and how to register again.
    pub(crate) policy: ReconnectPolicy,
}

/// Why [`run`] ended.
enum Ended {
    /// Stopping was requested.
    Stopped,
    /// The registration is gone (the daemon, or dropped by it).
    Gone,
}

const TOKEN_SOCKET: u64 = 1;
const TOKEN_STOP: u64 = 2;
/// The inotify descriptor of the [`SocketWatch`], while disconnected.
const TOKEN_SOCKET_DIR: u64 = 3;

/// Why the heartbeat thread could not be started.
#[derive(Debug)]
pub enum HeartbeatStartError {
    /// The epoll instance could not be set up.
    Poll(PollError),
    /// The stop eventfd could not be created.
    Wakeup(WakeupError),
    /// The thread could not be spawned.
    Spawn(std::io::Error),
}

impl std::fmt::Display for HeartbeatStartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Poll(e) => e.fmt(f),
            Self::Wakeup(e) => e.fmt(f),
            Self::Spawn(e) => write!(f, "cannot spawn a thread: {e}"),
        }
    }
}

impl std::error::Error for HeartbeatStartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Poll(e) => Some(e),
            Self::Wakeup(e) => Some(e),
            Self::Spawn(e) => Some(e),
        }
    }
}

/// The running thread; [`HeartbeatThread::stop`] ends and joins it.
pub(crate) struct HeartbeatThread {
    stop: Arc<StopSignal>,
    handle: Option<JoinHandle<()>>,
}

struct StopSignal {
    requested: AtomicBool,
    wakeup: Wakeup,
}

impl HeartbeatThread {
    /// Starts beating every `interval` for the heartbeat slot of
    /// `connection`'s registration, and registering again as `identity`
    /// says when the daemon is gone (module docs).
    pub(crate) fn spawn(
        connection: Arc<Connection>,
        identity: Arc<Identity>,
        interval: Duration,
    ) -> Result<Self, HeartbeatStartError> {
        let stop = Arc::new(StopSignal {
            requested: AtomicBool::new(false),
            wakeup: Wakeup::new().map_err(HeartbeatStartError::Wakeup)?,
        });
        let poller = Poller::new().map_err(HeartbeatStartError::Poll)?;
        poller
            .add(&stop.wakeup, TOKEN_STOP, Interest::Readable)
            .map_err(HeartbeatStartError::Poll)?;
        watch(&poller, &connection.current()).map_err(HeartbeatStartError::Poll)?;
        let thread_stop = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("zerocp-heartbeat".into())
            .spawn(move || serve(&connection, &identity, &poller, &thread_stop, interval))
            .map_err(HeartbeatStartError::Spawn)?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops the thread and waits for it to end (idempotent).
    pub(crate) fn stop(&mut self) {
        // Relaxed: the eventfd write below is what wakes the thread; the flag
        // only tells it why, and it re-reads it after the wake-up.
        self.stop.requested.store(true, Ordering::Relaxed);
        if let Err(e) = self.stop.wakeup.notify() {
            log::warn!("cannot wake the heartbeat thread to stop it: {e}");
        }
        if let Some(handle) = self.handle.take()
            && handle.join().is_err()
        {
            log::error!("the heartbeat thread panicked");
        }
    }
}

/// Adds `registration`'s control socket to `poller`.
fn watch(poller: &Poller, registration: &Registration) -> Result<(), PollError> {
    poller.add(
        registration.connection().socket(),
        TOKEN_SOCKET,
        Interest::Readable,
    )
}

/// Beats for the current registration, and registers again when it is
/// gone, as long as the policy says so (module docs).
fn serve(
    connection: &Connection,
    identity: &Identity,
    poller: &Poller,
    stop: &StopSignal,
    mut interval: Duration,
) {
    loop {
        let registration = connection.current();
        let ended = run(&registration, poller, stop, interval);
        if let Err(e) = poller.delete(registration.connection().socket()) {
            log::warn!("heartbeat thread: {e}");
        }
        let dropped = matches!(registration.gone(), Some(Gone::Unresponsive { .. }));
        drop(registration);
        match ended {
            Ended::Stopped => return,
            Ended::Gone if dropped || !identity.policy.enabled => {
                connection.set_gone();
                return;
            }
            Ended::Gone => connection.set_disconnected(),
        }
        let Some((registration, next_interval)) = register_again(identity, poller, stop) else {
            return;
        };
        if let Err(e) = watch(poller, &registration) {
            log::error!("heartbeat thread: {e}; registering again");
            registration.mark_gone();
        }
        let epoch = connection.reconnected(Arc::new(registration));
        log::warn!("registered again with the ZeroCP daemon (epoch {epoch})");
        interval = next_interval;
    }
}

/// Registers as `identity` until it works or stopping is requested (then
/// `None`): at once, then after waits doubling up to the policy's ceiling,
/// cut short (and the doubling started over) when the daemon's socket
/// appears ([`SocketWatch`], module docs).
fn register_again(
    identity: &Identity,
    poller: &Poller,
    stop: &StopSignal,
) -> Option<(Registration, Duration)> {
    let mut socket_watch = SocketWatch::start(&identity.domain, poller, TOKEN_SOCKET_DIR);
    let registered = attempt_until_registered(identity, poller, stop, socket_watch.as_mut());
    if let Some(watch) = &socket_watch
        && let Err(e) = poller.delete(watch.dir_watch())
    {
        log::debug!("heartbeat thread: {e}");
    }
    registered
}

/// The loop of [`register_again`], with the socket watch if there is one.
fn attempt_until_registered(
    identity: &Identity,
    poller: &Poller,
    stop: &StopSignal,
    mut socket_watch: Option<&mut SocketWatch>,
) -> Option<(Registration, Duration)> {
    let mut backoff = Backoff::new(FIRST_RECONNECT_WAIT, identity.policy.ceiling);
    let patience = attempt_deadline(identity.policy.ceiling);
    let mut events = Events::with_capacity(4);
    loop {
        // Relaxed: see `HeartbeatThread::stop`. Checked before every
        // attempt too, not only after a wait: the wait may end at once.
        if stop.requested.load(Ordering::Relaxed) {
            return None;
        }
        match Registration::establish(&identity.name, &identity.domain, true, patience) {
            Ok(registered) => return Some(registered),
            Err(e) => log::debug!("registering again: {e}"),
        }
        // From the attempt's end, as the wait always was: an attempt can
        // take up to `patience`.
        let attempted = Instant::now();
        let mut next_attempt = attempted + backoff.next_wait();
        loop {
            let now = Instant::now();
            if now >= next_attempt {
                break;
            }
            if let Err(e) = poller.wait(&mut events, Some(next_attempt - now)) {
                // Waiting without the stop eventfd still bounds the attempts.
                log::warn!("heartbeat thread: {e}");
                std::thread::sleep(next_attempt - now);
            }
            if events.iter().any(|e| e.token == TOKEN_STOP)
                && let Err(e) = stop.wakeup.drain()
            {
                log::warn!("heartbeat thread: {e}");
            }
            // Relaxed: see `HeartbeatThread::stop`.
            if stop.requested.load(Ordering::Relaxed) {
                return None;
            }
            if events.iter().any(|e| e.token == TOKEN_SOCKET_DIR)
                && let Some(watch) = socket_watch.as_deref_mut()
                && watch.socket_appeared(poller)
            {
                // At once, but never more often than once per gap: a burst
                // of events makes one attempt, a flood cannot make a spin.
                next_attempt = next_attempt.min(attempted + MIN_EARLY_ATTEMPT_GAP);
                // The daemon may not listen yet: retry soon, not late.
                backoff = Backoff::new(FIRST_RECONNECT_WAIT, identity.policy.ceiling);
            }
        }
    }
}

/// Beats for `shared` until it is gone or stopping is requested.
fn run(shared: &Registration, poller: &Poller, stop: &StopSignal, interval: Duration) -> Ended {
    let mut events = Events::with_capacity(4);
    let mut next_beat = Instant::now();
    loop {
        // Relaxed: see `HeartbeatThread::stop`.
        if stop.requested.load(Ordering::Relaxed) {
            return Ended::Stopped;
        }
        let now = Instant::now();
        if now >= next_beat {
            shared.heartbeat_slot().beat(monotonic_ms());
            next_beat = now + interval;
        }
        if shared.is_gone() {
            shared.mark_gone();
            return Ended::Gone;
        }
        let mut left = next_beat.saturating_duration_since(Instant::now());
        if shared.serve_history() {
            // A publisher was busy publishing: try again soon.
            left = left.min(RETRY_INTERVAL);
        }
        if let Err(e) = poller.wait(&mut events, Some(left)) {
            log::error!("heartbeat thread: {e}; the daemon is treated as gone");
            shared.mark_gone();
            return Ended::Gone;
        }
        if events.iter().any(|e| e.token == TOKEN_SOCKET) {
            // A request in flight holds the connection and reads its reply
            // itself (and notices a closed socket); the thread must not wait
            // for it, or its beats would lapse during a slow request.
            match shared.try_connection() {
                Some(mut conn) => {
                    let closed = conn.poll_closed();
                    let notices = conn.take_notices();
                    drop(conn);
                    shared.note_notices(notices);
                    if closed {
                        shared.mark_gone();
                        return Ended::Gone;
                    }
                }
                None => std::thread::yield_now(),
            }
        }
        if events.iter().any(|e| e.token == TOKEN_STOP) {
            // A stop request: the flag is checked at the top of the loop.
            if let Err(e) = stop.wakeup.drain() {
                log::warn!("heartbeat thread: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_waits_about_the_ceiling_within_bounds() {
        assert_eq!(
            attempt_deadline(Duration::from_millis(1)),
            MIN_ATTEMPT_DEADLINE
        );
        assert_eq!(
            attempt_deadline(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            attempt_deadline(Duration::from_secs(60)),
            MAX_ATTEMPT_DEADLINE
        );
    }
}
