//! The data model of one frame of `top`: what is shown, independent of how.
//!
//! A [`Frame`] is built from the current [`Snapshot`] and, for rates, the
//! one before it; the terminal view (`draw`), the plain text of `--once`
//! (`text`) and its JSON all render the same frame, after
//! [`Order::apply`](super::order::Order::apply) sorted and filtered it. It
//! is also the JSON shape of `top --once --json` (serialised as it is,
//! after `"schema"`; `docs/cli-json.md`).
//!
//! - **Services**: one row per service, with its ports counted, the names
//!   of its publishers' processes, the publish rate (samples per second,
//!   summed over its publishers' `published` counters) and the bandwidth:
//!   the rate times the payload size. A slice service's payload size is
//!   one element's and its samples' lengths are not counted anywhere, so
//!   its bandwidth is left out (`null`; `zerocpctl bw` measures it from
//!   the samples themselves). Event services have no rate.
//! - **Subscribers**: one row per subscriber, with its process's name,
//!   its queue fill, its drops (total and per second) and its take rate.
//! - **Processes** and **mempools** as the daemon reports them.
//!
//! Rates are `None` (`-`, `null`) in the first frame, which has no
//! snapshot before it.

use serde::Serialize;
use zerocp_core::wire::{PayloadShape, PortInfo, PortKind, ProcessInfo};

use super::rates::{PortKey, PortRate, port_rates};
use super::snapshot::Snapshot;
use crate::ctl::render::processes::state_name;
use zerocp::ServiceType;

/// One frame (module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frame {
    /// The domain shown.
    pub domain: String,
    /// Seconds between the two snapshots the rates come from (`None` in
    /// the first frame).
    pub interval_s: Option<f64>,
    /// The registered processes.
    pub processes: Vec<ProcessRow>,
    /// The services.
    pub services: Vec<ServiceRow>,
    /// Every subscriber.
    pub subscribers: Vec<SubscriberRow>,
    /// Every mempool.
    pub mempools: Vec<MempoolRow>,
}

/// A registered process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessRow {
    /// Its pid.
    pub pid: u32,
    /// The name it registered with.
    pub name: String,
    /// `alive`, `late`, `unresponsive` or `dead`.
    pub state: &'static str,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: u32,
    /// Chunk references its ports hold.
    pub chunks_held: u32,
}

/// A service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRow {
    /// `Service/Instance/Event`.
    pub service: String,
    /// The payload type's name (a slice's shown `[T]`).
    pub type_name: String,
    /// `sized`, `slice` or `event`.
    pub shape: &'static str,
    /// The payload's size in bytes (a slice's: one element's).
    pub payload_size: u32,
    /// Publishers (an event service: notifiers).
    pub publishers: u32,
    /// Subscribers (an event service: listeners).
    pub subscribers: u32,
    /// The names of its publishers' processes, each once, sorted.
    pub processes: Vec<String>,
    /// Samples published per second by all its publishers.
    pub publish_rate_hz: Option<f64>,
    /// `publish_rate_hz` times the payload size (`None` for slices).
    pub bytes_per_s: Option<f64>,
    /// Samples its subscribers dropped, in total.
    pub dropped: u64,
}

/// A subscriber.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriberRow {
    /// Its service.
    pub service: String,
    /// Its index in its group.
    pub port: u32,
    /// Its owner's pid.
    pub pid: u32,
    /// Its owner's registered name (`None` if it left between the queries).
    pub process: Option<String>,
    /// Samples queued.
    pub queue_len: u32,
    /// Queue capacity.
    pub queue_capacity: u32,
    /// Samples dropped since the port was created.
    pub dropped: u64,
    /// Samples dropped per second.
    pub drops_per_s: Option<f64>,
    /// Samples taken per second.
    pub receive_rate_hz: Option<f64>,
}

/// A mempool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MempoolRow {
    /// Its segment group's name.
    pub group: String,
    /// Payload capacity of each chunk.
    pub chunk_size: u32,
    /// Chunks.
    pub chunk_count: u32,
    /// Chunks in use now.
    pub used: u32,
    /// Fewest free chunks ever seen.
    pub min_free: u32,
}

