//! The `floor-stream` case of `throughput`: how many messages two cores can
//! stream through shared memory with nothing else, keeping only the shape
//! of a zero-copy message. It is to `throughput` what `floor` is to
//! `latency`: the rate the hardware and the host's placement allow, beside
//! which the publisher's rate is read.
//!
//! The object holds a ring of [`CELLS`] cells (eight to a line, like a
//! subscriber queue's) and [`SLOTS`] slots of two lines each, a chunk of a
//! 64-byte sample: a header line and a payload line. The producer (the
//! parent, on the first CPU) writes the sequence number into both lines of
//! the next slot, then stores the cell naming that slot (Release). The
//! consumer (the child) waits for the cell (Acquire), reads both lines of
//! the slot it names, checks them, and stores how far it has read. The
//! producer runs at most [`WINDOW`] messages ahead, reading the consumer's
//! position only when it gets there. Slots are reused round-robin, so a
//! slot is written again [`SLOTS`] messages after it was written, at least
//! `SLOTS - WINDOW` after the consumer read it. Nothing is dropped: unlike
//! the publisher's cases, whose queues drop the oldest sample when full,
//! the producer waits for the consumer.
//!
//! What it leaves out is what the benchmark measures in ZeroCP: chunk
//! bookkeeping (loan, reference counts, the freelist), the queue's
//! read-modify-writes that make it safe for many publishers and for a
//! process killed at any instruction, the header's metadata and the clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;

use crate::common::error::{BenchError, Context};
use crate::common::process::{Cpus, RoleArgs, Spin, child_start, tell_parent};
use crate::common::shared_object::{map_populated, open_parents, spawn_on};

/// Cells in the ring (the throughput bench's queue capacity).
const CELLS: u64 = 256;
/// Slots (chunks) the producer cycles through.
const SLOTS: u64 = 256;
/// Messages the producer may run ahead of the consumer: at most `CELLS`
/// and `SLOTS` (a cell or slot is written again only once the consumer read
/// it), 16 fewer as a margin.
const WINDOW: u64 = CELLS - 16;
/// Where the cells start: after the total's line and the position's line.
const CELLS_AT: usize = 128;
/// Where the slots start.
const SLOTS_AT: usize = 4096;
/// Bytes of a slot: a header line and a payload line.
const SLOT_SIZE: usize = 128;
/// Size of the shared object.
const SHM_SIZE: usize = SLOTS_AT + SLOTS as usize * SLOT_SIZE;
/// The low bits of a cell name the slot, the high bits the sequence number.
const SLOT_BITS: u32 = 16;
const _: () = assert!(
    WINDOW <= CELLS
        && WINDOW <= SLOTS
        && SLOTS <= 1 << SLOT_BITS
        && CELLS_AT + CELLS as usize * 8 <= SLOTS_AT
);
/// The shared object's name.
const NAME: &str = "zerocp-bench-floor-stream";

/// The words of the object, each checked once for bounds and alignment.
struct Stream<'m> {
    /// Messages the parent sends (written before the child starts).
    total: &'m AtomicU64,
    /// The last sequence number the consumer read.
    position: &'m AtomicU64,
    /// The ring: cell `seq % CELLS` names message `seq`'s slot.
    cells: Vec<&'m AtomicU64>,
    /// Each slot's header word and payload word.
    slots: Vec<(&'m AtomicU64, &'m AtomicU64)>,
}

impl<'m> Stream<'m> {
    fn new(map: &'m Mapping) -> Result<Self, BenchError> {
        let word = |offset: usize| -> Result<&'m AtomicU64, BenchError> {
            // SAFETY: the object is zero-filled shared memory, a valid
            // AtomicU64 at every aligned offset, and both processes only
            // ever access these words atomically.
            unsafe { map.ref_at::<AtomicU64>(offset) }
                .os(|| format!("word at {offset} of the floor-stream object"))
        };
        let cells = (0..CELLS as usize)
            .map(|i| word(CELLS_AT + 8 * i))
            .collect::<Result<_, _>>()?;
        let slots = (0..SLOTS as usize)
            .map(|i| {
                let at = SLOTS_AT + SLOT_SIZE * i;
                Ok((word(at)?, word(at + 64)?))
            })
            .collect::<Result<_, BenchError>>()?;
        Ok(Self {
            total: word(0)?,
            position: word(64)?,
            cells,
            slots,
        })
    }

    fn cell(&self, seq: u64) -> &'m AtomicU64 {
        self.cells[(seq % CELLS) as usize]
    }
}

