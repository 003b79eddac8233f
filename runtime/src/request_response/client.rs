//! [`Client<Req, Resp>`] and its builder: the asking end of a
//! request/response service, and [`LoanedRequest`], a request being written.
//!
//! A client owns a publisher of the service's request channel and a
//! subscriber of its response channel ([`super`]). Sending a request hands
//! its chunk to the oldest routed server with the client's response port in
//! the header, and gives a [`PendingResponse`] that receives the responses
//! to it. Several requests may be pending at once: a response taken for
//! another pending request is parked in the client for it (it stays held,
//! counting against `max_held`), one for no pending request (its
//! `PendingResponse` dropped, or a hostile server) is released and counted
//! in [`Client::stray`].

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::port::FullPolicy;
use zerocp_core::service::{REQUEST_TYPE_TAG, RESPONSE_TYPE_TAG, ServiceDescription};

use super::pending_response::PendingResponse;
use super::{Channels, Declared};
use crate::error::{CreateExchangeError, LoanError, SendRequestError};
use crate::lifecycle::Lifecycle;
use crate::loaned_sample::{LoanedSample, publish_error};
use crate::loaned_slice::SliceLengthError;
use crate::payload::Payload;
use crate::payload::sealed::Place;
use crate::publisher::PublisherCore;
use crate::publisher::targeted::{Handed, Target};
use crate::sample::Sample;
use crate::topology::Peer;
use crate::{
    DEFAULT_MAX_HELD, DEFAULT_MAX_LOANS, DEFAULT_PUBLISH_TIMEOUT, DEFAULT_QUEUE_CAPACITY,
    PublishTimeout, Publisher, PublisherBuilder, Subscriber, SubscriberBuilder, ZeroCopySafe,
};

/// Options of a new client; made by [`Runtime::client`](crate::Runtime::client).
///
/// ```no_run
/// use std::time::Duration;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Calc", "Main", "Add")?;
/// let client = rt
///     .client::<[u32; 2], u64>(&svc)
///     .max_loans(4)        // requests loaned and not yet sent, at once
///     .queue_capacity(16)  // responses queued, not yet received
///     .max_held(8)         // responses received or parked, not yet dropped
///     .send_timeout(Duration::from_millis(50)) // a full server queue
///     .create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct ClientBuilder<'r, Req: ?Sized, Resp: ?Sized> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
    max_loans: u32,
    queue_capacity: u32,
    max_held: u32,
    send_timeout: Duration,
    max_request_len: Option<u32>,
    /// The types of an untyped client ([`super::UntypedClient`]).
    declared: Option<Declared>,
    _types: PhantomData<fn() -> (*const Req, *const Resp)>,
}

impl<'r, T: ZeroCopySafe, Resp: ?Sized + Payload> ClientBuilder<'r, [T], Resp> {
    /// The longest request slice, in elements (required when requests are
    /// slices): the daemon picks the request chunks' pool by it, as for a
    /// slice publisher ([`PublisherBuilder::max_slice_len`]).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Text", "Main", "Length")?;
    /// let client = rt.client::<[u8], u64>(&svc).max_request_len(4096).create()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_request_len(mut self, len: u32) -> Self {
        self.max_request_len = Some(len);
        self
    }
}

impl<'r> ClientBuilder<'r, [u8], [u8]> {
    /// The builder of an untyped client: its ports declare `declared`'s
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

impl<'r, Req: ?Sized + Payload, Resp: ?Sized + Payload> ClientBuilder<'r, Req, Resp> {
    pub(crate) fn new(rt: &'r Arc<Lifecycle>, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
            max_loans: DEFAULT_MAX_LOANS,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            max_held: DEFAULT_MAX_HELD,
            send_timeout: DEFAULT_PUBLISH_TIMEOUT,
            max_request_len: None,
            declared: None,
            _types: PhantomData,
        }
    }

    /// Requests loaned and not yet sent, at once: `1..=32`, default
    /// [`DEFAULT_MAX_LOANS`].
    pub fn max_loans(mut self, max: u32) -> Self {
        self.max_loans = max;
        self
    }