impl Frame {
    /// The frame of `current`, with rates since `previous` when given.
    pub fn new(previous: Option<&Snapshot>, current: &Snapshot) -> Self {
        let interval = previous.map(|p| current.at.saturating_duration_since(p.at));
        let rates = match (previous, interval) {
            (Some(p), Some(elapsed)) => Some(port_rates(&p.ports, &current.ports, elapsed)),
            _ => None,
        };
        // Every port of `current` has a rate once there are rates.
        let rate = |port: &PortInfo| {
            let rates = rates.as_ref()?;
            Some(rates.get(&PortKey::of(port)).copied().unwrap_or(NO_RATE))
        };
        Self {
            domain: current.domain.clone(),
            interval_s: interval.map(|i| i.as_secs_f64()),
            processes: current.processes.iter().map(process_row).collect(),
            services: services(current, &rate),
            subscribers: current
                .ports
                .iter()
                .filter(|p| p.kind == PortKind::Subscriber)
                .map(|p| subscriber_row(p, &current.processes, rate(p)))
                .collect(),
            mempools: current
                .mempools
                .iter()
                .map(|m| MempoolRow {
                    group: m.group.as_str().to_owned(),
                    chunk_size: m.chunk_size,
                    chunk_count: m.chunk_count,
                    used: m.used,
                    min_free: m.min_free,
                })
                .collect(),
        }
    }
}

fn process_row(p: &ProcessInfo) -> ProcessRow {
    ProcessRow {
        pid: p.pid,
        name: p.name.as_str().to_owned(),
        state: state_name(p.state),
        heartbeat_age_ms: p.heartbeat_age_ms,
        chunks_held: p.chunks_held,
    }
}

/// The registered name of the process `pid`.
fn process_name(processes: &[ProcessInfo], pid: u32) -> Option<String> {
    processes
        .iter()
        .find(|p| p.pid == pid)
        .map(|p| p.name.as_str().to_owned())
}

/// A port's rate: `None` without a previous snapshot.
type RateOf<'a> = dyn Fn(&PortInfo) -> Option<PortRate> + 'a;

fn subscriber_row(
    port: &PortInfo,
    processes: &[ProcessInfo],
    rate: Option<PortRate>,
) -> SubscriberRow {
    SubscriberRow {
        service: port.service.to_string(),
        port: port.port_index,
        pid: port.owner_pid,
        process: process_name(processes, port.owner_pid),
        queue_len: port.queue_len,
        queue_capacity: port.queue_capacity,
        dropped: port.dropped,
        drops_per_s: rate.map(|r| r.drops_per_s),
        receive_rate_hz: rate.map(|r| r.samples_per_s),
    }
}

const NO_RATE: PortRate = PortRate {
    samples_per_s: 0.0,
    drops_per_s: 0.0,
};

/// Groups the ports (ordered by service, as the daemon sends them) into
/// one row per service.
fn services(current: &Snapshot, rate: &RateOf<'_>) -> Vec<ServiceRow> {
    current
        .ports
        .chunk_by(|a, b| a.service == b.service)
        .map(|ports| service_row(ports, &current.processes, rate))
        .collect()
}

/// One service's row from its ports (at least one, all of it).
fn service_row(ports: &[PortInfo], processes: &[ProcessInfo], rate: &RateOf<'_>) -> ServiceRow {
    let mut row = empty_service(&ports[0], rate);
    for port in ports {
        add_port(&mut row, port, processes, rate);
    }
    row.processes.sort();
    row.processes.dedup();
    if row.shape == "sized" {
        row.bytes_per_s = row
            .publish_rate_hz
            .map(|hz| hz * f64::from(row.payload_size));
    }
    row
}

/// Counts `port` into its service's row.
fn add_port(row: &mut ServiceRow, port: &PortInfo, processes: &[ProcessInfo], rate: &RateOf<'_>) {
    match port.kind {
        PortKind::Publisher | PortKind::Notifier => {
            row.publishers += 1;
            if let Some(name) = process_name(processes, port.owner_pid) {
                row.processes.push(name);
            }
        }
        PortKind::Subscriber | PortKind::Listener => {
            row.subscribers += 1;
            row.dropped += port.dropped;
        }
    }
    if port.kind == PortKind::Publisher
        && let (Some(total), Some(r)) = (row.publish_rate_hz.as_mut(), rate(port))
    {
        *total += r.samples_per_s;
    }
}

