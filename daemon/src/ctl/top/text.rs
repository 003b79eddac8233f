//! `top --once`: one frame as plain text (a heading, then each panel's
//! title and aligned table) or as one JSON object.
//!
//! JSON shape (`docs/cli-json.md`): `{"schema", "domain", "interval_s",
//! "processes":[{"pid", "name", "state", "heartbeat_age_ms",
//! "chunks_held"}], "services":[{"service", "type_name", "shape",
//! "payload_size", "publishers", "subscribers", "processes",
//! "publish_rate_hz", "bytes_per_s", "dropped"}], "subscribers":[{"service",
//! "port", "pid", "process", "queue_len", "queue_capacity", "dropped",
//! "drops_per_s", "receive_rate_hz"}], "mempools":[{"group", "chunk_size",
//! "chunk_count", "used", "min_free"}], "sort", "filter"}`: the
//! [`Frame`] as it is, then the sort key and filter it was ordered by.
//! Rates and bandwidths are floats, `null` when unknown (see
//! [`super::frame`]).

use serde::Serialize;

use super::frame::Frame;
use super::order::Order;
use super::panels::{heading, panels};
use crate::ctl::render::{table, to_json};

/// `frame` as text: the heading, then every panel (its title and table),
/// a blank line between them.
pub fn frame_text(frame: &Frame) -> String {
    let mut out = heading(frame) + "\n";
    for panel in panels(frame) {
        out.push('\n');
        out.push_str(&panel.title.to_uppercase());
        out.push('\n');
        out.push_str(&table(panel.header, &panel.rows));
    }
    out
}

/// `frame`, ordered by `order`, as one line of JSON (module docs).
pub fn frame_json(frame: &Frame, order: &Order) -> String {
    #[derive(Serialize)]
    struct Top<'a> {
        #[serde(flatten)]
        frame: &'a Frame,
        sort: &'static str,
        filter: &'a str,
    }
    to_json(&Top {
        frame,
        sort: order.sort.name(),
        filter: &order.filter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctl::top::frame::ProcessRow;

    fn frame() -> Frame {
        Frame {
            domain: "demo".into(),
            interval_s: Some(0.5),
            processes: vec![ProcessRow {
                pid: 7,
                name: "camera".into(),
                state: "alive",
                heartbeat_age_ms: 12,
                chunks_held: 1,
            }],
            services: Vec::new(),
            subscribers: Vec::new(),
            mempools: Vec::new(),
        }
    }

    #[test]
    fn text_has_a_heading_and_every_panel() {
        let text = frame_text(&frame());
        assert!(
            text.starts_with("zerocp domain demo: rates over 0.50 s\n"),
            "{text}"
        );
        for title in ["PROCESSES", "SERVICES", "SUBSCRIBERS", "MEMPOOLS"] {
            assert!(text.contains(&format!("\n{title}\n")), "{text}");
        }
        assert!(text.contains("7    camera  alive  12 ms"), "{text}");
    }

    #[test]
    fn json_is_the_frame_after_schema_then_the_order() {
        let line = frame_json(&frame(), &Order::default());
        assert!(
            line.starts_with(r#"{"schema":1,"domain":"demo","interval_s":0.5,"processes":[{"#),
            "{line}"
        );
        assert!(
            line.ends_with(r#""mempools":[],"sort":"name","filter":""}"#),
            "{line}"
        );
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["schema"], 1);
        assert_eq!(json["domain"], "demo");
        assert_eq!(json["interval_s"], 0.5);
        assert_eq!(json["processes"][0]["name"], "camera");
        assert_eq!(json["sort"], "name");
        assert_eq!(json["filter"], "");
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 9, "{keys:?}");
    }
}
