//! The `processes` answer: the registered processes (a **presentation**,
//! not the wire's [`ProcessInfo`] mirrored: a process's `slot` is the wire's
//! `process_slot` and its `state` a word, not a code).
//!
//! JSON shape: `{"schema", "processes":[{"pid", "name", "state", "heartbeat_age_ms",
//! "slot", "chunks_held"}]}` (`state` is `alive`; `late` when its heartbeat
//! is older than half the timeout; `unresponsive` once it was dropped for
//! missing heartbeats: unrouted, its chunks and slots kept until it exits;
//! or `dead`; `chunks_held`: the chunk references its ports hold, queued
//! samples included)

use serde::Serialize;
use zerocp_core::wire::{ProcessInfo, ProcessState};

use super::{table, to_json};

#[derive(Serialize)]
struct ProcessJson<'a> {
    pid: u32,
    name: &'a str,
    state: &'static str,
    heartbeat_age_ms: u32,
    slot: u32,
    chunks_held: u32,
}

pub(crate) fn state_name(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Alive => "alive",
        ProcessState::Unresponsive => "unresponsive",
        ProcessState::Dead => "dead",
        ProcessState::Late => "late",
    }
}

/// `processes`, human-readable.
pub fn processes_text(processes: &[ProcessInfo]) -> String {
    let rows: Vec<Vec<String>> = processes
        .iter()
        .map(|p| {
            vec![
                p.pid.to_string(),
                p.name.as_str().to_owned(),
                state_name(p.state).to_owned(),
                format!("{} ms", p.heartbeat_age_ms),
                p.process_slot.to_string(),
                p.chunks_held.to_string(),
            ]
        })
        .collect();
    table(
        &["PID", "NAME", "STATE", "HEARTBEAT AGE", "SLOT", "CHUNKS"],
        &rows,
    )
}

/// `processes --json`.
pub fn processes_json(processes: &[ProcessInfo]) -> String {
    #[derive(Serialize)]
    struct All<'a> {
        processes: Vec<ProcessJson<'a>>,
    }
    to_json(&All {
        processes: processes
            .iter()
            .map(|p| ProcessJson {
                pid: p.pid,
                name: p.name.as_str(),
                state: state_name(p.state),
                heartbeat_age_ms: p.heartbeat_age_ms,
                slot: p.process_slot,
                chunks_held: p.chunks_held,
            })
            .collect(),
    })
}
