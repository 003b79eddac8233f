//! Sleeping and waking on a subscriber's futex words (the only system calls
//! of the data path, made only when someone sleeps).
//!
//! Both directions follow the same Dekker-style handshake on a subscriber
//! port's [`WakeWord`]:
//!
//! | sleeper | waker |
//! |---|---|
//! | subscriber with an empty queue: `sleepers += 1`, read `data_seq`, fence, queue still empty → futex-wait on `data_seq` | publisher after its push: fence, `sleepers != 0` → `data_seq += 1`, futex-wake |
//! | publisher facing a full queue (block-publisher policy): `blocked += 1`, read `space_seq`, fence, retry the push, still full → futex-wait on `space_seq` | subscriber after its pop: fence, `blocked != 0` → `space_seq += 1`, futex-wake |
//!
//! Each side writes its own word (`sleepers`/`blocked`, or the queue) and
//! then reads the other's, with a `SeqCst` fence between: at least one side
//! sees the other, so either the sleeper finds the new state and does not
//! sleep, or the waker finds the sleeper and bumps the futex word, which makes
//! the futex wait return at once (the word no longer holds the value read
//! before the check) or wakes it. The fast path of the waker is one fence and
//! one load; no syscall, no clock read.
//!
//! Daemon loss is a wake-up too: the heartbeat thread sets the process's
//! "gone" flag and then bumps `data_seq` of this process's subscribers
//! ([`wake_subscriber`]); a sleeper reads `data_seq` *before* it checks the
//! flag, so it cannot miss both. Being dropped for missing heartbeats is the
//! same handshake with the daemon as waker: it marks the process's heartbeat
//! slot dropped and then bumps `data_seq` of the process's subscribers. So
//! is a port's revocation: whoever reads the daemon's notice stores the
//! reason in the port's status and then bumps its `data_seq`
//! ([`crate::port_status`]). The sleeper's stop condition covers all three.

use std::time::{Duration, Instant};

use zerocp_core::port::{SubscriberPort, WakeWord};
use zerocp_core::sync::{Ordering, fence};
use zerocp_os_linux::error::FutexError;
use zerocp_os_linux::futex::{futex_wait, futex_wake_all};

/// Longest single sleep of a publisher blocked on a full queue: it re-checks
/// that the subscriber is still routed and the daemon alive at least this often.
pub(crate) const BLOCKED_SLICE: Duration = Duration::from_millis(50);

/// How a wait for data ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitEnd {
    /// The queue has at least one entry.
    Data,
    /// The timeout passed with the queue empty.
    TimedOut,
    /// The stop condition holds (the daemon is gone, or the port revoked).
    Stopped,
}

/// Publisher side, after pushing into `port`'s queue: wakes the subscriber if
/// it sleeps. Call after a `SeqCst` fence that follows the push (one fence
/// may cover several pushes, see [`fence_after_pushes`]).
pub(crate) fn wake_if_sleeping(port: &SubscriberPort) -> Result<(), FutexError> {
    // Relaxed: ordered after the pushes by the caller's SeqCst fence, which
    // pairs with the subscriber's fence between `sleepers += 1` and its check.
    if port.wake.sleepers.load(Ordering::Relaxed) != 0 {
        wake_subscriber(&port.wake)?;
    }
    Ok(())
}

/// The fence between a publisher's queue pushes and its `sleepers` checks.
pub(crate) fn fence_after_pushes() {
    fence(Ordering::SeqCst);
}

/// Bumps `data_seq` and wakes every thread sleeping on it (any process).
pub(crate) fn wake_subscriber(wake: &WakeWord) -> Result<(), FutexError> {
    // SeqCst: a sleeper that read the old value either sees the new one in
    // the kernel's check or is woken; SeqCst also orders it after the
    // heartbeat thread's store of the "gone" flag.
    wake.data_seq.fetch_add(1, Ordering::SeqCst);
    futex_wake_all(&wake.data_seq).map(drop)
}

/// Subscriber side, after popping from `port`'s queue: wakes publishers
/// blocked on a full queue, if any.
pub(crate) fn wake_blocked_publishers(port: &SubscriberPort) -> Result<(), FutexError> {
    // SeqCst fence: pairs with the blocked publisher's fence between
    // `blocked += 1` and its push retry (Dekker, see the module docs).
    fence(Ordering::SeqCst);
    // Relaxed: ordered by the fence above.
    if port.wake.blocked.load(Ordering::Relaxed) != 0 {
        // SeqCst: see `wake_subscriber`.
        port.wake.space_seq.fetch_add(1, Ordering::SeqCst);
        futex_wake_all(&port.wake.space_seq)?;
    }
    Ok(())
}

/// Subscriber side: sleeps until `port`'s queue is non-empty, `deadline`
/// passes, or `stop()` holds (the daemon is gone, the port revoked).
pub(crate) fn wait_for_data(
    port: &SubscriberPort,
    deadline: Option<Instant>,
    stop: impl Fn() -> bool,
) -> Result<WaitEnd, FutexError> {
    loop {
        if !port.queue.is_empty() {
            return Ok(WaitEnd::Data);
        }
        if stop() {
            return Ok(WaitEnd::Stopped);
        }
        let left = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(WaitEnd::TimedOut),
            },
            None => None,
        };
        // SeqCst: the registration must be visible to a publisher's check
        // after its push (Dekker with its SeqCst fence).
        port.wake.sleepers.fetch_add(1, Ordering::SeqCst);
        let result = sleep_on_data(port, left, &stop);
        // SeqCst: the registration ends before we look at the queue again.
        port.wake.sleepers.fetch_sub(1, Ordering::SeqCst);
        result?;
    }
}

