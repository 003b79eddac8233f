//! [`PendingResponse`]: a request sent and not yet answered in full, and
//! [`Response`], one response to it.
//!
//! Receiving takes from the client's one response queue: a response for
//! this request is returned, one for another pending request is parked for
//! it, one for no pending request is released (counted as stray). The
//! request id and flags in a response's header are hostile input: they are
//! only compared with the ids this client handed out.
//!
//! A receive never hangs on a dead server: between waits of at most
//! [`SERVER_CHECK_SLICE`] (a wait also ends at once when any server's
//! response port leaves), it checks that the server's request port the
//! request went to (index and generation) is still routed; once it is not
//! and nothing more is queued, the receive fails with `ServerGone`.

use std::ops::Deref;
use std::time::{Duration, Instant};

use zerocp_core::chunk_header::{EXCHANGE_LAST, EXCHANGE_NO_PAYLOAD};

use super::client::{Book, Client};
use crate::error::ResponseError;
use crate::payload::Payload;
use crate::payload::sealed::Place;
use crate::sample::Sample;

/// The longest a receive sleeps before it checks again that its server is
/// routed (a server's response port leaving wakes it sooner).
pub const SERVER_CHECK_SLICE: Duration = Duration::from_millis(20);

/// A request sent and not yet answered in full; receives its responses.
/// Dropping it forgets the request: responses still coming for it are
/// released as stray ([`Client::stray`]).
///
/// ```no_run
/// use std::time::Duration;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Calc", "Main", "Count")?;
/// let client = rt.client::<u32, u32>(&svc).create()?;
/// let first = client.loan_uninit()?.write(3).send()?;
/// let second = client.loan_uninit()?.write(5).send()?;
/// for pending in [first, second] {
///     while let Some(n) = pending.receive(Some(Duration::from_secs(1)))? {
///         println!("request {}: {}", pending.id(), *n);
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PendingResponse<'c, Req: ?Sized, Resp: ?Sized + 'static> {
    client: &'c Client<Req, Resp>,
    id: u32,
}

/// One response, read in place in shared memory (it dereferences to
/// `Resp`); dropping it releases the chunk.
pub struct Response<'c, Resp: ?Sized> {
    sample: Sample<'c, Resp>,
}

impl<'c, Req: ?Sized + Payload, Resp: ?Sized + Payload> PendingResponse<'c, Req, Resp> {
    pub(super) fn new(client: &'c Client<Req, Resp>, id: u32) -> Self {
        Self { client, id }
    }

    /// The request's id: the low 32 bits of its sequence number.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Whether the server ended the stream and every response was received.
    pub fn is_done(&self) -> bool {
        let book = self.client.book.borrow();
        self.ended(&book) && !has_parked(&book, self.id)
    }

