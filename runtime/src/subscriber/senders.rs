//! Who feeds a subscriber: the publishers routed to it, as the daemon
//! counts them in the port's control block (`senders`, `sender_changes`:
//! [`zerocp_core::port::PortControl::set_senders`]).
//!
//! When a publisher of the service joins or leaves — removed, or its
//! process killed — the daemon rewrites the count, wakes the port's futex
//! and signals its wake descriptor. Every way of waiting then returns:
//! `Subscriber::wait` with `Ok` (whether a sample is queued), a
//! [`WaitSet`](crate::WaitSet) with [`Readiness::PublishersChanged`](crate::Readiness::PublishersChanged),
//! a `poll` on [`Subscriber::as_fd`] with the descriptor readable. A change
//! is reported once, to whichever of these (or
//! [`Subscriber::publishers_changed`]) sees it first; the count itself
//! ([`Subscriber::publishers`]) can be read at any time: 0 means nothing
//! feeds the port — the sensor's publisher is gone.
//!
//! The words are a hint like every word of the group's control part (a
//! process of the group could write them; the daemon's audit puts them
//! back): they wake and inform, they guard nothing.

use super::SubscriberCore;
use crate::{Subscriber, ZeroCopySafe};

impl SubscriberCore {
    /// Publishers routed to this port now (daemon-written).
    pub(crate) fn publishers(&self) -> u32 {
        self.port().control.senders()
    }

    /// Whether the routed publishers changed since last reported.
    pub(crate) fn senders_changed_unseen(&self) -> bool {
        self.port().control.sender_changes() != self.senders_seen.get()
    }

    /// Marks the current routes as reported.
    pub(crate) fn mark_senders_seen(&self) {
        self.senders_seen.set(self.port().control.sender_changes());
    }

    /// Whether the routed publishers changed since last reported, marking
    /// them reported.
    pub(crate) fn take_senders_change(&self) -> bool {
        let changed = self.senders_changed_unseen();
        if changed {
            self.mark_senders_seen();
        }
        changed
    }
}

impl<T: ZeroCopySafe> Subscriber<T> {
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

    /// Whether the routed publishers changed (one joined, one left or
    /// died) since a change was last reported — by this call, by
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
    /// if pose.publishers_changed() {
    ///     println!("{} publishers now", pose.publishers());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publishers_changed(&self) -> bool {
        self.core().take_senders_change()
    }
}
