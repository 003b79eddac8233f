//! Unit tests of the freelist: order, counts, refusals, hostile words and
//! threads.

use super::*;
use std::vec::Vec;

#[test]
fn pops_every_index_once_then_empty() {
    let storage = FreeListStorage::<8>::new();
    let list = storage.list();
    let mut got: Vec<u32> = core::iter::from_fn(|| list.pop()).collect();
    got.sort_unstable();
    assert_eq!(got, (0..8).collect::<Vec<_>>());
    assert_eq!((list.free_count(), list.min_free()), (0, 0));
    for i in got {
        list.push(i).unwrap();
    }
    assert_eq!((list.free_count(), list.min_free()), (8, 0));
}

#[test]
fn push_is_lifo_and_counts() {
    let storage = FreeListStorage::<3>::new();
    let list = storage.list();
    let (a, b) = (list.pop().unwrap(), list.pop().unwrap());
    assert_eq!(list.min_free(), 1);
    list.push(a).unwrap();
    list.push(b).unwrap();
    assert_eq!(list.pop(), Some(b));
    assert_eq!(list.pop(), Some(a));
    assert_eq!(list.free_count(), 1);
}

#[test]
fn hints_change_nothing_whatever_the_index() {
    let storage = FreeListStorage::<4>::new();
    let list = storage.list();
    let held = list.pop().unwrap();
    for index in [held, 0, 3, 4, ALLOCATED, END] {
        list.prefetch_push(index);
    }
    list.prefetch_pop();
    assert_eq!((list.free_count(), list.min_free()), (3, 3));
    list.push(held).unwrap();
    assert_eq!(list.pop(), Some(held), "still last in, first out");
}

#[test]
fn rejects_double_and_out_of_range_release_without_change() {
    let storage = FreeListStorage::<4>::new();
    let list = storage.list();
    assert_eq!(list.push(2), Err(ReleaseError::DoubleRelease { index: 2 }));
    assert_eq!(
        list.push(4),
        Err(ReleaseError::OutOfRange {
            index: 4,
            capacity: 4
        })
    );
    assert_eq!(
        list.push(u32::MAX),
        Err(ReleaseError::OutOfRange {
            index: u32::MAX,
            capacity: 4
        })
    );
    assert_eq!(list.free_count(), 4);
    let popped: Vec<u32> = core::iter::from_fn(|| list.pop()).collect();
    assert_eq!(popped.len(), 4);
}

#[test]
fn init_and_attach_validate() {
    let header = FreeListHeader::new();
    let links: [AtomicU32; 5] = core::array::from_fn(|_| AtomicU32::new(7));
    assert_eq!(
        FreeList::attach(&header, &links).unwrap_err(),
        FreeListError::CapacityMismatch {
            header: 0,
            links: 5
        }
    );
    assert_eq!(
        FreeList::init(&header, &links[..0]).unwrap_err(),
        FreeListError::ZeroCapacity
    );
    FreeList::init(&header, &links).unwrap();
    let attached = FreeList::attach(&header, &links).unwrap();
    assert_eq!(attached.capacity(), 5);
    assert_eq!(
        FreeList::attach(&header, &links[..4]).unwrap_err(),
        FreeListError::CapacityMismatch {
            header: 5,
            links: 4
        }
    );
    header.head.store(pack(9, 3), Ordering::Relaxed);
    let corrupt_head = FreeList::attach(&header, &links).unwrap();
    assert_eq!(corrupt_head.pop(), None, "a corrupt head reads as empty");
    assert_eq!(
        checked_capacity(usize::MAX),
        Err(FreeListError::TooLarge {
            len: usize::MAX,
            max: MAX_CAPACITY
        })
    );
}

#[test]
fn corrupted_links_and_head_never_go_out_of_range() {
    let storage = FreeListStorage::<4>::new();
    let list = storage.list();
    storage.links[0].store(1000, Ordering::Relaxed);
    assert_eq!(list.pop(), Some(0));
    // The corrupted link read as END: the rest is leaked, not handed out.
    assert_eq!(list.pop(), None);
    storage.header.head.store(pack(77, 1), Ordering::Relaxed);
    assert_eq!(list.pop(), None);
    storage.header.free_count.store(u32::MAX, Ordering::Relaxed);
    assert_eq!(list.free_count(), 4);
}

#[test]
fn threads_never_share_an_index() {
    const ROUNDS: usize = if cfg!(miri) { 20 } else { 2_000 };
    let storage = FreeListStorage::<4>::new();
    let owners: [AtomicU32; 4] = core::array::from_fn(|_| AtomicU32::new(0));
    std::thread::scope(|s| {
        for t in 1..=3u32 {
            let (list, owners) = (storage.list(), &owners);
            s.spawn(move || {
                for _ in 0..ROUNDS {
                    if let Some(i) = list.pop() {
                        let prev = owners[i as usize].swap(t, Ordering::Relaxed);
                        assert_eq!(prev, 0, "index {i} held twice");
                        owners[i as usize].store(0, Ordering::Relaxed);
                        list.push(i).unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(storage.list().free_count(), 4);
}
