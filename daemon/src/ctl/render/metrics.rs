//! The `metrics` answer: every counter and gauge of a domain in the
//! Prometheus text exposition format, version 0.0.4, for fleets that scrape
//! (`zerocpctl metrics` behind a node exporter's textfile collector, or any
//! scraper that runs a command).
//!
//! One [`Scrape`] (the daemon's `Status` and its lists of processes, ports
//! and mempools, asked on one connection) becomes metric families named
//! `zerocp_…`, each with `# HELP` and `# TYPE` lines; counters end in
//! `_total`, times are in seconds. Every sample carries the `domain`
//! label; a port's also `service`, `kind`, `group`, `port` (its index in
//! the group), `pid` and `process` (its process's registered name, empty
//! if the process left between the two queries); a mempool's `group` and
//! `chunk_size`; a process's `pid` and `process`. The format itself is
//! `exposition`'s (`render/exposition.rs`).
//!
//! The numbers are what the daemon answered: its own counters, and the
//! ports' counters as their processes wrote them into shared memory
//! (displayed, never trusted). A counter restarts at 0 when its port is
//! created again (after a daemon restart, or by a new process).
//!
//! With `--json` the same families are printed as
//! `{"schema", "metrics":[{"name", "type", "help", "samples":[{"labels":{…},
//! "value"}]}]}` (`docs/cli-json.md`).

use zerocp_core::wire::{FindingKind, MempoolInfo, PortInfo, PortKind, ProcessInfo, Status};

use super::exposition::Kind::{Counter, Gauge};
use super::exposition::{Families, Kind, Labels, Value};
use super::status::finding_name;
use super::to_json;

/// What one `metrics` run asked the daemon.
#[derive(Debug, Clone, Copy)]
pub struct Scrape<'a> {
    /// The domain (the `domain` label of every sample).
    pub domain: &'a str,
    /// The daemon's status.
    pub status: &'a Status,
    /// The registered processes.
    pub processes: &'a [ProcessInfo],
    /// Every routed port.
    pub ports: &'a [PortInfo],
    /// Every mempool.
    pub mempools: &'a [MempoolInfo],
}

/// A family's name, type and help.
type Meta = (&'static str, Kind, &'static str);
/// A family and how its value is read from a `T`.
type Each<T, V> = (Meta, fn(&T) -> V);
/// A port family: which ports it lists (publishers, subscribers) and the value.
type PortFamily = (Meta, (bool, bool), fn(&PortInfo) -> Value);

/// The daemon-wide counts of `Status`.
const DAEMON: [Each<Status, u64>; 12] = [
    (("zerocp_processes", Gauge, "Registered processes."), |s| {
        s.processes.into()
    }),
    (("zerocp_publishers", Gauge, "Publisher ports."), |s| {
        s.publishers.into()
    }),
    (("zerocp_subscribers", Gauge, "Subscriber ports."), |s| {
        s.subscribers.into()
    }),
    (("zerocp_services", Gauge, "Distinct services."), |s| {
        s.services.into()
    }),
    (
        (
            "zerocp_processes_registered_total",
            Counter,
            "Registrations accepted.",
        ),
        |s| s.processes_registered,
    ),
    (
        (
            "zerocp_processes_died_total",
            Counter,
            "Processes removed without unregistering.",
        ),
        |s| s.processes_died,
    ),
    (
        (
            "zerocp_heartbeat_timeouts_total",
            Counter,
            "Processes dropped for missed heartbeats.",
        ),
        |s| s.heartbeat_timeouts,
    ),
    (
        (
            "zerocp_chunks_reclaimed_total",
            Counter,
            "Chunk references reclaimed from removed processes.",
        ),
        |s| s.chunks_reclaimed,
    ),
    (
        (
            "zerocp_connections_refused_total",
            Counter,
            "Connections refused by [access].",
        ),
        |s| s.refused_connections,
    ),
    (
        (
            "zerocp_connections_evicted_total",
            Counter,
            "Unregistered connections evicted for newcomers.",
        ),
        |s| s.evicted_connections,
    ),
    (
        (
            "zerocp_connections_expired_total",
            Counter,
            "Connections closed for not registering in time.",
        ),
        |s| s.expired_connections,
    ),
    (
        (
            "zerocp_audits_total",
            Counter,
            "Audits of shared memory run.",
        ),
        |s| s.audit.audits,
    ),
];

/// The per-process gauges.
const PROCESS: [Each<ProcessInfo, Value>; 2] = [
    (
        (
            "zerocp_process_heartbeat_age_seconds",
            Gauge,
            "Time since the process's last heartbeat.",
        ),
        |p| Value::from_ms(p.heartbeat_age_ms.into()),
    ),
    (
        (
            "zerocp_process_chunks_held",
            Gauge,
            "Chunk references the process's ports hold.",
        ),
        |p| Value::Count(p.chunks_held.into()),
    ),
];

