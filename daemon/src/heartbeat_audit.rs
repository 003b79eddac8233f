//! The audit of every registered process's heartbeat slot: noticing a slot
//! written by someone other than its runtime's heartbeat thread.
//!
//! Each slot lives in a file shared by the daemon and its process only
//! ([`crate::heartbeat_file`]), so only that process (or one it handed the
//! descriptor to) can write it. A runtime writes `last_beat_ms` (its
//! `CLOCK_MONOTONIC` milliseconds) and increments `beats`; the daemon writes
//! `pid`, `generation` and the `dropped` mark. So the audit
//!
//! - puts back `pid`, `generation` and `dropped` where they differ from the
//!   daemon's table;
//! - checks that `last_beat_ms` is not in the future: the slot is read
//!   before the daemon's clock, and both read the same system-wide clock,
//!   so a sound beat is never ahead of it;
//! - checks that `beats` never goes backwards (the runtime only adds).
//!
//! Anything else is a [`Finding::Heartbeat`]: logged and counted, never a
//! reason to drop or reclaim the process. Liveness stays with the beat's
//! age ([`crate::unresponsive`]: a silent process is only unrouted) and
//! with the pidfd (only an exit reclaims memory), so a forged heartbeat can
//! neither make the daemon reclaim a live process nor keep it from
//! reclaiming a dead one; at most it keeps its own, hung, process routed.

use zerocp_os_linux::clock::monotonic_ms;

use crate::audit_findings::{Finding, HeartbeatProblem};
use crate::control_plane::ControlPlane;

impl ControlPlane<'_> {
    /// Audits every registered process's heartbeat slot (module docs).
    pub(crate) fn audit_heartbeats(&mut self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for process in self.processes.iter_mut() {
            let slot = process.slot;
            let heartbeat = process.heartbeat.slot();
            let (pid, dropped) = (process.creds.pid, process.unresponsive_since_ms.is_some());
            let mut problems = Vec::new();
            let repair = heartbeat.restore_owner(pid, process.generation, dropped);
            if !repair.is_clean() {
                problems.push(HeartbeatProblem::Owner(repair));
            }
            let (beat_ms, beats) = (heartbeat.last_beat_ms(), heartbeat.beats());
            if beat_ms > monotonic_ms() {
                problems.push(HeartbeatProblem::FutureBeat { beat_ms });
            }
            if beats < process.beats_seen {
                problems.push(HeartbeatProblem::BeatsBackwards {
                    before: process.beats_seen,
                    now: beats,
                });
            }
            process.beats_seen = beats;
            findings.extend(problems.into_iter().map(|problem| Finding::Heartbeat {
                slot,
                pid,
                problem,
            }));
        }
        findings
    }
}
