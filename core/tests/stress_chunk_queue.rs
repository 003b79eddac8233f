//! Multi-thread stress of the chunk queue: with several producers and
//! consumers nothing is lost, duplicated or reordered per producer, and with
//! discard-oldest every pushed index is either delivered or dropped, once.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use zerocp_core::chunk_queue::ChunkQueue;

const PER_PRODUCER: u32 = if cfg!(miri) { 40 } else { 100_000 };
const DEADLINE: Duration = Duration::from_secs(120);

/// Value = producer << 24 | sequence.
fn encode(producer: u32, seq: u32) -> u32 {
    producer << 24 | seq
}

fn check_deadline(start: Instant, what: &str) {
    assert!(
        start.elapsed() < DEADLINE,
        "{what}: no progress before the deadline"
    );
    std::thread::yield_now();
}

fn run_mpmc(capacity: u32, producers: u32, consumers: u32) {
    let queue = ChunkQueue::<8>::new(capacity).unwrap();
    let seen: Vec<AtomicU32> = (0..producers * PER_PRODUCER)
        .map(|_| AtomicU32::new(0))
        .collect();
    let popped = AtomicU32::new(0);
    let total = producers * PER_PRODUCER;
    let start = Instant::now();
    std::thread::scope(|s| {
        for p in 0..producers {
            let queue = &queue;
            s.spawn(move || {
                for seq in 0..PER_PRODUCER {
                    while queue.push(encode(p, seq)).is_err() {
                        check_deadline(start, "producer");
                    }
                }
            });
        }
        for _ in 0..consumers {
            let (queue, seen, popped) = (&queue, &seen, &popped);
            s.spawn(move || {
                // Per consumer, each producer's values must arrive in order.
                let mut last = vec![None::<u32>; producers as usize];
                while popped.load(Ordering::Relaxed) < total {
                    let Some(v) = queue.pop() else {
                        check_deadline(start, "consumer");
                        continue;
                    };
                    let (p, seq) = (v >> 24, v & 0xFF_FFFF);
                    assert!(p < producers && seq < PER_PRODUCER, "garbage value {v:#x}");
                    let prev = last[p as usize].replace(seq);
                    assert!(
                        prev.is_none_or(|prev| prev < seq),
                        "producer {p}: {prev:?} then {seq}"
                    );
                    let n = seen[(p * PER_PRODUCER + seq) as usize].fetch_add(1, Ordering::Relaxed);
                    assert_eq!(n, 0, "value {v:#x} delivered twice");
                    popped.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert!(seen.iter().all(|c| c.load(Ordering::Relaxed) == 1));
    assert!(queue.is_empty());
}

#[test]
fn mpmc_capacity_3_three_producers_two_consumers() {
    run_mpmc(3, 3, 2);
}

#[test]
fn mpmc_capacity_8_two_producers_two_consumers() {
    run_mpmc(8, 2, 2);
}

#[test]
fn mpmc_capacity_1_two_producers_one_consumer() {
    run_mpmc(1, 2, 1);
}

/// Producers alternate plain pushes (retrying) and discard-oldest pushes.
#[test]
fn discard_oldest_delivered_plus_dropped_equals_pushed() {
    const PRODUCERS: u32 = 2;
    let queue = ChunkQueue::<4>::new(3).unwrap();
    let total = PRODUCERS * PER_PRODUCER;
    // 1 = delivered, 2 = dropped; each index must get exactly one of them.
    let fate: Vec<AtomicU32> = (0..total).map(|_| AtomicU32::new(0)).collect();
    let producers_done = AtomicU32::new(0);
    let dropped = AtomicU32::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for p in 0..PRODUCERS {
            let (queue, fate, producers_done, dropped) = (&queue, &fate, &producers_done, &dropped);
            s.spawn(move || {
                for seq in 0..PER_PRODUCER {
                    let index = p * PER_PRODUCER + seq;
                    if seq % 4 == 0 {
                        while queue.push(index).is_err() {
                            check_deadline(start, "producer");
                        }
                    } else if let Some(d) = queue.push_discard_oldest(index) {
                        assert_eq!(
                            fate[d as usize].fetch_add(2, Ordering::Relaxed),
                            0,
                            "{d} twice"
                        );
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                producers_done.fetch_add(1, Ordering::Release);
            });
        }
        let (queue, fate, producers_done) = (&queue, &fate, &producers_done);
        s.spawn(move || {
            loop {
                // Read the flag before popping: once all producers are done,
                // an empty queue stays empty.
                let finished = producers_done.load(Ordering::Acquire) == PRODUCERS;
                match queue.pop() {
                    Some(v) => assert_eq!(
                        fate[v as usize].fetch_add(1, Ordering::Relaxed),
                        0,
                        "{v} twice"
                    ),
                    None if finished => break,
                    None => check_deadline(start, "consumer"),
                }
            }
        });
    });
    assert!(
        fate.iter()
            .all(|f| matches!(f.load(Ordering::Relaxed), 1 | 2))
    );
    let delivered = fate
        .iter()
        .filter(|f| f.load(Ordering::Relaxed) == 1)
        .count() as u32;
    let dropped = dropped.load(Ordering::Relaxed);
    assert_eq!(delivered + dropped, total);
    // Two producers against one consumer on a queue of 3 do overflow.
    assert!(
        cfg!(miri) || dropped > 0,
        "the discard path was never taken"
    );
}
