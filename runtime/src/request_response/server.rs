//! [`Server<Req, Resp>`] and its builder: the answering end of a
//! request/response service.
//!
//! A server owns a subscriber of the service's request channel and a
//! publisher of its response channel ([`super`]). Receiving takes one
//! request and gives an [`ActiveRequest`], through which the server sends
//! zero or more responses to the client that asked, then ends the stream.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::port::FullPolicy;
use zerocp_core::service::{REQUEST_TYPE_TAG, RESPONSE_TYPE_TAG, ServiceDescription};

use super::active_request::ActiveRequest;
use super::{Channels, Declared};
use crate::error::{CreateExchangeError, TakeError, WaitError};
use crate::lifecycle::Lifecycle;
use crate::payload::Payload;
use crate::topology::Peer;
use crate::{
    DEFAULT_MAX_HELD, DEFAULT_MAX_LOANS, DEFAULT_PUBLISH_TIMEOUT, DEFAULT_QUEUE_CAPACITY,
    PublishTimeout, Publisher, PublisherBuilder, Subscriber, SubscriberBuilder, ZeroCopySafe,
};

/// Options of a new server; made by [`Runtime::server`](crate::Runtime::server).
///
/// ```no_run
/// use std::time::Duration;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Calc", "Main", "Add")?;
/// let server = rt
///     .server::<[u32; 2], u64>(&svc)
///     .queue_capacity(16) // requests queued, not yet received
///     .max_held(4)        // requests being answered at once
///     .max_loans(4)       // responses loaned and not yet sent, at once
///     .send_timeout(Duration::from_millis(50)) // a full client queue
///     .create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct ServerBuilder<'r, Req: ?Sized, Resp: ?Sized> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
    queue_capacity: u32,
    max_held: u32,
    max_loans: u32,
    send_timeout: Duration,
    max_response_len: Option<u32>,
    /// The types of an untyped server ([`super::UntypedServer`]).
    declared: Option<Declared>,
    _types: PhantomData<fn() -> (*const Req, *const Resp)>,
}

impl<'r, Req: ?Sized + Payload, T: ZeroCopySafe> ServerBuilder<'r, Req, [T]> {
    /// The longest response slice, in elements (required when responses
    /// are slices): the daemon picks the response chunks' pool by it, as
    /// for a slice publisher ([`PublisherBuilder::max_slice_len`]).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Map", "Main", "Tile")?;
    /// let server = rt.server::<u32, [u8]>(&svc).max_response_len(65536).create()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_response_len(mut self, len: u32) -> Self {
        self.max_response_len = Some(len);
        self
    }
}

impl<'r> ServerBuilder<'r, [u8], [u8]> {
    /// The builder of an untyped server: its ports declare `declared`'s
    /// types, and its requests and responses are their bytes.
    pub(crate) fn untyped(
        rt: &'r Arc<Lifecycle>,
        service: &ServiceDescription,
        declared: Declared,
    ) -> Self {
        Self {
            declared: Some(declared),
            ..Self::new(rt, service)
        }
    }
}

