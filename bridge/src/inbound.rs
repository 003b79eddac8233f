//! [`Inbound`]: one Zenoh key expression published into a ZeroCP service
//! (`bridge` module docs).
//!
//! Zenoh calls the subscriber's callback on its own network thread, and
//! the callback publishes there: it checks the sample, loans a chunk of the
//! route's ZeroCP publisher, copies the bytes in and publishes, with no
//! hand-over to another thread (one wake-up less on every sample). A
//! publish waits only for a block-publisher subscriber whose queue is
//! full: under `congestion = "block"` up to the publisher's default publish
//! timeout (1 s), and meanwhile Zenoh's thread, and so every route on that
//! link, waits too (back-pressure, which is what `block` asks for); under
//! `"drop"` never (the publish timeout is zero: such a subscriber misses
//! the sample, counted on both ports).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zenoh::Wait;
use zenoh::sample::{Locality, Sample};
use zerocp::UntypedPublisher;

use crate::attachment::Attachment;
use crate::bridge::{Counter, Counters, StartError, bump};
use crate::bridge_mark::BridgeMark;
use crate::config::{Congestion, Route};
use crate::key_expr::key_expr;
use crate::rate_limit::RateLimit;
use crate::route_context::RouteContext;

/// An inbound route: its Zenoh subscriber, whose callback owns the rest.
/// Dropping it undeclares the subscription and so ends the route.
pub(crate) struct Inbound {
    _subscriber: zenoh::pubsub::Subscriber<()>,
}

/// What the callback checks a sample against and publishes it with.
struct Importer {
    type_name: String,
    /// This domain's id: samples of it came back and are skipped.
    origin: u64,
    element: usize,
    /// `Some(max_slice_len)` for a slice, `None` for one value per sample.
    max_elements: Option<usize>,
    limit: Option<Mutex<RateLimit>>,
    /// Zenoh may call the callback on several threads; one publishes at a
    /// time.
    publisher: Mutex<UntypedPublisher>,
    mark: Arc<BridgeMark>,
    counters: Arc<Counters>,
}

impl Inbound {
    /// Creates the route's ZeroCP publisher and Zenoh subscriber; `mark` is
    /// the bridge's.
    pub(crate) fn start(
        ctx: &RouteContext<'_>,
        route: &Route,
        mark: &Arc<BridgeMark>,
    ) -> Result<Self, StartError> {
        let service = route.service().map_err(StartError::Zenoh)?;
        let service_type = route.service_type().map_err(StartError::Zenoh)?;
        let mut builder = ctx.runtime.untyped_publisher(&service, service_type);
        if let Some(len) = route.max_slice_len {
            builder = builder.max_slice_len(len);
        }
        if route.congestion == Congestion::Drop {
            builder = builder.publish_timeout(Duration::ZERO);
        }
        let publisher = builder.create().map_err(|error| StartError::Port {
            service: route.service.clone(),
            error,
        })?;
        let forward = Importer {
            type_name: route.payload.name.clone(),
            origin: ctx.origin,
            element: route.payload.size as usize,
            max_elements: route.max_slice_len.map(|len| len as usize),
            limit: route.max_rate.map(|rate| Mutex::new(RateLimit::new(rate))),
            publisher: Mutex::new(publisher),
            mark: Arc::clone(mark),
            counters: Arc::clone(ctx.counters),
        };
        let subscriber = ctx
            .session
            .declare_subscriber(key_expr(ctx.key_prefix, &service))
            .allowed_origin(Locality::Remote)
            .callback(move |sample| bump(&forward.counters, forward.accept(&sample)))
            .wait()
            .map_err(|e| StartError::Zenoh(e.to_string()))?;
        Ok(Self {
            _subscriber: subscriber,
        })
    }
}

impl Importer {
    /// Checks a Zenoh sample and publishes it; says which counter it goes
    /// under.
    fn accept(&self, sample: &Sample) -> Counter {
        let payload = match self.payload(sample) {
            Ok(payload) => payload,
            Err(counter) => return counter,
        };
        let limited = self.limit.as_ref().is_some_and(|limit| {
            let mut limit = limit.lock().unwrap_or_else(|p| p.into_inner());
            !limit.admit(Instant::now())
        });
        if limited {
            return Counter::Limited;
        }
        self.publish(&payload)
    }

    /// The payload, if the sample is a bridge's sample of this type from
    /// another domain: an attachment naming the type, whole elements, not
    /// too many.
    fn payload<'s>(&self, sample: &'s Sample) -> Result<std::borrow::Cow<'s, [u8]>, Counter> {
        let attachment = sample
            .attachment()
            .and_then(|a| Attachment::decode(&a.to_bytes()).ok())
            .filter(|a| a.type_name == self.type_name)
            .ok_or(Counter::Rejected)?;
        if attachment.origin == self.origin {
            return Err(Counter::Skipped);
        }
        let payload = sample.payload().to_bytes();
        let fits = match self.max_elements {
            Some(max) => {
                payload.len().is_multiple_of(self.element) && payload.len() / self.element <= max
            }
            None => payload.len() == self.element,
        };
        fits.then_some(payload).ok_or(Counter::Rejected)
    }

    /// Publishes `payload` (checked). The mark is re-attached between the
    /// loan, which re-attaches the publisher after a daemon restart, and
    /// the publish ([`crate::bridge_mark`]); without a mark the sample is
    /// not published (counted as failed).
    fn publish(&self, payload: &[u8]) -> Counter {
        let publisher = self.publisher.lock().unwrap_or_else(|p| p.into_inner());
        let element = publisher.service_type().payload.size as usize;
        let published = publisher
            .loan_slice(payload.len() / element)
            .map_err(|e| e.to_string())
            .and_then(|mut loan| {
                for (to, from) in loan.payload_mut().iter_mut().zip(payload) {
                    to.write(*from);
                }
                self.mark.refresh()?;
                loan.publish().map_err(|e| e.to_string())
            });
        match published {
            Ok(()) => Counter::Received,
            Err(e) => {
                log::warn!("{}: publish: {e}", publisher.service());
                Counter::Failed
            }
        }
    }
}
