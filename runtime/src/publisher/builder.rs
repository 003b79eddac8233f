//! [`PublisherBuilder`]: the options of a new publisher, its payload
//! ([`Payload`]: a type or a slice, with the longest slice) and its user
//! header type, checked and sent to the daemon by `create`.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::service::ServiceDescription;
use zerocp_core::type_layout::TypeDescription;
use zerocp_core::wire::{PayloadShape, PortKind};

use super::creation::PublisherOptions;
use super::publish_timeout::{DEFAULT_PUBLISH_TIMEOUT, PublishTimeout};
use super::{DEFAULT_MAX_LOANS, Publisher, PublisherCore};
use crate::ZeroCopySafe;
use crate::error::{CreatePortError, CreatePortReason, check_option};
use crate::lifecycle::Lifecycle;
use crate::payload::Payload;
use crate::port_cell::PortCell;
use crate::request_response::tagged;
use crate::service_type::ServiceType;

/// Options of a new publisher; made by [`Runtime::publisher`](crate::Runtime::publisher).
///
/// ```no_run
/// use std::time::Duration;
/// use zerocp::PublishTimeout;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let publisher = rt
///     .publisher::<[f32; 3]>(&svc)
///     .history(4)   // the last 4 samples go to subscribers that join later
///     .max_loans(8) // samples loaned and not yet published, at once
///     .publish_timeout(Duration::from_millis(50)) // for block-publisher subscribers
///     .on_publish_timeout(PublishTimeout::Fail)   // default: DropForSubscriber
///     .create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct PublisherBuilder<'r, P: ?Sized, H = ()> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
    type_tag: &'static str,
    history: u32,
    max_loans: u32,
    publish_timeout: Duration,
    on_publish_timeout: PublishTimeout,
    max_slice_len: Option<u32>,
    /// The type declared instead of `P`'s and `H`'s, read and written as
    /// bytes (`P` is `[u8]`): an untyped client's or server's port.
    declared: Option<ServiceType>,
    _types: PhantomData<fn() -> (*const P, H)>,
}

impl<'r, P: ?Sized + Payload> PublisherBuilder<'r, P> {
    pub(crate) fn new(rt: &'r Arc<Lifecycle>, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
            type_tag: "",
            history: 0,
            max_loans: DEFAULT_MAX_LOANS,
            publish_timeout: DEFAULT_PUBLISH_TIMEOUT,
            on_publish_timeout: PublishTimeout::default(),
            max_slice_len: None,
            declared: None,
            _types: PhantomData,
        }
    }
}

impl<'r, T: ZeroCopySafe, H: ZeroCopySafe> PublisherBuilder<'r, [T], H> {
    /// The longest slice this publisher loans, in elements (required for a
    /// slice publisher, at least 1): the daemon picks the mempool whose
    /// chunks hold it (with the user header), and
    /// [`loan_slice_uninit`](Publisher::loan_slice_uninit) refuses longer
    /// ones. A longer maximum costs memory per chunk, not time per sample.
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Camera", "Front", "Image")?;
    /// let images = rt.publisher::<[u8]>(&svc).max_slice_len(640 * 480 * 3).create()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_slice_len(mut self, len: u32) -> Self {
        self.max_slice_len = Some(len);
        self
    }
}

impl<'r, P: ?Sized + Payload, H: ZeroCopySafe> PublisherBuilder<'r, P, H> {
    /// Gives every sample a user header of type `U` beside the payload
    /// (e.g. a frame id and an exposure time): written through
    /// [`LoanedSample::user_header_mut`](crate::LoanedSample::user_header_mut)
    /// (zero-filled at every loan), read with
    /// [`Sample::user_header`](crate::Sample::user_header). The daemon checks
    /// it like the payload: subscribers must declare the same type (or, like
    /// this publisher without one, none).
    ///
    /// ```no_run
    /// use zerocp::ZeroCopySafe;
    /// #[derive(ZeroCopySafe)]
    /// #[repr(C)]
    /// struct Frame { id: u64, exposure_us: u32, _pad: u32 }
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Camera", "Front", "Image")?;
    /// let images = rt
    ///     .publisher::<[u8]>(&svc)
    ///     .user_header::<Frame>()
    ///     .max_slice_len(640 * 480 * 3)
    ///     .create()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn user_header<U: ZeroCopySafe>(self) -> PublisherBuilder<'r, P, U> {
        PublisherBuilder {
            rt: self.rt,
            service: self.service,
            type_tag: self.type_tag,
            history: self.history,
            max_loans: self.max_loans,
            publish_timeout: self.publish_timeout,
            on_publish_timeout: self.on_publish_timeout,
            max_slice_len: self.max_slice_len,
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

    /// Declares `declared` (when given) instead of `P`'s type: the port
    /// of an untyped client or server, whose `P` is `[u8]` and whose
    /// loans are checked against the declared type
    /// ([`PublisherOptions::loan_bytes`]).
    pub(crate) fn declared(mut self, declared: Option<ServiceType>) -> Self {
        self.declared = declared;
        self
    }

    /// Sets the longest slice when there is one: what a request/response
    /// end passes on from its own builder (a sized payload ignores it).
    pub(crate) fn slice_len(mut self, len: Option<u32>) -> Self {
        self.max_slice_len = len;
        self
    }

    /// How many of the latest samples to keep for subscribers that join
    /// later (and ask for history): `0..=32`, default 0.
    ///
    /// A subscriber that asks for history
    /// ([`SubscriberBuilder::history`](crate::SubscriberBuilder::history))
    /// gets the newest of them, oldest first, as soon as the daemon routes
    /// it: the daemon tells this process, and the runtime's background
    /// thread hands them over, also while the application never publishes
    /// again nor calls [`Publisher::update_connections`]. If the application
    /// is publishing right then, that publish hands them over instead. A
    /// block-publisher subscriber whose queue is full then (only possible at
    /// its port quota) is not waited for: it misses those entries.
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let publisher = rt.publisher::<u64>(&svc).history(3).create()?;
    /// for n in 0..10u64 {
    ///     publisher.loan_uninit()?.write(n).publish()?;
    /// }
    /// // Later, in any process: gets 7, 8 and 9 without the publisher's help.
    /// let subscriber = rt.subscriber::<u64>(&svc).history(3).create()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn history(mut self, depth: u32) -> Self {
        self.history = depth;
        self
    }

