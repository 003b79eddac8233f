//! Loom model of the eventfd notification protocol ([`NotifyWord`]): a
//! push is never lost between a sender and a waiter, and senders signal at
//! most once per waiter look.
//!
//! Sender: push; `SeqCst` fence; `armed && pending.swap(1) == 0` → signal.
//! Waiter: `pending = 0` (with its fence); check the queue. Whatever the
//! interleaving, the waiter sees the push or the sender signals.
//!
//! The models build only with `--cfg loom` (`ci/loom.sh`); see `loom_support`.

mod loom_support;

#[cfg(loom)]
mod models {
    use loom::sync::Arc;
    use loom::thread;
    use zerocp_core::notify_word::NotifyWord;
    use zerocp_core::sync::{AtomicU32, Ordering, fence};

    use crate::loom_support::model;

    fn armed(pending: u32) -> NotifyWord {
        NotifyWord {
            armed: AtomicU32::new(1),
            pending: AtomicU32::new(pending),
        }
    }

    /// One sender's push and signal (`signals` counts eventfd writes).
    fn send(word: &NotifyWord, queued: &AtomicU32, signals: &AtomicU32) {
        queued.fetch_add(1, Ordering::Release);
        fence(Ordering::SeqCst);
        if word.is_armed() && word.mark_pending() {
            signals.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_push_is_seen_or_signalled() {
        model(|| {
            // `pending` still set from an earlier signal the waiter drained.
            let word = Arc::new(armed(1));
            let queued = Arc::new(AtomicU32::new(0));
            let signals = Arc::new(AtomicU32::new(0));
            let sender = {
                let (word, queued, signals) = (word.clone(), queued.clone(), signals.clone());
                thread::spawn(move || send(&word, &queued, &signals))
            };
            word.clear_pending();
            let seen = queued.load(Ordering::Acquire) != 0;
            sender.join().unwrap();
            assert!(
                seen || signals.load(Ordering::Relaxed) == 1,
                "the push was neither seen by the waiter's check nor signalled"
            );
        });
    }

    #[test]
    fn senders_signal_once_per_look() {
        model(|| {
            let word = Arc::new(armed(0));
            let queued = Arc::new(AtomicU32::new(0));
            let signals = Arc::new(AtomicU32::new(0));
            let senders: Vec<_> = (0..2)
                .map(|_| {
                    let (word, queued, signals) = (word.clone(), queued.clone(), signals.clone());
                    thread::spawn(move || send(&word, &queued, &signals))
                })
                .collect();
            for s in senders {
                s.join().unwrap();
            }
            assert_eq!(signals.load(Ordering::Relaxed), 1);
            assert_eq!(queued.load(Ordering::Relaxed), 2);
        });
    }
}
