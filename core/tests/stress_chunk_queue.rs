//! Multi-thread stress of the chunk queue: with several producers and
//! consumers nothing is lost, duplicated or reordered per producer; with
//! discard-oldest every pushed index is either delivered or dropped, once;
//! and operations abandoned at random points (a process killed there) lose
//! at most their own item and never block the survivors.
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

/// Tiny deterministic PRNG (xorshift32), one per thread.
struct Rng(u32);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 % n
    }
}

/// What happened to each value: taken at most once by anyone.
const DELIVERED: u32 = 1;
const DROPPED: u32 = 2;
const TAKEN_BY_DEAD: u32 = 3;

/// Shared bookkeeping of the abandonment stress test.
struct Ledger {
    fate: Vec<AtomicU32>,
    /// 1 if the value was pushed by a finished push (it must not vanish).
    pushed: Vec<AtomicU32>,
    /// Operations that stopped where they may have taken an item with them.
    may_leak: AtomicU32,
    abandoned: AtomicU32,
}

impl Ledger {
    fn settle(&self, v: u32, how: u32) {
        let before = self.fate[v as usize].swap(how, Ordering::Relaxed);
        assert_eq!(before, 0, "value {v:#x} taken twice ({before} then {how})");
    }
}

/// One step of a producer: a plain push (retried), a discarding push, or,
/// once in a while, either of them abandoned after a random number of steps.
fn produce(queue: &ChunkQueue<4>, ledger: &Ledger, rng: &mut Rng, v: u32, start: Instant) {
    let dies = rng.below(ABANDON_ONE_IN) == 0;
    let discard = rng.below(2) == 0;
    if dies {
        ledger.abandoned.fetch_add(1, Ordering::Relaxed);
        let steps = rng.below(10);
        if discard {
            match queue.abandon_push_discard_oldest_after(steps, v) {
                None => drop(ledger.may_leak.fetch_add(1, Ordering::Relaxed)),
                Some(None) => ledger.pushed[v as usize].store(1, Ordering::Relaxed),
                Some(Some(d)) => {
                    ledger.pushed[v as usize].store(u32::from(d != v), Ordering::Relaxed);
                    ledger.settle(d, DROPPED);
                }
            }
        } else if let Some(Ok(())) = queue.abandon_push_after(steps, v) {
            ledger.pushed[v as usize].store(1, Ordering::Relaxed);
        }
    } else if discard {
        ledger.pushed[v as usize].store(1, Ordering::Relaxed);
        if let Some(d) = queue.push_discard_oldest(v) {
            ledger.settle(d, DROPPED);
        }
    } else {
        ledger.pushed[v as usize].store(1, Ordering::Relaxed);
        while queue.push(v).is_err() {
            check_deadline(start, "producer");
        }
    }
}

/// One pop of a consumer, sometimes abandoned after a random number of steps.
fn consume(queue: &ChunkQueue<4>, ledger: &Ledger, rng: &mut Rng) -> Option<u32> {
    if rng.below(ABANDON_ONE_IN) != 0 {
        let v = queue.pop()?;
        ledger.settle(v, DELIVERED);
        return Some(v);
    }
    ledger.abandoned.fetch_add(1, Ordering::Relaxed);
    match queue.abandon_pop_after(rng.below(8)) {
        None => drop(ledger.may_leak.fetch_add(1, Ordering::Relaxed)),
        Some(Some(v)) => ledger.settle(v, TAKEN_BY_DEAD),
        Some(None) => {}
    }
    None
}

const ABANDON_ONE_IN: u32 = if cfg!(miri) { 4 } else { 50 };

#[test]
fn abandoned_operations_lose_only_their_own_items() {
    const PRODUCERS: u32 = 3;
    const CONSUMERS: u32 = 2;
    let queue = ChunkQueue::<4>::new(3).unwrap();
    let total = PRODUCERS * PER_PRODUCER;
    let ledger = Ledger {
        fate: (0..total).map(|_| AtomicU32::new(0)).collect(),
        pushed: (0..total).map(|_| AtomicU32::new(0)).collect(),
        may_leak: AtomicU32::new(0),
        abandoned: AtomicU32::new(0),
    };
    let producers_done = AtomicU32::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for p in 0..PRODUCERS {
            let (queue, ledger, producers_done) = (&queue, &ledger, &producers_done);
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9 ^ (p + 1));
                for seq in 0..PER_PRODUCER {
                    produce(queue, ledger, &mut rng, p * PER_PRODUCER + seq, start);
                }
                producers_done.fetch_add(1, Ordering::Release);
            });
        }
        for c in 0..CONSUMERS {
            let (queue, ledger, producers_done) = (&queue, &ledger, &producers_done);
            s.spawn(move || {
                let mut rng = Rng(0x85EB_CA6B ^ (c + 1));
                // Per consumer, each producer's values arrive in order.
                let mut last = vec![None::<u32>; PRODUCERS as usize];
                loop {
                    // Read the flag before popping: once all producers are
                    // done, an empty queue stays empty.
                    let finished = producers_done.load(Ordering::Acquire) == PRODUCERS;
                    match consume(queue, ledger, &mut rng) {
                        Some(v) => {
                            let (p, seq) = (v / PER_PRODUCER, v % PER_PRODUCER);
                            let prev = last[p as usize].replace(seq);
                            assert!(prev.is_none_or(|prev| prev < seq), "{p}: {prev:?}, {seq}");
                        }
                        None if finished && queue.is_empty() => break,
                        None => check_deadline(start, "consumer"),
                    }
                }
            });
        }
    });
    // Every value a finished push enqueued was delivered, dropped or taken
    // by a consumer that then died, except at most one per stopped operation.
    let lost = (0..total as usize)
        .filter(|&v| {
            ledger.pushed[v].load(Ordering::Relaxed) == 1
                && ledger.fate[v].load(Ordering::Relaxed) == 0
        })
        .count() as u32;
    let may_leak = ledger.may_leak.load(Ordering::Relaxed);
    assert!(
        lost <= may_leak,
        "{lost} values lost, {may_leak} stopped operations"
    );
    assert!(
        ledger.abandoned.load(Ordering::Relaxed) > 0,
        "nothing was abandoned"
    );
    // The survivors' queue still works at full capacity.
    assert!(queue.is_empty(), "len {}", queue.len());
    for i in 0..3 {
        queue.push(i).unwrap();
    }
    assert!(queue.push(3).is_err(), "capacity 3 is exact");
    assert_eq!(
        (queue.pop(), queue.pop(), queue.pop(), queue.pop()),
        (Some(0), Some(1), Some(2), None)
    );
}
