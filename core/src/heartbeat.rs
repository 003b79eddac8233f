//! Heartbeat slots: one per registered process, each in a memory file of its own.
//!
//! At registration the daemon creates a fresh, sealed, one-page memory file
//! `zerocp.<domain>.heartbeat.<slot>` holding one [`HeartbeatSlot`] at
//! offset 0, and hands its descriptor (read-write) to that process only, with
//! the `Registered` reply. So no process holds a descriptor or mapping of
//! another's heartbeat: it can lie about its own beats (and at worst get
//! itself dropped), not about anyone else's. A new file per registration
//! means that a descriptor a dead process passed on never reaches the next
//! process registered in the same slot; the daemon drops its mapping and
//! descriptor when it reclaims the process.
//!
//! A runtime's background thread writes the current `CLOCK_MONOTONIC` time
//! (milliseconds) into its slot every heartbeat interval. The daemon compares
//! it with its own clock: a process whose heartbeat is older than the timeout
//! is *unresponsive* (stopped or hung; its socket and pid may still be alive):
//! the daemon unroutes it and marks its slot [`dropped`](HeartbeatSlot::is_dropped),
//! but keeps its chunks and slots until its pid exits, because a stopped
//! process still holds pointers into its loaned chunks. `CLOCK_MONOTONIC` is
//! system-wide, so both sides read one clock.
//!
//! The daemon owns allocation (it keeps the free/used bookkeeping in its own
//! memory); applications only ever write `last_beat_ms` and `beats` of their
//! own slot, and read `dropped`: a runtime
//! checks it on every call, so a process that resumes after being dropped
//! fails its very next call with a "missing heartbeats" error. The daemon
//! never reads `dropped` back for a decision (a process may overwrite it).

use crate::sync::{AtomicU32, AtomicU64, Ordering};
use crate::word_repair::WordRepair;

/// One process's heartbeat, on its own cache line.
///
/// Layout (64 bytes, align 64, every target): `pid: u32`, `generation: u32`,
/// `last_beat_ms: u64`, `beats: u64`, `dropped: u32` (0 or 1), then padding.
/// `dropped` was padding before, so an older runtime that does not read it
/// still sees a zero there; it only learns that it was dropped from its
/// closed connection.
///
/// ```
/// use zerocp_core::heartbeat::HeartbeatSlot;
/// let slot = HeartbeatSlot::new();
/// slot.assign(4242, 7, 1_000);
/// slot.beat(1_250);
/// assert_eq!(slot.age_ms(1_300), 50);
/// assert_eq!(slot.pid(), 4242);
/// assert!(!slot.is_dropped());
/// slot.mark_dropped();
/// assert!(slot.is_dropped());
/// ```
#[repr(C, align(64))]
pub struct HeartbeatSlot {
    pid: AtomicU32,
    generation: AtomicU32,
    last_beat_ms: AtomicU64,
    beats: AtomicU64,
    dropped: AtomicU32,
}

#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<HeartbeatSlot>() == 64);
const _: () = assert!(core::mem::align_of::<HeartbeatSlot>() == 64);

impl HeartbeatSlot {
    /// A free slot (all zeros, the state of a fresh segment).
    pub fn new() -> Self {
        Self {
            pid: AtomicU32::new(0),
            generation: AtomicU32::new(0),
            last_beat_ms: AtomicU64::new(0),
            beats: AtomicU64::new(0),
            dropped: AtomicU32::new(0),
        }
    }

    /// Daemon: hands the slot to process `pid`, as if it had beaten at `now_ms`.
    pub fn assign(&self, pid: u32, generation: u32, now_ms: u64) {
        // Relaxed: the registration reply on the control socket orders these
        // stores before the runtime's first access.
        self.last_beat_ms.store(now_ms, Ordering::Relaxed);
        self.beats.store(0, Ordering::Relaxed);
        self.dropped.store(0, Ordering::Relaxed);
        self.generation.store(generation, Ordering::Relaxed);
        self.pid.store(pid, Ordering::Relaxed);
    }

