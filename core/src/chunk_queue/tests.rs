use super::*;
use std::vec::Vec;

/// Pops until empty.
fn drain<const CAP: usize>(q: &ChunkQueue<CAP>) -> Vec<u32> {
    core::iter::from_fn(|| q.pop()).collect()
}

/// Moves an empty, freshly initialised queue to start at the lap-aligned
/// position `start` (as if it had run for a long time).
fn start_at<const CAP: usize>(q: &ChunkQueue<CAP>, start: u32) {
    let g = q.geometry();
    q.enqueue_pos.store(start, Ordering::Relaxed);
    q.dequeue_pos.store(start, Ordering::Relaxed);
    for i in 0..g.cap {
        q.cells[i as usize].store(pack(start.wrapping_add(i), 0), Ordering::Relaxed);
    }
}

/// The queue works at full capacity: FIFO, exact capacity, then empty.
fn assert_usable<const CAP: usize>(q: &ChunkQueue<CAP>) {
    let cap = q.capacity();
    assert!(q.is_empty(), "not empty before the check");
    for i in 0..cap {
        assert_eq!(q.push(1000 + i), Ok(()), "push {i} of {cap}");
    }
    assert_eq!(q.len(), cap);
    assert_eq!(q.push(7), Err(QueueFull { index: 7 }));
    assert_eq!(drain(q), (0..cap).map(|i| 1000 + i).collect::<Vec<_>>());
    assert!(q.is_empty());
}

#[test]
fn exact_capacity_fifo_for_every_size() {
    for cap in 1..=8u32 {
        let q = ChunkQueue::<8>::new(cap).unwrap();
        for round in 0..5u32 {
            for i in 0..cap {
                q.push(round * 100 + i).unwrap();
            }
            assert_eq!(q.len(), cap);
            assert_eq!(q.push(7), Err(QueueFull { index: 7 }));
            let got = drain(&q);
            assert_eq!(got, (0..cap).map(|i| round * 100 + i).collect::<Vec<_>>());
            assert!(q.is_empty());
        }
    }
}

#[test]
fn rejects_bad_capacity() {
    assert_eq!(
        ChunkQueue::<4>::new(0).unwrap_err(),
        CapacityError {
            requested: 0,
            max: 4
        }
    );
    assert_eq!(
        ChunkQueue::<4>::new(5).unwrap_err(),
        CapacityError {
            requested: 5,
            max: 4
        }
    );
}

#[test]
fn discard_oldest_keeps_newest() {
    let q = ChunkQueue::<4>::new(3).unwrap();
    let mut dropped = Vec::new();
    for i in 0..10 {
        dropped.extend(q.push_discard_oldest(i));
    }
    assert_eq!(dropped, (0..7).collect::<Vec<_>>());
    assert_eq!(drain(&q), [7, 8, 9]);
}

#[test]
fn zeroed_queue_is_empty_capacity_one() {
    let q = ChunkQueue::<4>::new(4).unwrap();
    q.enqueue_pos.store(0, Ordering::Relaxed);
    q.dequeue_pos.store(0, Ordering::Relaxed);
    q.capacity.store(0, Ordering::Relaxed);
    q.cells.iter().for_each(|c| c.store(0, Ordering::Relaxed));
    assert_eq!((q.capacity(), q.pop()), (1, None));
    q.push(5).unwrap();
    assert_eq!(q.push(6), Err(QueueFull { index: 6 }));
    assert_eq!(q.pop(), Some(5));
}

#[test]
fn corrupted_words_never_hang_or_go_out_of_bounds() {
    let q = ChunkQueue::<4>::new(3).unwrap();
    q.capacity.store(u32::MAX, Ordering::Relaxed);
    assert_eq!(q.capacity(), 4);
    for garbage in [u32::MAX, 0x8000_0003, 12345, 7, 1] {
        for shift in [0, 1, 32, 33] {
            q.enqueue_pos.store(garbage, Ordering::Relaxed);
            q.dequeue_pos
                .store(garbage.wrapping_mul(7), Ordering::Relaxed);
            q.cells.iter().enumerate().for_each(|(i, c)| {
                c.store((u64::from(garbage) + i as u64) << shift, Ordering::Relaxed);
            });
            let _ = q.push(1);
            let _ = q.pop();
            let _ = q.push_discard_oldest(2);
            assert!(q.len() <= q.capacity());
        }
    }
    q.init(2).unwrap();
    assert_usable(&q);
}

#[test]
fn free_cell_with_a_stray_value_is_still_filled() {
    let q = ChunkQueue::<4>::new(2).unwrap();
    q.cells[0].store(pack(0, 77), Ordering::Relaxed);
    q.push(5).unwrap();
    assert_eq!(q.pop(), Some(5));
    assert_usable(&q);
}

