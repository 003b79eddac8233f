//! [`Subscriber<T>`] and its builder: the receiving end of a service.
//!
//! A subscriber owns a bounded queue in shared memory into which every
//! publisher of its service pushes chunk indices. Taking a sample pops one
//! and maps it to the payload in place. See [`crate::receive`] for the data
//! path and [`crate::wait`] for how `wait` sleeps.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::chunk_header::payload_offset;
use zerocp_core::mempool::PoolSelectError;
use zerocp_core::port::{FullPolicy, MAX_HELD, MAX_HISTORY, MAX_QUEUE_CAPACITY};
use zerocp_core::service::ServiceDescription;
use zerocp_core::sync::Ordering;
use zerocp_core::wire::{CreateSubscriber, Message, PortKind};

use crate::adaptive_spin::DEFAULT_WAIT_SPINS;
use crate::error::{CreateSubscriberError, PortRequestError, TakeError, WaitError, check_option};
use crate::port_request;
use crate::receive::SubscriberCore;
use crate::sample::Sample;
use crate::{Runtime, ZeroCopySafe};

/// Default of [`SubscriberBuilder::queue_capacity`].
pub const DEFAULT_QUEUE_CAPACITY: u32 = 16;
/// Default of [`SubscriberBuilder::max_held`].
pub const DEFAULT_MAX_HELD: u32 = 8;

/// Options of a new subscriber; made by [`Runtime::subscriber`].
///
/// ```no_run
/// use zerocp::FullPolicy;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let subscriber = rt
///     .subscriber::<[f32; 3]>(&svc)
///     .queue_capacity(8)                       // samples queued, not yet taken
///     .full_policy(FullPolicy::BlockPublisher) // default: DiscardOldest
///     .history(2)                              // the 2 latest samples on connect
///     .max_held(4)                             // samples taken and not dropped
///     .create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct SubscriberBuilder<'r, T> {
    rt: &'r Runtime,
    service: ServiceDescription,
    queue_capacity: u32,
    full_policy: FullPolicy,
    history: u32,
    max_held: u32,
    wait_spins: u32,
    _payload: PhantomData<fn() -> T>,
}

impl<'r, T: ZeroCopySafe> SubscriberBuilder<'r, T> {
    pub(crate) fn new(rt: &'r Runtime, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            full_policy: FullPolicy::DiscardOldest,
            history: 0,
            max_held: DEFAULT_MAX_HELD,
            wait_spins: DEFAULT_WAIT_SPINS,
            _payload: PhantomData,
        }
    }

    /// Samples the queue holds before the full-queue policy applies:
    /// `1..=256`, default [`DEFAULT_QUEUE_CAPACITY`].
    pub fn queue_capacity(mut self, capacity: u32) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// What publishers do when the queue is full: drop the oldest sample
    /// (the default; counted in [`Subscriber::dropped`]) or wait until this
    /// subscriber takes one. With [`FullPolicy::BlockPublisher`], a thread
    /// must not publish into a full queue that only it drains: it would wait
    /// for itself.
    pub fn full_policy(mut self, policy: FullPolicy) -> Self {
        self.full_policy = policy;
        self
    }

    /// How many of each publisher's latest samples to receive on connecting
    /// (up to the publisher's history depth): `0..=32`, default 0.
    pub fn history(mut self, count: u32) -> Self {
        self.history = count;
        self
    }

    /// How many samples may be held (taken and not dropped) at once:
    /// `1..=32`, default [`DEFAULT_MAX_HELD`].
    pub fn max_held(mut self, max: u32) -> Self {
        self.max_held = max;
        self
    }

    /// How many times [`Subscriber::wait`] checks the queue before it
    /// sleeps on the futex, at most (default [`DEFAULT_WAIT_SPINS`]; 0: sleep
    /// at once). The spin adapts: it halves after a wait it did not help and
    /// doubles after one it did, so rare data costs little CPU while
    /// lock-step exchanges answer without a system call. See
    /// [`DEFAULT_WAIT_SPINS`] for its CPU cost.
    pub fn wait_spins(mut self, max: u32) -> Self {
        self.wait_spins = max;
        self
    }

    /// Creates the subscriber (one request to the daemon).
    pub fn create(self) -> Result<Subscriber<T>, CreateSubscriberError> {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "ZeroCopySafe types have no drop glue"
            )
        };
        check_option(
            "queue_capacity",
            self.queue_capacity,
            1,
            MAX_QUEUE_CAPACITY as u32,
        )?;
        check_option("history", self.history, 0, MAX_HISTORY as u32)?;
        check_option("max_held", self.max_held, 1, MAX_HELD as u32)?;
        let info = port_request::type_info::<T>();
        payload_offset(info.align)
            .map_err(|e| CreateSubscriberError::UnsupportedAlignment(PoolSelectError::Align(e)))?;
        let inner = Arc::clone(self.rt.inner());
        let shared = inner.shared();
        let request = Message::CreateSubscriber(CreateSubscriber {
            service: self.service,
            type_info: info,
            queue_capacity: self.queue_capacity,
            full_policy: self.full_policy,
            history_request: self.history,
            max_held: self.max_held,
        });
        let index = port_request::create(
            shared,
            &request,
            "CreateSubscriber",
            &self.service,
            info.size,
        )?;
        let port = shared.segments().mgmt().subscriber(index);
        port_request::check_owned(
            shared,
            PortKind::Subscriber,
            index,
            port.map(|p| &p.control),
        )?;
        let Some(port) = port else {
            return Err(PortRequestError::InvalidPort { index }.into());
        };
        shared.add_subscriber(index);
        let blocks = port.control.policy() == FullPolicy::BlockPublisher;
        Ok(Subscriber {
            core: SubscriberCore::new(
                inner.clone(),
                port,
                index,
                info.size,
                (self.max_held, self.wait_spins),
                blocks,
            ),
            service: self.service,
            _payload: PhantomData,
        })
    }
}

