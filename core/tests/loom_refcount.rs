//! Loom models of chunk reference counting: the release that brings a
//! chunk's count to zero pushes it to the freelist, and the next loaner's
//! writes to the chunk must not race with any earlier holder's reads; a
//! racing double release frees the chunk once.
//!
//! They combine the production [`ChunkRefcount`] and `FreeList` exactly as
//! `MemPoolManager::release` does (a zero-reaching release, then a push);
//! the manager itself needs a mapped mgmt segment, which loom's atomics
//! cannot be laid out in. The models build only with `--cfg loom`
//! (`ci/loom.sh`); see `loom_support`.

mod loom_support;

#[cfg(loom)]
mod models {
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;
    use zerocp_core::freelist::FreeListStorage;
    use zerocp_core::refcount::{ChunkRefcount, RefcountUnderflow};

    use crate::loom_support::model;

    /// A pool of one chunk: its refcount word (the mgmt segment's), its
    /// payload (loom reports a data race if a loaner writes it while an
    /// earlier holder's read is not ordered before), and its freelist.
    struct OneChunk {
        refcount: ChunkRefcount,
        payload: UnsafeCell<u32>,
        freelist: FreeListStorage<1>,
    }

    impl OneChunk {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                refcount: ChunkRefcount::new(),
                payload: UnsafeCell::new(0),
                freelist: FreeListStorage::new(),
            })
        }

        /// `MemPoolManager::loan`: pop, write the payload, count the loaner.
        fn loan(&self, value: u32) -> bool {
            let Some(index) = self.freelist.list().pop() else {
                return false;
            };
            assert_eq!(index, 0);
            // SAFETY: popped, so exclusively ours until released.
            self.payload.with_mut(|p| unsafe { *p = value });
            self.refcount.set_loaned();
            true
        }

        fn read(&self) -> u32 {
            // SAFETY: the caller holds a reference, so nobody writes it.
            self.payload.with(|p| unsafe { *p })
        }

        /// `MemPoolManager::release`: the release that reaches zero pushes.
        fn release(&self) -> Result<bool, RefcountUnderflow> {
            let last = self.refcount.try_release()?;
            if last {
                self.freelist.list().push(0).expect("pushed once");
            }
            Ok(last)
        }
    }

    #[test]
    fn last_release_hands_the_chunk_to_the_next_loaner_after_every_read() {
        model(|| {
            let chunk = OneChunk::new();
            assert!(chunk.loan(7));
            // Publish to one subscriber: count it first, then hand it over
            // (the spawn stands for the queue's push/pop).
            chunk.refcount.acquire_many(1);
            let sub = chunk.clone();
            let subscriber = thread::spawn(move || {
                assert_eq!(sub.read(), 7);
                sub.release().unwrap()
            });
            let next = chunk.clone();
            let next_loaner = thread::spawn(move || {
                if next.loan(8) {
                    assert!(next.release().unwrap());
                }
            });
            assert_eq!(chunk.read(), 7);
            let publisher_was_last = chunk.release().unwrap();
            let subscriber_was_last = subscriber.join().unwrap();
            next_loaner.join().unwrap();
            assert!(publisher_was_last ^ subscriber_was_last, "exactly one last");
            assert_eq!(chunk.refcount.read(), 0);
            assert_eq!(chunk.freelist.list().free_count(), 1);
        });
    }

    #[test]
    fn racing_double_release_frees_the_chunk_once() {
        model(|| {
            let chunk = OneChunk::new();
            assert!(chunk.loan(1));
            let releasers: Vec<_> = (0..2)
                .map(|_| {
                    let chunk = chunk.clone();
                    thread::spawn(move || chunk.release())
                })
                .collect();
            let results: Vec<_> = releasers.into_iter().map(|r| r.join().unwrap()).collect();
            assert!(results.contains(&Ok(true)), "{results:?}");
            assert!(results.contains(&Err(RefcountUnderflow)), "{results:?}");
            assert_eq!(chunk.refcount.read(), 0, "the underflow is undone");
            assert_eq!(chunk.freelist.list().free_count(), 1);
        });
    }
}