/// One sleep of [`wait_for_data`], registered as a sleeper.
fn sleep_on_data(
    port: &SubscriberPort,
    left: Option<Duration>,
    stop: impl Fn() -> bool,
) -> Result<(), FutexError> {
    // SeqCst: read before the queue and stop checks, so a wake-up that
    // follows either of them changes the word we sleep on.
    let seq = port.wake.data_seq.load(Ordering::SeqCst);
    // SeqCst fence: pairs with the publisher's fence after its push.
    fence(Ordering::SeqCst);
    if port.queue.is_empty() && !stop() {
        futex_wait(&port.wake.data_seq, seq, left)?;
    }
    Ok(())
}

/// Publisher side, blocked on a full queue: registers as blocked, retries
/// `try_push` once more after the fence, and sleeps on `space_seq` for at
/// most `slice` if it still fails. Returns whether the push succeeded; the
/// caller re-checks liveness and routing between calls.
pub(crate) fn push_or_sleep(
    port: &SubscriberPort,
    slice: Duration,
    try_push: impl FnOnce() -> bool,
) -> Result<bool, FutexError> {
    // SeqCst: the registration must be visible to the subscriber's check
    // after its pop (Dekker with its SeqCst fence).
    port.wake.blocked.fetch_add(1, Ordering::SeqCst);
    // SeqCst: read before the retry, so a pop after the retry changes it.
    let seq = port.wake.space_seq.load(Ordering::SeqCst);
    fence(Ordering::SeqCst);
    let pushed = try_push();
    let result = if pushed {
        Ok(())
    } else {
        futex_wait(&port.wake.space_seq, seq, Some(slice)).map(drop)
    };
    // SeqCst: the registration ends after the sleep.
    port.wake.blocked.fetch_sub(1, Ordering::SeqCst);
    result.map(|()| pushed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    fn port(capacity: u32) -> Arc<SubscriberPort> {
        // SAFETY: SubscriberPort consists of atomics only, for which all-zero
        // bytes are a valid value (the state of a fresh segment).
        let port: Box<SubscriberPort> = unsafe { Box::new_zeroed().assume_init() };
        port.queue.init(capacity).unwrap();
        Arc::from(port)
    }

    fn until(cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !cond() {
            assert!(Instant::now() < deadline, "condition not reached in time");
            std::thread::yield_now();
        }
    }

    #[test]
    fn times_out_with_an_empty_queue() {
        let port = port(4);
        let start = Instant::now();
        let deadline = Some(start + Duration::from_millis(20));
        assert_eq!(
            wait_for_data(&port, deadline, || false),
            Ok(WaitEnd::TimedOut)
        );
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(port.wake.sleepers.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_push_wakes_the_sleeper() {
        let port = port(4);
        let sleeper = {
            let port = Arc::clone(&port);
            std::thread::spawn(move || wait_for_data(&port, None, || false))
        };
        until(|| port.wake.sleepers.load(Ordering::SeqCst) != 0);
        port.queue.push(7).unwrap();
        fence_after_pushes();
        wake_if_sleeping(&port).unwrap();
        assert_eq!(sleeper.join().unwrap(), Ok(WaitEnd::Data));
        assert_eq!(port.wake.sleepers.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn daemon_loss_wakes_the_sleeper() {
        let port = port(4);
        let gone = Arc::new(AtomicBool::new(false));
        let sleeper = {
            let (port, gone) = (Arc::clone(&port), Arc::clone(&gone));
            std::thread::spawn(move || wait_for_data(&port, None, || gone.load(Ordering::SeqCst)))
        };
        until(|| port.wake.sleepers.load(Ordering::SeqCst) != 0);
        gone.store(true, Ordering::SeqCst);
        wake_subscriber(&port.wake).unwrap();
        assert_eq!(sleeper.join().unwrap(), Ok(WaitEnd::Stopped));
    }

    #[test]
    fn a_blocked_push_resumes_after_a_pop() {
        let port = port(1);
        port.queue.push(1).unwrap();
        let publisher = {
            let port = Arc::clone(&port);
            std::thread::spawn(move || {
                while !push_or_sleep(&port, Duration::from_secs(30), || {
                    port.queue.push(2).is_ok()
                })? {}
                Ok::<_, FutexError>(())
            })
        };
        until(|| port.wake.blocked.load(Ordering::SeqCst) != 0);
        assert_eq!(port.queue.pop(), Some(1));
        wake_blocked_publishers(&port).unwrap();
        assert_eq!(publisher.join().unwrap(), Ok(()));
        assert_eq!(port.queue.pop(), Some(2));
        assert_eq!(port.wake.blocked.load(Ordering::SeqCst), 0);
    }
}
