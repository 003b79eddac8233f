//! [`ActiveRequest`]: a request a server received and is answering, and
//! [`LoanedResponse`], a response being written.
//!
//! Every response goes only to the client port the request's header named,
//! and only if that port is routed to the server's response publisher (the
//! header is hostile: a port that is not a routed client gets nothing and
//! the send fails with `ClientGone`). Its header names the request (the low
//! 32 bits of the request's sequence number) and whether it is the last.
//! Ending the stream without a last response ([`ActiveRequest::finish`], or
//! dropping the request) sends an end-of-stream marker: one chunk, zeroed,
//! flagged as carrying no payload.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};

use zerocp_core::chunk_header::{EXCHANGE_LAST, EXCHANGE_NO_PAYLOAD};

use super::server::Server;
use crate::ZeroCopySafe;
use crate::error::{LoanError, RespondError};
use crate::loaned_sample::{LoanedSample, publish_error};
use crate::loaned_slice::SliceLengthError;
use crate::payload::Payload;
use crate::payload::sealed::Place;
use crate::publisher::targeted::{Handed, Sent, Target};
use crate::publisher::{DeliveryError, PublisherCore};
use crate::sample::Sample;
use crate::topology::Peer;

/// A request received by a [`Server`]: it dereferences to the request in
/// shared memory; answer it with [`loan_uninit`](Self::loan_uninit) and
/// [`LoanedResponse::send`] (zero or more times), then end the stream with
/// [`LoanedResponse::send_last`], [`finish`](Self::finish) or by dropping
/// it (which sends the end as `finish` does, logging a failure).
///
/// ```no_run
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Calc", "Main", "Count")?;
/// let server = rt.server::<u32, u32>(&svc).create()?;
/// if let Some(request) = server.receive()? {
///     for n in 0..*request {
///         request.loan_uninit()?.write(n).send()?; // a stream of responses
///     }
///     request.finish()?; // the client's receive returns None
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ActiveRequest<'s, Req: ?Sized, Resp: ?Sized> {
    server: &'s Server<Req, Resp>,
    request: Sample<'s, Req>,
    client: Peer,
    ended: Cell<bool>,
    /// Payload bytes of the end-of-stream marker: the smallest payload a
    /// response port accepts (a value's size, or an empty slice).
    marker_size: u32,
}

impl<'s, Req: ?Sized + Payload, Resp: ?Sized + Payload> ActiveRequest<'s, Req, Resp> {
    pub(super) fn new(
        server: &'s Server<Req, Resp>,
        request: Sample<'s, Req>,
        client: Peer,
    ) -> Self {
        Self {
            server,
            request,
            client,
            ended: Cell::new(false),
            marker_size: server.responses.core().options.smallest_payload(),
        }
    }

    /// The request's id, as the client's
    /// [`PendingResponse::id`](crate::PendingResponse::id) has it.
    pub fn id(&self) -> u32 {
        self.request.request_id()
    }

    /// A response of this request from a loaned sample.
    fn respond<'a, P: ?Sized>(&'a self, sample: LoanedSample<'a, P>) -> LoanedResponse<'a, P> {
        LoanedResponse {
            sample,
            client: self.client,
            id: self.id(),
            ended: &self.ended,
        }
    }

    /// Ends the stream of responses (unless a last response did already):
    /// the client's receive then returns `None`. Fails with
    /// [`RespondError::Loan`] when no chunk can be loaned for the marker,
    /// else as [`LoanedResponse::send`] does.
    pub fn finish(self) -> Result<(), RespondError> {
        self.end()
    }
}

impl<Req: ?Sized + Payload, Resp: ZeroCopySafe> ActiveRequest<'_, Req, Resp> {
    /// Loans an uninitialised response in shared memory. Fails as
    /// [`Publisher::loan_uninit`](crate::Publisher::loan_uninit) does.
    pub fn loan_uninit(&self) -> Result<LoanedResponse<'_, MaybeUninit<Resp>>, LoanError> {
        Ok(self.respond(self.server.responses.loan_uninit()?))
    }
}

impl<Req: ?Sized + Payload, T: ZeroCopySafe> ActiveRequest<'_, Req, [T]> {
    /// Loans an uninitialised response slice of `len` elements (up to the
    /// server builder's
    /// [`max_response_len`](crate::ServerBuilder::max_response_len)). Fails
    /// as [`Publisher::loan_slice_uninit`](crate::Publisher::loan_slice_uninit)
    /// does.
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Text", "Main", "Upper")?;
    /// let server = rt.server::<[u8], [u8]>(&svc).max_response_len(64).create()?;
    /// if let Some(request) = server.receive()? {
    ///     let upper = request.to_ascii_uppercase();
    ///     request.loan_slice_uninit(upper.len())?.write_from_slice(&upper)?.send_last()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn loan_slice_uninit(
        &self,
        len: usize,
    ) -> Result<LoanedResponse<'_, [MaybeUninit<T>]>, LoanError> {
        Ok(self.respond(self.server.responses.loan_slice_uninit(len)?))
    }
}

impl<Req: ?Sized, Resp: ?Sized> ActiveRequest<'_, Req, Resp> {
    /// Sends the end-of-stream marker, once, unless a last response ended
    /// the stream already.
    fn end(&self) -> Result<(), RespondError> {
        if self.ended.replace(true) {
            return Ok(());
        }
        let core = self.server.responses.core();
        let loan = core.loan(self.marker_size).map_err(RespondError::Loan)?;
        core.zero_payload(&loan, self.marker_size);
        let exchange = [
            self.request.request_id(),
            EXCHANGE_LAST | EXCHANGE_NO_PAYLOAD,
        ];
        handed(
            &core,
            core.publish_to(&loan, Target::Peer(self.client), |_| exchange),
            self.client,
        )
    }
}

