//! Sleeping and waking on a subscriber's futex words (the only system calls
//! of the data path, made only when someone sleeps).
//!
//! The protocol is core's ([`zerocp_core::wake_protocol`], model-checked by
//! its loom models); this module runs it on Linux futexes ([`LinuxFutex`])
//! in both directions of a subscriber port's [`WakeWord`]:
//!
//! | sleeper | waker |
//! |---|---|
//! | subscriber with an empty queue: read `data_seq`, `wake_pending = 0`, `sleepers += 1`, fence, queue still empty → futex-wait on `data_seq` | publisher after its push: fence, `sleepers != 0` and `wake_pending` flips 0 → 1 → `data_seq += 1`, futex-wake |
//! | publisher facing a full queue (block-publisher policy): read `space_seq`, `space_pending = 0`, `blocked += 1`, fence, retry the push, still full → futex-wait on `space_seq` | subscriber after its pop: fence, `blocked != 0` and `space_pending` flips 0 → 1 → `space_seq += 1`, futex-wake |
//!
//! Each side writes its own word (the registration, or the queue) and then
//! reads the other's, with a `SeqCst` fence between: at least one side sees
//! the other, so either the sleeper finds the new state and does not sleep,
//! or the waker finds the sleeper and bumps the futex word, which makes the
//! futex wait return at once (the word no longer holds the value read before
//! the check) or wakes it. The fast path of the waker is one fence and one
//! load; no syscall, no clock read.
//!
//! **No wake-up storms.** The pending flag makes the first waker after a
//! sleeper cleared it the only one to call futex-wake: publishes that follow
//! while the woken subscriber is being scheduled find the flag set and pay
//! one load more, where they used to pay a wake-up system call each (16
//! sleeping subscribers cost about 18 futex calls per publish before). A
//! sleeper clears the flag after it read the futex word and before its
//! check, so a wake-up is never lost (the argument is in core's module).
//!
//! Daemon loss is a wake-up too: the heartbeat thread sets the process's
//! "gone" flag and then bumps `data_seq` of this process's subscribers
//! ([`wake_subscriber`], unconditional: it ignores the pending flag); a
//! sleeper reads `data_seq` *before* it checks the flag, so it cannot miss
//! both. Being dropped for missing heartbeats is the same handshake with the
//! daemon as waker: it marks the process's heartbeat slot dropped and then
//! bumps `data_seq` of the process's subscribers. So is a port's
//! revocation: whoever reads the daemon's notice stores the reason in the
//! port's status and then bumps its `data_seq` ([`crate::port_status`]). The
//! sleeper's stop condition covers all three.

use std::time::{Duration, Instant};

use zerocp_core::port::{SubscriberPort, WakeWord};
use zerocp_core::sync::{AtomicU32, Ordering, fence};
use zerocp_core::wake_protocol::Futex;
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

/// Shared (process-crossing) Linux futexes, for core's wake protocol.
pub(crate) struct LinuxFutex;

impl Futex for LinuxFutex {
    type Error = FutexError;

    fn wait(
        &self,
        word: &AtomicU32,
        expected: u32,
        timeout: Option<Duration>,
    ) -> Result<(), FutexError> {
        futex_wait(word, expected, timeout).map(drop)
    }

    fn wake_all(&self, word: &AtomicU32) -> Result<(), FutexError> {
        futex_wake_all(word).map(drop)
    }
}

/// Publisher side, after pushing into `port`'s queue: wakes the subscriber if
/// it sleeps and no wake-up is pending. Call after a `SeqCst` fence that
/// follows the push (one fence may cover several pushes, see
/// [`fence_after_pushes`]).
pub(crate) fn wake_if_sleeping(port: &SubscriberPort) -> Result<(), FutexError> {
    port.wake.data().wake(&LinuxFutex).map(drop)
}

/// The fence between a publisher's queue pushes and its `sleepers` checks.
pub(crate) fn fence_after_pushes() {
    fence(Ordering::SeqCst);
}

/// Bumps `data_seq` and wakes every thread sleeping on it (any process),
/// whatever the pending flag says.
pub(crate) fn wake_subscriber(wake: &WakeWord) -> Result<(), FutexError> {
    wake.data().wake_always(&LinuxFutex)
}

/// Subscriber side, after popping from `port`'s queue: wakes publishers
/// blocked on a full queue, if any and none is woken already.
pub(crate) fn wake_blocked_publishers(port: &SubscriberPort) -> Result<(), FutexError> {
    // SeqCst fence: pairs with the blocked publisher's fence between its
    // registration and its push retry (Dekker, see the module docs).
    fence(Ordering::SeqCst);
    port.wake.space().wake(&LinuxFutex).map(drop)
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
        // The stop check after the fence: a wake-up that follows the stop
        // condition's store changes the word read before it.
        port.wake
            .data()
            .sleep(&LinuxFutex, left, || !port.queue.is_empty() || stop())?;
    }
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
    port.wake.space().sleep(&LinuxFutex, Some(slice), try_push)
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
