//! Loom models of the futex wake protocol ([`zerocp_core::wake_protocol`]):
//! no wake-up is lost (a lost one leaves a thread asleep for ever, which
//! loom reports as a deadlock) and the wakers together make at most one
//! futex wake-up call per sleep.
//!
//! The futex is modelled with loom's mutex and condition variable: a wait
//! checks the word and sleeps under the mutex, a wake-up takes the mutex and
//! notifies, which is the atomicity the kernel gives `FUTEX_WAIT` against
//! `FUTEX_WAKE`. A wait with a timeout returns at once (the timeout passed
//! before anyone woke it). A queue is a counter of entries, pushed and
//! popped with `Relaxed` operations: the protocol must not lean on the
//! queue's own orderings.
//!
//! A listener runs the same protocol with its pending event ids
//! ([`zerocp_core::event::EventBits`]) as the readiness check: the last
//! models check that shape too (ids raised by `fetch_or`, looked at with
//! `any`), with two notifiers on one sleep.
//!
//! The models build only with `--cfg loom` (`ci/loom.sh`); see `loom_support`.

mod loom_support;

#[cfg(loom)]
mod models {
    use core::time::Duration;

    use loom::sync::atomic::AtomicBool;
    use loom::sync::{Arc, Condvar, Mutex};
    use loom::thread;
    use zerocp_core::event::{EventBits, EventId};
    use zerocp_core::port::WakeWord;
    use zerocp_core::sync::{AtomicU32, Ordering, fence};
    use zerocp_core::wake_protocol::{Futex, WakeChannel};

    use crate::loom_support::model;

    /// A futex: waits sleep on the condition variable while their word
    /// holds the expected value; wake-ups are counted.
    struct ModelFutex {
        wakes: Mutex<u32>,
        woken: Condvar,
    }

    impl Futex for ModelFutex {
        type Error = core::convert::Infallible;

        fn wait(
            &self,
            word: &AtomicU32,
            expected: u32,
            timeout: Option<Duration>,
        ) -> Result<(), Self::Error> {
            if timeout.is_some() {
                return Ok(());
            }
            let mut guard = self.wakes.lock().unwrap();
            // Every wake-up of the protocol follows a bump of the word, so
            // waiting for the change is what a futex sleeper sees (minus
            // its spurious returns, which would hide a lost wake-up here).
            while word.load(Ordering::SeqCst) == expected {
                guard = self.woken.wait(guard).unwrap();
            }
            Ok(())
        }

        fn wake_all(&self, _word: &AtomicU32) -> Result<(), Self::Error> {
            *self.wakes.lock().unwrap() += 1;
            self.woken.notify_all();
            Ok(())
        }
    }

    impl ModelFutex {
        fn wakes(&self) -> u32 {
            *self.wakes.lock().unwrap()
        }
    }

    /// A subscriber port reduced to what the protocol touches.
    struct Port {
        wake: WakeWord,
        queue: AtomicU32,
        futex: ModelFutex,
        /// Sleeps begun (each clears the pending flag once).
        sleeps: AtomicU32,
    }

    /// The all-zero wake word of a fresh port.
    fn zero_wake_word() -> WakeWord {
        WakeWord {
            data_seq: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            space_seq: AtomicU32::new(0),
            blocked: AtomicU32::new(0),
            wake_pending: AtomicU32::new(0),
            space_pending: AtomicU32::new(0),
        }
    }