    /// How many samples may be loaned (not yet published or dropped) at
    /// once: `1..=32`, default [`DEFAULT_MAX_LOANS`].
    pub fn max_loans(mut self, max: u32) -> Self {
        self.max_loans = max;
        self
    }

    /// The longest one publish waits in all for subscribers whose policy is
    /// [`FullPolicy::BlockPublisher`](crate::FullPolicy) and whose queue is
    /// full: default [`DEFAULT_PUBLISH_TIMEOUT`]; `Duration::ZERO` never
    /// waits, `Duration::MAX` waits without limit (it still returns when the
    /// subscriber goes away or the daemon does). What happens to a
    /// subscriber still full then is [`on_publish_timeout`](Self::on_publish_timeout)'s;
    /// see [`PublishTimeout`].
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// What a publish does about a block-publisher subscriber whose queue
    /// stays full past the [`publish_timeout`](Self::publish_timeout): drop
    /// the sample for it only and return `Ok` (the default), or drop it and
    /// return [`PublishError::Timeout`](crate::PublishError::Timeout).
    /// Either way every other subscriber gets the sample, the drop is
    /// counted in both ports ([`Publisher::timed_out`],
    /// [`Subscriber::timed_out`](crate::Subscriber::timed_out), `zerocpctl
    /// services`), and later publishes do not wait for that subscriber again
    /// until it has room.
    pub fn on_publish_timeout(mut self, action: PublishTimeout) -> Self {
        self.on_publish_timeout = action;
        self
    }

    /// Creates the publisher (one request to the daemon). A slice
    /// publisher without [`max_slice_len`](PublisherBuilder::max_slice_len)
    /// fails with [`CreatePortReason::MissingMaxSliceLen`].
    pub fn create(self) -> Result<Publisher<P, H>, CreatePortError> {
        self.try_create().map_err(|reason| CreatePortError {
            kind: PortKind::Publisher,
            reason,
        })
    }

    fn try_create(self) -> Result<Publisher<P, H>, CreatePortReason> {
        const {
            assert!(
                !std::mem::needs_drop::<H>(),
                "ZeroCopySafe types have no drop glue"
            )
        };
        let () = P::CHECKED;
        let declared = self.declared.unwrap_or_else(ServiceType::of::<P, H>);
        let max_slice_len = match (declared.shape, self.max_slice_len) {
            (PayloadShape::Sized, _) => 0,
            (PayloadShape::Slice, None) => return Err(CreatePortReason::MissingMaxSliceLen),
            (PayloadShape::Slice, Some(len)) => {
                check_option("max_slice_len", len, 1, u32::MAX)?;
                len
            }
        };
        let options = PublisherOptions {
            service: self.service,
            type_info: tagged(self.type_tag, declared.payload),
            shape: declared.shape,
            max_slice_len,
            user_header: declared.user_header,
            description: match self.declared {
                Some(_) => &TypeDescription::Opaque,
                None => P::DESCRIPTION,
            },
            history: self.history,
            max_loans: self.max_loans,
            publish_timeout: self.publish_timeout,
            on_publish_timeout: self.on_publish_timeout,
        };
        Ok(Publisher {
            cell: PortCell::new(PublisherCore::create(self.rt, options, 0)?),
            service: self.service,
            _types: PhantomData,
        })
    }
}
