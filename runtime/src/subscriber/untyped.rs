//! [`UntypedSubscriber`]: a subscriber of a type known at run time only,
//! for tools that observe services they were not compiled for (`zerocpctl
//! echo`, `hz`, `bw`).
//!
//! It is a [`Subscriber`](crate::Subscriber)'s port with the type given as
//! a value ([`ServiceType`]) instead of Rust types: the same
//! [`SubscriberCore`], so the same create request, type check, chunk
//! checks, quotas, held list, wake-ups and re-attaching after a daemon
//! restart. The daemon checks the [`ServiceType`] against the service's
//! registered type as for any port, so an observer subscribes with exactly
//! the service's type or not at all. Its samples
//! ([`UntypedSample`](crate::UntypedSample)) are the payload's bytes and
//! the metadata.
//!
//! **An observer never slows a publisher unless it asks to.** Its queue
//! has the discard-oldest policy ([`FullPolicy::DiscardOldest`]) by
//! default: a publisher never waits for it, whatever policy the service's
//! other subscribers chose; a sample it does not take in time is dropped
//! from its own queue only (counted in [`UntypedSubscriber::dropped`]).
//! Only an application that calls
//! [`full_policy`](UntypedSubscriberBuilder::full_policy) (the C API's
//! subscribers, whose users choose the policy as Rust users do) becomes a
//! block-publisher subscriber; a tool that never calls it cannot by
//! mistake.

use std::cell::OnceCell;
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::port::FullPolicy;
use zerocp_core::service::ServiceDescription;
use zerocp_core::sync::Ordering;
use zerocp_core::type_layout::TypeDescription;
use zerocp_core::wire::PortKind;

use super::creation::SubscriberOptions;
use super::{DEFAULT_MAX_HELD, DEFAULT_QUEUE_CAPACITY, SubscriberCore};
use crate::adaptive_spin::DEFAULT_WAIT_SPINS;
use crate::error::{CreatePortError, TakeError, WaitError, WakeFdError};
use crate::lifecycle::Lifecycle;
use crate::port_cell::PortCell;
use crate::service_type::ServiceType;
use crate::untyped_sample::UntypedSample;
use zerocp_os_linux::wake_socket::WakeSocket;

/// Options of a new [`UntypedSubscriber`]; made by
/// [`Runtime::untyped_subscriber`](crate::Runtime::untyped_subscriber).
///
/// ```no_run
/// use zerocp::{ServiceType, TypeInfo};
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let pose = ServiceType::sized(TypeInfo::of::<[f32; 3]>());
/// let observer = rt
///     .untyped_subscriber(&svc, pose)
///     .queue_capacity(8) // the oldest is dropped when full, never waited for
///     .max_held(1)
///     .create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct UntypedSubscriberBuilder<'r> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
    service_type: ServiceType,
    queue_capacity: u32,
    full_policy: FullPolicy,
    history: u32,
    max_held: u32,
    wait_spins: u32,
}

impl<'r> UntypedSubscriberBuilder<'r> {
    pub(crate) fn new(
        rt: &'r Arc<Lifecycle>,
        service: &ServiceDescription,
        service_type: ServiceType,
    ) -> Self {
        Self {
            rt,
            service: *service,
            service_type,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            full_policy: FullPolicy::DiscardOldest,
            history: 0,
            max_held: DEFAULT_MAX_HELD,
            wait_spins: DEFAULT_WAIT_SPINS,
        }
    }

    /// Samples the queue holds before the oldest is dropped: `1..=256`,
    /// default [`DEFAULT_QUEUE_CAPACITY`].
    pub fn queue_capacity(mut self, capacity: u32) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// What a publisher does when the queue is full (module docs):
    /// [`FullPolicy::DiscardOldest`] by default, as
    /// [`SubscriberBuilder::full_policy`](crate::SubscriberBuilder::full_policy)
    /// otherwise.
    pub fn full_policy(mut self, policy: FullPolicy) -> Self {
        self.full_policy = policy;
        self
    }

    /// How many of each publisher's latest samples to receive on
    /// connecting: `0..=32`, default 0 (as
    /// [`SubscriberBuilder::history`](crate::SubscriberBuilder::history)).
    pub fn history(mut self, count: u32) -> Self {
        self.history = count;
        self
    }

    /// How many samples may be held at once: `1..=32`, default
    /// [`DEFAULT_MAX_HELD`].
    pub fn max_held(mut self, max: u32) -> Self {
        self.max_held = max;
        self
    }

    /// How many times [`UntypedSubscriber::wait`] checks the queue before
    /// it sleeps (default [`DEFAULT_WAIT_SPINS`]; 0: sleep at once, what a
    /// tool that should cost no CPU wants).
    pub fn wait_spins(mut self, max: u32) -> Self {
        self.wait_spins = max;
        self
    }