/// The per-port families, each for publishers (`true`, `false`),
/// subscribers (`false`, `true`) or both.
const PORT: [PortFamily; 8] = [
    (
        (
            "zerocp_port_published_total",
            Counter,
            "Samples the publisher published.",
        ),
        (true, false),
        |p| Value::Count(p.published),
    ),
    (
        (
            "zerocp_port_loans_failed_total",
            Counter,
            "Loans that failed (too many, a quota, no chunk).",
        ),
        (true, false),
        |p| Value::Count(p.loans_failed),
    ),
    (
        (
            "zerocp_port_blocked_seconds_total",
            Counter,
            "Time waited for room in full queues.",
        ),
        (true, false),
        |p| Value::from_ns(p.blocked_ns),
    ),
    (
        (
            "zerocp_port_received_total",
            Counter,
            "Samples the subscriber took.",
        ),
        (false, true),
        |p| Value::Count(p.received),
    ),
    (
        (
            "zerocp_port_dropped_total",
            Counter,
            "Samples dropped from a full queue.",
        ),
        (false, true),
        |p| Value::Count(p.dropped),
    ),
    (
        (
            "zerocp_port_timed_out_total",
            Counter,
            "Deliveries given up after the publish timeout.",
        ),
        (true, true),
        |p| Value::Count(p.timed_out),
    ),
    (
        (
            "zerocp_port_queue_length",
            Gauge,
            "Samples queued for the subscriber.",
        ),
        (false, true),
        |p| Value::Count(p.queue_len.into()),
    ),
    (
        (
            "zerocp_port_queue_capacity",
            Gauge,
            "The subscriber's queue capacity.",
        ),
        (false, true),
        |p| Value::Count(p.queue_capacity.into()),
    ),
];

/// The per-mempool gauges.
const MEMPOOL: [Each<MempoolInfo, u32>; 4] = [
    (
        ("zerocp_mempool_chunks", Gauge, "Chunks of the pool."),
        |m| m.chunk_count,
    ),
    (
        ("zerocp_mempool_used_chunks", Gauge, "Chunks in use now."),
        |m| m.used,
    ),
    (
        (
            "zerocp_mempool_min_free_chunks",
            Gauge,
            "Fewest free chunks ever seen.",
        ),
        |m| m.min_free,
    ),
    (
        (
            "zerocp_mempool_port_quota_chunks",
            Gauge,
            "Chunks one port may hold.",
        ),
        |m| m.port_quota,
    ),
];

/// A port's labels (module docs).
fn port_labels(scrape: &Scrape<'_>, port: &PortInfo) -> Labels {
    let process = scrape
        .processes
        .iter()
        .find(|p| p.pid == port.owner_pid)
        .map_or("", |p| p.name.as_str());
    Labels::default()
        .with("service", port.service.to_string())
        .with("kind", port.kind.noun())
        .with("group", port.group)
        .with("port", port.port_index)
        .with("pid", port.owner_pid)
        .with("process", process)
}

/// Every family of `scrape`: daemon-wide, then processes, ports, mempools.
fn families(scrape: &Scrape<'_>) -> Families {
    let s = scrape.status;
    let mut f = Families::new(Labels::default().with("domain", scrape.domain));
    let uptime = (
        "zerocp_daemon_uptime_seconds",
        Gauge,
        "Time since the daemon started.",
    );
    f.single(uptime, Value::from_ms(s.uptime_ms));
    for (meta, of) in DAEMON {
        f.single(meta, Value::Count(of(s)));
    }
    f.family(
        "zerocp_audit_findings_total",
        Counter,
        "Audit findings, by kind.",
    );
    for &kind in FindingKind::ALL {
        if let Some(name) = finding_name(kind) {
            let labels = Labels::default().with("kind", name);
            f.sample(&labels, Value::Count(s.audit.get(kind)));
        }
    }
    for ((name, kind, help), of) in PROCESS {
        f.family(name, kind, help);
        for p in scrape.processes {
            let labels = Labels::default()
                .with("pid", p.pid)
                .with("process", p.name.as_str());
            f.sample(&labels, of(p));
        }
    }
    for ((name, kind, help), (publishers, subscribers), of) in PORT {
        f.family(name, kind, help);
        let wanted = |port: &&PortInfo| match port.kind {
            PortKind::Publisher => publishers,
            PortKind::Subscriber => subscribers,
            PortKind::Notifier | PortKind::Listener => false,
        };
        for port in scrape.ports.iter().filter(wanted) {
            f.sample(&port_labels(scrape, port), of(port));
        }
    }
    for ((name, kind, help), of) in MEMPOOL {
        f.family(name, kind, help);
        for m in scrape.mempools {
            let labels = Labels::default()
                .with("group", m.group.as_str())
                .with("chunk_size", m.chunk_size);
            f.sample(&labels, Value::Count(of(m).into()));
        }
    }
    f
}

