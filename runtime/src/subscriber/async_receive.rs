//! `async fn` receive on tokio (feature `tokio`, off by default): the
//! subscriber's wake descriptor ([`Subscriber::as_fd`]) registered with
//! tokio's reactor through `AsyncFd`.
//!
//! `receive` takes a sample if one is queued (no system call, no reactor);
//! otherwise it waits for the descriptor to turn readable and takes again.
//! An empty `take` on an armed port re-arms the descriptor's edge
//! (`wake_fd` module docs), so the readiness tokio reports is never stale
//! for long: a spurious wake-up costs one empty take. The descriptor is
//! registered per call (a duplicate, dropped with the future), so a
//! subscriber is not tied to one tokio runtime. `Subscriber` is `Send` but
//! not `Sync`, so the future is not `Send`: await it on the thread that
//! owns the subscriber (`block_on`, a `LocalSet`, a current-thread
//! runtime), e.g. in a `select!` beside sockets and timers.

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::error::ReceiveError;
use crate::{Payload, Sample, Subscriber, ZeroCopySafe};

impl<P: ?Sized + Payload, H: ZeroCopySafe> Subscriber<P, H> {
    /// Waits for a sample and takes it (feature `tokio`; module docs of
    /// `subscriber/async_receive`).
    ///
    /// Fails as [`take`](Self::take) does ([`ReceiveError::Take`]), when
    /// the wake descriptor cannot be set up ([`ReceiveError::WakeFd`]), or
    /// when tokio's reactor refuses it ([`ReceiveError::Io`]). A daemon
    /// that goes away wakes it: the take then fails with `DaemonGone`.
    ///
    /// ```no_run
    /// # async fn doc() -> Result<(), Box<dyn std::error::Error>> {
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let subscriber = rt.subscriber::<u64>(&svc).create()?;
    /// let sample = subscriber.receive().await?;
    /// println!("got {}", *sample);
    /// # Ok(()) }
    /// ```
    pub async fn receive(&self) -> Result<Sample<'_, P, H>, ReceiveError> {
        if let Some(sample) = self.take()? {
            return Ok(sample);
        }
        let fd = self
            .as_fd()?
            .try_clone_to_owned()
            .map_err(ReceiveError::Io)?;
        // SAFETY: an `OwnedFd` is an open descriptor, which it keeps open
        // (the same number, the same open file) until it is dropped, and the
        // `AsyncFd` owns it until then.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(|e| ReceiveError::Io(e.into_parts().1))?;
        loop {
            if let Some(sample) = self.take()? {
                return Ok(sample);
            }
            let mut ready = fd.readable().await.map_err(ReceiveError::Io)?;
            ready.clear_ready();
        }
    }
}
