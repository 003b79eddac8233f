//! The `info SERVICE` answer: one service's type, and its ports with the
//! names of the processes that own them (a **presentation**: the wire's
//! ports of the service, each joined with the processes answer by pid).
//!
//! JSON shape: `{"service", "type_name", "shape", "payload_size",
//! "payload_align", "group", "publishers":[{"port", "pid", "process",
//! "timed_out"}], "subscribers":[{"port", "pid", "process", "queue_len",
//! "queue_capacity", "dropped", "timed_out"}]}`; `shape` is `sized` or
//! `slice` (then `type_name` is the slice's, `[T]`, and `payload_size` and
//! `payload_align` are one element's); `process` is the name the owner
//! registered with, `null` if it left between the two queries; the
//! counters are those of `services`. An event service lists
//! `"notifiers":[{"port", "pid", "process"}]` and `"listeners"` instead,
//! and a request/response channel has `"channel"` (both as `services`
//! has them).
//!
//! What is not shown yet: the user header type (the ports answer does not
//! carry it) and per-port counts of samples published and received (no
//! such counter exists in shared memory yet).

use serde::Serialize;
use zerocp_core::wire::{PortInfo, PortKind, ProcessInfo};

use super::{table, to_json};
use crate::ctl::live::target;

#[derive(Serialize)]
struct PublisherJson<'a> {
    port: u32,
    pid: u32,
    process: Option<&'a str>,
    timed_out: u64,
}

#[derive(Serialize)]
struct SubscriberJson<'a> {
    port: u32,
    pid: u32,
    process: Option<&'a str>,
    queue_len: u32,
    queue_capacity: u32,
    dropped: u64,
    timed_out: u64,
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
    publishers: Vec<PublisherJson<'a>>,
    subscribers: Vec<SubscriberJson<'a>>,
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
    let shape = match target::service_type(&first.type_info).shape {
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
            PortKind::Publisher => out.publishers.push(PublisherJson {
                port,
                pid,
                process,
                timed_out: p.timed_out,
            }),
            PortKind::Subscriber => out.subscribers.push(SubscriberJson {
                port,
                pid,
                process,
                queue_len: p.queue_len,
                queue_capacity: p.queue_capacity,
                dropped: p.dropped,
                timed_out: p.timed_out,
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
        rows.push(vec![
            sender.trim().to_owned(),
            p.port.to_string(),
            p.pid.to_string(),
            process(p.process),
            "-".into(),
            "-".into(),
            p.timed_out.to_string(),
        ]);
    }
    for p in &s.subscribers {
        rows.push(vec![
            receiver.trim().to_owned(),
            p.port.to_string(),
            p.pid.to_string(),
            process(p.process),
            format!("{}/{}", p.queue_len, p.queue_capacity),
            p.dropped.to_string(),
            p.timed_out.to_string(),
        ]);
    }
    for (noun, list) in [("notifier", &s.notifiers), ("listener", &s.listeners)] {
        for p in list {
            rows.push(vec![
                noun.to_owned(),
                p.port.to_string(),
                p.pid.to_string(),
                process(p.process),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
        }
    }
    text.push_str(&table(
        &[
            "PORT",
            "INDEX",
            "PID",
            "PROCESS",
            "QUEUE",
            "DROPPED",
            "TIMED OUT",
        ],
        &rows,
    ));
    text
}