    /// Creates the subscriber (one request to the daemon, which refuses a
    /// type other than the service's with `TypeMismatch`).
    pub fn create(self) -> Result<UntypedSubscriber, CreatePortError> {
        let options = SubscriberOptions {
            service: self.service,
            type_info: self.service_type.payload,
            shape: self.service_type.shape,
            user_header: self.service_type.user_header,
            description: &TypeDescription::Opaque,
            as_bytes: false,
            queue_capacity: self.queue_capacity,
            full_policy: self.full_policy,
            history: self.history,
            max_held: self.max_held,
            wait_spins: self.wait_spins,
        };
        let core = SubscriberCore::create(self.rt, options).map_err(|reason| CreatePortError {
            kind: PortKind::Subscriber,
            reason,
        })?;
        Ok(UntypedSubscriber {
            cell: PortCell::new(core),
            service: self.service,
            service_type: self.service_type,
            wake_fd: OnceCell::new(),
        })
    }
}

/// A subscriber whose type is a [`ServiceType`] value (module docs): it
/// takes [`UntypedSample`]s, the payload as bytes.
///
/// `Send`, not `Sync`, like [`Subscriber`](crate::Subscriber); dropping it
/// removes the port.
///
/// ```no_run
/// use std::time::Duration;
/// use zerocp::{ServiceType, TypeInfo};
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let observer = rt
///     .untyped_subscriber(&svc, ServiceType::sized(TypeInfo::of::<u64>()))
///     .create()?;
/// loop {
///     while let Some(sample) = observer.take()? {
///         println!("#{}: {:02x?}", sample.sequence(), sample.payload());
///     }
///     observer.wait(Some(Duration::from_millis(100)))?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct UntypedSubscriber {
    cell: PortCell<SubscriberCore>,
    service: ServiceDescription,
    service_type: ServiceType,
    /// The wake descriptor, once made ([`UntypedSubscriber::as_fd`]).
    wake_fd: OnceCell<Arc<WakeSocket>>,
}

impl UntypedSubscriber {
    /// Takes the oldest queued sample, or `None` when the queue is empty;
    /// fails as [`Subscriber::take`](crate::Subscriber::take) does.
    pub fn take(&self) -> Result<Option<UntypedSample<'_>>, TakeError> {
        let service_type = &self.service_type;
        self.cell.call(SubscriberCore::take, |core, taken| {
            taken.map(|taken| UntypedSample::new(Rc::clone(core), taken, service_type))
        })
    }

    /// Sleeps until a sample is queued, `timeout` passes (`None`: no
    /// limit) or a publisher left; returns whether a sample is queued.
    /// Fails as [`Subscriber::wait`](crate::Subscriber::wait) does: with
    /// `DaemonGone` once the daemon is gone, also while sleeping.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool, WaitError> {
        self.cell
            .call(|core| core.wait(timeout), |_, queued| queued)
    }

    /// The wake descriptor, for a `poll`/`epoll` loop, exactly as
    /// [`Subscriber::as_fd`](crate::Subscriber::as_fd): readable when a
    /// sample is queued; take until `None` (which re-arms it), then wait
    /// again; the same descriptor also after a daemon restart.
    ///
    /// ```no_run
    /// use std::os::fd::AsRawFd;
    /// use zerocp::{ServiceType, TypeInfo};
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let observer = rt
    ///     .untyped_subscriber(&svc, ServiceType::sized(TypeInfo::of::<u64>()))
    ///     .create()?;
    /// println!("add fd {} to your epoll set", observer.as_fd()?.as_raw_fd());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        let fd = crate::wake_fd_request::wake_socket(&self.wake_fd)?;
        self.cell.call(|core| core.arm(fd), |_, ()| ())?;
        Ok(fd.as_fd())
    }

    /// Publishers routed to this subscriber now, as the daemon counts them.
    pub fn publishers(&self) -> u32 {
        self.cell.get().publishers()
    }

    /// Samples dropped from this subscriber's queue because it was full
    /// (or at the port's chunk quota) when a publisher delivered.
    pub fn dropped(&self) -> u64 {
        // Relaxed: a statistic.
        self.cell.get().port().stats.dropped.load(Ordering::Relaxed)
    }

    /// The service this subscriber receives.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// The type it subscribed with.
    pub fn service_type(&self) -> &ServiceType {
        &self.service_type
    }

    /// The port index in the daemon's registry (as `zerocpctl services` shows).
    pub fn port_index(&self) -> u32 {
        self.cell.get().index()
    }

    /// The current core (for a [`WaitSet`](crate::WaitSet)'s checks).
    pub(crate) fn core(&self) -> Rc<SubscriberCore> {
        self.cell.get()
    }
}

impl std::fmt::Debug for UntypedSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UntypedSubscriber")
            .field("service", &self.service)
            .field("type", &self.service_type)
            .field("port", &self.cell.get().index())
            .finish()
    }
}
