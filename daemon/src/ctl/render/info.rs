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
//! registered with, `null` if it left between the two queries. `layout` is
//! the payload type's fields (one element's, for a slice) when it
//! describes itself, `[{"name", "offset", "kind", "len"}]` with `kind` one
//! of `u8` ... `u64`, `i8` ... `i64`, `f32`, `f64`, `bool`, `bytes` and
//! `len` the elements (1 for a scalar), else `null`; `layout_truncated` is
//! `true` when the type had more fields than a layout holds (the first ones
//! are listed). An event service lists
//! `"notifiers":[{"port", "pid", "process"}]` and `"listeners"` instead,
//! and a request/response channel has `"channel"` (both as `services`
//! has them).
//!
//! What is not shown yet: the user header type (the ports answer does not
//! carry it).

use serde::Serialize;
use zerocp_core::type_layout::{LayoutState, TypeLayout};
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

/// One field of the payload type's layout.
#[derive(Serialize)]
struct FieldJson<'a> {
    name: &'a str,
    offset: u32,
    kind: &'static str,
    len: u32,
}

/// The layout's fields, `None` for a type that does not describe itself.
fn fields(layout: &TypeLayout) -> Option<Vec<FieldJson<'_>>> {
    let fields = layout.fields.iter().map(|f| FieldJson {
        name: f.name.as_str(),
        offset: f.offset,
        kind: f.kind.name(),
        len: f.len,
    });
    layout.is_known().then(|| fields.collect())
}

#[derive(Serialize)]
struct InfoJson<'a> {
    service: String,
    type_name: &'a str,
    shape: &'static str,
    payload_size: u32,
    payload_align: u32,
    group: u32,
    layout: Option<Vec<FieldJson<'a>>>,
    layout_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'static str>,
    publishers: Vec<PortJson<'a, PublisherJson>>,
    subscribers: Vec<PortJson<'a, SubscriberJson>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notifiers: Vec<EventPortJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    listeners: Vec<EventPortJson<'a>>,
}

/// `ports` (of one service, at least one) with their owners' names, and
/// the service's `layout`.
fn info<'a>(
    ports: &'a [PortInfo],
    processes: &'a [ProcessInfo],
    layout: &'a TypeLayout,
) -> Option<InfoJson<'a>> {
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
        layout: fields(layout),
        layout_truncated: layout.state == LayoutState::Truncated,
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
pub fn info_json(ports: &[PortInfo], processes: &[ProcessInfo], layout: &TypeLayout) -> String {
    to_json(&info(ports, processes, layout))
}

/// `info SERVICE`, human-readable: the service and its type, the type's
/// fields when it describes itself, then a table of its ports.
pub fn info_text(ports: &[PortInfo], processes: &[ProcessInfo], layout: &TypeLayout) -> String {
    let Some(s) = info(ports, processes, layout) else {
        return String::new();
    };
    let mut text = format!(
        "service  {}\ntype     {} ({} B, align {}), {}\ngroup    {}\n\n",
        s.service, s.type_name, s.payload_size, s.payload_align, s.shape, s.group
    );
    text.push_str(&fields_text(s.layout.as_deref(), s.layout_truncated));
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

/// The layout as a table of name, offset, kind and elements, and a blank
/// line; `fields  unknown (samples are shown in hex)` without one.
fn fields_text(fields: Option<&[FieldJson<'_>]>, truncated: bool) -> String {
    let Some(fields) = fields else {
        return "fields   unknown (the type does not describe itself: samples are hex)\n\n".into();
    };
    let rows: Vec<Vec<String>> = fields
        .iter()
        .map(|f| {
            let (offset, len) = (f.offset.to_string(), f.len.to_string());
            vec![f.name.to_owned(), offset, f.kind.to_owned(), len]
        })
        .collect();
    let mut text = table(&["FIELD", "OFFSET", "KIND", "LEN"], &rows);
    if truncated {
        text.push_str("(more fields than a layout holds: the first ones)\n");
    }
    text.push('\n');
    text
}
