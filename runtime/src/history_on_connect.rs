//! History on connect: a late subscriber that asked for history gets it
//! when it is routed, without its publishers' applications doing anything.
//!
//! The daemon, routing such a subscriber, sends the owner of each publisher
//! of the service that keeps history the unsolicited `HistoryWanted` (kind
//! `0x8F`, naming the publisher port). Whoever reads it from the control
//! connection (the heartbeat thread, or a request in flight) records the
//! port as *wanted* here and serves what is wanted: each wanted port's
//! [`SharedPort`] refreshes its topology and hands the newcomers their
//! history, by the publish path's own code
//! ([`crate::publisher`]'s `background_delivery`).
//!
//! Nothing here waits for the application. The port's delivery state is
//! only `try_lock`ed; a port whose state was busy (the application is inside
//! a publish) stays wanted, and the heartbeat thread tries again every
//! [`RETRY_INTERVAL`] until it gets the lock: by then that publish has seen
//! the new topology and served the newcomer, or the background thread does.
//! A notice for a port that is not (or no longer) here is dropped: a port
//! that is not registered yet has an empty history, and its first publish
//! reads the whole topology anyway.
//!
//! **Lifetime.** The table holds each port weakly and serves it under the
//! table's lock; a publisher that goes removes itself under that lock
//! first. So the background thread never holds the last reference to a
//! port (dropping it would unregister the process from the heartbeat
//! thread), and never reads a history ring after the port was removed
//! (the daemon then releases its entries).

use std::sync::{Arc, Mutex, TryLockError, Weak};
use std::time::Duration;

use crate::port_status::PortKey;
use crate::publisher::SharedPort;
use crate::registration::{Registration, lock};

/// How often the heartbeat thread tries again to serve a port whose
/// delivery state was busy.
pub(crate) const RETRY_INTERVAL: Duration = Duration::from_millis(2);

/// A registration's publishers that keep history, and the ones the daemon
/// asked to serve (module docs).
#[derive(Default)]
pub(crate) struct HistoryServers {
    /// Held while serving (module docs, "Lifetime").
    ports: Mutex<Vec<(PortKey, Weak<SharedPort>)>>,
    wanted: Mutex<Vec<PortKey>>,
}

impl HistoryServers {
    /// Adds a publisher that keeps history.
    pub(crate) fn add(&self, key: PortKey, port: &Arc<SharedPort>) {
        // Only such a port's delivery state has a lock for this thread.
        debug_assert!(port.keeps_history(), "a port without history served");
        lock(&self.ports).push((key, Arc::downgrade(port)));
    }

    /// Removes the publisher `key`; waits for a serving in progress (which
    /// never waits for the application).
    pub(crate) fn remove(&self, key: PortKey) {
        lock(&self.ports).retain(|(k, _)| *k != key);
    }

    /// Records that the daemon asked port `key` to serve a late subscriber.
    pub(crate) fn want(&self, key: PortKey) {
        let mut wanted = lock(&self.wanted);
        if !wanted.contains(&key) {
            wanted.push(key);
        }
    }

    /// Whether some port is still to be served.
    pub(crate) fn is_wanted(&self) -> bool {
        !lock(&self.wanted).is_empty()
    }

    /// Serves the wanted ports on `registration` (this table's). Returns at
    /// once if another thread serves right now (it sees what was added);
    /// ports whose state was busy stay wanted.
    pub(crate) fn serve(&self, registration: &Registration) {
        loop {
            let ports = match self.ports.try_lock() {
                Ok(ports) => ports,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            let wanted = std::mem::take(&mut *lock(&self.wanted));
            if wanted.is_empty() {
                return;
            }
            let mut busy = Vec::new();
            for key in wanted {
                let port = ports
                    .iter()
                    .find(|(k, _)| *k == key)
                    .and_then(|(_, port)| port.upgrade());
                match port {
                    Some(port) if !port.serve_wanted(registration) => busy.push(key),
                    Some(_) => {}
                    None => log::debug!("history wanted from {key:?}, which is not here"),
                }
            }
            drop(ports);
            let mut wanted = lock(&self.wanted);
            let arrived = !wanted.is_empty();
            for key in busy {
                if !wanted.contains(&key) {
                    wanted.push(key);
                }
            }
            if !arrived {
                return;
            }
        }
    }
}
