//! Unresponsive is not dead: what the daemon does with a process whose
//! heartbeat is older than `heartbeat.timeout_ms`.
//!
//! Such a process may be stopped (`SIGSTOP`, a debugger) or hung rather than
//! dead, and it still holds pointers into the chunks it loaned or took. If
//! the daemon gave those chunks back to the mempool, the process would, on
//! resuming, write into a chunk loaned to someone else. So a heartbeat
//! timeout only *unroutes* the process, at once:
//!
//! - every port of it is retired (state `Retiring`, so publishers skip its
//!   subscribers even with an old topology snapshot) and taken out of the
//!   route table: its publishers deliver to nobody, its subscribers leave
//!   every publisher's topology;
//! - its subscribers' wake words are bumped and woken, so publishers blocked
//!   on their full queues re-check (and see them gone), and its own waiters
//!   wake when it resumes;
//! - its heartbeat slot (in its own heartbeat file) is marked dropped
//!   ([`HeartbeatSlot::mark_dropped`]),
//!   so the resumed process fails its very next call with a "dropped for
//!   missing heartbeats" error instead of "the daemon is gone";
//! - the caller ([`crate::diroute`]) closes its connection: the process can
//!   make no more requests, and its heartbeat thread wakes on the closed
//!   socket when it resumes.
//!
//! What is *not* done is the reclaim: its loans, history, held samples and
//! queued chunks, its port slots and its heartbeat file stay its own until
//! its pidfd reports that the process exited (the pidfd stays in the event
//! loop after the connection closed); then [`ControlPlane::remove_process`]
//! runs the full reclaim as for any dead process. Until then the process
//! counts against `limits.max_processes`, `max_publishers`,
//! `max_subscribers` and its mempools: that is the price of never handing
//! out memory that someone may still write. `heartbeat.kill_unresponsive =
//! true` bounds it: the daemon then sends `SIGKILL` through the pidfd
//! (never by pid, which could have been reused) and reclaims at the exit.
//!
//! [`HeartbeatSlot::mark_dropped`]: zerocp_core::heartbeat::HeartbeatSlot::mark_dropped

use crate::control_plane::ControlPlane;
use crate::process_manager::Process;
use crate::reclaim;

impl ControlPlane<'_> {
    /// Drops the process in `slot` as unresponsive at `now_ms` (module docs):
    /// unroutes its ports, wakes whoever waits on them, marks its heartbeat
    /// slot dropped and logs it once. Returns it (its connection is the
    /// caller's to close, its pidfd the caller's to keep watching); `None`
    /// if there is no such process or it was dropped already.
    pub fn drop_unresponsive(&mut self, slot: u32, now_ms: u64) -> Option<&Process> {
        let process = self.processes.get_mut(slot)?;
        if process.unresponsive_since_ms.is_some() {
            return None;
        }
        process.unresponsive_since_ms = Some(now_ms);
        let ports = process.ports.clone();
        let heartbeat = process.heartbeat.slot();
        let silent_ms = heartbeat.age_ms(now_ms);
        // Marked before the wake words are bumped: a waiter of the process
        // that reads a bumped word also sees the mark, so it cannot go back
        // to sleep (the runtime's wait re-checks the mark after reading it).
        heartbeat.mark_dropped();
        for &id in &ports {
            self.unroute_port(id);
            if let Some(part) = self.pool_manager(id.group) {
                reclaim::wake_port(part.control(), id);
            }
        }
        self.processes.count_heartbeat_timeout();
        let process = self.processes.get(slot)?;
        log::warn!(
            "{process}: unresponsive, no heartbeat for {silent_ms} ms (heartbeat.timeout_ms = {}); \
             unrouted its {} ports; its chunks and slots are kept until it exits{}",
            self.config.heartbeat.timeout_ms,
            ports.len(),
            if self.config.heartbeat.kill_unresponsive {
                " (killing it: heartbeat.kill_unresponsive)"
            } else {
                ""
            }
        );
        Some(process)
    }
}
