//! [`ProcessCounters`]: what happened to processes since the daemon
//! started, counted in the daemon's own memory (no process can change
//! them) for `Status` (`zerocpctl status`, `zerocpctl metrics`).
//!
//! A process *died* when the daemon removed it without its `Unregister`:
//! its connection closed or its pidfd reported its exit (a crash, a
//! `kill -9`, an exit without dropping its runtime), including a process
//! dropped for missing heartbeats earlier, when it finally exits. A
//! *heartbeat timeout* is counted when the daemon drops a process as
//! unresponsive ([`crate::unresponsive`]). *Chunks reclaimed* are the chunk
//! references the daemon released for removed processes' ports (loans,
//! history, taken and queued samples), whether they died or unregistered.

use crate::control_plane::Departure;

/// Counts of process lifecycle events since the daemon started.
///
/// ```
/// use zerocp_daemon::control_plane::Departure;
/// use zerocp_daemon::process_counters::ProcessCounters;
/// let mut counters = ProcessCounters::default();
/// counters.removed(Departure::Exited, 3);
/// counters.removed(Departure::Unregistered, 1);
/// assert_eq!((counters.died, counters.chunks_reclaimed), (1, 4));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessCounters {
    /// Registrations accepted.
    pub registered: u64,
    /// Processes removed without unregistering.
    pub died: u64,
    /// Processes dropped as unresponsive.
    pub heartbeat_timeouts: u64,
    /// Chunk references released for removed processes' ports.
    pub chunks_reclaimed: u64,
}

impl ProcessCounters {
    /// A process was removed for `why`, and `reclaimed` chunk references
    /// were released for its ports.
    pub fn removed(&mut self, why: Departure, reclaimed: u64) {
        if why != Departure::Unregistered {
            self.died += 1;
        }
        self.chunks_reclaimed = self.chunks_reclaimed.saturating_add(reclaimed);
    }
}
