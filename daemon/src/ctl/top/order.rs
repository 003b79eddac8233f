//! Which rows of a [`Frame`] are shown, and in which order: the sort key
//! and the filter of `top` (`--sort`, `--filter`, and the `s` and `/` keys).
//!
//! **Sorting.** A [`SortKey`] orders every panel it applies to: `name`
//! (services and subscribers by service, processes by name), `pid`
//! (processes and subscribers), `rate` (services by publish rate,
//! subscribers by take rate), `bandwidth` (services) and `drops` (services
//! by their subscribers' drops, subscribers by their own). Numbers sort
//! highest first, names alphabetically; a key that does not apply to a
//! panel orders it by name, and ties keep the daemon's order. Mempools
//! keep the daemon's order (by group, then chunk size).
//!
//! **Filtering.** A filter is a piece of text, matched without regard to
//! case: a service row is shown if its name or one of its publishers'
//! process names contains it, a subscriber if its service or its
//! process's name does, a process if its name does or it publishes on a
//! shown service. Mempools are not filtered. An empty filter shows all.

use std::cmp::Ordering;
use std::fmt;

use super::frame::{Frame, ProcessRow, ServiceRow, SubscriberRow};

/// The column rows are sorted by (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By name.
    #[default]
    Name,
    /// By pid.
    Pid,
    /// By rate, highest first.
    Rate,
    /// By bandwidth, highest first.
    Bandwidth,
    /// By drops, most first.
    Drops,
}

/// Every key, in the order the `s` key cycles through them.
const KEYS: [SortKey; 5] = [
    SortKey::Name,
    SortKey::Pid,
    SortKey::Rate,
    SortKey::Bandwidth,
    SortKey::Drops,
];

impl SortKey {
    /// The key written `text` (`--sort`): `name`, `pid`, `rate`,
    /// `bandwidth` (or `bw`), `drops`.
    ///
    /// ```
    /// use zerocp_daemon::ctl::top::SortKey;
    /// assert_eq!(SortKey::parse("bw"), Some(SortKey::Bandwidth));
    /// assert_eq!(SortKey::parse("size"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "bw" => Some(Self::Bandwidth),
            _ => KEYS.into_iter().find(|k| k.name() == text),
        }
    }

    /// The next key of the cycle (after `drops`: `name`).
    pub fn next(self) -> Self {
        let at = KEYS.iter().position(|&k| k == self).unwrap_or(0);
        KEYS[(at + 1) % KEYS.len()]
    }

    /// Its name, as `--sort` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Pid => "pid",
            Self::Rate => "rate",
            Self::Bandwidth => "bandwidth",
            Self::Drops => "drops",
        }
    }
}

impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A sort key and a filter (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Order {
    /// The sort key.
    pub sort: SortKey,
    /// The filter text (empty: everything).
    pub filter: String,
}

impl Order {
    /// `frame` with only the rows the filter matches, sorted.
    pub fn apply(&self, frame: &Frame) -> Frame {
        let needle = self.filter.to_lowercase();
        let matches = |text: &str| text.to_lowercase().contains(&needle);
        let mut out = frame.clone();
        out.services.retain(|s| {
            needle.is_empty() || matches(&s.service) || s.processes.iter().any(|p| matches(p))
        });
        out.subscribers.retain(|s| {
            needle.is_empty() || matches(&s.service) || s.process.as_deref().is_some_and(matches)
        });
        let shown = &out.services;
        out.processes.retain(|p| {
            needle.is_empty()
                || matches(&p.name)
                || shown.iter().any(|s| s.processes.contains(&p.name))
        });
        out.processes.sort_by(|a, b| self.processes(a, b));
        out.services.sort_by(|a, b| self.services(a, b));
        out.subscribers.sort_by(|a, b| self.subscribers(a, b));
        out
    }

    fn processes(&self, a: &ProcessRow, b: &ProcessRow) -> Ordering {
        match self.sort {
            SortKey::Pid => a.pid.cmp(&b.pid),
            _ => a.name.cmp(&b.name),
        }
    }

    fn services(&self, a: &ServiceRow, b: &ServiceRow) -> Ordering {
        match self.sort {
            SortKey::Rate => highest(a.publish_rate_hz, b.publish_rate_hz),
            SortKey::Bandwidth => highest(a.bytes_per_s, b.bytes_per_s),
            SortKey::Drops => b.dropped.cmp(&a.dropped),
            SortKey::Name | SortKey::Pid => Ordering::Equal,
        }
        .then_with(|| a.service.cmp(&b.service))
    }

    fn subscribers(&self, a: &SubscriberRow, b: &SubscriberRow) -> Ordering {
        match self.sort {
            SortKey::Pid => a.pid.cmp(&b.pid),
            SortKey::Rate => highest(a.receive_rate_hz, b.receive_rate_hz),
            SortKey::Drops => b.dropped.cmp(&a.dropped),
            SortKey::Name | SortKey::Bandwidth => Ordering::Equal,
        }
        .then_with(|| a.service.cmp(&b.service))
    }
}

/// Highest first; an unknown value last.
fn highest(a: Option<f64>, b: Option<f64>) -> Ordering {
    let value = |v: Option<f64>| v.unwrap_or(f64::NEG_INFINITY);
    value(b).total_cmp(&value(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, rate: Option<f64>, dropped: u64, process: &str) -> ServiceRow {
        ServiceRow {
            service: name.into(),
            type_name: "u64".into(),
            shape: "sized",
            payload_size: 8,
            publishers: 1,
            subscribers: 1,
            processes: vec![process.into()],
            publish_rate_hz: rate,
            bytes_per_s: rate.map(|r| r * 8.0),
            dropped,
        }
    }

    fn process(pid: u32, name: &str) -> ProcessRow {
        ProcessRow {
            pid,
            name: name.into(),
            state: "alive",
            heartbeat_age_ms: 1,
            chunks_held: 0,
        }
    }

    fn subscriber(service: &str, pid: u32, process: &str, dropped: u64) -> SubscriberRow {
        SubscriberRow {
            service: service.into(),
            port: 0,
            pid,
            process: Some(process.into()),
            queue_len: 0,
            queue_capacity: 4,
            dropped,
            drops_per_s: None,
            receive_rate_hz: Some(f64::from(pid)),
        }
    }

    fn frame() -> Frame {
        Frame {
            domain: "d".into(),
            interval_s: Some(1.0),
            processes: vec![
                process(30, "lidar"),
                process(10, "camera"),
                process(20, "viewer"),
            ],
            services: vec![
                service("Cam/front/Image", Some(30.0), 0, "camera"),
                service("Lidar/top/Scan", Some(10.0), 5, "lidar"),
                service("Cam/back/Image", None, 1, "camera"),
            ],
            subscribers: vec![
                subscriber("Lidar/top/Scan", 20, "viewer", 5),
                subscriber("Cam/front/Image", 21, "viewer", 0),
            ],
            mempools: Vec::new(),
        }
    }

    fn services(frame: &Frame) -> Vec<&str> {
        frame.services.iter().map(|s| s.service.as_str()).collect()
    }

    #[test]
    fn the_sort_key_cycles_and_parses() {
        let mut key = SortKey::default();
        let mut seen = vec![key];
        for _ in 0..KEYS.len() {
            key = key.next();
            seen.push(key);
        }
        assert_eq!(seen.first(), seen.last(), "back to the start: {seen:?}");
        for key in KEYS {
            assert_eq!(SortKey::parse(key.name()), Some(key));
        }
        assert_eq!(SortKey::parse("Name"), None);
    }

    #[test]
    fn sorting_by_name_rate_and_drops() {
        let by = |sort| {
            Order {
                sort,
                filter: String::new(),
            }
            .apply(&frame())
        };
        let named = by(SortKey::Name);
        assert_eq!(
            services(&named),
            ["Cam/back/Image", "Cam/front/Image", "Lidar/top/Scan"]
        );
        let names: Vec<&str> = named.processes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["camera", "lidar", "viewer"]);
        assert_eq!(
            services(&by(SortKey::Rate)),
            ["Cam/front/Image", "Lidar/top/Scan", "Cam/back/Image"],
            "highest first, unknown last"
        );
        assert_eq!(
            services(&by(SortKey::Drops)),
            ["Lidar/top/Scan", "Cam/back/Image", "Cam/front/Image"]
        );
        let pids: Vec<u32> = by(SortKey::Pid).processes.iter().map(|p| p.pid).collect();
        assert_eq!(pids, [10, 20, 30]);
        let subscribers = by(SortKey::Rate).subscribers;
        assert_eq!(subscribers[0].pid, 21);
    }

    #[test]
    fn the_filter_matches_services_and_process_names_without_case() {
        let filtered = |text: &str| {
            Order {
                sort: SortKey::Name,
                filter: text.into(),
            }
            .apply(&frame())
        };
        let cam = filtered("cAm");
        assert_eq!(services(&cam), ["Cam/back/Image", "Cam/front/Image"]);
        let names: Vec<&str> = cam.processes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["camera"], "the publisher of a shown service");
        assert_eq!(cam.subscribers.len(), 1);

        let viewer = filtered("viewer");
        assert!(viewer.services.is_empty());
        assert_eq!(viewer.subscribers.len(), 2, "its own subscribers");
        assert_eq!(viewer.processes.len(), 1);

        let lidar = filtered("LIDAR");
        assert_eq!(services(&lidar), ["Lidar/top/Scan"]);
        assert!(filtered("nothing").processes.is_empty());
        assert_eq!(filtered("").services.len(), 3);
    }
}