    /// Responses queued and not yet received: `1..=256`, default
    /// [`DEFAULT_QUEUE_CAPACITY`]. A server waits (up to its send timeout)
    /// while it is full.
    pub fn queue_capacity(mut self, capacity: u32) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Responses held at once, received or parked for another pending
    /// request: `1..=32`, default [`DEFAULT_MAX_HELD`].
    pub fn max_held(mut self, max: u32) -> Self {
        self.max_held = max;
        self
    }

    /// How long a send waits for room in a server's full request queue
    /// before it fails with [`SendRequestError::ServerBusy`]: default
    /// [`DEFAULT_PUBLISH_TIMEOUT`].
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Creates the client (two requests to the daemon: its response port,
    /// then its request port).
    pub fn create(self) -> Result<Client<Req, Resp>, CreateExchangeError> {
        let channels = Channels::of(&self.service).map_err(CreateExchangeError::Name)?;
        let responses = SubscriberBuilder::<Resp>::new(self.rt, &channels.response)
            .channel_tag(RESPONSE_TYPE_TAG)
            .declared(self.declared.map(|d| d.response))
            .queue_capacity(self.queue_capacity)
            .max_held(self.max_held)
            .full_policy(FullPolicy::BlockPublisher)
            .create()
            .map_err(CreateExchangeError::Port)?;
        let requests = PublisherBuilder::<Req>::new(self.rt, &channels.request)
            .channel_tag(REQUEST_TYPE_TAG)
            .declared(self.declared.map(|d| d.request))
            .slice_len(self.max_request_len)
            .max_loans(self.max_loans)
            .publish_timeout(self.send_timeout)
            .on_publish_timeout(PublishTimeout::DropForSubscriber)
            .create()
            .map_err(CreateExchangeError::Port)?;
        Ok(Client {
            requests,
            responses,
            service: self.service,
            book: RefCell::new(Book::default()),
            stray: Cell::new(0),
        })
    }
}

/// The asking end of a request/response service: requests of type `Req`,
/// responses of type `Resp`.
///
/// `Send`, not `Sync`; its requests and responses borrow it. Dropping it
/// removes its two ports (a server answering it then gets
/// [`RespondError::ClientGone`](crate::RespondError::ClientGone)).
///
/// ```no_run
/// use std::time::Duration;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Calc", "Main", "Add")?;
/// let client = rt.client::<[u32; 2], u64>(&svc).create()?;
/// let pending = client.loan_uninit()?.write([2, 3]).send()?;
/// while let Some(sum) = pending.receive(Some(Duration::from_secs(1)))? {
///     println!("sum {}", *sum);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client<Req: ?Sized, Resp: ?Sized + 'static> {
    pub(super) requests: Publisher<Req>,
    pub(super) responses: Subscriber<Resp>,
    service: ServiceDescription,
    pub(super) book: RefCell<Book<Resp>>,
    pub(super) stray: Cell<u64>,
}

// SAFETY: the client's ports are `Send` (their `PortCell`s' argument); the
// only other `Rc` clones of their cores are the samples parked in `book` and
// the cores pending requests were sent through (both in the client itself),
// and the loans, requests and responses made from
// it, which borrow the client and are not `Send`. So moving the client
// moves every clone with it, and none is used on another thread meanwhile,
// as for a port alone.
unsafe impl<Req: ?Sized, Resp: ?Sized + 'static> Send for Client<Req, Resp>
where
    Publisher<Req>: Send,
    Subscriber<Resp>: Send,
{
}

/// A client's pending requests and the responses parked for them.
pub(super) struct Book<Resp: ?Sized + 'static> {
    /// Requests sent whose `PendingResponse` lives.
    pub(super) pending: Vec<Pending>,
    /// Responses taken for a pending request other than the one receiving,
    /// oldest first.
    pub(super) parked: Vec<Sample<'static, Resp>>,
}

