//! Loom models of the chunk queue: publication of the chunk written before a
//! push, nothing lost or duplicated with several producers or consumers,
//! discard-oldest accounting, and survivors that are never blocked by a
//! producer, consumer or discarding producer that dies after any step.
//!
//! The models build only with `--cfg loom` (`ci/loom.sh`); see `loom_support`.

mod loom_support;

#[cfg(loom)]
mod models {
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::thread;
    use zerocp_core::chunk_queue::ChunkQueue;

    use crate::loom_support::model;

    /// A queue plus one "chunk" per index: the producer writes the chunk before
    /// pushing its index and the consumer reads it after popping, so loom
    /// reports any missing Release/Acquire edge as a data race.
    struct Channel {
        queue: ChunkQueue<4>,
        chunks: [UnsafeCell<u32>; 8],
    }

    impl Channel {
        fn new(capacity: u32) -> Arc<Self> {
            Arc::new(Self {
                queue: ChunkQueue::new(capacity).unwrap(),
                chunks: core::array::from_fn(|_| UnsafeCell::new(0)),
            })
        }

        fn write(&self, index: u32) {
            // SAFETY: the producer owns chunk `index` until it is pushed.
            self.chunks[index as usize].with_mut(|p| unsafe { *p = index + 100 });
        }

        fn send(&self, index: u32) -> bool {
            self.write(index);
            self.queue.push(index).is_ok()
        }

        fn send_discard_oldest(&self, index: u32) -> Option<u32> {
            self.write(index);
            let dropped = self.queue.push_discard_oldest(index)?;
            // The dropped chunk is now ours to release: it must be readable.
            self.check(dropped);
            Some(dropped)
        }

        fn recv(&self) -> Option<u32> {
            let index = self.queue.pop()?;
            self.check(index);
            Some(index)
        }

        fn check(&self, index: u32) {
            // SAFETY: the caller owns chunk `index` (popped or handed back).
            let value = self.chunks[index as usize].with(|p| unsafe { *p });
            assert_eq!(value, index + 100, "chunk {index} not published");
        }

        fn drain(&self) -> Vec<u32> {
            core::iter::from_fn(|| self.recv()).collect()
        }
    }

