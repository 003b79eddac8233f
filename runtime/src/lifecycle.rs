//! [`Lifecycle`]: how long this process stays registered. Every publisher
//! and subscriber holds it through an `Arc`, as does the [`crate::Runtime`]
//! handle: ports keep working (and the process stays registered) after the
//! `Runtime` value itself was dropped, and the last holder to go stops the
//! heartbeat thread and unregisters the process.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use zerocp_core::wire::Message;
use zerocp_os_linux::names::DomainName;

use crate::error::{ControlError, InitError};
use crate::heartbeat_thread::HeartbeatThread;
use crate::registration::{Registration, lock};

/// How long dropping the last handle waits for the daemon to acknowledge
/// the unregistration (the process is unregistered anyway when the
/// connection closes right after).
const UNREGISTER_TIMEOUT: Duration = Duration::from_secs(2);

/// The registration, the heartbeat thread that keeps it alive, and what
/// the process registered as.
pub(crate) struct Lifecycle {
    registration: Arc<Registration>,
    heartbeat: Mutex<HeartbeatThread>,
    name: String,
    domain: DomainName,
}

impl Lifecycle {
    /// Registers as `name` with the daemon of `domain` and starts the
    /// heartbeat thread.
    pub(crate) fn start(name: &str, domain: DomainName) -> Result<Self, InitError> {
        let (registration, interval) = Registration::establish(name, &domain)?;
        let registration = Arc::new(registration);
        let heartbeat = HeartbeatThread::spawn(Arc::clone(&registration), interval)
            .map_err(|e| InitError::Heartbeat(Box::new(e)))?;
        log::debug!(
            "registered as {name:?} in domain {domain} (slot {}, heartbeat every {interval:?})",
            registration.slot()
        );
        Ok(Self {
            registration,
            heartbeat: Mutex::new(heartbeat),
            name: name.to_owned(),
            domain,
        })
    }

    /// The registration every port works through.
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// The name this process registered with.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The domain this process belongs to.
    pub(crate) fn domain(&self) -> &DomainName {
        &self.domain
    }
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        lock(&self.heartbeat).stop();
        if self.registration.is_gone() {
            return;
        }
        match self
            .registration
            .request(&Message::Unregister, UNREGISTER_TIMEOUT)
        {
            Ok(Message::Unregistered) | Err(ControlError::Closed) => {}
            Ok(other) => log::warn!("the daemon answered Unregister with {:?}", other.kind()),
            Err(e) => log::warn!("cannot unregister: {e}"),
        }
    }
}
