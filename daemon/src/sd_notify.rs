//! The service manager's notification protocol (`sd_notify`), spoken
//! directly: one datagram of `KEY=VALUE` lines to the `AF_UNIX` socket named
//! by `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
//!
//! `zerocpd` sends, under systemd (`Type=notify`):
//! - `READY=1` with a `STATUS=` line once its control socket accepts
//!   connections, so units ordered after it start when clients can connect;
//! - `WATCHDOG=1` every half of `WATCHDOG_USEC` from the event loop, so a
//!   hung loop (not merely a live process) makes systemd restart it;
//! - `STOPPING=1` with a `STATUS=` line when a stop signal arrived.
//!
//! Without `NOTIFY_SOCKET` (run by hand) nothing is sent. A failing send is
//! logged once per kind and never stops the daemon: the service manager is
//! an observer, not a dependency. `WATCHDOG_PID`, when set, must name this
//! process, else the watchdog request is for someone else and is ignored.

use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::net::{AddressFamily, SendFlags, SocketAddrUnix, SocketFlags, SocketType};

/// The environment variable naming the notification socket.
pub const NOTIFY_SOCKET_ENV: &str = "NOTIFY_SOCKET";
/// The environment variable with the watchdog timeout in microseconds.
pub const WATCHDOG_USEC_ENV: &str = "WATCHDOG_USEC";
/// The environment variable naming the process the watchdog is for.
pub const WATCHDOG_PID_ENV: &str = "WATCHDOG_PID";

/// A connection to the service manager's notification socket.
///
/// ```
/// use zerocp_daemon::sd_notify::Notifier;
/// // Without NOTIFY_SOCKET there is nobody to notify.
/// if std::env::var_os("NOTIFY_SOCKET").is_none() {
///     assert!(Notifier::from_env().is_none());
/// }
/// ```
#[derive(Debug)]
pub struct Notifier {
    socket: OwnedFd,
    address: SocketAddrUnix,
    /// The first failure is logged, the repeats are not.
    failed: bool,
}

impl Notifier {
    /// The notifier `NOTIFY_SOCKET` asks for, or `None` when it is unset,
    /// empty or unusable (logged).
    pub fn from_env() -> Option<Self> {
        let value = std::env::var_os(NOTIFY_SOCKET_ENV).filter(|v| !v.is_empty())?;
        let bytes = value.as_encoded_bytes();
        let address = match bytes.strip_prefix(b"@") {
            Some(name) => SocketAddrUnix::new_abstract_name(name),
            None => SocketAddrUnix::new(bytes),
        };
        let socket = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            None,
        );
        match (address, socket) {
            (Ok(address), Ok(socket)) => Some(Self {
                socket,
                address,
                failed: false,
            }),
            (Err(errno), _) | (_, Err(errno)) => {
                log::warn!("{NOTIFY_SOCKET_ENV}={value:?} is unusable: {errno}; not notifying");
                None
            }
        }
    }

    /// Sends `state` (newline-separated `KEY=VALUE` lines) in one datagram.
    pub fn notify(&mut self, state: &str) {
        match rustix::net::sendto(
            &self.socket,
            state.as_bytes(),
            SendFlags::NOSIGNAL,
            &self.address,
        ) {
            Ok(_) => self.failed = false,
            Err(errno) if !self.failed => {
                self.failed = true;
                log::warn!("cannot notify the service manager ({NOTIFY_SOCKET_ENV}): {errno}");
            }
            Err(_) => {}
        }
    }
}

/// How often to send `WATCHDOG=1`: half the timeout `WATCHDOG_USEC` sets,
/// when it is set, positive and (with `WATCHDOG_PID`) meant for this process.
///
/// ```
/// use std::time::Duration;
/// use zerocp_daemon::sd_notify::watchdog_interval;
/// assert_eq!(watchdog_interval(Some("2000000"), None, 7), Some(Duration::from_secs(1)));
/// assert_eq!(watchdog_interval(Some("2000000"), Some("8"), 7), None);
/// assert_eq!(watchdog_interval(Some("zero"), None, 7), None);
/// ```
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, own_pid: u32) -> Option<Duration> {
    if pid.is_some_and(|pid| pid.trim().parse::<u32>().ok() != Some(own_pid)) {
        return None;
    }
    let usec: u64 = usec?.trim().parse().ok().filter(|&us| us > 0)?;
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(1)))
}

/// [`watchdog_interval`] from this process's environment.
pub fn watchdog_interval_from_env() -> Option<Duration> {
    let var = |name| std::env::var(name).ok();
    watchdog_interval(
        var(WATCHDOG_USEC_ENV).as_deref(),
        var(WATCHDOG_PID_ENV).as_deref(),
        std::process::id(),
    )
}

/// What the daemon tells its service manager, and when: a [`Notifier`]
/// (if any) with the watchdog schedule (if asked for). Run by hand, every
/// call does nothing.
#[derive(Debug, Default)]
pub struct ServiceManager {
    notifier: Option<Notifier>,
    /// Interval and the monotonic time (ms) the next `WATCHDOG=1` is due.
    watchdog: Option<(u64, u64)>,
}

impl ServiceManager {
    /// The service manager of this process's environment; `now_ms` is the
    /// monotonic clock, from which the first watchdog ping is scheduled.
    pub fn from_env(now_ms: u64) -> Self {
        let notifier = Notifier::from_env();
        let watchdog = notifier
            .as_ref()
            .and(watchdog_interval_from_env())
            .map(|interval| {
                let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
                (ms, now_ms)
            });
        Self { notifier, watchdog }
    }

    /// `READY=1` with `status`.
    pub fn ready(&mut self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    /// `STOPPING=1` with `status`.
    pub fn stopping(&mut self, status: &str) {
        self.send(&format!("STOPPING=1\nSTATUS={status}"));
    }

    /// Milliseconds from `now_ms` until the next watchdog ping is due
    /// (`None`: no watchdog).
    pub fn millis_until_watchdog(&self, now_ms: u64) -> Option<u64> {
        self.watchdog.map(|(_, due)| due.saturating_sub(now_ms))
    }

    /// Sends `WATCHDOG=1` if it is due at `now_ms`.
    pub fn feed_watchdog(&mut self, now_ms: u64) {
        let Some((interval, due)) = self.watchdog else {
            return;
        };
        if now_ms >= due {
            self.watchdog = Some((interval, now_ms + interval));
            self.send("WATCHDOG=1");
        }
    }

    fn send(&mut self, state: &str) {
        if let Some(notifier) = &mut self.notifier {
            notifier.notify(state);
        }
    }
}
