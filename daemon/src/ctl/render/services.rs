//! The `services` answer: services and their ports (a **presentation**: the
//! wire's flat list of [`PortInfo`] is grouped under each service, with the
//! service as one string and the type's fields renamed).
//!
//! JSON shape: `{"schema", "services":[{"service", "type_name", "payload_size",
//! "payload_align", "publishers":[{"port", "pid", "timed_out", "published",
//! "loans_failed", "blocked_ns"}], "subscribers":[{"port", "pid",
//! "queue_len", "queue_capacity", "dropped", "timed_out", "received"}],
//! "group"}]}` (`group`: the service's segment group by index, `default` =
//! 0; a `port` is an index in it; `timed_out`: samples a publisher gave up
//! delivering, or a subscriber did not get, after a publish timeout;
//! `published`, `received`: samples published, samples taken;
//! `loans_failed`: loans refused (too many, a quota, no free chunk);
//! `blocked_ns`: time publishes waited for room in block-publisher queues;
//! every counter since the port was created, as its process wrote it). An event service lists `"notifiers":[{"port", "pid"}]`
//! and `"listeners":[{"port", "pid"}]` instead (each key only when not
//! empty), its `type_name` `zerocp::event` with size 0. A channel of a
//! request/response service (`S/I/E:request`, `S/I/E:response`, whose
//! ports' types carry the channel's tag) has `"channel": "request"` or
//! `"response"`: on a request channel the publishers are the clients and
//! the subscribers the servers, on a response channel the other way round
//! (the text output names them so).

use serde::Serialize;
use zerocp_core::service::{REQUEST_TYPE_TAG, RESPONSE_TYPE_TAG};
use zerocp_core::wire::{PortInfo, PortKind};

use super::{table, to_json};

/// A publisher as `services` and `info` show it.
#[derive(Serialize)]
pub(super) struct PublisherJson {
    port: u32,
    pid: u32,
    timed_out: u64,
    published: u64,
    loans_failed: u64,
    blocked_ns: u64,
}

/// A subscriber as `services` and `info` show it.
#[derive(Serialize)]
pub(super) struct SubscriberJson {
    port: u32,
    pid: u32,
    queue_len: u32,
    queue_capacity: u32,
    dropped: u64,
    timed_out: u64,
    received: u64,
}

#[derive(Serialize)]
struct EventPortJson {
    port: u32,
    pid: u32,
}

#[derive(Serialize)]
struct ServiceJson {
    service: String,
    type_name: String,
    payload_size: u32,
    payload_align: u32,
    publishers: Vec<PublisherJson>,
    subscribers: Vec<SubscriberJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notifiers: Vec<EventPortJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    listeners: Vec<EventPortJson>,
    /// `request` or `response` on a request/response service's channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'static str>,
    /// The service's segment group (its index, `default` = 0): its ports'
    /// `port` numbers are indices in that group.
    group: u32,
}

/// Groups ports (ordered by service, as the daemon sends them) by service.
fn services(ports: &[PortInfo]) -> Vec<ServiceJson> {
    ports
        .chunk_by(|a, b| a.service == b.service)
        .map(ServiceJson::of)
        .collect()
}

impl ServiceJson {
    /// One service's entry from its ports (at least one, all of it).
    fn of(ports: &[PortInfo]) -> Self {
        let first = &ports[0];
        let type_name = first.type_info.name.as_str();
        let mut service = Self {
            service: first.service.to_string(),
            channel: channel(type_name),
            type_name: type_name.to_owned(),
            payload_size: first.type_info.size,
            payload_align: first.type_info.align,
            publishers: Vec::new(),
            subscribers: Vec::new(),
            notifiers: Vec::new(),
            listeners: Vec::new(),
            group: first.group,
        };
        for port in ports {
            service.add(port);
        }
        service
    }

    /// Lists `port` under its kind.
    fn add(&mut self, port: &PortInfo) {
        let event_port = EventPortJson {
            port: port.port_index,
            pid: port.owner_pid,
        };
        match port.kind {
            PortKind::Publisher => self.publishers.push(PublisherJson::of(port)),
            PortKind::Subscriber => self.subscribers.push(SubscriberJson::of(port)),
            PortKind::Notifier => self.notifiers.push(event_port),
            PortKind::Listener => self.listeners.push(event_port),
        }
    }
}

/// The request/response channel a port type's tag names, if any.
pub(crate) fn channel(type_name: &str) -> Option<&'static str> {
    if type_name.starts_with(REQUEST_TYPE_TAG) {
        Some("request")
    } else if type_name.starts_with(RESPONSE_TYPE_TAG) {
        Some("response")
    } else {
        None
    }
}

