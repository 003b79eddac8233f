//! `ProcessManager`: the registered processes, one per heartbeat slot.
//!
//! A process registers over its control connection; the daemon takes its pid,
//! uid and gid from the kernel (`SO_PEERCRED`), never from the message, opens
//! a pidfd for it (so its exit is seen at once, even while its socket is
//! held open by a child that inherited it), takes a free slot and creates
//! its heartbeat file ([`HeartbeatFile`], shared with that process only).
//! The table here, in the daemon's own memory, is the truth about who owns
//! which slot and which ports; the shared heartbeat only carries the beats.
//!
//! A process dropped for missing heartbeats ([`Process::unresponsive_since_ms`])
//! keeps its entry, and so its slot and heartbeat file, until its pidfd
//! reports its exit: the slot is not handed out again while the process may
//! still run, and it counts against `limits.max_processes` until then. When
//! the entry goes, the daemon's mapping and descriptor of the file go with
//! it.

use std::fmt;

use zerocp_os_linux::error::PidFdError;
use zerocp_os_linux::names::DomainName;
use zerocp_os_linux::pidfd::PidFd;
use zerocp_os_linux::seqpacket::PeerCredentials;

use crate::control_plane::Departure;
use crate::heartbeat_file::{HeartbeatFile, HeartbeatFileError};
use crate::port_id::PortId;
use crate::process_counters::ProcessCounters;

/// Identifies one client connection of the event loop.
pub type ConnId = u64;

/// One registered process.
#[derive(Debug)]
pub struct Process {
    /// Its slot: its index in the table, the owner of its ports.
    pub slot: u32,
    /// Registration generation of the slot (never 0).
    pub generation: u32,
    /// Credentials from the kernel.
    pub creds: PeerCredentials,
    /// The name it registered with (for introspection and logs).
    pub name: String,
    /// The connection it registered on.
    pub conn: ConnId,
    /// Readable when the process exits.
    pub pidfd: PidFd,
    /// Its heartbeat, in a file shared with it only.
    pub heartbeat: HeartbeatFile,
    /// Its ports, in creation order.
    pub ports: Vec<PortId>,
    /// Its ports that a reset of their group revoked: their memory is gone
    /// from the daemon's books, so removing one only forgets it here.
    pub reset_ports: Vec<PortId>,
    /// When it registered (`CLOCK_MONOTONIC` ms).
    pub registered_ms: u64,
    /// When it was dropped for missing heartbeats (`CLOCK_MONOTONIC` ms):
    /// unrouted, its connection closed, its chunks and slots kept until it exits.
    pub unresponsive_since_ms: Option<u64>,
    /// The highest beat count the audit read from its heartbeat slot
    /// ([`crate::heartbeat_audit`]).
    pub beats_seen: u64,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "process {} \"{}\" (slot {})",
            self.creds.pid, self.name, self.slot
        )
    }
}

/// Registering a process failed.
#[derive(Debug)]
pub enum RegisterError {
    /// Every heartbeat slot is taken.
    Full {
        /// `limits.max_processes`.
        capacity: u32,
    },
    /// The pidfd could not be opened (the process may already be gone).
    PidFd(PidFdError),
    /// Its heartbeat file could not be created (out of memory or descriptors).
    Heartbeat(HeartbeatFileError),
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { capacity } => write!(
                f,
                "all {capacity} process slots are in use (raise limits.max_processes)"
            ),
            Self::PidFd(e) => write!(f, "{e}"),
            Self::Heartbeat(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RegisterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::PidFd(e) => Some(e),
            Self::Heartbeat(e) => Some(e),
            Self::Full { .. } => None,
        }
    }
}

/// The registered processes, indexed by slot.
#[derive(Debug)]
pub struct ProcessManager {
    /// The slots used so far (the lowest free one is taken, so this grows
    /// to the most processes registered at once, not to the limit until
    /// that many are).
    slots: Vec<Option<Process>>,
    /// `limits.max_processes`.
    capacity: u32,
    next_generation: u32,
    /// The domain (names the heartbeat files).
    domain: DomainName,
    /// What happened to processes since the daemon started.
    counters: ProcessCounters,
}

impl ProcessManager {
    /// An empty table of `max_processes` slots for `domain`.
    pub fn new(max_processes: u32, domain: DomainName) -> Self {
        Self {
            slots: Vec::new(),
            capacity: max_processes,
            next_generation: 1,
            domain,
            counters: ProcessCounters::default(),
        }
    }