impl<Req: ?Sized, Resp: ?Sized> Drop for ActiveRequest<'_, Req, Resp> {
    fn drop(&mut self) {
        if let Err(e) = self.end() {
            log::warn!(
                "server of {}: request {} ended without its end-of-stream marker: {e}",
                self.server.service,
                self.request.request_id()
            );
        }
    }
}

impl<Req: ?Sized + Payload + Place, Resp: ?Sized> Deref for ActiveRequest<'_, Req, Resp> {
    type Target = Req;

    fn deref(&self) -> &Req {
        &self.request
    }
}

/// A response loaned for an [`ActiveRequest`], written in place in shared
/// memory. Dropping it unsent gives the chunk back.
pub struct LoanedResponse<'a, P: ?Sized> {
    sample: LoanedSample<'a, P>,
    client: Peer,
    id: u32,
    ended: &'a Cell<bool>,
}

impl<'a, P: ?Sized> LoanedResponse<'a, P> {
    /// The same loan with its sample initialised by `init`.
    fn map<Q: ?Sized>(
        self,
        init: impl FnOnce(LoanedSample<'a, P>) -> LoanedSample<'a, Q>,
    ) -> LoanedResponse<'a, Q> {
        LoanedResponse {
            sample: init(self.sample),
            client: self.client,
            id: self.id,
            ended: self.ended,
        }
    }
}

impl<'a, Resp: ZeroCopySafe> LoanedResponse<'a, MaybeUninit<Resp>> {
    /// Moves `value` into the chunk.
    pub fn write(self, value: Resp) -> LoanedResponse<'a, Resp> {
        self.map(|s| s.write(value))
    }

    /// Initialises the response in place, as [`LoanedSample::write_with`]
    /// does (for large responses).
    pub fn write_with(self, init: impl FnOnce(&mut Resp)) -> LoanedResponse<'a, Resp> {
        self.map(|s| s.write_with(init))
    }
}

impl<'a, T: ZeroCopySafe> LoanedResponse<'a, [MaybeUninit<T>]> {
    /// Copies `source` into the response slice, which must have its length
    /// ([`LoanedSample::write_from_slice`]).
    pub fn write_from_slice(
        self,
        source: &[T],
    ) -> Result<LoanedResponse<'a, [T]>, SliceLengthError> {
        let sample = self.sample.write_from_slice(source)?;
        Ok(LoanedResponse {
            sample,
            client: self.client,
            id: self.id,
            ended: self.ended,
        })
    }

    /// Sets every element to `value`.
    pub fn fill(self, value: T) -> LoanedResponse<'a, [T]> {
        self.map(|s| s.fill(value))
    }

    /// Initialises the slice in place, as [`LoanedSample::write_with`] of a
    /// slice does (it starts zeroed).
    pub fn write_with(self, init: impl FnOnce(&mut [T])) -> LoanedResponse<'a, [T]> {
        self.map(|s| s.write_with(init))
    }
}

impl<Resp: ?Sized + Payload + Place> LoanedResponse<'_, Resp> {
    /// Sends the response to the client that asked, without copying it;
    /// more may follow.
    ///
    /// Fails with [`RespondError::ClientGone`] when that client is no
    /// longer routed, [`RespondError::ClientBusy`] when its response queue
    /// stayed full past the send timeout, and otherwise as a publish does
    /// ([`RespondError::Publish`]).
    pub fn send(self) -> Result<(), RespondError> {
        send(self.sample, self.client, [self.id, 0])
    }

    /// Sends the response as the last of the stream (no end-of-stream
    /// marker follows: one chunk less than `send` then `finish`). Fails as
    /// [`send`](Self::send) does.
    pub fn send_last(self) -> Result<(), RespondError> {
        self.ended.set(true);
        send(self.sample, self.client, [self.id, EXCHANGE_LAST])
    }
}

impl<P: ?Sized + Place> Deref for LoanedResponse<'_, P> {
    type Target = P;

    fn deref(&self) -> &P {
        &self.sample
    }
}

impl<P: ?Sized + Place> DerefMut for LoanedResponse<'_, P> {
    fn deref_mut(&mut self) -> &mut P {
        &mut self.sample
    }
}

/// Sends a loaned response chunk to `client` with the exchange words.
fn send<P: ?Sized + Place>(
    sample: LoanedSample<'_, P>,
    client: Peer,
    exchange: [u32; 2],
) -> Result<(), RespondError> {
    let (core, loan, _) = sample.into_parts();
    let sent = core.publish_to(&loan, Target::Peer(client), |_| exchange);
    handed(&core, sent, client)
}

/// The outcome of a response sent to `client`.
fn handed(
    core: &PublisherCore,
    sent: Result<Sent, DeliveryError>,
    client: Peer,
) -> Result<(), RespondError> {
    let sent = sent.map_err(|e| RespondError::Publish(publish_error(core, e)))?;
    match sent.handed {
        Handed::To(_) => Ok(()),
        Handed::NoPeer => Err(RespondError::ClientGone {
            client_port: client.index,
        }),
        Handed::Full(_) => Err(RespondError::ClientBusy {
            client_port: client.index,
        }),
    }
}