/// The receiving end of a service, for payloads of type `T`.
///
/// `Send` (move it to another thread), not `Sync`: its samples borrow it.
/// Dropping it removes the port (the daemon releases what is still queued).
///
/// ```no_run
/// use std::time::Duration;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let subscriber = rt.subscriber::<u64>(&svc).queue_capacity(8).create()?;
/// loop {
///     while let Some(sample) = subscriber.take()? {
///         println!("got {} (#{})", *sample, sample.sequence());
///     }
///     subscriber.wait(Some(Duration::from_millis(100)))?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Subscriber<T> {
    core: SubscriberCore,
    service: ServiceDescription,
    _payload: PhantomData<fn() -> T>,
}

impl<T: ZeroCopySafe> Subscriber<T> {
    /// Takes the oldest queued sample, or `None` when the queue is empty.
    ///
    /// Fails with [`TakeError::TooManyHeld`] when `max_held` samples are
    /// held already (and one is queued), [`TakeError::DaemonGone`] once the
    /// daemon is gone.
    pub fn take(&self) -> Result<Option<Sample<'_, T>>, TakeError> {
        Ok(self
            .core
            .take()?
            .map(|taken| Sample::new(&self.core, taken)))
    }

    /// Sleeps until a sample is queued or `timeout` passes (`None`: no
    /// limit). Returns whether a sample is queued. Costs no system call when
    /// one already is; otherwise the thread sleeps on a futex in shared
    /// memory, which publishers wake only when someone sleeps on it.
    ///
    /// Fails with [`WaitError::DaemonGone`] once the daemon is gone, also
    /// while sleeping: it never hangs on a stopped daemon.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool, WaitError> {
        self.core.wait(timeout)
    }

    /// Samples dropped so far because the queue was full (discard-oldest
    /// policy), by every publisher.
    pub fn dropped(&self) -> u64 {
        // Relaxed: a statistic.
        self.core.port().stats.dropped.load(Ordering::Relaxed)
    }

    /// Samples queued now (a snapshot).
    pub fn queued(&self) -> u32 {
        self.core.port().queue.len()
    }

    /// The service this subscriber receives.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// The port index in the daemon's registry (as `zerocpctl services` shows).
    pub fn port_index(&self) -> u32 {
        self.core.index()
    }
}

impl<T> std::fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("service", &self.service)
            .field("port", &self.core.index())
            .finish()
    }
}

impl<T> Drop for Subscriber<T> {
    fn drop(&mut self) {
        let shared = self.core.runtime().shared();
        shared.remove_subscriber(self.core.index());
        port_request::remove(shared, PortKind::Subscriber, self.core.index());
    }
}