/// What the text output calls a service's publishers and subscribers:
/// clients and servers on a request/response channel.
pub(crate) fn nouns(channel: Option<&str>) -> (&'static str, &'static str) {
    match channel {
        Some("request") => ("  client", "  server"),
        Some(_) => ("  server", "  client"),
        None => ("  publisher", "  subscriber"),
    }
}

/// `services`, human-readable: one line per service, its ports indented
/// below (`SAMPLES`: published by a publisher, taken by a subscriber).
pub fn services_text(ports: &[PortInfo]) -> String {
    let dash = || "-".to_owned();
    let mut rows = Vec::new();
    for s in services(ports) {
        let (sender, receiver) = nouns(s.channel);
        let mut service_row = vec![String::new(); COLUMNS.len()];
        service_row[0] = s.service.clone();
        service_row[COLUMNS.len() - 1] = format!(
            "{} ({} B, align {}), group {}",
            s.type_name, s.payload_size, s.payload_align, s.group
        );
        rows.push(service_row);
        for p in &s.publishers {
            rows.push([vec![sender.into()], p.cells()].concat());
        }
        for p in &s.subscribers {
            rows.push([vec![receiver.into()], p.cells()].concat());
        }
        let events = [("  notifier", &s.notifiers), ("  listener", &s.listeners)];
        for (noun, ports) in events {
            for p in ports {
                let mut row = vec![dash(); COLUMNS.len() - 1];
                row[0] = noun.into();
                row[1] = p.port.to_string();
                row[2] = p.pid.to_string();
                rows.push(row);
            }
        }
    }
    table(&COLUMNS, &rows)
}

/// The columns of `services`' table: the port's noun, then
/// [`PORT_COLUMNS`], then the service's type.
const COLUMNS: [&str; 10] = [
    "SERVICE / PORT",
    PORT_COLUMNS[0],
    PORT_COLUMNS[1],
    PORT_COLUMNS[2],
    PORT_COLUMNS[3],
    PORT_COLUMNS[4],
    PORT_COLUMNS[5],
    PORT_COLUMNS[6],
    PORT_COLUMNS[7],
    "TYPE",
];

/// A port's columns, as [`PublisherJson::cells`] and
/// [`SubscriberJson::cells`] fill them (`SAMPLES`: published by a
/// publisher, taken by a subscriber).
pub(super) const PORT_COLUMNS: [&str; 8] = [
    "INDEX",
    "PID",
    "SAMPLES",
    "QUEUE",
    "DROPPED",
    "TIMED OUT",
    "LOANS FAILED",
    "BLOCKED",
];

impl PublisherJson {
    pub(super) fn of(port: &PortInfo) -> Self {
        Self {
            port: port.port_index,
            pid: port.owner_pid,
            timed_out: port.timed_out,
            published: port.published,
            loans_failed: port.loans_failed,
            blocked_ns: port.blocked_ns,
        }
    }

    /// Its [`PORT_COLUMNS`].
    pub(super) fn cells(&self) -> Vec<String> {
        vec![
            self.port.to_string(),
            self.pid.to_string(),
            self.published.to_string(),
            "-".into(),
            "-".into(),
            self.timed_out.to_string(),
            self.loans_failed.to_string(),
            blocked_ms(self.blocked_ns),
        ]
    }
}

impl SubscriberJson {
    pub(super) fn of(port: &PortInfo) -> Self {
        Self {
            port: port.port_index,
            pid: port.owner_pid,
            queue_len: port.queue_len,
            queue_capacity: port.queue_capacity,
            dropped: port.dropped,
            timed_out: port.timed_out,
            received: port.received,
        }
    }

    /// Its [`PORT_COLUMNS`].
    pub(super) fn cells(&self) -> Vec<String> {
        vec![
            self.port.to_string(),
            self.pid.to_string(),
            self.received.to_string(),
            format!("{}/{}", self.queue_len, self.queue_capacity),
            self.dropped.to_string(),
            self.timed_out.to_string(),
            "-".into(),
            "-".into(),
        ]
    }
}

/// Nanoseconds blocked as milliseconds with three decimals, e.g. `1.250 ms`.
fn blocked_ms(ns: u64) -> String {
    format!("{}.{:03} ms", ns / 1_000_000, ns / 1_000 % 1_000)
}

/// `services --json`.
pub fn services_json(ports: &[PortInfo]) -> String {
    #[derive(Serialize)]
    struct All {
        services: Vec<ServiceJson>,
    }
    to_json(&All {
        services: services(ports),
    })
}
