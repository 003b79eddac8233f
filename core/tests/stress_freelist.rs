//! Multi-thread stress of the freelist over a header and link array laid out
//! as in shared memory: no index is ever held twice, none is lost, and the
//! statistics add up.
#![cfg(not(loom))]

use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, Ordering};
use zerocp_core::freelist::{FreeList, FreeListHeader, ReleaseError};

const THREADS: u32 = 4;
const ROUNDS: u32 = if cfg!(miri) { 30 } else { 100_000 };
const CAPACITY: usize = 8;

#[test]
fn threads_never_hold_an_index_twice() {
    let header = FreeListHeader::new();
    let links: Vec<zerocp_core::sync::AtomicU32> = (0..CAPACITY)
        .map(|_| zerocp_core::sync::AtomicU32::new(0))
        .collect();
    FreeList::init(&header, &links).unwrap();
    // owner[i] = thread id + 1 while that thread holds index i.
    let owner: Vec<AtomicU32> = (0..CAPACITY).map(|_| AtomicU32::new(0)).collect();
    std::thread::scope(|s| {
        for t in 1..=THREADS {
            let (header, links, owner) = (&header, &links[..], &owner[..]);
            s.spawn(move || {
                let list = FreeList::attach(header, links).unwrap();
                let mut held = Vec::with_capacity(3);
                for round in 0..ROUNDS {
                    // Hold between one and three indices at a time.
                    for _ in 0..=(round % 3) {
                        if let Some(i) = list.pop() {
                            let prev = owner[i as usize].swap(t, Ordering::Relaxed);
                            assert_eq!(prev, 0, "index {i} popped by {t} while held by {prev}");
                            held.push(i);
                        }
                    }
                    for i in held.drain(..) {
                        assert_eq!(owner[i as usize].swap(0, Ordering::Relaxed), t);
                        list.push(i).unwrap();
                    }
                }
            });
        }
    });
    let list = FreeList::attach(&header, &links).unwrap();
    assert_eq!(list.free_count(), CAPACITY as u32);
    assert!(list.min_free() < CAPACITY as u32);
    let mut all: Vec<u32> = std::iter::from_fn(|| list.pop()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..CAPACITY as u32).collect::<Vec<_>>());
    assert_eq!(list.min_free(), 0);
}

#[test]
fn racing_releases_of_one_index_succeed_exactly_once() {
    let header = FreeListHeader::new();
    let links: Vec<zerocp_core::sync::AtomicU32> = (0..CAPACITY)
        .map(|_| zerocp_core::sync::AtomicU32::new(0))
        .collect();
    let list = FreeList::init(&header, &links).unwrap();
    let rounds = ROUNDS / 100 + 5;
    let start = Barrier::new(THREADS as usize + 1);
    let done = Barrier::new(THREADS as usize + 1);
    let current = AtomicU32::new(0);
    let successes = AtomicU32::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            let (start, done, current, successes) = (&start, &done, &current, &successes);
            s.spawn(move || {
                for _ in 0..rounds {
                    start.wait();
                    let index = current.load(Ordering::Relaxed);
                    match list.push(index) {
                        Ok(()) => _ = successes.fetch_add(1, Ordering::Relaxed),
                        Err(e) => assert_eq!(e, ReleaseError::DoubleRelease { index }),
                    }
                    done.wait();
                }
            });
        }
        for round in 0..rounds {
            let index = list.pop().unwrap();
            current.store(index, Ordering::Relaxed);
            start.wait();
            done.wait();
            assert_eq!(successes.load(Ordering::Relaxed), round + 1);
            assert_eq!(list.free_count(), CAPACITY as u32);
        }
    });
}
