//! [`WaitSet`]: one thread waits for whichever of many inputs comes first —
//! subscribers, listeners, intervals, and deadlines (a subscriber or
//! listener that stays silent for its period: a missed-sensor watchdog) —
//! and learns which, by handle. A [`ServiceWatcher`](crate::ServiceWatcher)
//! attaches as the listener it holds: ready when the set of services
//! changed.
//!
//! **One descriptor, one sleep.** The wait set owns an epoll instance. A
//! subscriber or listener attached to it is armed with its wake descriptor
//! ([`Subscriber::as_fd`], [`Listener::as_fd`]); the wait set registers its
//! own duplicate of that socket's receiving end (so one port can be
//! attached twice, e.g. for data and as a deadline). Intervals and
//! deadlines are computed from `CLOCK_MONOTONIC`
//! by [`WaitSet::wait`] itself and bound its sleep: they take no descriptor.
//! The wait set is [`AsFd`]: its epoll descriptor turns readable when an
//! attached subscriber has data (not on intervals: call `wait` with a zero
//! timeout when it does, or on a timer of your own).
//!
//! **`wait`.** First a pass without any system call: every subscriber's
//! queue and every listener's id bitmap is looked at (nothing is taken), every interval and deadline against the clock; if
//! anything is ready it returns at once. Otherwise it clears each
//! port's `pending` word, looks once more (a push after the clear
//! signals the descriptor; one before it is seen now), and sleeps in one
//! `epoll_wait` until a descriptor is readable or the nearest of the
//! timeout, the next interval tick and the next deadline. It drains the
//! descriptors that woke it and starts over.
//!
//! **Deadlines.** A deadline attachment fires when its subscriber had no
//! data at any look of `wait` for its period; data at a look (reported as
//! ready) starts the period again, and so does firing. So a deadline sees
//! what `wait` sees: samples taken elsewhere between two waits are not
//! seen.
//!
//! **Publishers gone.** A port attached for data (not a deadline) is also
//! reported [`Readiness::PublisherGone`] when a publisher of its service
//! was removed or died and its queue is empty (once per departure;
//! `Subscriber::publishers` tells how many are left: the daemon wakes the
//! descriptor, `crate::subscriber`'s `senders`).
//!
//! **Errors.** When the daemon is gone (or dropped this process) every
//! waiter wakes: the runtime signals the armed descriptors, and the daemon
//! does too when it stops. `wait` then fails with the typed error, as it
//! does for an attached port the daemon revoked (naming the attachment).
//!
//! **Detaching.** An [`Attachment`] detaches when dropped (its duplicate
//! descriptor leaves the epoll set and is closed). The wait set borrows its
//! subscribers, so they outlive it.

use std::cell::{Cell, RefCell};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use zerocp_os_linux::error::{Errno, PollError};
use zerocp_os_linux::poller::{Events, Interest, Poller};

use zerocp_core::wire::RevokeReason;

use crate::ZeroCopySafe;
use crate::error::{AttachError, WaitSetCreateError, WaitSetWaitError, WakeFdError};
use crate::listener::Listener;
use crate::payload::Payload;
use crate::registration::Gone;
use crate::subscriber::{Subscriber, UntypedSubscriber};

/// The name of an attachment, as [`WaitSetEvents`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachmentId(pub(crate) u64);

impl AttachmentId {
    /// Its number: from 1, counting up per attachment of one wait set,
    /// never reused (errors name it; the C API hands it out).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let pose = rt.subscriber::<u64>(&svc).create()?;
    /// let waitset = zerocp::WaitSet::new()?;
    /// assert_eq!(waitset.attach(&pose)?.id().value(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn value(self) -> u64 {
        self.0
    }
}

/// Why an attachment is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Its subscriber has a sample queued, or its listener an id pending.
    Data,
    /// Its interval elapsed.
    Tick,
    /// Its subscriber (listener) had nothing for the deadline's period.
    Missed,
    /// A publisher routed to its subscriber was removed or died
    /// (`Subscriber::publishers` says how many are left; reported once,
    /// when the queue is empty).
    PublisherGone,
}

