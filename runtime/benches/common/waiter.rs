//! How a benchmark's subscriber sleeps until a sample may be queued, for
//! the modes that sleep ([`Mode`]): its own `wait`, `WaitSet::wait` on a
//! wait set holding it alone, or `poll(2)` on its wake descriptor.
//!
//! [`with_waiter`] sets the chosen way up (a wait set and its attachment
//! live for the call) and hands the body one closure to call whenever
//! `take` found nothing: it returns once something may be there, or fails
//! after [`DEADLINE`].

use std::os::fd::BorrowedFd;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use zerocp::{Subscriber, WaitSet, ZeroCopySafe};

use crate::common::error::{BenchError, Context};
use crate::common::mode::Mode;
use crate::common::process::DEADLINE;

/// Sleeps until a sample may be queued; `Err` after [`DEADLINE`].
pub type Wait<'w> = &'w dyn Fn() -> Result<(), BenchError>;

/// Runs `body` with the wait of `mode` on `subscriber` (`Mode::Poll`
/// gets the subscriber's own `wait`, which a busy-poll loop never calls).
pub fn with_waiter<T: ZeroCopySafe, R>(
    subscriber: &Subscriber<T>,
    mode: Mode,
    body: impl FnOnce(Wait<'_>) -> Result<R, BenchError>,
) -> Result<R, BenchError> {
    match mode {
        Mode::WaitSet => {
            let waitset = WaitSet::new().zerocp("WaitSet::new")?;
            let _attachment = waitset.attach(subscriber).zerocp("WaitSet::attach")?;
            body(&|| {
                let events = waitset.wait(Some(DEADLINE)).zerocp("WaitSet::wait")?;
                ensure(!events.is_empty())
            })
        }
        Mode::Fd => {
            let fd = subscriber.as_fd().zerocp("Subscriber::as_fd")?;
            body(&|| ensure(readable(fd)?))
        }
        Mode::Poll | Mode::Wait | Mode::Sleep => body(&|| {
            let woken = subscriber.wait(Some(DEADLINE)).zerocp("wait")?;
            ensure(woken)
        }),
    }
}

/// `Ok` if the wait ended before the deadline.
fn ensure(woken: bool) -> Result<(), BenchError> {
    if woken {
        return Ok(());
    }
    Err(BenchError::Peer {
        role: "peer".into(),
        detail: format!("no zerocp sample within {DEADLINE:?}"),
    })
}

/// Whether `fd` turned readable within [`DEADLINE`] (`poll(2)`).
fn readable(fd: BorrowedFd<'_>) -> Result<bool, BenchError> {
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let limit = Timespec {
        tv_sec: DEADLINE.as_secs() as _,
        tv_nsec: DEADLINE.subsec_nanos() as _,
    };
    let ready = poll(&mut fds, Some(&limit)).os(|| "poll on the wake descriptor".into())?;
    Ok(ready == 1)
}
