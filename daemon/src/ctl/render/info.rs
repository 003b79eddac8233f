//! The `info SERVICE` answer: one service's type, and its ports with the
//! names of the processes that own them (a **presentation**: the wire's
//! ports of the service, each joined with the processes answer by pid).
//!
//! JSON shape: `{"schema", "service", "type_name", "shape", "payload_size",
//! "payload_align", "group", "publishers":[{…, "process"}],
//! "subscribers":[{…, "process"}]}`, each port as `services` shows it
//! (counters included) followed by its owner's name; `shape` is `sized` or
//! `slice` (then `type_name` is the slice's, `[T]`, and `payload_size` and
//! `payload_align` are one element's); `process` is the name the owner
//! registered with, `null` if it left between the two queries. An event service lists
//! `"notifiers":[{"port", "pid", "process"}]` and `"listeners"` instead,
//! and a request/response channel has `"channel"` (both as `services`
//! has them).
//!
//! What is not shown yet: the user header type (the ports answer does not
//! carry it).

use serde::Serialize;
use zerocp_core::wire::{PortInfo, PortKind, ProcessInfo};

use super::services::{PORT_COLUMNS, PublisherJson, SubscriberJson};
use super::{table, to_json};

/// A publisher or subscriber: what `services` shows of it, then its
/// owner's name.
#[derive(Serialize)]
struct PortJson<'a, P> {
    #[serde(flatten)]
    port: P,
    process: Option<&'a str>,
}

#[derive(Serialize)]
struct EventPortJson<'a> {
    port: u32,
    pid: u32,
    process: Option<&'a str>,
}

#[derive(Serialize)]
struct InfoJson<'a> {
    service: String,
    type_name: &'a str,
    shape: &'static str,
    payload_size: u32,
    payload_align: u32,
    group: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'static str>,
    publishers: Vec<PortJson<'a, PublisherJson>>,
    subscribers: Vec<PortJson<'a, SubscriberJson>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notifiers: Vec<EventPortJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    listeners: Vec<EventPortJson<'a>>,
}

/// `ports` (of one service, at least one) with their owners' names.
fn info<'a>(ports: &'a [PortInfo], processes: &'a [ProcessInfo]) -> Option<InfoJson<'a>> {
    let first = ports.first()?;
    let name = |pid: u32| {
        processes
            .iter()
            .find(|p| p.pid == pid)
            .map(|p| p.name.as_str())
    };
    let type_name = first.type_info.name.as_str();
    let shape = match zerocp::ServiceType::from_reported(&first.type_info).shape {
        zerocp::PayloadShape::Sized => "sized",
        zerocp::PayloadShape::Slice => "slice",
    };
    let mut out = InfoJson {
        service: first.service.to_string(),
        type_name,
        shape,
        payload_size: first.type_info.size,
        payload_align: first.type_info.align,
        group: first.group,
        channel: super::services::channel(type_name),
        publishers: Vec::new(),
        subscribers: Vec::new(),
        notifiers: Vec::new(),
        listeners: Vec::new(),
    };
    for p in ports {
        let (port, pid, process) = (p.port_index, p.owner_pid, name(p.owner_pid));
        match p.kind {
            PortKind::Publisher => out.publishers.push(PortJson {
                port: PublisherJson::of(p),
                process,
            }),
            PortKind::Subscriber => out.subscribers.push(PortJson {
                port: SubscriberJson::of(p),
                process,
            }),
            PortKind::Notifier => out.notifiers.push(EventPortJson { port, pid, process }),
            PortKind::Listener => out.listeners.push(EventPortJson { port, pid, process }),
        }
    }
    Some(out)
}

/// `info SERVICE --json`.
pub fn info_json(ports: &[PortInfo], processes: &[ProcessInfo]) -> String {
    to_json(&info(ports, processes))
}

/// `info SERVICE`, human-readable: the service and its type, then a table
/// of its ports.
pub fn info_text(ports: &[PortInfo], processes: &[ProcessInfo]) -> String {
    let Some(s) = info(ports, processes) else {
        return String::new();
    };
    let mut text = format!(
        "service  {}\ntype     {} ({} B, align {}), {}\ngroup    {}\n\n",
        s.service, s.type_name, s.payload_size, s.payload_align, s.shape, s.group
    );
    let (sender, receiver) = super::services::nouns(s.channel);
    let process = |name: Option<&str>| name.unwrap_or("-").to_owned();
    let mut rows = Vec::new();
    for p in &s.publishers {
        let head = vec![sender.trim().to_owned(), process(p.process)];
        rows.push([head, p.port.cells()].concat());
    }
    for p in &s.subscribers {
        let head = vec![receiver.trim().to_owned(), process(p.process)];
        rows.push([head, p.port.cells()].concat());
    }
    for (noun, list) in [("notifier", &s.notifiers), ("listener", &s.listeners)] {
        for p in list {
            let mut row = vec!["-".to_owned(); PORT_COLUMNS.len() + 2];
            row[0] = noun.to_owned();
            row[1] = process(p.process);
            row[2] = p.port.to_string();
            row[3] = p.pid.to_string();
            rows.push(row);
        }
    }
    let columns: Vec<&str> = ["PORT", "PROCESS"]
        .into_iter()
        .chain(PORT_COLUMNS)
        .collect();
    text.push_str(&table(&columns, &rows));
    text
}
