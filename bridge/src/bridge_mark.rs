//! [`BridgeMark`] and [`Provenance`]: how a bridge tells a sample that an
//! application of its domain published from one that a bridge imported
//! from Zenoh, so that no bridge of the domain sends an imported sample
//! out again (two bridges of one domain on one Zenoh network would
//! otherwise pass samples back and forth for ever).
//!
//! **The mark.** Every bridge owns a publisher of the service
//! [`MARK_SERVICE`] (type `u8`, never published on), created before any
//! other port of the bridge. A sample is imported when the process that
//! owns its publisher also owns a mark. The daemon's port list
//! ([`Runtime::ports`]) says both: the sample's
//! [`PublisherId`]'s port index finds its publisher and owner's pid among
//! the ports of the service, and the pid finds a mark or none. While the
//! publisher exists the answer is exact, with no race: a mark is
//! registered before its bridge has a publisher whose samples anyone could
//! take. A publisher already gone when the bridge asks (its process exited
//! right after publishing) cannot be told: its sample counts as the
//! domain's own and goes out, so that a short-lived application's last
//! samples are not lost; only a bridge that dies with imported samples
//! still queued in another bridge of its domain can so echo them, once.
//! Such answers are not cached. `zerocpctl services` lists the mark's
//! service, one publisher per bridge.
//!
//! **Daemon restarts.** Ports re-attach lazily, on their next call; an
//! inbound route re-attaches the mark ([`BridgeMark::refresh`]) after its
//! loan, which re-attaches its own publisher, and before it publishes, so
//! the new daemon knows the mark before any sample of the new publisher.
//! A [`Provenance`]'s answers are cached per publisher and connection
//! epoch: a restarted daemon hands out port indices and generations anew,
//! so the cache starts empty at every epoch. A sample taken from the old
//! daemon's queues after the restart is looked up among the new daemon's
//! ports, and one whose publisher is not there counts as the domain's own
//! (not cached, as above).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use zerocp::{ConnectionState, PortKind, Publisher, PublisherId, Runtime, ServiceDescription};

use crate::bridge::StartError;

/// The service of the marks: `ZeroCP/Bridge/Mark`.
pub const MARK_SERVICE: (&str, &str, &str) = ("ZeroCP", "Bridge", "Mark");

/// Publishers classified at most before the cache starts over (a bound
/// against a domain that keeps creating publishers).
const MAX_KNOWN: usize = 4096;

/// This bridge's mark (module docs).
pub(crate) struct BridgeMark {
    publisher: Mutex<Publisher<u8>>,
}

impl BridgeMark {
    /// Creates the mark: before any other port of the bridge.
    pub(crate) fn create(runtime: &Runtime) -> Result<Self, StartError> {
        let service = mark_service();
        let publisher = runtime
            .publisher::<u8>(&service)
            .create()
            .map_err(|error| StartError::Port {
                service: service.to_string(),
                error,
            })?;
        Ok(Self {
            publisher: Mutex::new(publisher),
        })
    }

    /// Re-attaches the mark to a restarted daemon (a loan, dropped unused:
    /// the call that re-attaches a port); a no-op while connected. An
    /// error says the mark may be missing: publishing now could echo.
    pub(crate) fn refresh(&self) -> Result<(), String> {
        let publisher = self.publisher.lock().unwrap_or_else(|p| p.into_inner());
        match publisher.loan_uninit() {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("the bridge's mark {}: {e}", publisher.service())),
        }
    }
}

/// Which publishers of one service are bridges' (module docs).
pub(crate) struct Provenance {
    runtime: Arc<Runtime>,
    service: ServiceDescription,
    epoch: u32,
    known: HashMap<PublisherId, bool>,
}

impl Provenance {
    pub(crate) fn new(runtime: Arc<Runtime>, service: ServiceDescription) -> Self {
        Self {
            runtime,
            service,
            epoch: 0,
            known: HashMap::new(),
        }
    }

    /// The runtime's connection epoch, `None` while it is not connected.
    pub(crate) fn epoch(&self) -> Option<u32> {
        match self.runtime.connection_state() {
            ConnectionState::Connected { epoch } => Some(epoch),
            _ => None,
        }
    }

    /// Whether a bridge published `publisher`'s samples: `Err` with why if
    /// the daemon could not be asked (then nobody can tell).
    pub(crate) fn imported(&mut self, publisher: PublisherId) -> Result<bool, String> {
        let epoch = match self.runtime.connection_state() {
            ConnectionState::Connected { epoch } => epoch,
            other => return Err(format!("the daemon is not reachable: {other:?}")),
        };
        if epoch != self.epoch || self.known.len() >= MAX_KNOWN {
            self.known.clear();
            self.epoch = epoch;
        }
        if let Some(&imported) = self.known.get(&publisher) {
            return Ok(imported);
        }
        match self.ask(publisher)? {
            Some(imported) => {
                self.known.insert(publisher, imported);
                Ok(imported)
            }
            None => Ok(false),
        }
    }

    /// Asks the daemon: the publisher's owner, and whether it owns a mark;
    /// `None` if the publisher is gone.
    fn ask(&self, publisher: PublisherId) -> Result<Option<bool>, String> {
        let ports = self.runtime.ports().map_err(|e| e.to_string())?;
        let publishers = ports.iter().filter(|p| p.kind == PortKind::Publisher);
        let owner = publishers
            .clone()
            .find(|p| p.service == self.service && p.port_index == publisher.port_index())
            .map(|p| p.owner_pid);
        let mark = mark_service();
        Ok(owner.map(|pid| {
            publishers
                .clone()
                .any(|p| p.service == mark && p.owner_pid == pid)
        }))
    }
}

fn mark_service() -> ServiceDescription {
    let (s, i, e) = MARK_SERVICE;
    ServiceDescription::new(s, i, e).expect("the mark's service name is valid")
}