impl<Resp: ?Sized + 'static> Default for Book<Resp> {
    fn default() -> Self {
        Self {
            pending: Vec::new(),
            parked: Vec::new(),
        }
    }
}

/// One pending request.
pub(super) struct Pending {
    /// Its id: the low 32 bits of its sequence number.
    pub(super) id: u32,
    /// The server's request port it went to.
    pub(super) server: Peer,
    /// The request port's core it was sent through: the registration and
    /// group mapping in which `server` means that server (after a daemon
    /// restart, the same index and generation can name another port).
    pub(super) via: Rc<PublisherCore>,
    /// Whether the server ended its stream (responses may still be parked).
    pub(super) ended: bool,
}

impl<Req: ZeroCopySafe, Resp: ?Sized + Payload> Client<Req, Resp> {
    /// Loans an uninitialised request in shared memory; write it
    /// ([`LoanedRequest::write`]) and send it ([`LoanedRequest::send`]).
    /// Fails as [`Publisher::loan_uninit`] does.
    pub fn loan_uninit(&self) -> Result<LoanedRequest<'_, Req, Resp, MaybeUninit<Req>>, LoanError> {
        Ok(LoanedRequest {
            sample: self.requests.loan_uninit()?,
            client: self,
        })
    }
}

impl<T: ZeroCopySafe, Resp: ?Sized + Payload> Client<[T], Resp> {
    /// Loans an uninitialised request slice of `len` elements (up to the
    /// builder's [`max_request_len`](ClientBuilder::max_request_len)); fill
    /// it ([`LoanedRequest::write_from_slice`], [`LoanedRequest::fill`],
    /// [`LoanedRequest::write_with`]) and send it. Fails as
    /// [`Publisher::loan_slice_uninit`] does.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Text", "Main", "Upper")?;
    /// let client = rt.client::<[u8], [u8]>(&svc).max_request_len(64).create()?;
    /// let pending = client.loan_slice_uninit(5)?.write_from_slice(b"hello")?.send()?;
    /// if let Some(upper) = pending.receive(Some(Duration::from_secs(1)))? {
    ///     assert_eq!(&*upper, b"HELLO");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    // The type spells what the loan is (a slice request, not yet
    // initialised); an alias would hide it from the docs.
    #[allow(clippy::type_complexity)]
    pub fn loan_slice_uninit(
        &self,
        len: usize,
    ) -> Result<LoanedRequest<'_, [T], Resp, [MaybeUninit<T>]>, LoanError> {
        Ok(LoanedRequest {
            sample: self.requests.loan_slice_uninit(len)?,
            client: self,
        })
    }
}

impl<Req: ?Sized + Payload, Resp: ?Sized + Payload> Client<Req, Resp> {
    /// Responses released unread because they answered no pending request
    /// (its `PendingResponse` was dropped first, or the server named a
    /// request this client never sent).
    pub fn stray(&self) -> u64 {
        self.stray.get()
    }

    /// Requests sent whose [`PendingResponse`] still lives.
    pub fn pending(&self) -> usize {
        self.book.borrow().pending.len()
    }

    /// The service this client asks.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// Sends a loaned request to the oldest routed server (the loan is
    /// given back if the response port cannot be named).
    fn send(&self, sample: LoanedSample<'_, Req>) -> Result<u32, SendRequestError>
    where
        Req: Place,
    {
        let reply = self
            .responses
            .peer()
            .map_err(SendRequestError::ResponsePort)?;
        let (core, loan, _) = sample.into_parts();
        let sent = core
            .publish_to(&loan, Target::Oldest, |_| [reply.index, reply.generation])
            .map_err(|e| SendRequestError::Publish(publish_error(&core, e)))?;
        match sent.handed {
            Handed::To(server) => {
                let id = sent.sequence as u32;
                self.book.borrow_mut().pending.push(Pending {
                    id,
                    server,
                    via: Rc::clone(&core),
                    ended: false,
                });
                Ok(id)
            }
            Handed::NoPeer => Err(SendRequestError::NoServer),
            Handed::Full(server) => Err(SendRequestError::ServerBusy {
                server_port: server.index,
            }),
        }
    }
}

impl<Req: ?Sized, Resp: ?Sized + 'static> std::fmt::Debug for Client<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("service", &self.service)
            .finish()
    }
}

