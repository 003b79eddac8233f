//! Micro-benchmark of [`ChunkQueue`], the per-message hot path (one push by
//! the publisher, one pop by the subscriber).
//!
//! - `ping-pong`: two threads, two queues; thread A pushes into the first and
//!   waits for the echo on the second, thread B echoes. Reports the median,
//!   over batches, of the mean nanoseconds per round trip (2 pushes + 2 pops,
//!   each crossing cores).
//! - `push+pop`: one thread pushes and pops in a loop (no sharing); reports
//!   the median of the mean nanoseconds per push+pop pair.
//!
//! Run: `cargo run --release -p zerocp-core --example chunk_queue_bench [batches]`.

use std::hint::{black_box, spin_loop};
use std::time::Instant;
use zerocp_core::chunk_queue::ChunkQueue;

/// Same capacity type as a subscriber port's queue.
type Queue = ChunkQueue<256>;

/// Round trips (or push+pop pairs) timed together in one batch.
const BATCH: u32 = 2_000;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Pops from `queue`, spinning (and yielding now and then, the machine may
/// have fewer cores than busy threads) until a value arrives.
fn pop_spin(queue: &Queue) -> u32 {
    let mut spins = 0u32;
    loop {
        if let Some(v) = queue.pop() {
            return v;
        }
        spins += 1;
        if spins.is_multiple_of(1024) {
            std::thread::yield_now();
        } else {
            spin_loop();
        }
    }
}

fn ping_pong(batches: u32) -> f64 {
    let (ping, pong) = (Queue::new(256).unwrap(), Queue::new(256).unwrap());
    let total = batches * BATCH;
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..total {
                let v = pop_spin(&ping);
                pong.push(v).expect("echo queue never fills");
            }
        });
        let mut samples = Vec::with_capacity(batches as usize);
        let mut next = 0u32;
        for _ in 0..batches {
            let start = Instant::now();
            for _ in 0..BATCH {
                ping.push(next).expect("ping queue never fills");
                assert_eq!(pop_spin(&pong), next, "echo out of order");
                next += 1;
            }
            samples.push(start.elapsed().as_nanos() as f64 / f64::from(BATCH));
        }
        median(samples)
    })
}

fn push_pop(batches: u32) -> f64 {
    let queue = Queue::new(256).unwrap();
    let mut samples = Vec::with_capacity(batches as usize);
    for _ in 0..batches {
        let start = Instant::now();
        for i in 0..BATCH {
            queue.push(black_box(i)).expect("never full");
            black_box(queue.pop());
        }
        samples.push(start.elapsed().as_nanos() as f64 / f64::from(BATCH));
    }
    median(samples)
}

fn main() {
    let batches = std::env::args()
        .nth(1)
        .map_or(500, |a| a.parse().expect("batches: a positive integer"));
    // Warm up caches, frequency and the thread pool.
    ping_pong(20);
    push_pop(20);
    println!("ping-pong median: {:.1} ns/round trip", ping_pong(batches));
    println!("push+pop  median: {:.1} ns/pair", push_pop(batches));
}
