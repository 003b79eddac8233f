//! [`Outbound`]: one ZeroCP service put into Zenoh (`bridge` module docs).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zenoh::Wait;
use zenoh::qos::{CongestionControl, Priority as ZenohPriority};
use zenoh::sample::Locality;
use zerocp::{UntypedSample, UntypedSubscriber};

use crate::attachment::Attachment;
use crate::bridge::{Counter, Counters, StartError, bump};
use crate::bridge_mark::Provenance;
use crate::config::{Congestion, Priority, Route};
use crate::key_expr::key_expr;
use crate::rate_limit::RateLimit;
use crate::route_context::RouteContext;

/// How long a thread waits before it looks at the stop flag again.
pub(crate) const TICK: Duration = Duration::from_millis(100);

/// Samples the bridge's subscriber queues before it drops the oldest: the
/// applications' publishers never wait for the network.
const QUEUE: u32 = 64;

/// An outbound route's ports, moved into its thread.
pub(crate) struct Outbound {
    subscriber: UntypedSubscriber,
    forwarding: Forwarding,
    /// The subscriber's dropped count already added to the counters, and
    /// the connection epoch it belongs to (a port re-attached after a
    /// daemon restart counts from 0).
    dropped: (u32, u64),
}

/// What decides about and puts a taken sample.
struct Forwarding {
    /// The service, for the log.
    service: String,
    publisher: zenoh::pubsub::Publisher<'static>,
    /// The route's attachment; each put sets its sequence number.
    attachment: Attachment,
    provenance: Provenance,
    limit: Option<RateLimit>,
    counters: Arc<Counters>,
}

impl Outbound {
    /// Creates the route's subscriber and Zenoh publisher.
    pub(crate) fn start(ctx: &RouteContext<'_>, route: &Route) -> Result<Self, StartError> {
        let service = route.service().map_err(StartError::Zenoh)?;
        let service_type = route.service_type().map_err(StartError::Zenoh)?;
        let subscriber = ctx
            .runtime
            .untyped_subscriber(&service, service_type)
            .queue_capacity(QUEUE)
            .create()
            .map_err(|error| StartError::Port {
                service: route.service.clone(),
                error,
            })?;
        let congestion = match route.congestion {
            Congestion::Drop => CongestionControl::Drop,
            Congestion::Block => CongestionControl::Block,
        };
        let publisher = ctx
            .session
            .declare_publisher(key_expr(ctx.key_prefix, &service))
            .congestion_control(congestion)
            .priority(zenoh_priority(route.priority))
            .allowed_destination(Locality::Remote)
            .express(true)
            .wait()
            .map_err(|e| StartError::Zenoh(e.to_string()))?;
        let forwarding = Forwarding {
            service: route.service.clone(),
            publisher,
            attachment: Attachment {
                origin: ctx.origin,
                sequence: 0,
                type_name: route.payload.name.clone(),
            },
            provenance: Provenance::new(Arc::clone(ctx.runtime), service),
            limit: route.max_rate.map(RateLimit::new),
            counters: Arc::clone(ctx.counters),
        };
        Ok(Self {
            subscriber,
            forwarding,
            dropped: (0, 0),
        })
    }

    /// Forwards on a thread of its own until `stop`.
    pub(crate) fn spawn(self, stop: Arc<AtomicBool>) -> JoinHandle<()> {
        std::thread::spawn(move || self.run(&stop))
    }

    fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            match self.subscriber.wait(Some(TICK)) {
                Ok(true) => {
                    self.drain();
                    self.count_dropped();
                }
                Ok(false) => {}
                Err(e) => {
                    log::warn!("{}: {e}", self.subscriber.service());
                    std::thread::sleep(TICK);
                }
            }
        }
    }

    /// Adds what the subscriber's queue dropped since the last look to the
    /// counters; nothing while the daemon is away.
    fn count_dropped(&mut self) {
        let Some(epoch) = self.forwarding.provenance.epoch() else {
            return;
        };
        let total = self.subscriber.dropped();
        let (counted_epoch, counted) = self.dropped;
        let new = if epoch == counted_epoch {
            total.saturating_sub(counted)
        } else {
            total
        };
        let dropped = &self.forwarding.counters.dropped;
        dropped.fetch_add(new, Ordering::Relaxed);
        self.dropped = (epoch, total);
    }

    /// Puts every queued sample.
    fn drain(&mut self) {
        loop {
            match self.subscriber.take() {
                Ok(Some(sample)) => self.forwarding.forward(&sample),
                Ok(None) => return,
                Err(e) => {
                    log::warn!("{}: {e}", self.subscriber.service());
                    return;
                }
            }
        }
    }
}

impl Forwarding {
    /// Puts `sample` unless it is held; counts what became of it.
    fn forward(&mut self, sample: &UntypedSample<'_>) {
        let counter = match self.hold(sample) {
            Some(held) => held,
            None => self.put(sample),
        };
        bump(&self.counters, counter);
    }

    /// Why `sample` does not go out, if it does not: a bridge imported it,
    /// or the rate limit holds it.
    fn hold(&mut self, sample: &UntypedSample<'_>) -> Option<Counter> {
        match self.provenance.imported(sample.publisher()) {
            Ok(true) => return Some(Counter::Skipped),
            Ok(false) => {}
            Err(e) => {
                log::warn!("{}: who published? {e}", self.service);
                return Some(Counter::Failed);
            }
        }
        let limited = self
            .limit
            .as_mut()
            .is_some_and(|l| !l.admit(Instant::now()));
        limited.then_some(Counter::Limited)
    }

    /// Puts one sample into Zenoh.
    fn put(&mut self, sample: &UntypedSample<'_>) -> Counter {
        self.attachment.sequence = sample.sequence();
        let put = self
            .publisher
            .put(sample.payload().to_vec())
            .attachment(self.attachment.encode())
            .wait();
        match put {
            Ok(()) => Counter::Sent,
            Err(e) => {
                log::warn!("{}: put: {e}", self.service);
                Counter::Failed
            }
        }
    }
}

fn zenoh_priority(priority: Priority) -> ZenohPriority {
    match priority {
        Priority::RealTime => ZenohPriority::RealTime,
        Priority::InteractiveHigh => ZenohPriority::InteractiveHigh,
        Priority::InteractiveLow => ZenohPriority::InteractiveLow,
        Priority::DataHigh => ZenohPriority::DataHigh,
        Priority::Data => ZenohPriority::Data,
        Priority::DataLow => ZenohPriority::DataLow,
        Priority::Background => ZenohPriority::Background,
    }
}
