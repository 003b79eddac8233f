//! [`InboundServer`]: a request/response service across Zenoh offered to
//! this domain (`bridge` module docs).
//!
//! The route's thread is an ordinary ZeroCP server of the service. Each
//! request it receives becomes a Zenoh query on the service's key
//! expression: the request's bytes, unchanged, with an attachment (the
//! request type, the request's id, this domain's id), to the nearest
//! bridge that answers the service (its queryable is complete), never to
//! this bridge itself. Every reply of the right type and a length the type
//! can have becomes a response to the asking client, in order; the query's
//! end (all replies in, or the route's timeout) ends the stream. A far side
//! that refused (an error reply: no server there, a timeout, a loop) also
//! just ends the stream, counted as failed and logged with its reason: a
//! client cannot tell that from a server that sent fewer responses.
//!
//! One request at a time per route, as on the other side.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use zenoh::query::{ConsolidationMode, QueryTarget};
use zenoh::sample::{Locality, Sample};
use zenoh::{Session, Wait};
use zerocp::{ActiveRequest, LoanError, UntypedServer};

use crate::attachment::Attachment;
use crate::bridge::{Counter, Counters, StartError, bump};
use crate::key_expr::key_expr;
use crate::outbound::TICK;
use crate::route_context::RouteContext;
use crate::server_route::ServerRoute;

/// An inbound server route, moved into its thread.
pub(crate) struct InboundServer {
    server: UntypedServer,
    session: Session,
    key: String,
    /// The requests' attachment; each query sets its sequence number (the
    /// request's id).
    requests: Attachment,
    response_type: String,
    timeout: Duration,
    counters: Arc<Counters>,
}

impl InboundServer {
    /// Creates the route's server.
    pub(crate) fn start(ctx: &RouteContext<'_>, route: &ServerRoute) -> Result<Self, StartError> {
        let (service, request, response) = route.resolve().map_err(StartError::Zenoh)?;
        let mut builder = ctx.runtime.untyped_server(&service, request, response);
        if let Some(len) = route.max_response_len {
            builder = builder.max_response_len(len);
        }
        let server = builder.create().map_err(|error| StartError::Exchange {
            service: route.service.clone(),
            error,
        })?;
        Ok(Self {
            server,
            session: ctx.session.clone(),
            key: key_expr(ctx.key_prefix, &service),
            requests: Attachment {
                origin: ctx.origin,
                sequence: 0,
                type_name: route.request.name.clone(),
            },
            response_type: route.response.name.clone(),
            timeout: Duration::from_millis(route.timeout_ms),
            counters: Arc::clone(ctx.counters),
        })
    }

    /// Serves on a thread of its own until `stop`.
    pub(crate) fn spawn(self, stop: Arc<AtomicBool>) -> JoinHandle<()> {
        std::thread::spawn(move || self.run(&stop))
    }

    fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            match self.server.wait(Some(TICK)) {
                Ok(_) => self.drain(),
                Err(e) => {
                    log::warn!("{}: {e}", self.server.service());
                    std::thread::sleep(TICK);
                }
            }
        }
    }

    /// Forwards every queued request.
    fn drain(&mut self) {
        loop {
            match self.server.receive() {
                Ok(Some(request)) => {
                    self.requests.sequence = u64::from(request.id());
                    let counter = forward(self, &request);
                    bump(&self.counters, counter);
                    if let Err(e) = request.finish() {
                        log::warn!("{}: end of stream: {e}", self.server.service());
                        bump(&self.counters, Counter::Failed);
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    log::warn!("{}: {e}", self.server.service());
                    return;
                }
            }
        }
    }

    /// Turns one reply into a response to `request`; says which counter
    /// it goes under.
    fn respond(&self, request: &ActiveRequest<'_, [u8], [u8]>, sample: &Sample) -> Counter {
        let typed = sample
            .attachment()
            .and_then(|a| Attachment::decode(&a.to_bytes()).ok())
            .is_some_and(|a| a.type_name == self.response_type);
        if !typed {
            return Counter::Rejected;
        }
        let payload = sample.payload().to_bytes();
        let loan = match request.loan_slice_uninit(payload.len()) {
            Ok(loan) => loan,
            Err(LoanError::PayloadSize { .. } | LoanError::SliceTooLong { .. }) => {
                return Counter::Rejected;
            }
            Err(e) => return self.failed(&e),
        };
        let sent = loan
            .write_from_slice(&payload)
            .map_err(|e| e.to_string())
            .and_then(|response| response.send().map_err(|e| e.to_string()));
        match sent {
            Ok(()) => Counter::Responses,
            Err(e) => self.failed(&e),
        }
    }

    fn failed(&self, error: &dyn std::fmt::Display) -> Counter {
        log::warn!("{}: response: {error}", self.server.service());
        Counter::Failed
    }
}

/// Asks Zenoh for `request`'s responses and sends each one; says which
/// counter the request goes under.
fn forward(route: &InboundServer, request: &ActiveRequest<'_, [u8], [u8]>) -> Counter {
    let replies = route
        .session
        .get(route.key.as_str())
        .payload(request.to_vec())
        .attachment(route.requests.encode())
        .target(QueryTarget::BestMatching)
        .consolidation(ConsolidationMode::None)
        .allowed_destination(Locality::Remote)
        .timeout(route.timeout)
        .wait();
    let replies = match replies {
        Ok(replies) => replies,
        Err(e) => {
            log::warn!("{}: query: {e}", route.server.service());
            return Counter::Failed;
        }
    };
    while let Ok(reply) = replies.recv() {
        let counter = match reply.result() {
            Ok(sample) => route.respond(request, sample),
            Err(refused) => {
                let why = refused.payload().try_to_string().unwrap_or_default();
                log::warn!("{}: the far side refused: {why}", route.server.service());
                Counter::Failed
            }
        };
        bump(&route.counters, counter);
    }
    Counter::Requests
}
