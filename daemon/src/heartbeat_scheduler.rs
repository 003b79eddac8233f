//! `HeartbeatScheduler`: when the event loop ticks, and which processes have
//! stopped beating.
//!
//! A closed socket or a readable pidfd reports a dead process at once; the
//! heartbeat catches the rest: a process that is alive but hung (or whose
//! heartbeat thread died). Every tick (the configured heartbeat interval) the
//! scheduler compares each registered process's last beat, written by its
//! runtime into its heartbeat file as `CLOCK_MONOTONIC` milliseconds (the
//! daemon reads its own mapping of it, [`crate::heartbeat_file`]), with the daemon's
//! own clock; older than the timeout means unresponsive (see
//! [`crate::unresponsive`]: unrouted at once, reclaimed when it exits). A
//! process already dropped as unresponsive is not reported again.

use crate::process_manager::ProcessManager;

/// Tick timing and the timeout check.
///
/// ```
/// use zerocp_daemon::heartbeat_scheduler::HeartbeatScheduler;
/// let mut scheduler = HeartbeatScheduler::new(100, 1_000, 5_000);
/// assert_eq!(scheduler.millis_until_tick(5_040), 60);
/// assert!(!scheduler.tick_due(5_099));
/// assert!(scheduler.tick_due(5_100));
/// assert_eq!(scheduler.millis_until_tick(5_100), 100);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HeartbeatScheduler {
    interval_ms: u64,
    timeout_ms: u64,
    next_tick_ms: u64,
}

impl HeartbeatScheduler {
    /// Ticks every `interval_ms` from `now_ms`; processes silent for
    /// `timeout_ms` are reported.
    pub fn new(interval_ms: u64, timeout_ms: u64, now_ms: u64) -> Self {
        Self {
            interval_ms: interval_ms.max(1),
            timeout_ms,
            next_tick_ms: now_ms.saturating_add(interval_ms.max(1)),
        }
    }

    /// Milliseconds until the next tick (0 when it is due).
    pub fn millis_until_tick(&self, now_ms: u64) -> u64 {
        self.next_tick_ms.saturating_sub(now_ms)
    }

    /// Whether a tick is due at `now_ms`; if so, schedules the next one.
    pub fn tick_due(&mut self, now_ms: u64) -> bool {
        if now_ms < self.next_tick_ms {
            return false;
        }
        // After a long stall, tick once and resume the rhythm from now.
        self.next_tick_ms = now_ms.saturating_add(self.interval_ms);
        true
    }

    /// The heartbeat timeout in milliseconds.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// Slots of the processes whose heartbeat is older than the timeout and
    /// that were not dropped as unresponsive already.
    pub fn expired(&self, processes: &ProcessManager, now_ms: u64) -> Vec<u32> {
        processes
            .iter()
            .filter(|p| {
                p.unresponsive_since_ms.is_none()
                    && p.heartbeat.slot().age_ms(now_ms) > self.timeout_ms
            })
            .map(|p| p.slot)
            .collect()
    }
}