    /// Daemon: frees the slot.
    pub fn clear(&self) {
        // Relaxed: only the daemon reads these words for decisions.
        self.pid.store(0, Ordering::Relaxed);
        self.last_beat_ms.store(0, Ordering::Relaxed);
        self.dropped.store(0, Ordering::Relaxed);
    }

    /// Daemon: marks the slot's process dropped for missing heartbeats (it is
    /// unrouted; the slot stays its own until it exits).
    pub fn mark_dropped(&self) {
        // Release: a runtime that reads 1 (Acquire) also sees the topology
        // and port-state changes the daemon made before marking it.
        self.dropped.store(1, Ordering::Release);
    }

    /// Runtime: whether the daemon dropped this slot's process for missing
    /// heartbeats.
    pub fn is_dropped(&self) -> bool {
        // Acquire: pairs with `mark_dropped`.
        self.dropped.load(Ordering::Acquire) != 0
    }

    /// Runtime: records a heartbeat at `now_ms`.
    pub fn beat(&self, now_ms: u64) {
        // Relaxed: a heartbeat carries no other data; the daemon only compares times.
        self.last_beat_ms.store(now_ms, Ordering::Relaxed);
        self.beats.fetch_add(1, Ordering::Relaxed);
    }

    /// Milliseconds since the last heartbeat, as seen at `now_ms` (0 if in the future).
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.last_beat_ms.load(Ordering::Relaxed))
    }

    /// Daemon (audit): puts back the words it wrote (`pid`, `generation`
    /// and `dropped`) where the process wrote anything else.
    ///
    /// ```
    /// use zerocp_core::heartbeat::HeartbeatSlot;
    /// let slot = HeartbeatSlot::new();
    /// slot.assign(4242, 7, 1_000);
    /// assert!(slot.restore_owner(4242, 7, false).is_clean());
    /// assert_eq!(slot.restore_owner(4242, 8, false).first(), Some("generation"));
    /// assert_eq!(slot.generation(), 8);
    /// ```
    pub fn restore_owner(&self, pid: u32, generation: u32, dropped: bool) -> WordRepair {
        let mut repair = WordRepair::new();
        repair.u32("pid", &self.pid, pid);
        repair.u32("generation", &self.generation, generation);
        repair.u32("dropped", &self.dropped, u32::from(dropped));
        if dropped && !repair.is_clean() {
            // Release: as in `mark_dropped`.
            self.mark_dropped();
        }
        repair
    }

    /// The last beat's `CLOCK_MONOTONIC` milliseconds, as written.
    pub fn last_beat_ms(&self) -> u64 {
        // Relaxed: a heartbeat carries no other data.
        self.last_beat_ms.load(Ordering::Relaxed)
    }

    /// The pid the daemon assigned this slot to (0 when free).
    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::Relaxed)
    }

    /// The registration generation of the slot.
    pub fn generation(&self) -> u32 {
        self.generation.load(Ordering::Relaxed)
    }

    /// How many heartbeats the current owner wrote.
    pub fn beats(&self) -> u64 {
        self.beats.load(Ordering::Relaxed)
    }
}

impl Default for HeartbeatSlot {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_saturates_and_tracks_beats() {
        let slot = HeartbeatSlot::new();
        slot.assign(1, 1, 100);
        assert_eq!(slot.age_ms(50), 0);
        slot.beat(200);
        slot.beat(300);
        assert_eq!(slot.beats(), 2);
        assert_eq!(slot.age_ms(350), 50);
        slot.mark_dropped();
        assert!(slot.is_dropped());
        slot.clear();
        assert_eq!(slot.pid(), 0);
        assert!(!slot.is_dropped());
        slot.mark_dropped();
        slot.assign(2, 2, 400);
        assert!(!slot.is_dropped(), "a new owner starts undropped");
    }
}
