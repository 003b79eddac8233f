//! `async fn` receive on tokio (feature `tokio`, off by default): the
//! listener's wake descriptor ([`Listener::as_fd`]) registered with tokio's
//! reactor through `AsyncFd`, as `Subscriber::receive` does.
//!
//! `receive` takes the pending ids if there are any (no system call, no
//! reactor); otherwise it waits for the descriptor to turn readable and
//! takes again. An empty take on an armed port re-arms the descriptor's
//! edge (`wake_fd` module docs). The descriptor is registered per call (a
//! duplicate, dropped with the future). `Listener` is `Send` but not
//! `Sync`, so the future is not `Send`: await it on the thread that owns
//! the listener (a current-thread runtime, a `LocalSet`, `block_on`).

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use zerocp_core::event::EventSet;

use crate::Listener;
use crate::error::ListenerReceiveError;

impl Listener {
    /// Waits until an id is raised and takes the pending ones (feature
    /// `tokio`; module docs of `listener/async_receive`).
    ///
    /// Fails as [`try_wait`](Self::try_wait) does
    /// ([`ListenerReceiveError::Wait`]), when the wake descriptor cannot be
    /// set up ([`ListenerReceiveError::WakeFd`]), or when tokio's reactor
    /// refuses it ([`ListenerReceiveError::Io`]). A daemon that goes away
    /// wakes it: the take then fails with `DaemonGone`.
    ///
    /// ```no_run
    /// # async fn doc() -> Result<(), Box<dyn std::error::Error>> {
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Map", "Updated")?;
    /// let listener = rt.listener(&svc).create()?;
    /// for id in listener.receive().await? {
    ///     println!("event {}", id.value());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn receive(&self) -> Result<EventSet, ListenerReceiveError> {
        let set = self.try_wait()?;
        if !set.is_empty() {
            return Ok(set);
        }
        let fd = self
            .as_fd()?
            .try_clone_to_owned()
            .map_err(ListenerReceiveError::Io)?;
        // SAFETY: an `OwnedFd` is an open descriptor, which it keeps open
        // (the same number, the same open file) until it is dropped, and the
        // `AsyncFd` owns it until then.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(|e| ListenerReceiveError::Io(e.into_parts().1))?;
        loop {
            let set = self.try_wait()?;
            if !set.is_empty() {
                return Ok(set);
            }
            let mut ready = fd.readable().await.map_err(ListenerReceiveError::Io)?;
            ready.clear_ready();
        }
    }
}