/// Runs the case with `messages` timed messages (a tenth more, at least
/// 100, untimed before them); returns its result line.
pub fn run(cpus: Cpus, messages: u64) -> Result<String, BenchError> {
    let name = SegmentName::new(NAME).map_err(|e| BenchError::Usage(e.to_string()))?;
    let shm = SharedMemory::create(&name, SHM_SIZE).os(|| format!("creating {name}"))?;
    let map = map_populated(&shm)?;
    let stream = Stream::new(&map)?;
    let warmup = (messages / 10).max(100);
    // Relaxed: the child reads it after it was started, which orders it.
    stream.total.store(warmup + messages, Ordering::Relaxed);
    let child = spawn_on("floor-stream", cpus, &shm)?;
    let mut producer = Producer {
        stream: &stream,
        read_up_to: 0,
        shared: cpus.shared(),
    };
    for seq in 1..=warmup {
        producer.send(seq)?;
    }
    let start = Instant::now();
    for seq in warmup + 1..=warmup + messages {
        producer.send(seq)?;
    }
    let secs = start.elapsed().as_secs_f64();
    child.finish()?;
    Ok(format!(
        "throughput subs=1 payload=64B msgs_per_s={:.0} ns_per_publish={:.1} mode=floor-stream delivered_pct=100.0",
        messages as f64 / secs,
        secs * 1e9 / messages as f64,
    ))
}

/// The parent's side: the consumer's position as last read.
struct Producer<'s, 'm> {
    stream: &'s Stream<'m>,
    read_up_to: u64,
    shared: bool,
}

impl Producer<'_, '_> {
    /// Writes message `seq` into its slot and its cell, once the consumer
    /// is less than [`WINDOW`] messages behind.
    fn send(&mut self, seq: u64) -> Result<(), BenchError> {
        let mut spin = Spin::new(self.shared);
        while seq - self.read_up_to > WINDOW {
            // Acquire: the consumer read every message up to this position
            // before it stored it, so their cells and slots are free again.
            self.read_up_to = self.stream.position.load(Ordering::Acquire);
            if seq - self.read_up_to > WINDOW {
                spin.turn("floor-stream consumer")?;
            }
        }
        let slot = seq % SLOTS;
        let (header, payload) = self.stream.slots[slot as usize];
        // Relaxed: published by the Release store of the cell.
        header.store(seq, Ordering::Relaxed);
        payload.store(seq, Ordering::Relaxed);
        // Release: the consumer's Acquire load of the cell sees both lines.
        self.stream
            .cell(seq)
            .store(seq << SLOT_BITS | slot, Ordering::Release);
        Ok(())
    }
}

/// The child side (`--role floor-stream`): reads and checks every message,
/// then exits.
pub fn role_main(args: &RoleArgs) -> Result<(), BenchError> {
    let shared = child_start(args, rustix::process::Signal::KILL)?;
    let shm = open_parents(args, NAME)?;
    let map = map_populated(&shm)?;
    let stream = Stream::new(&map)?;
    // Relaxed: written before this process was started.
    let total = stream.total.load(Ordering::Relaxed);
    tell_parent("ready")?;
    for seq in 1..=total {
        let word = wait_for(&stream, seq, shared)?;
        check(&stream, word, seq)?;
        // Release: the producer's Acquire load of the position sees that
        // the slot was read before it writes the slot again.
        stream.position.store(seq, Ordering::Release);
    }
    Ok(())
}

/// Waits until message `seq`'s cell is stored; returns the cell's word.
fn wait_for(stream: &Stream<'_>, seq: u64, shared: bool) -> Result<u64, BenchError> {
    let mut spin = Spin::new(shared);
    loop {
        // Acquire: pairs with the producer's Release store of the cell.
        let word = stream.cell(seq).load(Ordering::Acquire);
        if word >> SLOT_BITS == seq {
            return Ok(word);
        }
        spin.turn("floor-stream producer")?;
    }
}

/// Reads the slot the cell's `word` names; `Err` unless both its lines hold
/// `seq`.
fn check(stream: &Stream<'_>, word: u64, seq: u64) -> Result<(), BenchError> {
    let slot = word & ((1 << SLOT_BITS) - 1);
    let Some(&(header, payload)) = stream.slots.get(slot as usize) else {
        return Err(BenchError::Peer {
            role: "floor-stream".into(),
            detail: format!("the cell of message {seq} names slot {slot}, of {SLOTS}"),
        });
    };
    // Relaxed: ordered by the Acquire load of the cell.
    let read = (
        header.load(Ordering::Relaxed),
        payload.load(Ordering::Relaxed),
    );
    if read != (seq, seq) {
        return Err(BenchError::Peer {
            role: "floor-stream".into(),
            detail: format!("message {seq}: slot {slot} holds {read:?}"),
        });
    }
    Ok(())
}
