//! Loom model of a listener's wake protocol (`zerocp_core::listener_port`):
//! a listener that decides to sleep is always woken (the `seq` it read
//! changes after it), and one sleep costs at most one wake whatever the
//! number of notifiers.
//!
//! The futex is modelled by its contract: a waiter that read `seq = s`
//! returns once `seq != s` (the bump comes before the wake, so a bump after
//! the read either makes the wait return at once or wakes it). The models
//! build only with `--cfg loom` (`ci/loom.sh`); see `loom_support`.

mod loom_support;

#[cfg(loom)]
mod models {
    use loom::sync::Arc;
    use loom::thread;
    use zerocp_core::event::{EventBits, EventId};
    use zerocp_core::listener_port::ListenerWake;
    use zerocp_core::sync::{AtomicU32, Ordering};

    use crate::loom_support::model;

    struct Port {
        wake: ListenerWake,
        events: EventBits,
        bumps: AtomicU32,
    }

    fn port() -> Arc<Port> {
        Arc::new(Port {
            wake: ListenerWake {
                seq: AtomicU32::new(0),
                sleepers: AtomicU32::new(0),
                wake_pending: AtomicU32::new(0),
            },
            events: EventBits::new(),
            bumps: AtomicU32::new(0),
        })
    }

    fn notify(port: &Port, id: u32) {
        port.events.raise(EventId::new(id).unwrap());
        if port.wake.should_wake() {
            port.bumps.fetch_add(1, Ordering::Relaxed);
            port.wake.bump();
        }
    }

    /// The listener's one check before sleeping: `Some(seq)` if it sleeps,
    /// and then it stays registered as a sleeper (as in its futex wait)
    /// until [`wake_up`]; otherwise it unregisters at once.
    fn listen_once(port: &Port) -> Option<u32> {
        let seq = port.wake.prepare_sleep();
        if port.events.any() {
            port.wake.done_sleeping();
            return None;
        }
        Some(seq)
    }

    /// After every notifier ran: a sleeper on `seq` must have been woken
    /// (the futex word moved), and then it unregisters.
    fn wake_up(port: &Port, slept_on: Option<u32>) {
        if let Some(seq) = slept_on {
            assert_ne!(port.wake.seq.load(Ordering::SeqCst), seq, "a lost wake");
            port.wake.done_sleeping();
        }
    }

    #[test]
    fn a_sleeping_listener_is_never_missed() {
        model(|| {
            let port = port();
            let notifier = {
                let port = port.clone();
                thread::spawn(move || notify(&port, 5))
            };
            let slept_on = listen_once(&port);
            notifier.join().unwrap();
            wake_up(&port, slept_on);
            assert!(port.events.take().contains(EventId::new(5).unwrap()));
        });
    }

    #[test]
    fn two_notifiers_wake_one_sleep_at_most_once() {
        model(|| {
            let port = port();
            let notifiers: Vec<_> = [1, 2]
                .into_iter()
                .map(|id| {
                    let port = port.clone();
                    thread::spawn(move || notify(&port, id))
                })
                .collect();
            let slept_on = listen_once(&port);
            for n in notifiers {
                n.join().unwrap();
            }
            let bumps = port.bumps.load(Ordering::Relaxed);
            assert!(bumps <= 1, "{bumps} wakes for one sleep");
            wake_up(&port, slept_on);
        });
    }
}