impl<'r, Req: ?Sized + Payload, Resp: ?Sized + Payload> ServerBuilder<'r, Req, Resp> {
    pub(crate) fn new(rt: &'r Arc<Lifecycle>, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            max_held: DEFAULT_MAX_HELD,
            max_loans: DEFAULT_MAX_LOANS,
            send_timeout: DEFAULT_PUBLISH_TIMEOUT,
            max_response_len: None,
            declared: None,
            _types: PhantomData,
        }
    }

    /// Requests queued and not yet received: `1..=256`, default
    /// [`DEFAULT_QUEUE_CAPACITY`]. A client waits (up to its send timeout)
    /// while it is full.
    pub fn queue_capacity(mut self, capacity: u32) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Requests received and not yet dropped (being answered) at once:
    /// `1..=32`, default [`DEFAULT_MAX_HELD`].
    pub fn max_held(mut self, max: u32) -> Self {
        self.max_held = max;
        self
    }

    /// Responses loaned and not yet sent at once, the end-of-stream marker
    /// included: `1..=32`, default [`DEFAULT_MAX_LOANS`].
    pub fn max_loans(mut self, max: u32) -> Self {
        self.max_loans = max;
        self
    }

    /// How long a response waits for room in a client's full response
    /// queue before the send fails with
    /// [`RespondError::ClientBusy`](crate::RespondError::ClientBusy):
    /// default [`DEFAULT_PUBLISH_TIMEOUT`].
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Creates the server (two requests to the daemon: its response port,
    /// then its request port, so it can answer the first request it gets).
    pub fn create(self) -> Result<Server<Req, Resp>, CreateExchangeError> {
        let channels = Channels::of(&self.service).map_err(CreateExchangeError::Name)?;
        let responses = PublisherBuilder::<Resp>::new(self.rt, &channels.response)
            .channel_tag(RESPONSE_TYPE_TAG)
            .declared(self.declared.map(|d| d.response))
            .slice_len(self.max_response_len)
            .max_loans(self.max_loans)
            .publish_timeout(self.send_timeout)
            .on_publish_timeout(PublishTimeout::DropForSubscriber)
            .create()
            .map_err(CreateExchangeError::Port)?;
        let requests = SubscriberBuilder::<Req>::new(self.rt, &channels.request)
            .channel_tag(REQUEST_TYPE_TAG)
            .declared(self.declared.map(|d| d.request))
            .queue_capacity(self.queue_capacity)
            .max_held(self.max_held)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .map_err(CreateExchangeError::Port)?;
        Ok(Server {
            requests,
            responses,
            service: self.service,
        })
    }
}

/// The answering end of a request/response service: requests of type
/// `Req`, responses of type `Resp`.
///
/// `Send`, not `Sync`; its requests borrow it. Dropping it removes its two
/// ports: clients with requests pending on it get
/// [`ResponseError::ServerGone`](crate::ResponseError::ServerGone).
///
/// ```no_run
/// use std::time::Duration;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Calc", "Main", "Add")?;
/// let server = rt.server::<[u32; 2], u64>(&svc).create()?;
/// loop {
///     while let Some(request) = server.receive()? {
///         let [a, b] = *request;
///         request.loan_uninit()?.write(u64::from(a) + u64::from(b)).send_last()?;
///     }
///     server.wait(Some(Duration::from_millis(100)))?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Server<Req: ?Sized, Resp: ?Sized> {
    pub(super) requests: Subscriber<Req>,
    pub(super) responses: Publisher<Resp>,
    pub(super) service: ServiceDescription,
}

impl<Req: ?Sized + Payload, Resp: ?Sized + Payload> Server<Req, Resp> {
    /// Takes the oldest queued request, or `None` when none is queued.
    /// Fails as [`Subscriber::take`] does.
    pub fn receive(&self) -> Result<Option<ActiveRequest<'_, Req, Resp>>, TakeError> {
        let Some(sample) = self.requests.take()? else {
            return Ok(None);
        };
        let [index, generation] = sample.exchange();
        let client = Peer { index, generation };
        Ok(Some(ActiveRequest::new(self, sample, client)))
    }

    /// Sleeps until a request is queued or `timeout` passes, as
    /// [`Subscriber::wait`] does (it also returns when a client's request
    /// port leaves).
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool, WaitError> {
        self.requests.wait(timeout)
    }

    /// The service this server answers.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// Its request port's index (as `zerocpctl services` shows it on the
    /// `:request` channel, and as [`ResponseError::ServerGone`](crate::ResponseError::ServerGone) names it).
    pub fn port_index(&self) -> u32 {
        self.requests.port_index()
    }
}

impl<Req: ?Sized, Resp: ?Sized> std::fmt::Debug for Server<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("service", &self.service)
            .finish()
    }
}
