//! The `services` answer: services and their ports (a **presentation**: the
//! wire's flat list of [`PortInfo`] is grouped under each service, with the
//! service as one string and the type's fields renamed).
//!
//! JSON shape: `{"services":[{"service", "type_name", "payload_size",
//! "payload_align", "publishers":[{"port", "pid", "timed_out"}],
//! "subscribers":[{"port", "pid", "queue_len", "queue_capacity", "dropped",
//! "timed_out"}], "group"}]}` (`group`: the service's segment group by index,
//! `default` = 0; a `port` is an index in it; `timed_out`: samples a
//! publisher gave up delivering, or a subscriber did not get, after a
//! publish timeout). An event service lists `"notifiers":[{"port", "pid"}]`
//! and `"listeners":[{"port", "pid"}]` instead (each key only when not
//! empty), its `type_name` `zerocp::event` with size 0.

use serde::Serialize;
use zerocp_core::wire::{PortInfo, PortKind};

use super::{table, to_json};

#[derive(Serialize)]
struct PublisherJson {
    port: u32,
    pid: u32,
    timed_out: u64,
}

#[derive(Serialize)]
struct SubscriberJson {
    port: u32,
    pid: u32,
    queue_len: u32,
    queue_capacity: u32,
    dropped: u64,
    timed_out: u64,
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
    /// The service's segment group (its index, `default` = 0): its ports'
    /// `port` numbers are indices in that group.
    group: u32,
}

/// Groups ports (ordered by service, as the daemon sends them) by service.
fn services(ports: &[PortInfo]) -> Vec<ServiceJson> {
    let mut out: Vec<ServiceJson> = Vec::new();
    for port in ports {
        let name = port.service.to_string();
        if out.last().is_none_or(|s| s.service != name) {
            out.push(ServiceJson {
                service: name,
                type_name: port.type_info.name.as_str().to_owned(),
                payload_size: port.type_info.size,
                payload_align: port.type_info.align,
                publishers: Vec::new(),
                subscribers: Vec::new(),
                notifiers: Vec::new(),
                listeners: Vec::new(),
                group: port.group,
            });
        }
        let Some(service) = out.last_mut() else {
            continue;
        };
        match port.kind {
            PortKind::Publisher => service.publishers.push(PublisherJson {
                port: port.port_index,
                pid: port.owner_pid,
                timed_out: port.timed_out,
            }),
            PortKind::Subscriber => service.subscribers.push(SubscriberJson {
                port: port.port_index,
                pid: port.owner_pid,
                queue_len: port.queue_len,
                queue_capacity: port.queue_capacity,
                dropped: port.dropped,
                timed_out: port.timed_out,
            }),
            PortKind::Notifier => service.notifiers.push(EventPortJson {
                port: port.port_index,
                pid: port.owner_pid,
            }),
            PortKind::Listener => service.listeners.push(EventPortJson {
                port: port.port_index,
                pid: port.owner_pid,
            }),
        }
    }
    out
}

/// `services`, human-readable: one line per service, its ports indented below.
pub fn services_text(ports: &[PortInfo]) -> String {
    let mut rows = Vec::new();
    for s in services(ports) {
        rows.push(vec![
            s.service.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!(
                "{} ({} B, align {}), group {}",
                s.type_name, s.payload_size, s.payload_align, s.group
            ),
        ]);
        for p in &s.publishers {
            rows.push(vec![
                "  publisher".into(),
                p.port.to_string(),
                p.pid.to_string(),
                "-".into(),
                "-".into(),
                p.timed_out.to_string(),
                String::new(),
            ]);
        }
        for p in &s.subscribers {
            rows.push(vec![
                "  subscriber".into(),
                p.port.to_string(),
                p.pid.to_string(),
                format!("{}/{}", p.queue_len, p.queue_capacity),
                p.dropped.to_string(),
                p.timed_out.to_string(),
                String::new(),
            ]);
        }
        let events = [("  notifier", &s.notifiers), ("  listener", &s.listeners)];
        for (noun, ports) in events {
            for p in ports {
                rows.push(vec![
                    noun.into(),
                    p.port.to_string(),
                    p.pid.to_string(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    String::new(),
                ]);
            }
        }
    }
    table(
        &[
            "SERVICE / PORT",
            "INDEX",
            "PID",
            "QUEUE",
            "DROPPED",
            "TIMED OUT",
            "TYPE",
        ],
        &rows,
    )
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