    /// Waits for the next response to this request: `Some(response)`, or
    /// `None` once the server ended the stream (and every time after).
    /// `timeout` `None` waits without limit (but never past the server's
    /// death); `Some(Duration::ZERO)` only polls.
    ///
    /// Fails with [`ResponseError::TimedOut`] when nothing came in time,
    /// [`ResponseError::ServerGone`] when the server died or was removed
    /// before it ended the stream, [`ResponseError::Take`] and
    /// [`ResponseError::Wait`] as a subscriber's take and wait do (e.g. the
    /// daemon gone, or `max_held` responses held and parked).
    pub fn receive(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<Response<'c, Resp>>, ResponseError> {
        // A timeout too long for `Instant` waits without limit.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if let Some(taken) = self.next_queued()? {
                return Ok(taken);
            }
            if self.client.responses.queued() == 0
                && let Some(server_port) = self.server_gone()
            {
                return Err(ResponseError::ServerGone { server_port });
            }
            let slice = match deadline {
                None => SERVER_CHECK_SLICE,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ResponseError::TimedOut);
                    }
                    left.min(SERVER_CHECK_SLICE)
                }
            };
            self.client
                .responses
                .wait(Some(slice))
                .map_err(ResponseError::Wait)?;
        }
    }

    /// The next response parked or queued for this request
    /// (`Some(Some(_))`), the end of its stream (`Some(None)`), or nothing
    /// yet (`None`).
    #[allow(clippy::type_complexity)]
    fn next_queued(&self) -> Result<Option<Option<Response<'c, Resp>>>, ResponseError> {
        if let Some(sample) = self.unpark() {
            return Ok(Some(Some(Response { sample })));
        }
        if self.ended(&self.client.book.borrow()) {
            return Ok(Some(None));
        }
        while let Some(sample) = self
            .client
            .responses
            .take_detached()
            .map_err(ResponseError::Take)?
        {
            let [id, flags] = sample.exchange();
            if let Some(found) = self.sort(sample, id, flags) {
                return Ok(Some(found.map(|sample| Response { sample })));
            }
        }
        Ok(None)
    }

    /// Files one taken response: `Some` when it is this request's (a
    /// response, or `None` for the end-of-stream marker); else it is
    /// parked for its pending request, or released as stray.
    fn sort(
        &self,
        sample: Sample<'static, Resp>,
        id: u32,
        flags: u32,
    ) -> Option<Option<Sample<'static, Resp>>> {
        let mut book = self.client.book.borrow_mut();
        let Some(pending) = book.pending.iter_mut().find(|p| p.id == id) else {
            self.client.stray.set(self.client.stray.get() + 1);
            return None;
        };
        if flags & (EXCHANGE_LAST | EXCHANGE_NO_PAYLOAD) != 0 {
            pending.ended = true;
        }
        let response = (flags & EXCHANGE_NO_PAYLOAD == 0).then_some(sample);
        if id == self.id {
            return Some(response);
        }
        book.parked.extend(response);
        None
    }

    /// The oldest response parked for this request.
    fn unpark(&self) -> Option<Sample<'static, Resp>> {
        let mut book = self.client.book.borrow_mut();
        let at = book
            .parked
            .iter()
            .position(|s| s.exchange()[0] == self.id)?;
        Some(book.parked.remove(at))
    }

    /// Whether the server ended this request's stream. Its entry is in the
    /// book until this is dropped; missing only if another pending request
    /// had the same id (2^32 requests later) and was dropped: then it
    /// counts as ended.
    fn ended(&self, book: &Book<Resp>) -> bool {
        book.pending
            .iter()
            .find(|p| p.id == self.id)
            .is_none_or(|p| p.ended)
    }

    /// The server's request port index if the server this request went to
    /// is gone: its port (index and generation) is no longer routed in the
    /// registration the request was sent on, or that registration is gone
    /// (the daemon restarted).
    fn server_gone(&self) -> Option<u32> {
        let book = self.client.book.borrow();
        let pending = book.pending.iter().find(|p| p.id == self.id)?;
        let routed = pending.via.gone().is_none() && pending.via.routes(pending.server);
        (!routed).then_some(pending.server.index)
    }
}

fn has_parked<Resp: ?Sized + 'static>(book: &Book<Resp>, id: u32) -> bool {
    book.parked.iter().any(|s| s.exchange()[0] == id)
}

impl<Req: ?Sized, Resp: ?Sized + 'static> Drop for PendingResponse<'_, Req, Resp> {
    fn drop(&mut self) {
        let mut book = self.client.book.borrow_mut();
        book.pending.retain(|p| p.id != self.id);
        let id = self.id;
        book.parked.retain(|s| s.exchange()[0] != id);
    }
}

impl<Req: ?Sized, Resp: ?Sized + 'static> std::fmt::Debug for PendingResponse<'_, Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingResponse")
            .field("id", &self.id)
            .finish()
    }
}

impl<Resp: ?Sized + Payload> Response<'_, Resp> {
    /// The response's sequence number in its server's response stream.
    pub fn sequence(&self) -> u64 {
        self.sample.sequence()
    }

    /// Whether the server marked this the last response of its stream.
    pub fn is_last(&self) -> bool {
        self.sample.exchange()[1] & EXCHANGE_LAST != 0
    }
}

impl<Resp: ?Sized + Payload + Place> Deref for Response<'_, Resp> {
    type Target = Resp;

    fn deref(&self) -> &Resp {
        &self.sample
    }
}

impl<Resp: ?Sized + Payload + Place + std::fmt::Debug> std::fmt::Debug for Response<'_, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("sequence", &self.sample.sequence())
            .field("payload", &&**self)
            .finish()
    }
}