/// `metrics`: the Prometheus text exposition format (0.0.4) of `scrape`.
///
/// ```
/// use zerocp_core::wire::{AuditCounts, Status};
/// use zerocp_daemon::ctl::render::{Scrape, metrics_text};
/// let status = Status {
///     daemon_pid: 1, uptime_ms: 1500, epoch: 1, processes: 0, publishers: 0,
///     subscribers: 0, services: 0, mgmt_size: 0, data_size: 0, control_size: 0,
///     refused_connections: 0, evicted_connections: 0, expired_connections: 0,
///     processes_registered: 4, processes_died: 1, heartbeat_timeouts: 0,
///     chunks_reclaimed: 3, audit: AuditCounts::new(),
/// };
/// let scrape = Scrape { domain: "demo", status: &status, processes: &[], ports: &[], mempools: &[] };
/// let text = metrics_text(&scrape);
/// assert!(text.contains("# TYPE zerocp_processes_died_total counter\n"));
/// assert!(text.contains("zerocp_processes_died_total{domain=\"demo\"} 1\n"));
/// assert!(text.contains("zerocp_daemon_uptime_seconds{domain=\"demo\"} 1.5\n"));
/// ```
pub fn metrics_text(scrape: &Scrape<'_>) -> String {
    families(scrape).text()
}

/// `metrics --json`: the same families as JSON (module docs).
pub fn metrics_json(scrape: &Scrape<'_>) -> String {
    #[derive(serde::Serialize)]
    struct All {
        metrics: Vec<super::exposition::Family>,
    }
    to_json(&All {
        metrics: families(scrape).into_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::fixed_string::FixedString;
    use zerocp_core::service::{ServiceDescription, TypeInfo};
    use zerocp_core::wire::{AuditCounts, ProcessState};

    fn status() -> Status {
        Status {
            daemon_pid: 1,
            uptime_ms: 2000,
            epoch: 1,
            processes: 1,
            publishers: 1,
            subscribers: 0,
            services: 1,
            mgmt_size: 0,
            data_size: 0,
            control_size: 0,
            refused_connections: 0,
            evicted_connections: 0,
            expired_connections: 0,
            processes_registered: 1,
            processes_died: 0,
            heartbeat_timeouts: 0,
            chunks_reclaimed: 0,
            audit: AuditCounts::new(),
        }
    }

    #[test]
    fn a_port_is_labelled_with_its_service_and_process_names_escaped() {
        let status = status();
        let process = ProcessInfo {
            pid: 42,
            process_slot: 0,
            name: FixedString::try_from_str("cam\"era\\1").unwrap(),
            state: ProcessState::Alive,
            heartbeat_age_ms: 250,
            chunks_held: 2,
        };
        let port = PortInfo {
            service: ServiceDescription::new("Robot", "Cam", "Img").unwrap(),
            kind: PortKind::Publisher,
            port_index: 3,
            group: 0,
            owner_pid: 42,
            queue_len: 0,
            queue_capacity: 0,
            dropped: 0,
            timed_out: 0,
            published: 17,
            received: 0,
            loans_failed: 2,
            blocked_ns: 1_500_000_000,
            type_info: TypeInfo::of::<u64>(),
        };
        let scrape = Scrape {
            domain: "demo",
            status: &status,
            processes: &[process],
            ports: &[port],
            mempools: &[],
        };
        let text = metrics_text(&scrape);
        let labels = r#"{domain="demo",service="Robot/Cam/Img",kind="publisher",group="0",port="3",pid="42",process="cam\"era\\1"}"#;
        assert!(
            text.contains(&format!("zerocp_port_published_total{labels} 17\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("zerocp_port_blocked_seconds_total{labels} 1.5\n")),
            "{text}"
        );
        // Subscriber families list no publisher.
        assert!(!text.contains("zerocp_port_received_total{"), "{text}");
        assert!(text.contains("# TYPE zerocp_port_received_total counter\n"));
        let json: serde_json::Value = serde_json::from_str(&metrics_json(&scrape)).unwrap();
        assert_eq!(json["schema"], 1);
        let published = json["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "zerocp_port_published_total")
            .unwrap();
        assert_eq!(published["type"], "counter");
        assert_eq!(published["samples"][0]["labels"]["process"], "cam\"era\\1");
        assert_eq!(published["samples"][0]["value"], 17);
    }
}
