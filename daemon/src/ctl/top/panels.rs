//! A [`Frame`] as four panels of text cells: processes, services,
//! subscribers, mempools. Both renderings of a frame use them, the
//! terminal view (`draw`, one table per panel) and the plain text of
//! `--once` (`text`, one aligned table per panel), so the two show the
//! same columns the same way.
//!
//! Rates are samples per second (`100.0/s`), bandwidths bytes per second
//! in powers of 1000 (`2.40 KB/s`), an unknown rate or bandwidth `-` (the
//! first frame; a slice service's bandwidth; an event service).

use super::frame::{Frame, MempoolRow, ProcessRow, ServiceRow, SubscriberRow};
use crate::ctl::live::bw::bytes;

/// One panel: a title, column headers and rows of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    /// Its title.
    pub title: &'static str,
    /// Column headers.
    pub header: &'static [&'static str],
    /// One row of cells per item, as many as `header`.
    pub rows: Vec<Vec<String>>,
}

const PROCESSES: &[&str] = &["PID", "NAME", "STATE", "HEARTBEAT AGE", "CHUNKS"];
const SERVICES: &[&str] = &[
    "SERVICE",
    "TYPE",
    "PUB",
    "SUB",
    "RATE",
    "BANDWIDTH",
    "DROPPED",
    "PUBLISHED BY",
];
const SUBSCRIBERS: &[&str] = &[
    "SERVICE", "PID", "PROCESS", "QUEUE", "DROPPED", "DROPS", "RATE",
];
const MEMPOOLS: &[&str] = &["GROUP", "CHUNK SIZE", "USED", "COUNT", "USE", "MIN FREE"];

/// The four panels of `frame`, in the order they are shown.
pub fn panels(frame: &Frame) -> [Panel; 4] {
    [
        Panel {
            title: "Processes",
            header: PROCESSES,
            rows: frame.processes.iter().map(process).collect(),
        },
        Panel {
            title: "Services",
            header: SERVICES,
            rows: frame.services.iter().map(service).collect(),
        },
        Panel {
            title: "Subscribers",
            header: SUBSCRIBERS,
            rows: frame.subscribers.iter().map(subscriber).collect(),
        },
        Panel {
            title: "Mempools",
            header: MEMPOOLS,
            rows: frame.mempools.iter().map(mempool).collect(),
        },
    ]
}

/// The line above the panels: the domain and the interval of the rates.
pub fn heading(frame: &Frame) -> String {
    match frame.interval_s {
        Some(s) => format!("zerocp domain {}: rates over {s:.2} s", frame.domain),
        None => format!("zerocp domain {}: rates from the next frame", frame.domain),
    }
}

fn process(p: &ProcessRow) -> Vec<String> {
    vec![
        p.pid.to_string(),
        p.name.clone(),
        p.state.to_owned(),
        format!("{} ms", p.heartbeat_age_ms),
        p.chunks_held.to_string(),
    ]
}

fn service(s: &ServiceRow) -> Vec<String> {
    vec![
        s.service.clone(),
        format!("{} ({} B, {})", s.type_name, s.payload_size, s.shape),
        s.publishers.to_string(),
        s.subscribers.to_string(),
        rate(s.publish_rate_hz),
        s.bytes_per_s
            .map_or_else(dash, |b| format!("{}/s", bytes(b))),
        s.dropped.to_string(),
        s.processes.join(", "),
    ]
}

fn subscriber(s: &SubscriberRow) -> Vec<String> {
    vec![
        s.service.clone(),
        s.pid.to_string(),
        s.process.clone().unwrap_or_else(dash),
        format!("{}/{}", s.queue_len, s.queue_capacity),
        s.dropped.to_string(),
        rate(s.drops_per_s),
        rate(s.receive_rate_hz),
    ]
}

fn mempool(m: &MempoolRow) -> Vec<String> {
    let percent = match m.chunk_count {
        0 => 0.0,
        count => f64::from(m.used) * 100.0 / f64::from(count),
    };
    vec![
        m.group.clone(),
        m.chunk_size.to_string(),
        m.used.to_string(),
        m.chunk_count.to_string(),
        format!("{percent:.0}%"),
        m.min_free.to_string(),
    ]
}

/// Samples per second with one decimal, or `-`.
fn rate(per_s: Option<f64>) -> String {
    per_s.map_or_else(dash, |r| format!("{r:.1}/s"))
}

fn dash() -> String {
    "-".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_a_cell_per_column_and_unknown_rates_are_dashes() {
        let frame = Frame {
            domain: "d".into(),
            interval_s: None,
            processes: vec![ProcessRow {
                pid: 7,
                name: "camera".into(),
                state: "alive",
                heartbeat_age_ms: 12,
                chunks_held: 1,
            }],
            services: vec![ServiceRow {
                service: "A/B/C".into(),
                type_name: "[u8]".into(),
                shape: "slice",
                payload_size: 1,
                publishers: 1,
                subscribers: 0,
                processes: vec!["camera".into()],
                publish_rate_hz: Some(99.95),
                bytes_per_s: None,
                dropped: 0,
            }],
            subscribers: vec![SubscriberRow {
                service: "A/B/C".into(),
                port: 0,
                pid: 8,
                process: None,
                queue_len: 2,
                queue_capacity: 4,
                dropped: 3,
                drops_per_s: None,
                receive_rate_hz: Some(2500.0),
            }],
            mempools: vec![MempoolRow {
                group: "default".into(),
                chunk_size: 128,
                chunk_count: 8,
                used: 2,
                min_free: 5,
            }],
        };
        let panels = panels(&frame);
        for panel in &panels {
            for row in &panel.rows {
                assert_eq!(row.len(), panel.header.len(), "{}", panel.title);
            }
        }
        assert_eq!(panels[1].rows[0][4], "100.0/s");
        assert_eq!(panels[1].rows[0][5], "-", "a slice's bandwidth");
        assert_eq!(panels[2].rows[0][2..], ["-", "2/4", "3", "-", "2500.0/s"]);
        assert_eq!(panels[3].rows[0][4], "25%");
        assert!(heading(&frame).contains("next frame"));
    }
}
