//! The `floor-lines` case: the `floor` exchange with `LINES` cache lines
//! moving per message instead of one, each written by both sides, as the
//! lines a ZeroCP message moves are (the queue cell, the chunk header, the
//! payload's first line, the reference count, the freelist head and the
//! freelist link: docs/performance.md, "Where the nanoseconds go:
//! busy-poll"). It checks the count against the clock: a ZeroCP message
//! near `floor-lines` costs what its lines cost; the difference is the
//! work done on one core.
//!
//! Line 0 carries the turn (`2s - 1`: the parent sent `s`; `2s`: the child
//! answered), lines 1.. the sequence number. A side writes lines 1.. (plain
//! stores, which leave for the other core together) and then the turn
//! (Release); the other waits for the turn (Acquire), reads lines 1..
//! (independent loads, which miss together) and answers the same way.

use std::sync::atomic::{AtomicU64, Ordering};

use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;

use crate::common::error::{BenchError, Context};
use crate::common::floor::LineTable;
use crate::common::process::{Cpus, RoleArgs, Spin, child_start, tell_parent};
use crate::common::recorder::{iters_for, record, warmup_for};
use crate::common::shared_object::{open_parents, spawn_on};

/// Lines per message: the six a ZeroCP message moves.
pub const LINES: usize = 6;
/// Size of the shared object.
const SHM_SIZE: usize = 4096;
/// The turn that ends the child.
const STOP: u64 = u64::MAX;
/// Round trips (as `floor`).
const BASE: usize = 200_000;
/// The shared object's name.
const NAME: &str = "zerocp-bench-floor-lines";

/// Line 0 (the turn) and the others.
fn split(table: &LineTable) -> Result<(&AtomicU64, Vec<&AtomicU64>), BenchError> {
    let mut rest = table.lines(LINES)?;
    let turn = rest.remove(0);
    Ok((turn, rest))
}

/// Writes `seq` into every line of `rest`, then `turn` into `turn_line`.
#[inline(always)]
fn send(turn_line: &AtomicU64, rest: &[&AtomicU64], seq: u64, turn: u64) {
    for line in rest {
        // Relaxed: published by the Release store of the turn.
        line.store(seq, Ordering::Relaxed);
    }
    // Release: the other side's Acquire load of the turn sees the lines.
    turn_line.store(turn, Ordering::Release);
}

/// Reads every line of `rest`; `Err` unless each holds `seq`.
#[inline(always)]
fn check(rest: &[&AtomicU64], seq: u64, role: &str) -> Result<(), BenchError> {
    // Relaxed: ordered after the Acquire load of the turn.
    let wrong = rest.iter().any(|line| line.load(Ordering::Relaxed) != seq);
    if wrong {
        return Err(BenchError::Peer {
            role: role.into(),
            detail: format!("a line does not hold {seq}"),
        });
    }
    Ok(())
}

/// Runs the `floor-lines` case; returns its result line.
pub fn run(cpus: Cpus, scale: f64) -> Result<String, BenchError> {
    let iters = iters_for(8, BASE, scale);
    let name = SegmentName::new(NAME).map_err(|e| BenchError::Usage(e.to_string()))?;
    let shm = SharedMemory::create(&name, SHM_SIZE).os(|| format!("creating {name}"))?;
    let table = LineTable::map(&shm)?;
    let child = spawn_on("floor-lines-pong", cpus, &shm)?;
    let (turn, rest) = split(&table)?;
    let shared = cpus.shared();
    let one = |seq: u64| -> Result<(), BenchError> {
        send(turn, &rest, seq, 2 * seq - 1);
        let mut spin = Spin::new(shared);
        // Acquire: pairs with the child's Release store of the turn.
        while turn.load(Ordering::Acquire) != 2 * seq {
            spin.turn("floor-lines pong")?;
        }
        check(&rest, seq, "floor-lines-pong")
    };
    let rec = record(0, warmup_for(iters), iters, one)?;
    // Release: as every turn.
    turn.store(STOP, Ordering::Release);
    child.finish()?;
    Ok(rec.line(&format!("floor-{LINES}"), 8))
}

/// The child side (`--role floor-lines-pong`): answers every turn.
pub fn role_main(args: &RoleArgs) -> Result<(), BenchError> {
    let shared = child_start(args, rustix::process::Signal::KILL)?;
    let shm = open_parents(args, NAME)?;
    let table = LineTable::map(&shm)?;
    let (turn, rest) = split(&table)?;
    tell_parent("ready")?;
    let mut seq = 0u64;
    loop {
        seq += 1;
        let mut spin = Spin::new(shared);
        loop {
            // Acquire: pairs with the parent's Release store of the turn.
            match turn.load(Ordering::Acquire) {
                STOP => return Ok(()),
                t if t == 2 * seq - 1 => break,
                _ => spin.turn("floor-lines ping")?,
            }
        }
        check(&rest, seq, "floor-lines-pong")?;
        send(turn, &rest, seq, 2 * seq);
    }
}