#[test]
fn positions_wrap_around_u32() {
    let q = ChunkQueue::<4>::new(3).unwrap();
    start_at(&q, u32::MAX - 3); // lap-aligned for one_lap = 4
    for i in 0..20 {
        q.push(i).unwrap();
        q.push(i + 100).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!((q.pop(), q.pop()), (Some(i), Some(i + 100)));
    }
    for i in 0..10 {
        q.push_discard_oldest(i);
    }
    assert_eq!(drain(&q), [7, 8, 9]);
}

/// Which operation a "dead" thread was running.
#[derive(Clone, Copy, Debug)]
enum Op {
    Push,
    Pop,
    Discard,
}

/// Runs `op` (value 100) on a queue of `cap` holding `0..filled`, stopped
/// after `steps` accesses. Returns what the survivors then pop, after
/// checking that `len` agreed with it.
fn survivors_see(cap: u32, filled: u32, start: u32, op: Op, steps: u32) -> Vec<u32> {
    let q = ChunkQueue::<4>::new(cap).unwrap();
    start_at(&q, start);
    for i in 0..filled {
        q.push(i).unwrap();
    }
    match op {
        Op::Push => drop(q.abandon_push_after(steps, 100)),
        Op::Pop => drop(q.abandon_pop_after(steps)),
        Op::Discard => drop(q.abandon_push_discard_oldest_after(steps, 100)),
    }
    let len = q.len();
    let got = drain(&q);
    assert_eq!(
        len as usize,
        got.len(),
        "len after {op:?} stopped at {steps}"
    );
    assert_usable(&q);
    got
}

#[test]
fn an_operation_stopped_at_any_step_never_blocks_the_queue() {
    // Per operation: stopped with no effect, stopped (or done) with effect.
    let mut outcomes = [[false; 2]; 3];
    for cap in 1..=4u32 {
        for filled in 0..=cap {
            for start in [0, u32::MAX - 7, 1 << 31] {
                let prefill: Vec<u32> = (0..filled).collect();
                let with_new: Vec<u32> = prefill.iter().copied().chain([100]).collect();
                let popped: Vec<u32> = prefill.iter().skip(1).copied().collect();
                let replaced: Vec<u32> = popped.iter().copied().chain([100]).collect();
                for steps in 0..12 {
                    let got = survivors_see(cap, filled, start, Op::Push, steps);
                    assert!(
                        got == prefill || (filled < cap && got == with_new),
                        "{got:?}"
                    );
                    outcomes[0][usize::from(got != prefill)] = true;

                    let got = survivors_see(cap, filled, start, Op::Pop, steps);
                    assert!(got == prefill || got == popped, "{got:?}");
                    outcomes[1][usize::from(got != prefill)] = true;

                    let got = survivors_see(cap, filled, start, Op::Discard, steps);
                    let ok = got == prefill
                        || (filled < cap && got == with_new)
                        || (filled == cap && got == replaced);
                    assert!(ok, "cap {cap} filled {filled} steps {steps}: {got:?}");
                    outcomes[2][usize::from(got != prefill)] = true;
                }
            }
        }
    }
    assert_eq!(
        outcomes, [[true; 2]; 3],
        "every operation both stopped early and took effect"
    );
}

#[test]
fn stopped_after_the_cell_cas_is_completed_by_others() {
    let q = ChunkQueue::<4>::new(3).unwrap();
    // push: E load, cell CAS; stopped before E moves.
    assert_eq!(q.abandon_push_after(2, 1), None);
    assert_eq!(q.enqueue_pos.load(Ordering::Relaxed), 0);
    assert_eq!((q.len(), q.is_empty()), (1, false));
    q.push(2).unwrap();
    // pop: D load, cell load, cell CAS; stopped before D moves.
    assert_eq!(q.abandon_pop_after(3), None);
    assert_eq!(q.dequeue_pos.load(Ordering::Relaxed), 0);
    assert_eq!(q.len(), 1);
    assert_eq!(q.pop(), Some(2));
    assert_eq!(q.pop(), None);
}

#[test]
fn threads_lose_and_duplicate_nothing() {
    const PER: u32 = if cfg!(miri) { 30 } else { 5_000 };
    let q = ChunkQueue::<4>::new(3).unwrap();
    let seen: Vec<AtomicU32> = (0..2 * PER).map(|_| AtomicU32::new(0)).collect();
    std::thread::scope(|s| {
        for p in 0..2 {
            let q = &q;
            s.spawn(move || {
                for i in 0..PER {
                    while q.push(p * PER + i).is_err() {
                        std::thread::yield_now();
                    }
                }
            });
        }
        let (q, seen) = (&q, &seen);
        for _ in 0..2 {
            s.spawn(move || {
                let mut got = 0;
                while got < PER {
                    match q.pop() {
                        Some(v) => {
                            seen[v as usize].fetch_add(1, Ordering::Relaxed);
                            got += 1;
                        }
                        None => std::thread::yield_now(),
                    }
                }
            });
        }
    });
    assert!(seen.iter().all(|c| c.load(Ordering::Relaxed) == 1));
}
