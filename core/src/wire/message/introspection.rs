//! The introspection queries' answers (`zerocpctl status`, `processes`,
//! `services`, `mempools`): [`Status`], the pages of processes and ports
//! and the [`PageRequest`] that asks for one, and every pool's usage.
//! (Segment groups, also paged, are in `groups`.)

use super::{AuditCounts, MAX_GROUP_NAME_LEN, PortKind};
use crate::fixed_string::FixedString;
use crate::mempool::MAX_MEMPOOLS;
use crate::service::{ServiceDescription, TypeInfo};
use crate::wire::codec::{wire_enum, wire_struct};

/// `next` of the last page of a paged query.
pub const PAGE_END: u32 = u32::MAX;

/// Entries per [`ProcessesPage`] (fits [`MAX_FRAME_SIZE`](crate::wire::MAX_FRAME_SIZE),
/// asserted at compile time).
pub const PROCESSES_PER_PAGE: usize = 64;

/// Entries per [`PortsPage`] (fits [`MAX_FRAME_SIZE`](crate::wire::MAX_FRAME_SIZE),
/// asserted at compile time).
pub const PORTS_PER_PAGE: usize = 8;

wire_enum! {
    /// Liveness of a registered process, as the daemon sees it.
    pub enum ProcessState: u8 {
        /// Connected, heartbeat current.
        Alive = 0,
        /// Its heartbeat was older than the timeout: the daemon unrouted it
        /// and closed its connection, and keeps its chunks and slots until
        /// its pid exits.
        Unresponsive = 1,
        /// Gone; its resources are being reclaimed.
        Dead = 2,
        /// Connected, but its heartbeat is older than half the timeout: it
        /// becomes `Unresponsive` if it reaches the timeout.
        Late = 3,
    }
}

wire_struct! {
    /// Daemon → client: state of the daemon.
    ///
    /// With the feature `serde`, `Serialize` writes exactly these fields, in
    /// this order (`zerocpctl status --json` prints them after the domain
    /// and the socket).
    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
    pub struct Status {
        /// The daemon's pid.
        pub daemon_pid: u32,
        /// Milliseconds since the daemon started.
        pub uptime_ms: u64,
        /// The daemon's epoch.
        pub epoch: u64,
        /// Registered processes.
        pub processes: u32,
        /// Publisher ports.
        pub publishers: u32,
        /// Subscriber ports.
        pub subscribers: u32,
        /// Distinct services.
        pub services: u32,
        /// Size of the management segment.
        pub mgmt_size: u64,
        /// Size of the payload parts of every segment group together.
        pub data_size: u64,
        /// Size of the control parts of every segment group together.
        pub control_size: u64,
        /// Connections refused at accept since the daemon started: their
        /// peer's uid and gid are not admitted by `[access]`.
        pub refused_connections: u64,
        /// Unregistered connections evicted since the daemon started, to
        /// make room for a newcomer (`limits.max_pending_per_uid`,
        /// `limits.max_pending_connections`).
        pub evicted_connections: u64,
        /// Unregistered connections closed since the daemon started for not
        /// registering within `limits.register_timeout_ms` of their accept.
        pub expired_connections: u64,
        /// Registrations accepted since the daemon started (protocol
        /// version 9, as the three counters after it).
        pub processes_registered: u64,
        /// Processes removed without unregistering (their connection
        /// closed or they exited: a crash, a kill, a process dropped for
        /// missing heartbeats that then exited).
        pub processes_died: u64,
        /// Processes dropped as unresponsive (no heartbeat within
        /// `heartbeat.timeout_ms`).
        pub heartbeat_timeouts: u64,
        /// Chunk references the daemon released for removed processes'
        /// ports (loans, history, taken and queued samples).
        pub chunks_reclaimed: u64,
        /// What the audit of shared memory found, by kind.
        pub audit: AuditCounts,
    }
}

wire_struct! {
    /// Client → daemon: one page of a paged query, from position `start`.
    pub struct PageRequest {
        /// First position (0, then the previous page's `next`).
        pub start: u32,
    }
}

wire_struct! {
    /// One registered process.
    pub struct ProcessInfo {
        /// Its pid (from `SO_PEERCRED`).
        pub pid: u32,
        /// Its heartbeat slot.
        pub process_slot: u32,
        /// The name it registered with.
        pub name: FixedString<32>,
        /// Its liveness.
        pub state: ProcessState,
        /// Milliseconds since its last heartbeat.
        pub heartbeat_age_ms: u32,
        /// Chunk references its ports hold now, as the daemon counts them
        /// in the group control parts: loans, history, taken samples and
        /// samples queued for its subscribers.
        pub chunks_held: u32,
    }
}

