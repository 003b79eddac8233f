//! [`Connection`]: which registration this process works through now, and
//! the state of its connection to the daemon ([`ConnectionState`]).
//!
//! A runtime is `Connected` at a registration *epoch* (1 for the
//! registration [`crate::Runtime::init`] made), `Disconnected` from the
//! moment it noticed the daemon gone until it registered again (then
//! `Connected` at the next epoch), and `Gone` for good when reconnecting is
//! off or the daemon dropped this process (docs/architecture.md, "Daemon
//! restarts"). The heartbeat thread moves the state
//! ([`crate::heartbeat_thread`]); ports and the [`crate::Runtime`] read it.
//!
//! The current registration sits behind a `RwLock`: taken when a port is
//! created and by the `Runtime`'s queries, never on a port's hot path (a
//! port keeps the registration it was created on, [`crate::port_owner`]).
//!
//! Every transition is announced: a `Condvar` wakes whoever waits for a
//! change ([`Connection::wait_change`], behind
//! [`crate::ConnectionWatcher`]), and the application's callback, if it set
//! one, is called with the [`ConnectionEvent`] ([`crate::connection_event`]).
//! A waiter re-reads the state under the condvar's mutex before it sleeps,
//! and a transition stores the state before it takes that mutex to notify,
//! so no change is missed; the end of the runtime is announced too (the
//! state then stays `Gone`), so a waiter never outlives its runtime asleep.

use std::sync::atomic::{AtomicU8, AtomicU32};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use zerocp_core::sync::Ordering;

use crate::connection_event::{ConnectionCallback, ConnectionEvent, notify};
use crate::registration::{Gone, Registration, lock};

/// The state of this process's connection to the daemon.
///
/// ```no_run
/// use zerocp::{ConnectionState, Runtime};
///
/// let rt = Runtime::init("planner")?;
/// assert_eq!(rt.connection_state(), ConnectionState::Connected { epoch: 1 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Registered with the daemon; `epoch` counts the registrations of this
    /// runtime (1 for the first, one more after each reconnection).
    Connected {
        /// Which registration this is (1, 2, ...).
        epoch: u32,
    },
    /// The daemon is gone and the runtime tries to register again.
    Disconnected,
    /// The daemon is gone and the runtime does not reconnect (reconnecting
    /// is off, or the daemon dropped this process for missing heartbeats).
    Gone,
}

const CONNECTED: u8 = 0;
const DISCONNECTED: u8 = 1;
const GONE: u8 = 2;

/// The current registration and the connection's state (module docs).
pub(crate) struct Connection {
    current: RwLock<Arc<Registration>>,
    /// How many registrations this runtime made (the current one's epoch).
    epoch: AtomicU32,
    /// `CONNECTED`, `DISCONNECTED` or `GONE`.
    state: AtomicU8,
    /// Taken to notify `changed` and by a waiter around its last look at
    /// the state (module docs).
    transitions: Mutex<()>,
    /// Notified on every transition.
    changed: Condvar,
    /// The application's callback, called on every transition the
    /// heartbeat thread makes.
    on_change: Option<ConnectionCallback>,
}

impl Connection {
    /// A connection at epoch 1 through `registration`, announcing its
    /// changes to `on_change` too.
    pub(crate) fn new(
        registration: Arc<Registration>,
        on_change: Option<ConnectionCallback>,
    ) -> Self {
        Self {
            current: RwLock::new(registration),
            epoch: AtomicU32::new(1),
            state: AtomicU8::new(CONNECTED),
            transitions: Mutex::new(()),
            changed: Condvar::new(),
            on_change,
        }
    }

    /// The registration this process works through now (the last one, also
    /// while disconnected: it fails every request as gone).
    pub(crate) fn current(&self) -> Arc<Registration> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The connection's state. A registration noticed gone (by a call, or
    /// by the heartbeat thread, which marks it before it moves the state
    /// word) already counts, so the state never says `Connected` after a
    /// call of this process failed because the daemon is gone.
    pub(crate) fn state(&self) -> ConnectionState {
        // Acquire: pairs with the Release stores below, so a `Connected`
        // state is read with the epoch stored before it.
        match self.state.load(Ordering::Acquire) {
            CONNECTED => match self.current().gone() {
                None => ConnectionState::Connected {
                    // Relaxed: ordered by the Acquire load above.
                    epoch: self.epoch.load(Ordering::Relaxed),
                },
                Some(Gone::Disconnected) => ConnectionState::Disconnected,
                Some(_) => ConnectionState::Gone,
            },
            DISCONNECTED => ConnectionState::Disconnected,
            _ => ConnectionState::Gone,
        }
    }

    /// Waits until the state is no longer `seen`, for at most `timeout`
    /// (`None`: as long as it takes), and returns the state then (`seen`
    /// when the timeout passed first). Returns at once when the state
    /// already differs; `Gone` once the runtime ended ([`Connection::end`]).
    pub(crate) fn wait_change(
        &self,
        seen: ConnectionState,
        timeout: Option<Duration>,
    ) -> ConnectionState {
        // A timeout too long for the clock waits as long as it takes.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut guard = lock(&self.transitions);
        loop {
            let state = self.state();
            if state != seen {
                return state;
            }
            guard = match (timeout, deadline) {
                (Some(_), Some(deadline)) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return state;
                    }
                    let (guard, _) = self
                        .changed
                        .wait_timeout(guard, left)
                        .unwrap_or_else(PoisonError::into_inner);
                    guard
                }
                _ => self
                    .changed
                    .wait(guard)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// Wakes the waiters of [`Connection::wait_change`] (the new state is
    /// stored already) and calls the application's callback with `event`.
    fn announce(&self, event: Option<ConnectionEvent>) {
        // Taking the mutex once is enough: a waiter that read the old state
        // holds it until it sleeps in the condvar, so this notification
        // comes after it is asleep (module docs).
        drop(lock(&self.transitions));
        self.changed.notify_all();
        if let (Some(callback), Some(event)) = (&self.on_change, event) {
            notify(callback, event);
        }
    }

    /// The daemon is gone; the heartbeat thread tries to register again.
    pub(crate) fn set_disconnected(&self) {
        // Release: see `state`.
        self.state.store(DISCONNECTED, Ordering::Release);
        log::warn!("the ZeroCP daemon is gone; registering again as soon as it is back");
        self.announce(Some(ConnectionEvent::Disconnected));
    }

    /// The daemon is gone for good for this runtime.
    pub(crate) fn set_gone(&self) {
        // Release: see `state`.
        self.state.store(GONE, Ordering::Release);
        self.announce(Some(ConnectionEvent::Gone));
    }

    /// The runtime ends (its last handle was dropped, the heartbeat thread
    /// stopped): waiters wake with `Gone`; the callback is not called, the
    /// application ended the runtime itself.
    pub(crate) fn end(&self) {
        // Release: see `state`.
        self.state.store(GONE, Ordering::Release);
        self.announce(None);
    }

    /// Swaps `registration` in as the next epoch's, and connected.
    pub(crate) fn reconnected(&self, registration: Arc<Registration>) -> u32 {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = registration;
        // Relaxed: only the heartbeat thread writes the epoch; the Release
        // store of the state publishes it.
        let epoch = self.epoch.load(Ordering::Relaxed).wrapping_add(1);
        self.epoch.store(epoch, Ordering::Relaxed);
        self.state.store(CONNECTED, Ordering::Release);
        self.announce(Some(ConnectionEvent::Reconnected { epoch }));
        epoch
    }
}