/// A service's row before its ports are counted: a rate of 0 to add to
/// when rates are known, none for an event service.
fn empty_service(port: &PortInfo, rate: &RateOf<'_>) -> ServiceRow {
    let event = matches!(port.kind, PortKind::Notifier | PortKind::Listener);
    let shape = if event {
        "event"
    } else {
        match ServiceType::from_reported(&port.type_info).shape {
            PayloadShape::Slice => "slice",
            _ => "sized",
        }
    };
    ServiceRow {
        service: port.service.to_string(),
        type_name: port.type_info.name.as_str().to_owned(),
        shape,
        payload_size: port.type_info.size,
        publishers: 0,
        subscribers: 0,
        processes: Vec::new(),
        publish_rate_hz: if event { None } else { rate(port).map(|_| 0.0) },
        bytes_per_s: None,
        dropped: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctl::top::rates::tests::port;
    use std::time::{Duration, Instant};
    use zerocp_core::fixed_string::FixedString;
    use zerocp_core::wire::ProcessState;

    fn process(pid: u32, name: &str) -> ProcessInfo {
        ProcessInfo {
            pid,
            process_slot: 0,
            name: FixedString::from_str_truncated(name),
            state: ProcessState::Alive,
            heartbeat_age_ms: 3,
            chunks_held: 0,
        }
    }

    fn snapshot(at: Instant, ports: Vec<PortInfo>) -> Snapshot {
        Snapshot {
            domain: "d".into(),
            at,
            processes: vec![process(10, "camera"), process(11, "viewer")],
            ports,
            mempools: Vec::new(),
        }
    }

    #[test]
    fn a_frame_sums_publishers_and_names_their_processes() {
        let start = Instant::now();
        let mut a = port("E", PortKind::Publisher, 0, 10);
        let mut b = port("E", PortKind::Publisher, 1, 10);
        let mut s = port("E", PortKind::Subscriber, 2, 11);
        s.dropped = 2;
        let before = snapshot(start, vec![a.clone(), b.clone(), s.clone()]);
        a.published = 30;
        b.published = 20;
        s.dropped = 7;
        s.queue_len = 1;
        s.queue_capacity = 4;
        let after = snapshot(start + Duration::from_millis(500), vec![a, b, s]);

        let first = Frame::new(None, &before);
        assert_eq!(first.interval_s, None);
        assert_eq!(first.services[0].publish_rate_hz, None);
        assert_eq!(first.subscribers[0].drops_per_s, None);

        let frame = Frame::new(Some(&before), &after);
        assert_eq!(frame.interval_s, Some(0.5));
        let service = &frame.services[0];
        assert_eq!(service.service, "S/I/E");
        assert_eq!((service.publishers, service.subscribers), (2, 1));
        assert_eq!(service.processes, ["camera"]);
        assert_eq!(service.publish_rate_hz, Some(100.0));
        assert_eq!(service.bytes_per_s, Some(800.0), "u64 payloads");
        assert_eq!(service.dropped, 7);
        let sub = &frame.subscribers[0];
        assert_eq!(sub.process.as_deref(), Some("viewer"));
        assert_eq!((sub.queue_len, sub.queue_capacity), (1, 4));
        assert_eq!(sub.drops_per_s, Some(10.0));
    }

    #[test]
    fn a_slice_service_has_a_rate_but_no_bandwidth() {
        let start = Instant::now();
        let mut p = port("E", PortKind::Publisher, 0, 10);
        p.type_info.name = FixedString::from_str_truncated("[u8]");
        let before = snapshot(start, vec![p.clone()]);
        p.published = 10;
        let after = snapshot(start + Duration::from_secs(1), vec![p]);
        let frame = Frame::new(Some(&before), &after);
        assert_eq!(frame.services[0].shape, "slice");
        assert_eq!(frame.services[0].publish_rate_hz, Some(10.0));
        assert_eq!(frame.services[0].bytes_per_s, None);
    }
}