wire_struct! {
    /// Daemon → client: a page of processes.
    pub struct ProcessesPage {
        /// The processes.
        pub entries: heapless::Vec<ProcessInfo, PROCESSES_PER_PAGE>,
        /// Where the next page starts, or [`PAGE_END`].
        pub next: u32,
    }
}

wire_struct! {
    /// One port.
    pub struct PortInfo {
        /// Its service.
        pub service: ServiceDescription,
        /// Publisher or subscriber.
        pub kind: PortKind,
        /// Its index in its group.
        pub port_index: u32,
        /// Its segment group (0: `default`).
        pub group: u32,
        /// Pid of the owning process.
        pub owner_pid: u32,
        /// Samples queued (subscribers; 0 for publishers).
        pub queue_len: u32,
        /// Queue capacity (subscribers; 0 for publishers).
        pub queue_capacity: u32,
        /// Samples dropped because the queue was full or at the port quota
        /// (subscribers; 0 for publishers).
        pub dropped: u64,
        /// Deliveries given up after a publish timeout: for a publisher,
        /// samples it did not deliver to some block-publisher subscriber;
        /// for a subscriber, samples it did not get.
        pub timed_out: u64,
        /// Samples published (publishers; 0 for subscribers). This and the
        /// three counters after it came with protocol version 9; like every
        /// counter here they are what the port's owner wrote into shared
        /// memory, displayed, never trusted.
        pub published: u64,
        /// Samples taken (subscribers; 0 for publishers).
        pub received: u64,
        /// Loans that failed (publishers; 0 for subscribers).
        pub loans_failed: u64,
        /// Nanoseconds publishes waited for room in block-publisher
        /// subscribers' queues (publishers; 0 for subscribers).
        pub blocked_ns: u64,
        /// The payload type.
        pub type_info: TypeInfo,
    }
}

impl PortInfo {
    /// A port as the daemon knows it before reading its counters: queue,
    /// drops and every counter zero.
    ///
    /// ```
    /// use zerocp_core::service::{ServiceDescription, TypeInfo};
    /// use zerocp_core::wire::{PortInfo, PortKind};
    ///
    /// let service = ServiceDescription::new("Robot", "Base", "Pose").unwrap();
    /// let port = PortInfo::new(service, PortKind::Publisher, 3, 0, 4242, TypeInfo::of::<u64>());
    /// assert_eq!((port.port_index, port.owner_pid, port.published), (3, 4242, 0));
    /// ```
    #[must_use]
    pub const fn new(
        service: ServiceDescription,
        kind: PortKind,
        port_index: u32,
        group: u32,
        owner_pid: u32,
        type_info: TypeInfo,
    ) -> Self {
        Self {
            service,
            kind,
            port_index,
            group,
            owner_pid,
            queue_len: 0,
            queue_capacity: 0,
            dropped: 0,
            timed_out: 0,
            published: 0,
            received: 0,
            loans_failed: 0,
            blocked_ns: 0,
            type_info,
        }
    }
}

wire_struct! {
    /// Daemon → client: a page of ports, ordered by service.
    pub struct PortsPage {
        /// The ports.
        pub entries: heapless::Vec<PortInfo, PORTS_PER_PAGE>,
        /// Where the next page starts, or [`PAGE_END`].
        pub next: u32,
    }
}

wire_struct! {
    /// Usage of one mempool.
    ///
    /// With the feature `serde`, `Serialize` writes exactly these fields, in
    /// this order (`zerocpctl mempools --json` prints one per pool).
    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
    pub struct MempoolInfo {
        /// Payload capacity of each chunk.
        pub chunk_size: u32,
        /// Number of chunks.
        pub chunk_count: u32,
        /// Chunks in use now.
        pub used: u32,
        /// Fewest free chunks ever seen right after a chunk was taken from
        /// the pool (a loan), since the pool's memory was created: the
        /// daemon's start, or its group's last reset onto fresh memory.
        pub min_free: u32,
        /// The segment group whose ports use the pool (`default` for the
        /// top-level `[[mempool]]`s).
        pub group: FixedString<MAX_GROUP_NAME_LEN>,
        /// Chunks of the pool one process may hold at once (`quota.process_percent`).
        pub process_quota: u32,
        /// Chunks of the pool one port may hold at once (`quota.port_percent`).
        pub port_quota: u32,
    }
}

wire_struct! {
    /// Daemon → client: usage of every mempool.
    pub struct Mempools {
        /// The pools, by segment group (`default` first), then smallest
        /// chunk size first.
        pub pools: heapless::Vec<MempoolInfo, MAX_MEMPOOLS>,
    }
}
