//! [`Subscriber::take_latest`]: the newest queued sample, for control loops
//! that want only the freshest value, releasing every older one unread.
//!
//! It is `take` with another pop: pop the oldest chunk; while the queue is
//! not empty, release it and pop the next, at most as many times as chunks
//! were queued when it started (so a queue refilled as fast as it is
//! drained cannot hold it). Only the last one popped is
//! checked, listed in the port's `held` list and handed out. At any moment
//! at most one popped chunk is neither queued nor listed, as in `take`, so
//! a crash leaks at most one chunk. The chunks released this way are
//! counted in [`Subscriber::skipped`] (process-local: they are samples this
//! subscriber chose not to read, not ones a publisher dropped, which
//! [`Subscriber::dropped`] counts). A released chunk's index was read from
//! shared memory: the release bounds-checks it (and logs a bad one), as a
//! take of it would.

use std::cell::Cell;
use std::rc::Rc;

use super::{Subscriber, SubscriberCore, Taken};
use crate::ZeroCopySafe;
use crate::error::TakeError;
use crate::payload::Payload;
use crate::sample::Sample;

impl<P: ?Sized + Payload, H: ZeroCopySafe> Subscriber<P, H> {
    /// Takes the newest queued sample and releases every older one
    /// unread (counted in [`skipped`](Self::skipped)), or `None` when the
    /// queue is empty. Fails as [`take`](Self::take) does.
    ///
    /// Samples published while it runs may stay queued: the next call
    /// takes the newest of those.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let setpoints = rt.subscriber::<[f32; 3]>(&svc).create()?;
    /// loop {
    ///     if let Some(latest) = setpoints.take_latest()? {
    ///         println!("steer to {:?} (#{})", *latest, latest.sequence());
    ///     }
    ///     std::thread::sleep(Duration::from_millis(10)); // the control period
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_latest(&self) -> Result<Option<Sample<'_, P, H>>, TakeError> {
        self.cell.call(
            |core| core.take_latest(&self.skipped),
            |core, taken| taken.map(|taken| Sample::new(Rc::clone(core), taken)),
        )
    }

    /// Samples [`take_latest`](Self::take_latest) released unread so far.
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let subscriber = rt.subscriber::<u64>(&svc).create()?;
    /// let _latest = subscriber.take_latest()?;
    /// println!("skipped {} older samples", subscriber.skipped());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn skipped(&self) -> u64 {
        self.skipped.get()
    }
}

impl SubscriberCore {
    /// Takes the newest queued sample, if any, releasing the older ones
    /// and adding their number to `skipped`.
    pub(super) fn take_latest(&self, skipped: &Cell<u64>) -> Result<Option<Taken>, TakeError> {
        self.take_popped(|| self.pop_newest(skipped))
    }

    /// Pops until the queue is empty, releasing every chunk but the last,
    /// each before popping the next (module docs). At most as many chunks
    /// as were queued at the start (and never more than the queue's
    /// capacity): publishers that keep refilling the queue, or a hostile
    /// process pushing into it, cannot keep the caller here.
    fn pop_newest(&self, skipped: &Cell<u64>) -> Option<u32> {
        let queued = self.port().queue.len().min(self.options.queue_capacity);
        let mut chunk = self.pop()?;
        for _ in 1..queued {
            if self.port().queue.is_empty() {
                break;
            }
            self.release(chunk);
            skipped.set(skipped.get().wrapping_add(1));
            // Only this thread pops, so the queue still holds what it
            // held; a hostile process emptying it leaves nothing to take.
            chunk = self.port().queue.pop()?;
        }
        Some(chunk)
    }
}