    /// Runs `f` on a loom thread of its own, with a handle to the channel.
    fn spawn<T: Send + 'static>(
        ch: &Arc<Channel>,
        f: impl FnOnce(&Channel) -> T + Send + 'static,
    ) -> thread::JoinHandle<T> {
        let ch = Arc::clone(ch);
        thread::spawn(move || f(&ch))
    }

    fn sorted(mut v: Vec<u32>) -> Vec<u32> {
        v.sort_unstable();
        v
    }

    /// After the model's threads are done: the queue is empty and still works
    /// at full capacity (FIFO, exact capacity).
    fn assert_usable(ch: &Channel) {
        let cap = ch.queue.capacity();
        assert!(
            ch.queue.is_empty(),
            "len {} after the drain",
            ch.queue.len()
        );
        for i in 0..cap {
            assert!(ch.send(4 + i), "push {i} of {cap} after a death");
        }
        assert!(!ch.send(7), "capacity {cap} is exact");
        assert_eq!(ch.drain(), (4..4 + cap).collect::<Vec<_>>());
    }

    /// `delivered` has no duplicates, holds every item of `must` but at most
    /// `may_leak` of them, and nothing outside `must` and `may`.
    fn assert_accounted(delivered: &[u32], must: &[u32], may: &[u32], may_leak: usize) {
        let got = sorted(delivered.to_vec());
        assert!(
            got.windows(2).all(|w| w[0] != w[1]),
            "duplicate in {delivered:?}"
        );
        assert!(
            got.iter().all(|v| must.contains(v) || may.contains(v)),
            "unknown item in {delivered:?}"
        );
        let missing = must.iter().filter(|v| !got.contains(v)).count();
        assert!(
            missing <= may_leak,
            "{missing} of {must:?} lost: {delivered:?}"
        );
    }

    #[test]
    fn two_producers_one_consumer() {
        model(|| {
            let ch = Channel::new(2);
            let producers: Vec<_> = [0u32, 1]
                .into_iter()
                .map(|i| spawn(&ch, move |ch| assert!(ch.send(i), "capacity 2 holds both")))
                .collect();
            let mut got: Vec<u32> = ch.recv().into_iter().collect();
            for p in producers {
                p.join().unwrap();
            }
            got.extend(ch.drain());
            assert_eq!(sorted(got), [0, 1]);
            assert!(ch.queue.is_empty());
        });
    }

    #[test]
    fn one_producer_two_consumers_in_order() {
        model(|| {
            let ch = Channel::new(3);
            let consumers: Vec<_> = (0..2).map(|_| spawn(&ch, Channel::recv)).collect();
            assert!(ch.send(0));
            assert!(ch.send(1));
            let mut got = Vec::new();
            for c in consumers {
                got.extend(c.join().unwrap());
            }
            let rest = ch.drain();
            // What stays in the queue is always a suffix of what was sent.
            assert!(rest.windows(2).all(|w| w[0] < w[1]));
            got.extend(rest);
            assert_eq!(sorted(got), [0, 1]);
        });
    }

    #[test]
    fn a_walk_racing_pushes_and_pops_reports_no_damage() {
        model(|| {
            let ch = Channel::new(2);
            assert!(ch.send(0));
            let producer = spawn(&ch, |ch| ch.send(1) && ch.send(2));
            let consumer = spawn(&ch, Channel::recv);
            let walk = ch.queue.walk(|chunk| assert!(chunk < 3, "entry {chunk}"));
            assert_eq!(walk.damage, None, "{walk:?}");
            assert!(walk.entries <= 3, "{walk:?}");
            producer.join().unwrap();
            consumer.join().unwrap();
            let walk = ch.queue.walk(|_| {});
            assert!(walk.stable && walk.damage.is_none(), "{walk:?}");
            assert_eq!(walk.entries, ch.queue.len());
        });
    }

    #[test]
    fn full_queue_push_races_pop() {
        model(|| {
            let ch = Channel::new(1);
            assert!(ch.send(0));
            let consumer = spawn(&ch, Channel::recv);
            let pushed = ch.send(1);
            assert_eq!(consumer.join().unwrap(), Some(0));
            assert_eq!(ch.drain(), if pushed { vec![1] } else { vec![] });
        });
    }

    #[test]
    fn discard_oldest_accounts_for_every_index() {
        model(|| {
            let ch = Channel::new(1);
            assert!(ch.send(0));
            let producers: Vec<_> = [1u32, 2]
                .into_iter()
                .map(|i| spawn(&ch, move |ch| ch.send_discard_oldest(i)))
                .collect();
            let mut delivered: Vec<u32> = ch.recv().into_iter().collect();
            let mut dropped = Vec::new();
            for p in producers {
                dropped.extend(p.join().unwrap());
            }
            delivered.extend(ch.drain());
            // delivered + dropped == pushed, each exactly once.
            let mut all = delivered.clone();
            all.extend(&dropped);
            assert_eq!(
                sorted(all),
                [0, 1, 2],
                "delivered {delivered:?} dropped {dropped:?}"
            );
            assert!(!delivered.is_empty(), "the newest push is never lost");
        });
    }

    /// Accesses after which a dying thread's operation has surely finished
    /// (every model below runs the dying operation with each budget up to this).
    const STEPS: u32 = 6;

    /// The shape of the models below: `dying` (an operation cut off after
    /// some accesses) and `survivor` run on threads of their own while this
    /// thread receives once; once both are joined, the queue is drained.
    /// Returns what this thread received (that receive, then the drain), the
    /// survivor's result and the dying operation's outcome.
    fn race_with_death<D: Send + 'static, S: Send + 'static>(
        ch: &Arc<Channel>,
        dying: impl FnOnce(&Channel) -> D + Send + 'static,
        survivor: impl FnOnce(&Channel) -> S + Send + 'static,
    ) -> (Vec<u32>, S, D) {
        let dead = spawn(ch, dying);
        let survivor = spawn(ch, survivor);
        let mut got: Vec<u32> = ch.recv().into_iter().collect();
        let survived = survivor.join().unwrap();
        let outcome = dead.join().unwrap();
        got.extend(ch.drain());
        (got, survived, outcome)
    }

    #[test]
    fn dead_producer_never_blocks_survivors() {
        for steps in 0..=STEPS {
            model(move || {
                let ch = Channel::new(2);
                let (got, (), outcome) = race_with_death(
                    &ch,
                    move |ch| {
                        ch.write(3);
                        ch.queue.abandon_push_after(steps, 3)
                    },
                    |ch| assert!(ch.send(0), "capacity 2 holds both"),
                );
                assert_accounted(&got, &[0], &[3], 0);
                if outcome == Some(Ok(())) {
                    assert!(got.contains(&3), "a finished push is delivered");
                }
                assert_usable(&ch);
            });
        }
    }

    #[test]
    fn dead_consumer_never_blocks_survivors() {
        for steps in 0..=STEPS {
            model(move || {
                let ch = Channel::new(3);
                assert!(ch.send(0) && ch.send(1));
                let (got, (), outcome) = race_with_death(
                    &ch,
                    move |ch| ch.queue.abandon_pop_after(steps),
                    |ch| assert!(ch.send(2), "capacity 3 holds all"),
                );
                // The dead consumer may have taken one item (a leak), no more.
                let leaks = usize::from(outcome != Some(None));
                assert_accounted(&got, &[0, 1, 2], &[], leaks);
                if let Some(Some(taken)) = outcome {
                    assert!(!got.contains(&taken), "{taken} delivered twice");
                }
                assert!(got.windows(2).all(|w| w[0] < w[1]), "order {got:?}");
                assert_usable(&ch);
            });
        }
    }

    #[test]
    fn dead_discarding_producer_never_blocks_survivors() {
        for steps in 0..=STEPS + 2 {
            model(move || {
                let ch = Channel::new(1);
                assert!(ch.send(0));
                let (mut got, handed_back, outcome) = race_with_death(
                    &ch,
                    move |ch| {
                        ch.write(3);
                        ch.queue.abandon_push_discard_oldest_after(steps, 3)
                    },
                    |ch| ch.send_discard_oldest(1),
                );
                got.extend(handed_back);
                // Delivered or handed back to a survivor: each item at most once,
                // and only what a dead discard took (the oldest) may be missing.
                let leaks = usize::from(outcome.is_none());
                if let Some(dropped) = outcome {
                    assert!(
                        !got.iter().any(|v| Some(*v) == dropped),
                        "{dropped:?} twice"
                    );
                    got.extend(dropped);
                }
                assert_accounted(&got, &[0, 1], &[3], leaks);
                assert_usable(&ch);
            });
        }
    }

    #[test]
    fn dead_consumer_never_blocks_discarding_producers() {
        for steps in 0..=STEPS {
            model(move || {
                let ch = Channel::new(1);
                assert!(ch.send(0));
                let (mut got, handed_back, outcome) = race_with_death(
                    &ch,
                    move |ch| ch.queue.abandon_pop_after(steps),
                    |ch| ch.send_discard_oldest(1),
                );
                got.extend(handed_back);
                // Each item is delivered or handed back, once; the dead consumer
                // may have taken one of them (0, or 1 after 1 replaced 0).
                let leaks = usize::from(outcome != Some(None));
                if let Some(Some(taken)) = outcome {
                    assert!(!got.contains(&taken), "{taken} delivered twice");
                }
                assert_accounted(&got, &[0, 1], &[], leaks);
                assert_usable(&ch);
            });
        }
    }
}
