//! [`OutboundServer`]: a request/response service of this domain answered
//! for Zenoh (`bridge` module docs).
//!
//! A Zenoh queryable on the service's key expression takes each query in
//! Zenoh's callback and hands it to the route's thread through a bounded
//! queue; a full queue answers the query with an error at once, so Zenoh's
//! thread never waits. The thread is an ordinary ZeroCP client of the
//! service: it checks the query (an attachment naming the request type,
//! from another domain), copies its payload into a request, sends it to the
//! domain's server, and replies every response, unchanged, with an
//! attachment (the response type, the response's sequence number, this
//! domain's id), until the server ends the stream. Dropping the query then
//! ends it for the asker. A request that fails (no server, the server gone,
//! the route's timeout passed, a request of a length the type cannot have)
//! is answered with a Zenoh error reply that says why.
//!
//! The thread answers one request at a time: a route is one client, and a
//! request waits for the one before it (so a slow server slows its route,
//! never another route).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zenoh::query::{Query, Queryable};
use zenoh::sample::Locality;
use zenoh::{Session, Wait};
use zerocp::{LoanError, PendingResponse, Response, UntypedClient};

use crate::attachment::Attachment;
use crate::bridge::{Counter, Counters, StartError, bump};
use crate::key_expr::key_expr;
use crate::outbound::TICK;
use crate::route_context::RouteContext;
use crate::server_route::ServerRoute;

/// Queries waiting for the route's thread before new ones are refused.
const QUEUE: usize = 16;

/// What became of a query that was not answered in full: the counter and
/// the reason, sent to the asker.
type Refusal = (Counter, String);

/// An outbound server route: its client, moved into its thread, and the
/// queryable feeding it.
pub(crate) struct OutboundServer {
    client: UntypedClient,
    queries: Receiver<Query>,
    _queryable: Queryable<()>,
    check: RequestCheck,
    replier: Replier,
    timeout: Duration,
    counters: Arc<Counters>,
}

/// What replies the responses.
struct Replier {
    /// The responses' attachment; each reply sets its sequence number.
    attachment: Attachment,
    counters: Arc<Counters>,
}

/// What a query must carry to become a request.
struct RequestCheck {
    /// The service, for the log.
    service: String,
    type_name: String,
    /// This domain's id: a query from it went round a loop.
    origin: u64,
}

impl OutboundServer {
    /// Creates the route's client and queryable.
    pub(crate) fn start(ctx: &RouteContext<'_>, route: &ServerRoute) -> Result<Self, StartError> {
        let (service, request, response) = route.resolve().map_err(StartError::Zenoh)?;
        let mut builder = ctx.runtime.untyped_client(&service, request, response);
        if let Some(len) = route.max_request_len {
            builder = builder.max_request_len(len);
        }
        let client = builder.create().map_err(|error| StartError::Exchange {
            service: route.service.clone(),
            error,
        })?;
        let (queue, queries) = sync_channel(QUEUE);
        let queryable = declare(
            ctx.session,
            &key_expr(ctx.key_prefix, &service),
            queue,
            ctx.counters,
        )?;
        Ok(Self {
            client,
            queries,
            _queryable: queryable,
            check: RequestCheck {
                service: route.service.clone(),
                type_name: route.request.name.clone(),
                origin: ctx.origin,
            },
            replier: Replier {
                attachment: Attachment {
                    origin: ctx.origin,
                    sequence: 0,
                    type_name: route.response.name.clone(),
                },
                counters: Arc::clone(ctx.counters),
            },
            timeout: Duration::from_millis(route.timeout_ms),
            counters: Arc::clone(ctx.counters),
        })
    }

    /// Answers queries on a thread of its own until `stop`.
    pub(crate) fn spawn(self, stop: Arc<AtomicBool>) -> JoinHandle<()> {
        std::thread::spawn(move || self.run(&stop))
    }

    fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            match self.queries.recv_timeout(TICK) {
                Ok(query) => self.answer(&query),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Forwards one query as a request and replies its responses; a
    /// refusal goes back as an error reply.
    fn answer(&mut self, query: &Query) {
        if let Err((counter, reason)) = self.exchange(query) {
            log::debug!("{}: {reason}", self.check.service);
            bump(&self.counters, counter);
            if let Err(e) = query.reply_err(reason).wait() {
                log::warn!("{}: error reply: {e}", self.check.service);
            }
        }
    }

    fn exchange(&mut self, query: &Query) -> Result<(), Refusal> {
        let payload = self.check.payload(query)?;
        let pending = send(&self.client, &payload)?;
        bump(&self.counters, Counter::Requests);
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match receive(&pending, left)? {
                Some(response) => self.replier.reply(query, &response)?,
                None => return Ok(()),
            }
        }
    }
}

impl Replier {
    /// Replies one response to the query.
    fn reply(&mut self, query: &Query, response: &Response<'_, [u8]>) -> Result<(), Refusal> {
        self.attachment.sequence = response.sequence();
        query
            .reply(query.key_expr().clone(), response.to_vec())
            .attachment(self.attachment.encode())
            .wait()
            .map_err(|e| (Counter::Failed, format!("reply: {e}")))?;
        bump(&self.counters, Counter::Responses);
        Ok(())
    }
}

impl RequestCheck {
    /// The query's payload, if the query is a bridge's request of this
    /// type from another domain.
    fn payload(&self, query: &Query) -> Result<Vec<u8>, Refusal> {
        let attachment = query
            .attachment()
            .and_then(|a| Attachment::decode(&a.to_bytes()).ok())
            .filter(|a| a.type_name == self.type_name)
            .ok_or_else(|| {
                let why = format!("not a bridge's request of {}", self.type_name);
                (Counter::Rejected, why)
            })?;
        if attachment.origin == self.origin {
            let why = "a request from this bridge's own domain went round a loop".to_string();
            return Err((Counter::Skipped, why));
        }
        Ok(query
            .payload()
            .map(|p| p.to_bytes().into_owned())
            .unwrap_or_default())
    }
}

/// Sends `payload` as a request of `client`.
fn send<'c>(
    client: &'c UntypedClient,
    payload: &[u8],
) -> Result<PendingResponse<'c, [u8], [u8]>, Refusal> {
    let loan = client.loan_slice_uninit(payload.len()).map_err(|e| {
        let counter = match e {
            LoanError::PayloadSize { .. } | LoanError::SliceTooLong { .. } => Counter::Rejected,
            _ => Counter::Failed,
        };
        (counter, format!("request: {e}"))
    })?;
    let failed = |e: &dyn std::fmt::Display| (Counter::Failed, format!("request: {e}"));
    let request = loan.write_from_slice(payload).map_err(|e| failed(&e))?;
    request.send().map_err(|e| failed(&e))
}

/// The next response within `left`, or `None` at the end of the stream.
fn receive<'c>(
    pending: &PendingResponse<'c, [u8], [u8]>,
    left: Duration,
) -> Result<Option<Response<'c, [u8]>>, Refusal> {
    pending
        .receive(Some(left))
        .map_err(|e| (Counter::Failed, format!("response: {e}")))
}

/// Declares the route's queryable: each query goes into `queue`, or is
/// refused at once when the queue is full.
fn declare(
    session: &Session,
    key: &str,
    queue: SyncSender<Query>,
    counters: &Arc<Counters>,
) -> Result<Queryable<()>, StartError> {
    let counters = Arc::clone(counters);
    // Zenoh may call the callback on several threads.
    let queue = Mutex::new(queue);
    session
        .declare_queryable(key)
        .complete(true)
        .allowed_origin(Locality::Remote)
        .callback(move |query| {
            let sent = queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .try_send(query);
            if let Err(TrySendError::Full(query) | TrySendError::Disconnected(query)) = sent {
                bump(&counters, Counter::Failed);
                let _ = query
                    .reply_err("the bridge's queue for this service is full")
                    .wait();
            }
        })
        .wait()
        .map_err(|e| StartError::Zenoh(e.to_string()))
}
