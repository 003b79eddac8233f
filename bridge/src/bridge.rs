//! [`Bridge`]: one ZeroCP process and one Zenoh session; a thread per
//! outbound service, a Zenoh callback per inbound one.
//!
//! - **Outbound** (`outbound`): an untyped subscriber of the service, on a
//!   thread of its own, waits for samples and puts each one's payload
//!   bytes, unchanged, on the service's key expression with an
//!   [`Attachment`](crate::Attachment) (type name, sequence number, the
//!   domain's id). Its queue drops the oldest sample when the bridge falls
//!   behind, so the domain's publishers never wait for the network (the
//!   drop is counted on the bridge's subscriber port, as `zerocpctl` shows).
//! - **Inbound** (`inbound`): in Zenoh's callback, each sample's
//!   attachment, type and size are checked, then a chunk of an untyped
//!   publisher is loaned, the bytes copied in and published. A sample that
//!   cannot be delivered (a foreign type, a short payload, no chunk free)
//!   is counted ([`Counters`]).
//!
//! **No loops, no echoes.** A bridge sends out only the samples its
//! domain's applications published: an outbound route skips every sample
//! whose publisher belongs to a bridge ([`crate::bridge_mark`]), its own or
//! another's. Every sample put carries the id of the domain it was
//! published in ([`crate::domain_origin`]), and an inbound route drops the
//! samples of its own domain: two bridges of one domain on one Zenoh
//! network never hand each other's samples back. Zenoh also never hands a
//! session its own puts (`Locality::Remote`). So a service bridged both
//! ways is forwarded once each way. A bridge does not relay between two
//! Zenoh networks either (that is a Zenoh router's work): import a service
//! into a domain through one bridge only.
//!
//! **Daemon restarts** are the runtime's: ports re-attach to the new
//! daemon and forwarding goes on; while the daemon is away, outbound
//! threads wait and inbound samples are counted as failed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use zenoh::{Session, Wait};
use zerocp::Runtime;

use crate::bridge_mark::BridgeMark;
use crate::config::{BridgeConfig, Mode};
use crate::inbound::Inbound;
use crate::inbound_server::InboundServer;
use crate::outbound::Outbound;
use crate::outbound_server::OutboundServer;
use crate::route_context::RouteContext;

/// What a bridge counted (Relaxed: statistics).
#[derive(Debug, Default)]
pub struct Counters {
    /// Samples put into Zenoh.
    pub sent: AtomicU64,
    /// Samples published into the domain.
    pub received: AtomicU64,
    /// Samples not sent out because a bridge imported them, and samples
    /// from Zenoh not published because they came from this domain.
    pub skipped: AtomicU64,
    /// Samples held back by a route's `max_rate`.
    pub limited: AtomicU64,
    /// Samples an outbound route's subscriber dropped because the bridge
    /// fell behind and its queue was full.
    pub dropped: AtomicU64,
    /// Zenoh samples refused: no or a foreign attachment, another type, a
    /// payload that is not whole elements or is too long.
    pub rejected: AtomicU64,
    /// Samples that failed to go out or in (a loan, a put, a publish),
    /// and requests and responses that did (no server, a timeout, a full
    /// queue, a refusal from the far side).
    pub failed: AtomicU64,
    /// Requests forwarded, either way (`[[outbound_server]]`: Zenoh's
    /// queries sent to the domain's server; `[[inbound_server]]`: the
    /// domain's requests sent as Zenoh queries).
    pub requests: AtomicU64,
    /// Responses forwarded, either way.
    pub responses: AtomicU64,
}

impl std::fmt::Display for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        write!(
            f,
            "sent {}, received {}, skipped {}, limited {}, dropped {}, rejected {}, failed {}, \
             requests {}, responses {}",
            n(&self.sent),
            n(&self.received),
            n(&self.skipped),
            n(&self.limited),
            n(&self.dropped),
            n(&self.rejected),
            n(&self.failed),
            n(&self.requests),
            n(&self.responses)
        )
    }
}

/// What became of a sample: one of the [`Counters`].
pub(crate) enum Counter {
    Sent,
    Received,
    Skipped,
    Limited,
    Rejected,
    Failed,
    Requests,
    Responses,
}

/// Counts one sample under `counter` (Relaxed: statistics).
pub(crate) fn bump(counters: &Counters, counter: Counter) {
    let c = match counter {
        Counter::Sent => &counters.sent,
        Counter::Received => &counters.received,
        Counter::Skipped => &counters.skipped,
        Counter::Limited => &counters.limited,
        Counter::Rejected => &counters.rejected,
        Counter::Failed => &counters.failed,
        Counter::Requests => &counters.requests,
        Counter::Responses => &counters.responses,
    };
    c.fetch_add(1, Ordering::Relaxed);
}

