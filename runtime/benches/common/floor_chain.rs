//! The `floor-chain` case: the `floor` exchange where the word a side waits
//! for only names the line that holds the message, as a queue cell names a
//! chunk. The receiver learns which line to read when the turn arrives, so
//! it fetches the two lines one after the other: what any receive costs
//! whose data lies at an address the message itself carries (docs/
//! performance.md, "Round two, third step"). `floor` moves one line per
//! message, `floor-6` six lines whose addresses both sides know in advance,
//! `floor-chain` two lines, the second found through the first.
//!
//! Line 0 carries the turn and the index of the data line
//! (`turn * TURN_SCALE + index`; turn `2s - 1`: the parent sent `s`, `2s`: the
//! child answered), lines 1..=`DATA_LINES` the data. A side writes the
//! sequence number into a data line picked by a hash of it (no stride a
//! prefetcher could follow), then the turn (Release); the other waits for
//! the turn (Acquire), reads the line it names and answers the same way.

use std::sync::atomic::{AtomicU64, Ordering};

use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;

use crate::common::error::{BenchError, Context};
use crate::common::floor::LineTable;
use crate::common::process::{Cpus, RoleArgs, Spin, child_start, tell_parent};
use crate::common::recorder::{iters_for, record, warmup_for};
use crate::common::shared_object::{open_parents, spawn_on};

/// Data lines to pick from.
const DATA_LINES: u64 = 61;
/// The turn word is `turn * TURN_SCALE + index`: the index in the low byte.
const TURN_SCALE: u64 = 256;
const _: () = assert!(DATA_LINES < TURN_SCALE);
/// Size of the shared object: the turn line and the data lines.
const SHM_SIZE: usize = 8192;
/// The turn that ends the child.
const STOP: u64 = u64::MAX;
/// Round trips (as `floor`).
const BASE: usize = 200_000;
/// The shared object's name.
const NAME: &str = "zerocp-bench-floor-chain";

/// Writes `seq` into its data line, then the turn naming that line.
#[inline(always)]
fn send(lines: &[&AtomicU64], seq: u64, turn: u64) {
    let index = 1 + scatter(seq) % DATA_LINES;
    // Relaxed: published by the Release store of the turn.
    lines[index as usize].store(seq, Ordering::Relaxed);
    // Release: the other side's Acquire load of the turn sees the line.
    lines[0].store(turn * TURN_SCALE + index, Ordering::Release);
}

/// Reads the data line the turn word `word` names; `Err` unless it holds
/// `seq` (or the word names no line).
#[inline(always)]
fn check(lines: &[&AtomicU64], word: u64, seq: u64, role: &str) -> Result<(), BenchError> {
    let Some(line) = lines.get((word % TURN_SCALE) as usize) else {
        return Err(BenchError::Peer {
            role: role.into(),
            detail: format!("the turn word {word:#x} names no line"),
        });
    };
    // Relaxed: ordered after the Acquire load of the turn.
    let found = line.load(Ordering::Relaxed);
    if found != seq {
        return Err(BenchError::Peer {
            role: role.into(),
            detail: format!("the line named holds {found}, not {seq}"),
        });
    }
    Ok(())
}

/// A cheap mix of `seq` (so consecutive messages use unrelated lines).
fn scatter(seq: u64) -> u64 {
    let x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

/// Runs the `floor-chain` case; returns its result line.
pub fn run(cpus: Cpus, scale: f64) -> Result<String, BenchError> {
    let iters = iters_for(8, BASE, scale);
    let name = SegmentName::new(NAME).map_err(|e| BenchError::Usage(e.to_string()))?;
    let shm = SharedMemory::create(&name, SHM_SIZE).os(|| format!("creating {name}"))?;
    let table = LineTable::map(&shm)?;
    let lines = table.lines(1 + DATA_LINES as usize)?;
    let child = spawn_on("floor-chain-pong", cpus, &shm)?;
    let shared = cpus.shared();
    let turn = lines[0];
    let one = |seq: u64| -> Result<(), BenchError> {
        send(&lines, seq, 2 * seq - 1);
        let mut spin = Spin::new(shared);
        loop {
            // Acquire: pairs with the child's Release store of the turn.
            let word = turn.load(Ordering::Acquire);
            if word / TURN_SCALE == 2 * seq {
                return check(&lines, word, seq, "floor-chain-pong");
            }
            spin.turn("floor-chain pong")?;
        }
    };
    let rec = record(0, warmup_for(iters), iters, one)?;
    // Release: as every turn.
    turn.store(STOP, Ordering::Release);
    child.finish()?;
    Ok(rec.line("floor-chain", 8))
}

/// The child side (`--role floor-chain-pong`): answers every turn.
pub fn role_main(args: &RoleArgs) -> Result<(), BenchError> {
    let shared = child_start(args, rustix::process::Signal::KILL)?;
    let shm = open_parents(args, NAME)?;
    let table = LineTable::map(&shm)?;
    let lines = table.lines(1 + DATA_LINES as usize)?;
    let turn = lines[0];
    tell_parent("ready")?;
    let mut seq = 0u64;
    loop {
        seq += 1;
        let mut spin = Spin::new(shared);
        let word = loop {
            // Acquire: pairs with the parent's Release store of the turn.
            match turn.load(Ordering::Acquire) {
                STOP => return Ok(()),
                w if w / TURN_SCALE == 2 * seq - 1 => break w,
                _ => spin.turn("floor-chain ping")?,
            }
        };
        check(&lines, word, seq, "floor-chain-pong")?;
        send(&lines, seq, 2 * seq);
    }
}
