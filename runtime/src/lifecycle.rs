//! [`Lifecycle`]: how long this process stays registered. Every publisher
//! and subscriber holds it through an `Arc`, as does the [`crate::Runtime`]
//! handle: ports keep working (and the process stays registered) after the
//! `Runtime` value itself was dropped, and the last holder to go stops the
//! heartbeat thread and unregisters the process.
//!
//! The registration it keeps is the [`Connection`]'s current one: the
//! heartbeat thread swaps a new one in after the daemon restarted
//! (docs/architecture.md, "Daemon restarts").

use std::sync::{Arc, Mutex};
use std::time::Duration;

use zerocp_core::wire::Message;
use zerocp_os_linux::names::DomainName;

use crate::connection::{Connection, ConnectionState};
use crate::connection_event::ConnectionCallback;
use crate::error::{ControlError, InitError};
use crate::heartbeat_thread::{HeartbeatThread, Identity};
use crate::register_request::REGISTRATION_DEADLINE;
use crate::registration::{Registration, lock};
use crate::runtime_builder::ReconnectPolicy;

/// How long dropping the last handle waits for the daemon to acknowledge
/// the unregistration (the process is unregistered anyway when the
/// connection closes right after).
const UNREGISTER_TIMEOUT: Duration = Duration::from_secs(2);

/// The registration, the heartbeat thread that keeps it alive, and what
/// the process registered as.
pub(crate) struct Lifecycle {
    connection: Arc<Connection>,
    heartbeat: Mutex<HeartbeatThread>,
    identity: Arc<Identity>,
}

impl Lifecycle {
    /// Registers as `name` with the daemon of `domain` and starts the
    /// heartbeat thread, which registers again after a daemon restart as
    /// `policy` says and tells `on_change` of every change.
    pub(crate) fn start(
        name: &str,
        domain: DomainName,
        policy: ReconnectPolicy,
        on_change: Option<ConnectionCallback>,
    ) -> Result<Self, InitError> {
        let (registration, interval) =
            Registration::establish(name, &domain, policy.enabled, REGISTRATION_DEADLINE)?;
        let registration = Arc::new(registration);
        log::debug!(
            "registered as {name:?} in domain {domain} (slot {}, heartbeat every {interval:?})",
            registration.slot()
        );
        let connection = Arc::new(Connection::new(registration, on_change));
        let identity = Arc::new(Identity {
            name: name.to_owned(),
            domain,
            policy,
        });
        let heartbeat =
            HeartbeatThread::spawn(Arc::clone(&connection), Arc::clone(&identity), interval)
                .map_err(|e| InitError::Heartbeat(Box::new(e)))?;
        Ok(Self {
            connection,
            heartbeat: Mutex::new(heartbeat),
            identity,
        })
    }

    /// The registration new ports work through (the current one).
    pub(crate) fn registration(&self) -> Arc<Registration> {
        self.connection.current()
    }

    /// The state of the connection to the daemon.
    pub(crate) fn connection_state(&self) -> ConnectionState {
        self.connection.state()
    }

    /// The connection (for a [`crate::ConnectionWatcher`]).
    pub(crate) fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }

    /// The name this process registered with.
    pub(crate) fn name(&self) -> &str {
        &self.identity.name
    }

    /// The domain this process belongs to.
    pub(crate) fn domain(&self) -> &DomainName {
        &self.identity.domain
    }
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        lock(&self.heartbeat).stop();
        self.connection.end();
        let registration = self.connection.current();
        if registration.is_gone() {
            return;
        }
        match registration.request(&Message::Unregister, UNREGISTER_TIMEOUT) {
            Ok(Message::Unregistered) | Err(ControlError::Closed) => {}
            Ok(other) => log::warn!("the daemon answered Unregister with {:?}", other.kind()),
            Err(e) => log::warn!("cannot unregister: {e}"),
        }
    }
}