/// A running bridge (module docs). Dropping it stops its threads.
pub struct Bridge {
    stop: Arc<AtomicBool>,
    /// The outbound routes' threads.
    threads: Vec<JoinHandle<()>>,
    /// The inbound routes (they forward in Zenoh's callbacks).
    inbound: Vec<Inbound>,
    counters: Arc<Counters>,
    session: Session,
    /// Kept for the ports' lifetime (they hold their own references too).
    _runtime: Arc<Runtime>,
}

/// Why a bridge did not start.
#[derive(Debug)]
pub enum StartError {
    /// The ZeroCP runtime (no daemon for the domain, …).
    Runtime(zerocp::InitError),
    /// A ZeroCP port of a route.
    Port {
        /// The route's service.
        service: String,
        /// Why.
        error: zerocp::CreatePortError,
    },
    /// The ZeroCP client or server of a server route.
    Exchange {
        /// The route's service.
        service: String,
        /// Why.
        error: zerocp::CreateExchangeError,
    },
    /// The Zenoh session or one of its publishers or subscribers.
    Zenoh(String),
    /// The domain's origin id could not be made (no boot id to read).
    Origin(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Runtime(e) => write!(f, "cannot join the ZeroCP domain: {e}"),
            Self::Port { service, error } => write!(f, "{service}: {error}"),
            Self::Exchange { service, error } => write!(f, "{service}: {error}"),
            Self::Zenoh(e) => write!(f, "zenoh: {e}"),
            Self::Origin(e) => write!(f, "cannot read this boot's id for the origin: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl Bridge {
    /// Joins the domain of `ZEROCP_DOMAIN` (the runtime's default) and
    /// Zenoh as `config` says, and starts forwarding.
    pub fn start(config: &BridgeConfig) -> Result<Self, StartError> {
        let runtime = Arc::new(
            Runtime::builder(&config.name)
                .init()
                .map_err(StartError::Runtime)?,
        );
        let origin = crate::domain_origin(runtime.domain()).map_err(StartError::Origin)?;
        let mark = Arc::new(BridgeMark::create(&runtime)?);
        let session = zenoh::open(zenoh_config(config)?)
            .wait()
            .map_err(|e| StartError::Zenoh(e.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let ctx = RouteContext {
            runtime: &runtime,
            session: &session,
            key_prefix: &config.key_prefix,
            origin,
            counters: &counters,
        };
        let inbound = (config.inbound.iter())
            .map(|route| Inbound::start(&ctx, route, &mark))
            .collect::<Result<Vec<_>, _>>()?;
        let outbound = (config.outbound.iter())
            .map(|route| Outbound::start(&ctx, route))
            .collect::<Result<Vec<_>, _>>()?;
        let outbound_servers = (config.outbound_server.iter())
            .map(|route| OutboundServer::start(&ctx, route))
            .collect::<Result<Vec<_>, _>>()?;
        let inbound_servers = (config.inbound_server.iter())
            .map(|route| InboundServer::start(&ctx, route))
            .collect::<Result<Vec<_>, _>>()?;
        // Threads only once every route is ready: a failed start leaves none.
        let mut threads: Vec<JoinHandle<()>> = (outbound.into_iter())
            .map(|route| route.spawn(Arc::clone(&stop)))
            .collect();
        threads.extend((outbound_servers.into_iter()).map(|route| route.spawn(Arc::clone(&stop))));
        threads.extend((inbound_servers.into_iter()).map(|route| route.spawn(Arc::clone(&stop))));
        Ok(Self {
            stop,
            threads,
            inbound,
            counters,
            session,
            _runtime: runtime,
        })
    }

    /// What the bridge counted so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Stops forwarding: the outbound threads end within their next wait
    /// (100 ms), the inbound subscriptions are undeclared, then the Zenoh
    /// session closes.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        self.inbound.clear();
        let _ = self.session.close().wait();
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The Zenoh configuration of `config.zenoh`.
fn zenoh_config(config: &BridgeConfig) -> Result<zenoh::Config, StartError> {
    let mut zc = zenoh::Config::default();
    let list = |endpoints: &[String]| {
        let quoted: Vec<String> = endpoints.iter().map(|e| format!("{e:?}")).collect();
        format!("[{}]", quoted.join(","))
    };
    let mode = match config.zenoh.mode {
        Mode::Peer => "\"peer\"",
        Mode::Client => "\"client\"",
    };
    let settings = [
        ("mode", mode.to_string()),
        ("listen/endpoints", list(&config.zenoh.listen)),
        ("connect/endpoints", list(&config.zenoh.connect)),
        (
            "scouting/multicast/enabled",
            config.zenoh.multicast_scouting.to_string(),
        ),
    ];
    for (key, value) in settings {
        zc.insert_json5(key, &value)
            .map_err(|e| StartError::Zenoh(format!("{key} = {value}: {e}")))?;
    }
    Ok(zc)
}
