//! The `floor` baseline: what two cores need to bounce a sequence number
//! through shared memory, with nothing else. One `AtomicU64` per direction
//! in a shared-memory segment (the child opens the parent's descriptor
//! through `/proc`), the two 128 bytes apart (so the adjacent-line
//! prefetcher does not pair them), release-store to send, acquire-load spin
//! to receive. The payload is untouched, so it is reported once, as 8 B,
//! exactly like the peer's `floor` case.
//!
//! It also holds what the other `floor` cases of `latency` (`floor-lines`,
//! `floor-chain`) share with it: their table of lines ([`LineTable`]); their
//! object is set up like every `floor` case's
//! ([`crate::common::shared_object`]).

use std::sync::atomic::{AtomicU64, Ordering};

use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;

use crate::common::error::{BenchError, Context};
use crate::common::process::{Cpus, RoleArgs, Spin, child_start, tell_parent};
use crate::common::recorder::{Recorder, iters_for, record, warmup_for};
use crate::common::shared_object::{map_populated, open_parents, spawn_on};

/// Size of the shared object.
const SHM_SIZE: usize = 4096;
/// The sequence number that ends the child.
const STOP: u64 = u64::MAX;
/// Round trips (busy-poll count of the peer).
const BASE: usize = 200_000;

/// Bytes between two lines of a [`LineTable`] (two cache lines: the
/// adjacent-line prefetcher does not pair them).
const LINE_SPACING: usize = 128;

/// The lines of the `floor-lines` and `floor-chain` cases: words
/// [`LINE_SPACING`] apart in a populated mapping of their object.
pub struct LineTable {
    map: Mapping,
}

impl LineTable {
    /// Maps `shm` (see [`map_populated`]).
    pub fn map(shm: &SharedMemory) -> Result<Self, BenchError> {
        Ok(Self {
            map: map_populated(shm)?,
        })
    }

    /// The first `count` lines, each checked once for bounds and alignment,
    /// so an exchange indexes a slice.
    pub fn lines(&self, count: usize) -> Result<Vec<&AtomicU64>, BenchError> {
        (0..count)
            .map(|i| {
                // SAFETY: the object is zero-filled shared memory, a valid
                // AtomicU64 at every aligned offset, and both processes only
                // ever access these words atomically.
                unsafe { self.map.ref_at::<AtomicU64>(i * LINE_SPACING) }
                    .os(|| format!("line {i} of the floor table"))
            })
            .collect()
    }
}

/// The parent→child word (line 0) and the child→parent word (line 1).
fn ping_pong(table: &LineTable) -> Result<(&AtomicU64, &AtomicU64), BenchError> {
    let lines = table.lines(2)?;
    Ok((lines[0], lines[1]))
}

/// Runs the `floor` case; returns its result line.
pub fn run(cpus: Cpus, scale: f64) -> Result<String, BenchError> {
    let iters = iters_for(8, BASE, scale);
    Ok(measure(cpus, iters, warmup_for(iters))?.line("floor", 8))
}

/// Round trips of a [`probe`].
const PROBE_ITERS: usize = 20_000;

/// A short floor measurement (20 k round trips, a few milliseconds):
/// the one-way median in ns. The cost of moving a cache line between the
/// two CPUs is set by where the host places them and can change during a
/// run on a virtual machine; a probe next to a case tells which state that
/// case saw.
pub fn probe(cpus: Cpus) -> Result<u64, BenchError> {
    Ok(measure(cpus, PROBE_ITERS, 1000)?.median())
}

/// `warmup` untimed, then `iters` timed round trips with a child.
fn measure(cpus: Cpus, iters: usize, warmup: usize) -> Result<Recorder, BenchError> {
    let name =
        SegmentName::new("zerocp-bench-floor").map_err(|e| BenchError::Usage(e.to_string()))?;
    let shm = SharedMemory::create(&name, SHM_SIZE).os(|| format!("creating {name}"))?;
    let table = LineTable::map(&shm)?;
    let child = spawn_on("floor-pong", cpus, &shm)?;
    let (ping, pong) = ping_pong(&table)?;
    let shared = cpus.shared();
    let one = |seq: u64| -> Result<(), BenchError> {
        // Release: the peer's acquire-load sees everything before it.
        ping.store(seq, Ordering::Release);
        let mut spin = Spin::new(shared);
        // Acquire: pairs with the child's release-store.
        while pong.load(Ordering::Acquire) != seq {
            spin.turn("floor pong")?;
        }
        Ok(())
    };
    let rec = record(0, warmup, iters, one)?;
    // Release: as every ping.
    ping.store(STOP, Ordering::Release);
    child.finish()?;
    Ok(rec)
}

/// The child side (`--role floor-pong`): echoes every sequence number.
pub fn role_main(args: &RoleArgs) -> Result<(), BenchError> {
    let shared = child_start(args, rustix::process::Signal::KILL)?;
    let shm = open_parents(args, "zerocp-bench-floor")?;
    let table = LineTable::map(&shm)?;
    let (ping, pong) = ping_pong(&table)?;
    tell_parent("ready")?;
    let mut last = 0u64;
    loop {
        let mut spin = Spin::new(shared);
        let seq = loop {
            // Acquire: pairs with the parent's release-store.
            let v = ping.load(Ordering::Acquire);
            if v != last {
                break v;
            }
            spin.turn("floor ping")?;
        };
        if seq == STOP {
            return Ok(());
        }
        // Release: pairs with the parent's acquire-load.
        pong.store(seq, Ordering::Release);
        last = seq;
    }
}
