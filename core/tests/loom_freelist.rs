//! Loom models of the freelist: exclusive ownership and publication of
//! released indices, the ABA scenario the tag prevents, double release, and
//! an audit walk racing loans and releases.
//!
//! The models build only with `--cfg loom` (`ci/loom.sh`); see `loom_support`.

mod loom_support;

#[cfg(loom)]
mod models {
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;
    use zerocp_core::freelist::{FreeListStorage, ReleaseError};

    use crate::loom_support::model;

    /// One payload cell per index: loom reports a data race if two threads own
    /// the same index at once, or if a pop does not happen after the push.
    struct Pool<const N: usize> {
        storage: FreeListStorage<N>,
        payload: [UnsafeCell<u32>; N],
    }

    impl<const N: usize> Pool<N> {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                storage: FreeListStorage::new(),
                payload: core::array::from_fn(|_| UnsafeCell::new(0)),
            })
        }

        /// Pops an index and writes `tag` into its payload; `None` if empty.
        fn take(&self, tag: u32) -> Option<u32> {
            let index = self.storage.list().pop()?;
            // SAFETY: we own `index` until we push it back.
            self.payload[index as usize].with_mut(|p| unsafe { *p = tag });
            Some(index)
        }

        fn give(&self, index: u32) -> Result<(), ReleaseError> {
            self.storage.list().push(index)
        }

        /// Pops everything that is left (single-threaded, after the join).
        fn drain(&self) -> Vec<u32> {
            core::iter::from_fn(|| self.storage.list().pop()).collect()
        }
    }

    fn assert_permutation(mut got: Vec<u32>, n: u32) {
        got.sort_unstable();
        assert_eq!(got, (0..n).collect::<Vec<_>>(), "every index exactly once");
    }

    #[test]
    fn concurrent_pop_push_keeps_ownership_exclusive() {
        model(|| {
            let pool = Pool::<2>::new();
            let workers: Vec<_> = (1..=2)
                .map(|t| {
                    let pool = pool.clone();
                    thread::spawn(move || {
                        if let Some(i) = pool.take(t) {
                            pool.give(i).unwrap();
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            let list = pool.storage.list();
            assert_eq!(list.free_count(), 2);
            assert!(list.min_free() <= 1);
            assert_permutation(pool.drain(), 2);
        });
    }

    #[test]
    fn aba_tag_prevents_handing_out_a_held_index() {
        model(|| {
            let pool = Pool::<3>::new();
            let p1 = pool.clone();
            let t1 = thread::spawn(move || p1.take(1));
            let p2 = pool.clone();
            let t2 = thread::spawn(move || {
                let a = p2.take(2).unwrap();
                let b = p2.take(2).unwrap();
                p2.give(a).unwrap();
                b
            });
            let held1 = t1.join().unwrap();
            let held2 = t2.join().unwrap();
            let mut all = pool.drain();
            all.push(held2);
            all.extend(held1);
            assert_permutation(all, 3);
            assert_eq!(pool.storage.list().free_count(), 0);
        });
    }

    #[test]
    fn racing_double_release_succeeds_exactly_once() {
        model(|| {
            let pool = Pool::<2>::new();
            let index = pool.take(0).unwrap();
            let releasers: Vec<_> = (0..2)
                .map(|_| {
                    let pool = pool.clone();
                    thread::spawn(move || pool.give(index))
                })
                .collect();
            let results: Vec<_> = releasers.into_iter().map(|r| r.join().unwrap()).collect();
            assert_eq!(
                results.iter().filter(|r| r.is_ok()).count(),
                1,
                "{results:?}"
            );
            assert!(results.contains(&Err(ReleaseError::DoubleRelease { index })));
            assert_eq!(pool.storage.list().free_count(), 2);
            assert_permutation(pool.drain(), 2);
        });
    }

    #[test]
    fn a_walk_racing_pops_and_pushes_reports_no_damage() {
        model(|| {
            let pool = Pool::<2>::new();
            let p = pool.clone();
            let worker = thread::spawn(move || {
                let a = p.take(1).unwrap();
                let b = p.take(1);
                p.give(a).unwrap();
                b
            });
            let walk = pool.storage.list().walk(|_| {});
            assert_eq!(walk.damage, None, "{walk:?}");
            assert!(walk.length <= 2, "{walk:?}");
            let held = worker.join().unwrap();
            let walk = pool.storage.list().walk(|_| {});
            assert!(walk.stable && walk.damage.is_none(), "{walk:?}");
            assert_eq!(walk.length, 2 - u32::from(held.is_some()));
        });
    }

    #[test]
    fn release_of_a_free_index_while_it_is_popped_is_detected() {
        model(|| {
            let pool = Pool::<1>::new();
            let p = pool.clone();
            let popper = thread::spawn(move || p.take(1));
            // Index 0 is free (or being popped): releasing it is a double release
            // unless the popper already owns it, and it must never be lost.
            let early = pool.give(0);
            let popped = popper.join().unwrap();
            match (early, popped) {
                (Err(ReleaseError::DoubleRelease { index: 0 }), Some(0)) => {
                    assert_eq!(pool.storage.list().free_count(), 0);
                }
                // The popper won first and we released its index on its behalf.
                (Ok(()), Some(0)) => assert_permutation(pool.drain(), 1),
                other => panic!("unexpected outcome {other:?}"),
            }
        });
    }
}