/// A receiving port a [`WaitSet`] can wait on: a [`Subscriber`], an
/// [`UntypedSubscriber`], a [`Listener`], or a
/// [`ServiceWatcher`](crate::ServiceWatcher) (its listener of the daemon's
/// discovery event). Its methods are the wait set's checks, which the
/// crate's ports implement; outside the crate, a wrapper that hands each
/// call on to one of them (the C API's subscriber behind its lock), or a
/// descriptor of the application's that answers `has_data` with `poll`
/// (the C API's `zerocp_waitset_attach_fd`), implements them too.
pub trait Attachable {
    /// Its wake descriptor, armed ([`Subscriber::as_fd`], [`Listener::as_fd`]).
    #[doc(hidden)]
    fn wake_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError>;
    /// Whether it has something to take (a sample, an id), without taking.
    #[doc(hidden)]
    fn has_data(&self) -> bool;
    /// Clears its `pending` word (before the last look, module docs).
    #[doc(hidden)]
    fn clear_pending(&self);
    /// Reads its descriptor's bytes away.
    #[doc(hidden)]
    fn drain_wake_fd(&self);
    /// Whether a sender routed to it left since the last look (and forgets
    /// it): publishers of a subscriber; listeners report none.
    #[doc(hidden)]
    fn take_sender_gone(&self) -> bool;
    /// The daemon gone or the port revoked, if so: the error naming
    /// `attachment`.
    #[doc(hidden)]
    fn stopped(&self, attachment: AttachmentId) -> Option<WaitSetWaitError>;
}

impl<P: ?Sized + Payload, H: ZeroCopySafe> Attachable for Subscriber<P, H> {
    fn wake_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        self.as_fd()
    }
    fn has_data(&self) -> bool {
        self.core().has_data()
    }
    fn clear_pending(&self) {
        self.core().clear_pending();
    }
    fn drain_wake_fd(&self) {
        self.core().drain_wake_fd();
    }
    fn take_sender_gone(&self) -> bool {
        self.core().take_sender_gone()
    }
    fn stopped(&self, attachment: AttachmentId) -> Option<WaitSetWaitError> {
        self.core().stopped().map(|s| stop_error(s, attachment))
    }
}

impl Attachable for UntypedSubscriber {
    fn wake_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        self.as_fd()
    }
    fn has_data(&self) -> bool {
        self.core().has_data()
    }
    fn clear_pending(&self) {
        self.core().clear_pending();
    }
    fn drain_wake_fd(&self) {
        self.core().drain_wake_fd();
    }
    fn take_sender_gone(&self) -> bool {
        self.core().take_sender_gone()
    }
    fn stopped(&self, attachment: AttachmentId) -> Option<WaitSetWaitError> {
        self.core().stopped().map(|s| stop_error(s, attachment))
    }
}

impl Attachable for Listener {
    fn wake_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        self.as_fd()
    }
    fn has_data(&self) -> bool {
        self.core().has_events()
    }
    fn clear_pending(&self) {
        self.core().clear_pending();
    }
    fn drain_wake_fd(&self) {
        self.core().drain_wake_fd();
    }
    fn take_sender_gone(&self) -> bool {
        false
    }
    fn stopped(&self, attachment: AttachmentId) -> Option<WaitSetWaitError> {
        self.core().stopped().map(|s| stop_error(s, attachment))
    }
}

/// The wait's error for a port that stopped.
fn stop_error(stopped: Result<Gone, RevokeReason>, attachment: AttachmentId) -> WaitSetWaitError {
    match stopped {
        Ok(gone) => gone.into(),
        Err(reason) => WaitSetWaitError::Revoked { attachment, reason },
    }
}

enum Kind<'a> {
    Port(&'a dyn Attachable),
    Interval {
        period: Duration,
        next: Cell<Instant>,
    },
    Deadline {
        port: &'a dyn Attachable,
        period: Duration,
        since: Cell<Instant>,
    },
}

struct Entry<'a> {
    id: AttachmentId,
    kind: Kind<'a>,
    /// The wait set's duplicate of the port's wake descriptor.
    fd: Option<OwnedFd>,
}

