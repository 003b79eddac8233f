//! Who feeds a subscriber: the publishers routed to it, as the daemon
//! counts them in the port's control block (`senders`, `senders_gone`:
//! [`zerocp_core::port::PortControl::set_senders`]).
//!
//! When a publisher of the service joins or leaves, the daemon rewrites
//! the count. When one leaves — removed, or its process killed — it also
//! counts the departure, wakes the port's futex and signals its wake
//! descriptor. Every way of waiting then returns: `Subscriber::wait` with
//! `Ok` (whether a sample is queued: `false` no longer means only "timed
//! out"), a [`WaitSet`](crate::WaitSet) with
//! [`Readiness::PublisherGone`](crate::Readiness::PublisherGone), a `poll`
//! on [`Subscriber::as_fd`] with the descriptor readable. A departure is
//! reported once, to whichever of these (or [`Subscriber::publisher_gone`])
//! sees it first; the count itself ([`Subscriber::publishers`]) can be read
//! at any time: 0 means nothing feeds the port — the sensor's publisher is
//! gone. A publisher joining wakes nobody (its data does).
//!
//! The words are a hint like every word of the group's control part (a
//! process of the group could write them; the daemon's audit puts them
//! back): they wake and inform, they guard nothing.

use super::SubscriberCore;
use crate::{Payload, Subscriber, ZeroCopySafe};

impl SubscriberCore {
    /// Publishers routed to this port now (daemon-written).
    pub(crate) fn publishers(&self) -> u32 {
        self.port().control.senders()
    }

    /// Whether a publisher left since last reported.
    pub(crate) fn sender_gone_unseen(&self) -> bool {
        self.port().control.senders_gone() != self.senders_seen.get()
    }

    /// Marks the departures so far as reported.
    pub(crate) fn mark_senders_seen(&self) {
        self.senders_seen.set(self.port().control.senders_gone());
    }

    /// Whether a publisher left since last reported, marking it reported.
    pub(crate) fn take_sender_gone(&self) -> bool {
        let changed = self.sender_gone_unseen();
        if changed {
            self.mark_senders_seen();
        }
        changed
    }
}

impl<P: ?Sized + Payload, H: ZeroCopySafe> Subscriber<P, H> {
    /// How many publishers are routed to this subscriber now, as the
    /// daemon counts them: 0 when none is (its publisher died or was
    /// removed, or none was created yet). Module docs of
    /// `subscriber/senders`.
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let pose = rt.subscriber::<u64>(&svc).create()?;
    /// if !pose.wait(None)? && pose.publishers() == 0 {
    ///     println!("the pose publisher is gone");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publishers(&self) -> u32 {
        self.core().publishers()
    }

    /// Whether a publisher routed to this subscriber was removed or died
    /// since a departure was last reported — by this call, by
    /// [`wait`](Self::wait) returning early, or by a
    /// [`WaitSet`](crate::WaitSet) — and marks it reported. For a `poll`
    /// loop on [`as_fd`](Self::as_fd): readable, nothing to take, and this
    /// says why.
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let pose = rt.subscriber::<u64>(&svc).create()?;
    /// // … the descriptor turned readable:
    /// while let Some(sample) = pose.take()? { println!("{}", *sample); }
    /// if pose.publisher_gone() {
    ///     println!("a publisher is gone, {} left", pose.publishers());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publisher_gone(&self) -> bool {
        self.core().take_sender_gone()
    }
}
