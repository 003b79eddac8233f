//! Process-shared futex wait and wake on 32-bit words in shared memory.
//!
//! A subscriber that finds its queue empty sleeps in [`futex_wait`] on its
//! port's wake-up word; a publisher that sees the subscriber sleeping calls
//! [`futex_wake`]. The words live in a `MAP_SHARED` mapping that
//! several processes see at different addresses, so these calls use the
//! *shared* futex operations (no `FUTEX_PRIVATE_FLAG`), which the kernel
//! keys by the page's backing object and offset rather than by address.
//!
//! They take `core::sync::atomic::AtomicU32`, which is what
//! `zerocp_core::sync::AtomicU32` is outside loom builds.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

use rustix::thread::futex;

use crate::error::{Errno, FutexError};

/// How a [`futex_wait`] ended. In every case the caller re-checks its
/// condition: futex wake-ups carry no data and may be spurious.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Slept and was woken (by [`futex_wake`], or spuriously).
    Woken,
    /// The word did not hold `expected` when the call started; no sleep.
    ValueChanged,
    /// The timeout passed.
    TimedOut,
    /// A signal handler ran.
    Interrupted,
}

/// Sleeps while `*word == expected`, at most `timeout` (`None`: no limit).
///
/// The check and the sleep are atomic with respect to [`futex_wake`]: a
/// waker that changes the word and then wakes cannot be missed.
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// use std::time::Duration;
/// use zerocp_os_linux::futex::{futex_wait, WaitOutcome};
/// let word = AtomicU32::new(1);
/// assert_eq!(futex_wait(&word, 0, None)?, WaitOutcome::ValueChanged);
/// assert_eq!(futex_wait(&word, 1, Some(Duration::from_millis(1)))?, WaitOutcome::TimedOut);
/// # Ok::<(), zerocp_os_linux::error::FutexError>(())
/// ```
pub fn futex_wait(
    word: &AtomicU32,
    expected: u32,
    timeout: Option<Duration>,
) -> Result<WaitOutcome, FutexError> {
    let timeout = timeout.map(crate::clock::timespec);
    // Flags::empty(): shared, not FUTEX_PRIVATE_FLAG (see module docs). The
    // timeout of FUTEX_WAIT is relative and measured on CLOCK_MONOTONIC.
    match futex::wait(word, futex::Flags::empty(), expected, timeout.as_ref()) {
        Ok(()) => Ok(WaitOutcome::Woken),
        Err(Errno::AGAIN) => Ok(WaitOutcome::ValueChanged),
        Err(Errno::TIMEDOUT) => Ok(WaitOutcome::TimedOut),
        Err(Errno::INTR) => Ok(WaitOutcome::Interrupted),
        Err(errno) => Err(FutexError::Wait {
            addr: word.as_ptr() as usize,
            errno,
        }),
    }
}

/// Wakes up to `n` waiters sleeping on `word` (in any process); returns how
/// many were woken. `n` above `i32::MAX` means all.
///
/// ```
/// use std::sync::atomic::AtomicU32;
/// let word = AtomicU32::new(0);
/// assert_eq!(zerocp_os_linux::futex::futex_wake(&word, 1)?, 0); // nobody sleeps
/// # Ok::<(), zerocp_os_linux::error::FutexError>(())
/// ```
pub fn futex_wake(word: &AtomicU32, n: u32) -> Result<u32, FutexError> {
    // The kernel reads the count as a signed int.
    let n = n.min(i32::MAX as u32);
    futex::wake(word, futex::Flags::empty(), n)
        .map(|woken| u32::try_from(woken).unwrap_or(u32::MAX))
        .map_err(|errno| FutexError::Wake {
            addr: word.as_ptr() as usize,
            errno,
        })
}

/// Wakes every waiter sleeping on `word`; returns how many were woken.
pub fn futex_wake_all(word: &AtomicU32) -> Result<u32, FutexError> {
    futex_wake(word, u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn wait_times_out_after_the_timeout() {
        let word = AtomicU32::new(5);
        let start = Instant::now();
        let outcome = futex_wait(&word, 5, Some(Duration::from_millis(30))).unwrap();
        assert_eq!(outcome, WaitOutcome::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn changed_value_returns_at_once() {
        let word = AtomicU32::new(5);
        assert_eq!(
            futex_wait(&word, 4, None).unwrap(),
            WaitOutcome::ValueChanged
        );
    }

    #[test]
    fn wake_releases_a_sleeping_thread() {
        let word = Arc::new(AtomicU32::new(0));
        let waiter = {
            let word = Arc::clone(&word);
            std::thread::spawn(move || futex_wait(&word, 0, Some(Duration::from_secs(20))).unwrap())
        };
        // Wake until the waiter is in the futex queue (a wake that finds no
        // waiter returns 0 and changes nothing); the word stays 0, so only a
        // real wake-up can end its wait before the 20 s timeout.
        let deadline = Instant::now() + Duration::from_secs(15);
        let woken = loop {
            let n = futex_wake(&word, 1).unwrap();
            if n > 0 {
                break n;
            }
            assert!(
                Instant::now() < deadline,
                "the waiter never reached the futex queue"
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(woken, 1);
        assert_eq!(waiter.join().unwrap(), WaitOutcome::Woken);
    }
}