impl Entry<'_> {
    fn port(&self) -> Option<&dyn Attachable> {
        match &self.kind {
            Kind::Port(p) | Kind::Deadline { port: p, .. } => Some(*p),
            Kind::Interval { .. } => None,
        }
    }
}

/// Waits for many subscribers, intervals and deadlines at once (module docs).
///
/// ```no_run
/// use std::time::Duration;
/// use zerocp::{Readiness, WaitSet};
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let pose = rt.subscriber::<u64>(&svc).create()?;
/// let waitset = WaitSet::new()?;
/// let data = waitset.attach(&pose)?;
/// let tick = waitset.attach_interval(Duration::from_millis(10))?;
/// let dog = waitset.attach_deadline(&pose, Duration::from_millis(100))?;
/// let events = waitset.wait(Some(Duration::from_secs(1)))?;
/// if events.contains(&data) {
///     while let Some(sample) = pose.take()? { println!("{}", *sample); }
/// }
/// if events.readiness(&dog) == Some(Readiness::Missed) { println!("pose is late"); }
/// # let _ = tick;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WaitSet<'a> {
    poller: Poller,
    entries: RefCell<Vec<Entry<'a>>>,
    next_id: Cell<u64>,
    events: RefCell<Events>,
}

/// An attachment to a [`WaitSet`]; detaches when dropped.
#[must_use = "dropping an attachment detaches it"]
pub struct Attachment<'w, 'a> {
    set: &'w WaitSet<'a>,
    id: AttachmentId,
}

impl Attachment<'_, '_> {
    /// Its name, as [`WaitSetEvents`] and errors report it.
    pub fn id(&self) -> AttachmentId {
        self.id
    }
}

impl Drop for Attachment<'_, '_> {
    fn drop(&mut self) {
        self.set.detach(self.id);
    }
}

/// What one [`WaitSet::wait`] found ready, by attachment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitSetEvents {
    ready: Vec<(AttachmentId, Readiness)>,
}

impl WaitSetEvents {
    /// Whether `attachment` is ready (for any reason).
    pub fn contains(&self, attachment: &Attachment<'_, '_>) -> bool {
        self.readiness(attachment).is_some()
    }

    /// Why `attachment` is reported, if it is.
    pub fn readiness(&self, attachment: &Attachment<'_, '_>) -> Option<Readiness> {
        self.ready
            .iter()
            .find(|(id, _)| *id == attachment.id)
            .map(|(_, r)| *r)
    }

    /// Every ready attachment, in attachment order.
    pub fn iter(&self) -> impl Iterator<Item = (AttachmentId, Readiness)> + '_ {
        self.ready.iter().copied()
    }

    /// Whether nothing is ready (the timeout passed).
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }

    /// How many attachments are ready.
    pub fn len(&self) -> usize {
        self.ready.len()
    }
}

impl<'a> WaitSet<'a> {
    /// The longest interval or deadline period, 30 days: beyond it a
    /// period is a mistake rather than a schedule, and the set's clock
    /// arithmetic stays far from overflowing.
    pub const MAX_PERIOD: Duration = Duration::from_secs(30 * 24 * 60 * 60);

    /// An empty wait set (one epoll descriptor).
    pub fn new() -> Result<Self, WaitSetCreateError> {
        Ok(Self {
            poller: Poller::new().map_err(WaitSetCreateError::Poll)?,
            entries: RefCell::new(Vec::new()),
            next_id: Cell::new(1),
            events: RefCell::new(Events::with_capacity(64)),
        })
    }