    /// Registers the peer `creds` of connection `conn` as `name`: opens its
    /// pidfd, takes the lowest free slot, creates its heartbeat file and
    /// assigns the heartbeat.
    pub fn register(
        &mut self,
        creds: PeerCredentials,
        name: &str,
        conn: ConnId,
        now_ms: u64,
    ) -> Result<&Process, RegisterError> {
        let slot = self.free_slot()?;
        let pidfd = PidFd::open(creds.pid).map_err(RegisterError::PidFd)?;
        let heartbeat =
            HeartbeatFile::create(&self.domain, slot).map_err(RegisterError::Heartbeat)?;
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1).max(1);
        heartbeat.slot().assign(creds.pid, generation, now_ms);
        let process = Process {
            slot,
            generation,
            creds,
            name: name.to_owned(),
            conn,
            pidfd,
            heartbeat,
            ports: Vec::new(),
            reset_ports: Vec::new(),
            registered_ms: now_ms,
            unresponsive_since_ms: None,
            beats_seen: 0,
        };
        self.counters.registered += 1;
        if slot as usize == self.slots.len() {
            self.slots.push(None);
        }
        Ok(self.slots[slot as usize].insert(process))
    }

    /// The lowest free slot (one past those used so far, if all are taken).
    fn free_slot(&self) -> Result<u32, RegisterError> {
        let slot = self
            .slots
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.slots.len()) as u32;
        if slot >= self.capacity {
            return Err(RegisterError::Full {
                capacity: self.capacity,
            });
        }
        Ok(slot)
    }

    /// Removes the process in `slot`, which left for `why` and whose ports
    /// gave back `reclaimed` chunk references, freeing the slot; its
    /// heartbeat file goes with the returned value (module docs).
    pub fn unregister(&mut self, slot: u32, why: Departure, reclaimed: u64) -> Option<Process> {
        let process = self.slots.get_mut(slot as usize)?.take()?;
        self.counters.removed(why, reclaimed);
        Some(process)
    }

    /// The process in `slot` was dropped for missing heartbeats.
    pub fn count_heartbeat_timeout(&mut self) {
        self.counters.heartbeat_timeouts += 1;
    }

    /// What happened to processes since the daemon started.
    pub fn counters(&self) -> ProcessCounters {
        self.counters
    }

    /// The process in `slot`.
    pub fn get(&self, slot: u32) -> Option<&Process> {
        self.slots.get(slot as usize)?.as_ref()
    }

    /// The process in `slot`, mutably.
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Process> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Every registered process, by slot.
    pub fn iter(&self) -> impl Iterator<Item = &Process> {
        self.slots.iter().flatten()
    }

    /// Every registered process, by slot, to change their port lists.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Process> {
        self.slots.iter_mut().flatten()
    }

    /// Number of registered processes.
    pub fn count(&self) -> u32 {
        self.iter().count() as u32
    }

    /// Number of slots (`limits.max_processes`).
    pub fn capacity(&self) -> u32 {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> PeerCredentials {
        PeerCredentials {
            pid: std::process::id(),
            uid: 0,
            gid: 0,
        }
    }

    fn register(processes: &mut ProcessManager) -> Result<u32, RegisterError> {
        processes.register(me(), "unit", 1, 0).map(|p| p.slot)
    }

    #[test]
    fn the_lowest_free_slot_up_to_the_limit_and_a_gap_is_reused() {
        let domain = DomainName::new("process-manager-slots").unwrap();
        let mut processes = ProcessManager::new(3, domain);
        assert_eq!(processes.capacity(), 3);
        assert!(processes.slots.is_empty(), "nothing is kept before use");
        let slots: Vec<u32> = (0..3).map(|_| register(&mut processes).unwrap()).collect();
        assert_eq!(slots, [0, 1, 2]);
        assert!(matches!(
            register(&mut processes),
            Err(RegisterError::Full { capacity: 3 })
        ));
        assert!(processes.unregister(1, Departure::Exited, 0).is_some());
        assert_eq!(register(&mut processes).unwrap(), 1, "the gap");
        assert_eq!((processes.count(), processes.slots.len()), (3, 3));
        assert!(
            processes.get(3).is_none() && processes.unregister(7, Departure::Exited, 0).is_none()
        );
    }
}