/// A request loaned from a [`Client`], written in place in shared memory.
/// Dropping it unsent gives the chunk back.
pub struct LoanedRequest<'c, Req: ?Sized, Resp: ?Sized + 'static, P: ?Sized> {
    sample: LoanedSample<'c, P>,
    client: &'c Client<Req, Resp>,
}

impl<'c, Req: ?Sized, Resp: ?Sized, P: ?Sized> LoanedRequest<'c, Req, Resp, P> {
    /// The same loan with its sample initialised by `init`.
    fn map<Q: ?Sized>(
        self,
        init: impl FnOnce(LoanedSample<'c, P>) -> LoanedSample<'c, Q>,
    ) -> LoanedRequest<'c, Req, Resp, Q> {
        LoanedRequest {
            sample: init(self.sample),
            client: self.client,
        }
    }
}

impl<'c, Req: ZeroCopySafe, Resp: ?Sized> LoanedRequest<'c, Req, Resp, MaybeUninit<Req>> {
    /// Moves `value` into the chunk.
    pub fn write(self, value: Req) -> LoanedRequest<'c, Req, Resp, Req> {
        self.map(|s| s.write(value))
    }

    /// Initialises the request in place, as
    /// [`LoanedSample::write_with`] does (for large requests).
    pub fn write_with(self, init: impl FnOnce(&mut Req)) -> LoanedRequest<'c, Req, Resp, Req> {
        self.map(|s| s.write_with(init))
    }
}

impl<'c, T: ZeroCopySafe, Resp: ?Sized> LoanedRequest<'c, [T], Resp, [MaybeUninit<T>]> {
    /// Copies `source` into the request slice, which must have its length
    /// ([`LoanedSample::write_from_slice`]).
    pub fn write_from_slice(
        self,
        source: &[T],
    ) -> Result<LoanedRequest<'c, [T], Resp, [T]>, SliceLengthError> {
        let sample = self.sample.write_from_slice(source)?;
        Ok(LoanedRequest {
            sample,
            client: self.client,
        })
    }

    /// Sets every element to `value`.
    pub fn fill(self, value: T) -> LoanedRequest<'c, [T], Resp, [T]> {
        self.map(|s| s.fill(value))
    }

    /// Initialises the slice in place, as [`LoanedSample::write_with`] of a
    /// slice does (it starts zeroed).
    pub fn write_with(self, init: impl FnOnce(&mut [T])) -> LoanedRequest<'c, [T], Resp, [T]> {
        self.map(|s| s.write_with(init))
    }
}

impl<'c, Req: ?Sized + Payload + Place, Resp: ?Sized + Payload> LoanedRequest<'c, Req, Resp, Req> {
    /// Sends the request to the oldest routed server, without copying it,
    /// and returns what receives its responses.
    ///
    /// Fails with [`SendRequestError::NoServer`] at once when no server is
    /// routed, [`SendRequestError::ServerBusy`] when the server's request
    /// queue stayed full past the send timeout, and otherwise as a
    /// publish does ([`SendRequestError::Publish`]).
    pub fn send(self) -> Result<PendingResponse<'c, Req, Resp>, SendRequestError> {
        let client = self.client;
        let id = client.send(self.sample)?;
        Ok(PendingResponse::new(client, id))
    }
}

impl<Req: ?Sized, Resp: ?Sized + 'static, P: ?Sized + Place> Deref
    for LoanedRequest<'_, Req, Resp, P>
{
    type Target = P;

    fn deref(&self) -> &P {
        &self.sample
    }
}

impl<Req: ?Sized, Resp: ?Sized + 'static, P: ?Sized + Place> DerefMut
    for LoanedRequest<'_, Req, Resp, P>
{
    fn deref_mut(&mut self) -> &mut P {
        &mut self.sample
    }
}