    /// Attaches `port`, a [`Subscriber`] ([`UntypedSubscriber`]) or a [`Listener`]: reported
    /// [`Readiness::Data`] while it has a sample queued (an id pending;
    /// take them with [`Listener::try_wait`]). Arms its wake descriptor
    /// ([`Subscriber::as_fd`], [`Listener::as_fd`]).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Map", "Updated")?;
    /// let listener = rt.listener(&svc).create()?;
    /// let waitset = zerocp::WaitSet::new()?;
    /// let map = waitset.attach(&listener)?;
    /// if waitset.wait(None)?.contains(&map) {
    ///     for id in listener.try_wait()? { println!("event {}", id.value()); }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attach<P: Attachable>(&self, port: &'a P) -> Result<Attachment<'_, 'a>, AttachError> {
        self.add_port(Kind::Port(port), port)
    }

    /// Attaches a deadline on `port` (a [`Subscriber`] or a [`Listener`]):
    /// reported [`Readiness::Missed`] when it had nothing at any look for
    /// `period` (module docs), [`Readiness::Data`] while it has. A period
    /// of zero or beyond [`WaitSet::MAX_PERIOD`] is refused.
    pub fn attach_deadline<P: Attachable>(
        &self,
        port: &'a P,
        period: Duration,
    ) -> Result<Attachment<'_, 'a>, AttachError> {
        check_period(period)?;
        let kind = Kind::Deadline {
            port,
            period,
            since: Cell::new(Instant::now()),
        };
        self.add_port(kind, port)
    }

    /// Attaches an interval: reported [`Readiness::Tick`] every `period`
    /// (a tick missed while nobody waited is reported once, and the next
    /// one is a period after the last due one still in the future). A
    /// period of zero or beyond [`WaitSet::MAX_PERIOD`] is refused.
    pub fn attach_interval(&self, period: Duration) -> Result<Attachment<'_, 'a>, AttachError> {
        check_period(period)?;
        let next = Cell::new(Instant::now() + period);
        Ok(self.insert(Kind::Interval { period, next }, None))
    }

    fn add_port(
        &self,
        kind: Kind<'a>,
        source: &'a dyn Attachable,
    ) -> Result<Attachment<'_, 'a>, AttachError> {
        let fd = source.wake_fd().map_err(AttachError::WakeFd)?;
        let dup = fd.try_clone_to_owned().map_err(|e| {
            AttachError::Poll(PollError::Add {
                fd: -1,
                token: 0,
                errno: Errno::from_io_error(&e).unwrap_or(Errno::MFILE),
            })
        })?;
        let id = self.next_id.get();
        self.poller
            .add(&dup, id, Interest::Readable)
            .map_err(AttachError::Poll)?;
        Ok(self.insert(kind, Some(dup)))
    }

    fn insert(&self, kind: Kind<'a>, fd: Option<OwnedFd>) -> Attachment<'_, 'a> {
        let id = AttachmentId(self.next_id.get());
        self.next_id.set(id.0 + 1);
        self.entries.borrow_mut().push(Entry { id, kind, fd });
        Attachment { set: self, id }
    }

    fn detach(&self, id: AttachmentId) {
        let mut entries = self.entries.borrow_mut();
        if let Some(pos) = entries.iter().position(|e| e.id == id) {
            let entry = entries.remove(pos);
            if let Some(fd) = &entry.fd
                && let Err(e) = self.poller.delete(fd)
            {
                log::warn!("wait set: detaching {}: {e}", id.0);
            }
        }
    }

    /// Waits until an attachment is ready or `timeout` passes (`None`: no
    /// limit); returns what is ready (empty: the timeout passed). No
    /// system call when something is ready already; otherwise one
    /// `epoll_wait` for the whole set (module docs).
    ///
    /// Fails when the daemon is gone or dropped this process, or revoked
    /// an attached port ([`WaitSetWaitError`]), also while sleeping.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<WaitSetEvents, WaitSetWaitError> {
        let until = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            self.check_stopped()?;
            let now = Instant::now();
            let ready = self.collect(now);
            if !ready.is_empty() {
                return Ok(WaitSetEvents { ready });
            }
            self.clear_pending();
            let ready = self.collect(now);
            if !ready.is_empty() {
                return Ok(WaitSetEvents { ready });
            }
            let wake = self.next_timer().into_iter().chain(until).min();
            let left = match wake {
                Some(at) => at.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if until.is_some_and(|u| Instant::now() >= u) {
                return Ok(WaitSetEvents::default());
            }
            self.sleep((left != Duration::MAX).then_some(left))?;
        }
    }

    /// The daemon gone, or an attached port revoked: the error.
    fn check_stopped(&self) -> Result<(), WaitSetWaitError> {
        for entry in self.entries.borrow().iter() {
            if let Some(error) = entry.port().and_then(|port| port.stopped(entry.id)) {
                return Err(error);
            }
        }
        Ok(())
    }

    /// The pass without system calls: ports with data, intervals and
    /// deadlines due at `now` (which it moves on).
    fn collect(&self, now: Instant) -> Vec<(AttachmentId, Readiness)> {
        let mut ready = Vec::new();
        for entry in self.entries.borrow().iter() {
            let found = match &entry.kind {
                Kind::Port(port) => {
                    if port.has_data() {
                        Some(Readiness::Data)
                    } else {
                        port.take_sender_gone().then_some(Readiness::PublisherGone)
                    }
                }
                Kind::Interval { period, next } => (now >= next.get()).then(|| {
                    let mut due = next.get() + *period;
                    while due <= now {
                        due += *period;
                    }
                    next.set(due);
                    Readiness::Tick
                }),
                Kind::Deadline {
                    port,
                    period,
                    since,
                } => {
                    if port.has_data() {
                        since.set(now);
                        Some(Readiness::Data)
                    } else if now.saturating_duration_since(since.get()) >= *period {
                        since.set(now);
                        Some(Readiness::Missed)
                    } else {
                        None
                    }
                }
            };
            if let Some(found) = found {
                ready.push((entry.id, found));
            }
        }
        ready
    }

    fn clear_pending(&self) {
        for entry in self.entries.borrow().iter() {
            if let Some(port) = entry.port() {
                port.clear_pending();
            }
        }
    }

    /// The nearest interval tick or deadline expiry.
    fn next_timer(&self) -> Option<Instant> {
        self.entries
            .borrow()
            .iter()
            .filter_map(|entry| match &entry.kind {
                Kind::Port(_) => None,
                Kind::Interval { next, .. } => Some(next.get()),
                Kind::Deadline { period, since, .. } => Some(since.get() + *period),
            })
            .min()
    }

    /// One `epoll_wait`; drains the descriptors that woke it.
    fn sleep(&self, left: Option<Duration>) -> Result<(), WaitSetWaitError> {
        let mut events = self.events.borrow_mut();
        match self.poller.wait(&mut events, left) {
            Ok(_) => {}
            Err(PollError::Wait { errno }) if errno == Errno::INTR => return Ok(()),
            Err(e) => return Err(WaitSetWaitError::Poll(e)),
        }
        let entries = self.entries.borrow();
        for event in events.iter() {
            if let Some(port) = entries
                .iter()
                .find(|e| e.id.0 == event.token)
                .and_then(Entry::port)
            {
                port.drain_wake_fd();
            }
        }
        Ok(())
    }
}

