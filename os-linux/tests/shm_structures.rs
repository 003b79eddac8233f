//! `zerocp_core`'s freelist and chunk queue placed in one shared-memory
//! segment and worked by two processes at once: the child pops indices from
//! the freelist and pushes them into the queue; the parent pops them from
//! the queue and releases them, while also taking and releasing indices of
//! its own. A per-index owner word, flipped with `swap` on every take and
//! release, catches an index handed out twice; the counts at the end catch
//! an index lost.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use common::{CHILD_DEADLINE, child_mapping, segment_args, test_segment};
use zerocp_core::chunk_queue::ChunkQueue;
use zerocp_core::freelist::{FreeList, FreeListHeader};
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::testing::atomic_u32_at;
use zerocp_os_linux::testing::role::spawn_child;

/// Indices in the freelist.
const INDICES: usize = 32;
/// Queue capacity (fewer than the indices, so the freelist never runs dry).
const QUEUE_CAP: usize = 16;
/// Indices the child sends through the queue.
const ROUNDS: u32 = 20_000;

/// The segment's layout (offsets in bytes).
const HEADER: usize = 0;
const LINKS: usize = 64;
const QUEUE: usize = 1024;
const CHILD_DONE: usize = 2048;
const CHILD_SENT: usize = 2052;
const OWNERS: usize = 2112;
const SIZE: usize = 4096;

const _: () = assert!(LINKS >= HEADER + size_of::<FreeListHeader>());
const _: () = assert!(QUEUE >= LINKS + INDICES * 4);
const _: () = assert!(CHILD_DONE >= QUEUE + size_of::<ChunkQueue<QUEUE_CAP>>());
const _: () = assert!(OWNERS + INDICES * 4 <= SIZE);

/// The shared structures, seen through one process's mapping.
struct Shared<'a> {
    header: &'a FreeListHeader,
    links: &'a [AtomicU32],
    queue: &'a ChunkQueue<QUEUE_CAP>,
    owners: &'a [AtomicU32; INDICES],
    child_done: &'a AtomicU32,
    child_sent: &'a AtomicU32,
}

impl<'a> Shared<'a> {
    fn new(map: &'a Mapping) -> Self {
        // SAFETY: here and below, the types are repr(C) aggregates of atomics,
        // valid for any bits (zero included); both processes change them
        // only through atomic operations; the mapping is writable.
        let header = unsafe { map.ref_at(HEADER) }.unwrap();
        // SAFETY: as above.
        let links = unsafe { map.ref_at::<[AtomicU32; INDICES]>(LINKS) }.unwrap();
        // SAFETY: as above.
        let queue = unsafe { map.ref_at(QUEUE) }.unwrap();
        // SAFETY: as above.
        let owners = unsafe { map.ref_at(OWNERS) }.unwrap();
        Self {
            header,
            links,
            queue,
            owners,
            child_done: atomic_u32_at(map, CHILD_DONE).unwrap(),
            child_sent: atomic_u32_at(map, CHILD_SENT).unwrap(),
        }
    }

    /// Marks `index` as taken; panics if it already was.
    fn take(&self, index: u32) {
        // AcqRel: orders this ownership change with the previous owner's
        // release of the same index (and with our later uses of it).
        let was = self.owners[index as usize].swap(1, Ordering::AcqRel);
        assert_eq!(was, 0, "index {index} handed out while still held");
    }

    /// Marks `index` as released; panics if it was not taken.
    fn give_back(&self, index: u32) {
        // AcqRel: see `take`.
        let was = self.owners[index as usize].swap(0, Ordering::AcqRel);
        assert_eq!(was, 1, "index {index} released while not held");
    }
}

#[test]
fn freelist_and_queue_are_shared_between_processes() {
    let shm = test_segment(SIZE);
    let map = Mapping::map(&shm, true).unwrap();
    let s = Shared::new(&map);
    let list = FreeList::init(s.header, s.links).unwrap();
    s.queue.init(QUEUE_CAP as u32).unwrap();

    let mut child = spawn_child(
        "child_feeds_queue",
        &segment_args(&shm).each_ref().map(String::as_str),
        &[],
    );
    let mut received = [0u32; INDICES];
    let mut total = 0u32;
    let deadline = Instant::now() + CHILD_DEADLINE;
    loop {
        // Acquire: pairs with the child's Release store after its last push,
        // so a pop after seeing `done` finds everything it sent.
        let done = s.child_done.load(Ordering::Acquire) == 1;
        if let Some(index) = s.queue.pop() {
            assert!((index as usize) < INDICES, "bogus index {index}");
            received[index as usize] += 1;
            total += 1;
            s.give_back(index);
            list.push(index).unwrap();
        } else if done {
            break;
        }
        // Meanwhile, compete with the child for the freelist.
        if let Some(index) = list.pop() {
            s.take(index);
            s.give_back(index);
            list.push(index).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "child too slow: {total} received"
        );
    }
    child.expect_success(CHILD_DEADLINE);

    assert_eq!(total, ROUNDS);
    assert_eq!(s.child_sent.load(Ordering::Acquire), ROUNDS);
    assert_eq!(received.iter().sum::<u32>(), ROUNDS);
    assert!(s.queue.is_empty());
    // Every index is free again, exactly once.
    assert_eq!(list.free_count(), INDICES as u32);
    let mut all: Vec<u32> = std::iter::from_fn(|| list.pop()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..INDICES as u32).collect::<Vec<_>>());
    assert!(s.owners.iter().all(|o| o.load(Ordering::Relaxed) == 0));
}

#[test]
#[ignore = "a child role, run by spawn_child: not a test"]
fn child_feeds_queue() {
    let Some((_shm, map)) = child_mapping("child_feeds_queue") else {
        return;
    };
    let s = Shared::new(&map);
    let list = FreeList::attach(s.header, s.links).unwrap();
    let deadline = Instant::now() + CHILD_DEADLINE;
    for sent in 0..ROUNDS {
        let index = loop {
            if let Some(index) = list.pop() {
                break index;
            }
            assert!(Instant::now() < deadline, "freelist stayed empty");
            std::thread::yield_now();
        };
        s.take(index);
        while s.queue.push(index).is_err() {
            assert!(Instant::now() < deadline, "queue stayed full after {sent}");
            std::thread::yield_now();
        }
    }
    // Relaxed: published by the Release store of `child_done` below.
    s.child_sent.store(ROUNDS, Ordering::Relaxed);
    // Release: the parent's Acquire load of 1 sees every push before it.
    s.child_done.store(1, Ordering::Release);
}
