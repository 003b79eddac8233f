//! [`SubscriberBuilder`]: the options of a new subscriber, its payload
//! ([`Payload`]: a type or a slice) and its user header type, checked and
//! sent to the daemon by `create`.

use std::cell::{Cell, OnceCell};
use std::marker::PhantomData;
use std::sync::Arc;

use zerocp_core::port::FullPolicy;
use zerocp_core::service::ServiceDescription;
use zerocp_core::type_layout::TypeDescription;
use zerocp_core::wire::PortKind;

use super::creation::SubscriberOptions;
use super::{DEFAULT_MAX_HELD, DEFAULT_QUEUE_CAPACITY, Subscriber, SubscriberCore};
use crate::ZeroCopySafe;
use crate::adaptive_spin::DEFAULT_WAIT_SPINS;
use crate::error::{CreatePortError, CreatePortReason};
use crate::lifecycle::Lifecycle;
use crate::payload::Payload;
use crate::port_cell::PortCell;
use crate::request_response::tagged;
use crate::service_type::ServiceType;

/// Options of a new subscriber; made by [`Runtime::subscriber`](crate::Runtime::subscriber).
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
pub struct SubscriberBuilder<'r, P: ?Sized, H = ()> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
    type_tag: &'static str,
    queue_capacity: u32,
    full_policy: FullPolicy,
    history: u32,
    max_held: u32,
    wait_spins: u32,
    /// The type declared instead of `P`'s and `H`'s, read as bytes (`P`
    /// is `[u8]`): an untyped client's or server's port.
    declared: Option<ServiceType>,
    _types: PhantomData<fn() -> (*const P, H)>,
}

impl<'r, P: ?Sized + Payload> SubscriberBuilder<'r, P> {
    pub(crate) fn new(rt: &'r Arc<Lifecycle>, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
            type_tag: "",
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            full_policy: FullPolicy::DiscardOldest,
            history: 0,
            max_held: DEFAULT_MAX_HELD,
            wait_spins: DEFAULT_WAIT_SPINS,
            declared: None,
            _types: PhantomData,
        }
    }
}

impl<'r, P: ?Sized + Payload, H: ZeroCopySafe> SubscriberBuilder<'r, P, H> {
    /// Expects a user header of type `U` beside every sample's payload, as
    /// the service's publishers declared with
    /// [`PublisherBuilder::user_header`](crate::PublisherBuilder::user_header);
    /// read it with [`Sample::user_header`](crate::Sample::user_header). The daemon refuses a
    /// subscriber whose header type differs from the publishers' (or that
    /// expects one where they have none, or the other way round).
    ///
    /// ```no_run
    /// use zerocp::ZeroCopySafe;
    /// #[derive(ZeroCopySafe)]
    /// #[repr(C)]
    /// struct Frame { id: u64, exposure_us: u32, _pad: u32 }
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Camera", "Front", "Image")?;
    /// let images = rt.subscriber::<[u8]>(&svc).user_header::<Frame>().create()?;
    /// if let Some(image) = images.take()? {
    ///     println!("frame {}: {} bytes", image.user_header().id, image.len());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn user_header<U: ZeroCopySafe>(self) -> SubscriberBuilder<'r, P, U> {
        SubscriberBuilder {
            rt: self.rt,
            service: self.service,
            type_tag: self.type_tag,
            queue_capacity: self.queue_capacity,
            full_policy: self.full_policy,
            history: self.history,
            max_held: self.max_held,
            wait_spins: self.wait_spins,
            declared: self.declared,
            _types: PhantomData,
        }
    }

    /// Declares the payload type with `tag` before its name: a
    /// request/response channel tags its types so that plain ports of the
    /// same type cannot join it ([`crate::request_response`]).
    pub(crate) fn channel_tag(mut self, tag: &'static str) -> Self {
        self.type_tag = tag;
        self
    }

    /// Declares `declared` (when given) instead of `P`'s type: the port of
    /// an untyped client or server, whose `P` is `[u8]` and whose samples
    /// are the payload's bytes (checked against the declared type).
    pub(crate) fn declared(mut self, declared: Option<ServiceType>) -> Self {
        self.declared = declared;
        self
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
    /// (up to the publisher's history depth and this queue's capacity):
    /// `0..=32`, default 0. They arrive, oldest first, as soon as the
    /// daemon has routed this subscriber, whether or not the publishers
    /// publish again ([`PublisherBuilder::history`](crate::PublisherBuilder::history)).
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
    pub fn create(self) -> Result<Subscriber<P, H>, CreatePortError> {
        self.try_create().map_err(|reason| CreatePortError {
            kind: PortKind::Subscriber,
            reason,
        })
    }

    fn try_create(self) -> Result<Subscriber<P, H>, CreatePortReason> {
        const {
            assert!(
                !std::mem::needs_drop::<H>(),
                "ZeroCopySafe types have no drop glue"
            )
        };
        let () = P::CHECKED;
        let declared = self.declared.unwrap_or_else(ServiceType::of::<P, H>);
        let options = SubscriberOptions {
            service: self.service,
            type_info: tagged(self.type_tag, declared.payload),
            shape: declared.shape,
            user_header: declared.user_header,
            description: match self.declared {
                Some(_) => &TypeDescription::Opaque,
                None => P::DESCRIPTION,
            },
            as_bytes: self.declared.is_some(),
            queue_capacity: self.queue_capacity,
            full_policy: self.full_policy,
            history: self.history,
            max_held: self.max_held,
            wait_spins: self.wait_spins,
        };
        Ok(Subscriber {
            cell: PortCell::new(SubscriberCore::create(self.rt, options)?),
            service: self.service,
            wake_fd: OnceCell::new(),
            skipped: Cell::new(0),
            _types: PhantomData,
        })
    }
}