/// A period an interval or deadline may have (`0 < period <= MAX_PERIOD`).
fn check_period(period: Duration) -> Result<(), AttachError> {
    if period.is_zero() {
        return Err(AttachError::ZeroPeriod);
    }
    if period > WaitSet::MAX_PERIOD {
        return Err(AttachError::PeriodTooLong(period));
    }
    Ok(())
}

impl AsFd for WaitSet<'_> {
    /// The epoll descriptor: readable when an attached subscriber has data.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.poller.as_fd()
    }
}

impl std::fmt::Debug for WaitSet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitSet")
            .field("attachments", &self.entries.borrow().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_refused_at_zero_and_beyond_the_longest() {
        let set = WaitSet::new().expect("a wait set");
        assert!(matches!(
            set.attach_interval(Duration::ZERO),
            Err(AttachError::ZeroPeriod)
        ));
        let Err(err) = set.attach_interval(Duration::MAX) else {
            panic!("a period of Duration::MAX was attached");
        };
        assert!(matches!(err, AttachError::PeriodTooLong(p) if p == Duration::MAX));
        assert!(err.to_string().contains("the longest is"), "{err}");
        assert!(
            set.attach_interval(WaitSet::MAX_PERIOD).is_ok(),
            "the longest period is allowed"
        );
    }
}