    impl Port {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                wake: zero_wake_word(),
                queue: AtomicU32::new(0),
                futex: ModelFutex {
                    wakes: Mutex::new(0),
                    woken: Condvar::new(),
                },
                sleeps: AtomicU32::new(0),
            })
        }

        /// Publisher: push one entry, fence, wake the data channel.
        fn publish(&self) {
            self.queue.fetch_add(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            self.wake.data().wake(&self.futex).unwrap();
        }

        /// Takes one entry if there is one.
        fn try_pop(&self) -> bool {
            self.queue
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
        }

        /// One sleep on `channel` until `ready` (counted).
        fn sleep(
            &self,
            channel: WakeChannel<'_>,
            timeout: Option<Duration>,
            ready: impl FnOnce() -> bool,
        ) {
            self.sleeps.fetch_add(1, Ordering::Relaxed);
            channel.sleep(&self.futex, timeout, ready).unwrap();
        }

        /// Subscriber: takes `n` entries, sleeping while the queue is empty;
        /// its first sleep times out (returns without a wake-up) when `timed`.
        fn receive(&self, n: u32, mut timed: bool) {
            let mut taken = 0;
            while taken < n {
                if self.try_pop() {
                    taken += 1;
                    continue;
                }
                let timeout = timed.then_some(Duration::from_millis(1));
                timed = false;
                self.sleep(self.wake.data(), timeout, || {
                    self.queue.load(Ordering::Relaxed) != 0
                });
            }
        }

        /// Wake-up calls made so far are at most the sleeps begun.
        fn assert_no_storm(&self) {
            let (wakes, sleeps) = (self.futex.wakes(), self.sleeps.load(Ordering::Relaxed));
            assert!(
                wakes <= sleeps,
                "{wakes} futex wake-ups for {sleeps} sleeps"
            );
        }
    }

    #[test]
    fn one_sleeper_two_pushes() {
        model(|| {
            let port = Port::new();
            let publisher = {
                let port = port.clone();
                thread::spawn(move || {
                    port.publish();
                    port.publish();
                })
            };
            port.receive(2, false);
            publisher.join().unwrap();
            port.assert_no_storm();
        });
    }

    #[test]
    fn a_timed_out_sleep_then_a_sleep_until_woken() {
        model(|| {
            let port = Port::new();
            let publisher = {
                let port = port.clone();
                thread::spawn(move || {
                    port.publish();
                    port.publish();
                })
            };
            port.receive(2, true);
            publisher.join().unwrap();
            port.assert_no_storm();
        });
    }

    #[test]
    fn two_sleeping_threads_of_one_port() {
        model(|| {
            let port = Port::new();
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let port = port.clone();
                    thread::spawn(move || port.receive(1, false))
                })
                .collect();
            port.publish();
            port.publish();
            for t in threads {
                t.join().unwrap();
            }
            port.assert_no_storm();
        });
    }

    #[test]
    fn daemon_loss_wakes_a_sleeper_whatever_is_pending() {
        model(|| {
            let port = Port::new();
            let gone = Arc::new(AtomicBool::new(false));
            let publisher = {
                let port = port.clone();
                thread::spawn(move || port.publish())
            };
            let heartbeat = {
                let (port, gone) = (port.clone(), gone.clone());
                thread::spawn(move || {
                    gone.store(true, Ordering::SeqCst);
                    port.wake.data().wake_always(&port.futex).unwrap();
                })
            };
            let stopped = || gone.load(Ordering::SeqCst);
            while port.queue.load(Ordering::Relaxed) == 0 && !stopped() {
                port.sleep(port.wake.data(), None, || {
                    port.queue.load(Ordering::Relaxed) != 0 || stopped()
                });
            }
            publisher.join().unwrap();
            heartbeat.join().unwrap();
        });
    }

    #[test]
    fn a_blocked_publisher_is_woken_by_a_pop() {
        model(|| {
            // Capacity 1, full: the publisher's push waits for the pop, the
            // subscriber then waits for the push.
            let port = Port::new();
            port.queue.store(1, Ordering::Relaxed);
            let publisher = {
                let port = port.clone();
                thread::spawn(move || {
                    let try_push = || {
                        port.queue
                            .compare_exchange(0, 1, Ordering::Relaxed, Ordering::Relaxed)
                            .is_ok()
                    };
                    let mut pushed = try_push();
                    while !pushed {
                        port.sleeps.fetch_add(1, Ordering::Relaxed);
                        pushed = port
                            .wake
                            .space()
                            .sleep(&port.futex, None, try_push)
                            .unwrap()
                            || try_push();
                    }
                    fence(Ordering::SeqCst);
                    port.wake.data().wake(&port.futex).unwrap();
                })
            };
            assert!(port.try_pop());
            fence(Ordering::SeqCst);
            port.wake.space().wake(&port.futex).unwrap();
            port.receive(1, false);
            publisher.join().unwrap();
            port.assert_no_storm();
        });
    }

    /// A listener port reduced to what the protocol touches.
    struct Listener {
        wake: WakeWord,
        events: EventBits,
        futex: ModelFutex,
        sleeps: AtomicU32,
    }

    impl Listener {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                wake: zero_wake_word(),
                events: EventBits::new(),
                futex: ModelFutex {
                    wakes: Mutex::new(0),
                    woken: Condvar::new(),
                },
                sleeps: AtomicU32::new(0),
            })
        }

        /// Notifier: raise the id, fence, wake the data channel.
        fn notify(&self, id: u32) {
            self.events.raise(EventId::new(id).unwrap());
            fence(Ordering::SeqCst);
            self.wake.data().wake(&self.futex).unwrap();
        }

        /// Listener: sleeps until an id is pending, then takes them all.
        fn take(&self) -> Vec<u32> {
            loop {
                let taken = self.events.take();
                if !taken.is_empty() {
                    return taken.iter().map(EventId::value).collect();
                }
                self.sleeps.fetch_add(1, Ordering::Relaxed);
                self.wake
                    .data()
                    .sleep(&self.futex, None, || self.events.any())
                    .unwrap();
            }
        }
    }

    #[test]
    fn a_sleeping_listener_is_never_missed() {
        model(|| {
            let listener = Listener::new();
            let notifier = {
                let listener = listener.clone();
                thread::spawn(move || listener.notify(5))
            };
            assert_eq!(listener.take(), [5]);
            notifier.join().unwrap();
        });
    }

    #[test]
    fn two_notifiers_wake_one_listener_sleep_at_most_once() {
        model(|| {
            let listener = Listener::new();
            let notifiers: Vec<_> = [1, 2]
                .into_iter()
                .map(|id| {
                    let listener = listener.clone();
                    thread::spawn(move || listener.notify(id))
                })
                .collect();
            let mut seen = listener.take();
            for n in notifiers {
                n.join().unwrap();
            }
            seen.extend(listener.events.take().iter().map(EventId::value));
            seen.sort_unstable();
            assert_eq!(seen, [1, 2]);
            let (wakes, sleeps) = (
                listener.futex.wakes(),
                listener.sleeps.load(Ordering::Relaxed),
            );
            assert!(
                wakes <= sleeps,
                "{wakes} futex wake-ups for {sleeps} sleeps"
            );
        });
    }
}
