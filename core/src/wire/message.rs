//! The messages of the control plane and their payloads.

use super::codec::{wire_enum, wire_struct};
use crate::fixed_string::FixedString;
use crate::mempool::MAX_MEMPOOLS;
use crate::port::FullPolicy;
use crate::service::{MAX_NAME_LEN, ServiceDescription, TypeInfo};

/// `next` of the last page of a paged query.
pub const PAGE_END: u32 = u32::MAX;

/// Entries per [`ProcessesPage`] (fits [`MAX_FRAME_SIZE`](super::MAX_FRAME_SIZE),
/// asserted at compile time).
pub const PROCESSES_PER_PAGE: usize = 64;

/// Entries per [`PortsPage`] (fits [`MAX_FRAME_SIZE`](super::MAX_FRAME_SIZE),
/// asserted at compile time).
pub const PORTS_PER_PAGE: usize = 8;

/// Entries per [`GroupsPage`]: one group (with its patterns, rules and
/// pools) per page, so a page fits [`MAX_FRAME_SIZE`](super::MAX_FRAME_SIZE)
/// (asserted at compile time).
pub const GROUPS_PER_PAGE: usize = 1;

/// Longest segment group name, in bytes (`[[group]] name`).
pub const MAX_GROUP_NAME_LEN: usize = 32;

/// Longest service pattern (`service/instance/event`, each part a name or `*`).
pub const MAX_PATTERN_LEN: usize = 3 * MAX_NAME_LEN + 2;

/// Most service patterns of one segment group.
pub const MAX_GROUP_PATTERNS: usize = 8;

/// Most uids (and, separately, gids) of one access rule.
pub const MAX_RULE_IDS: usize = 16;

wire_enum! {
    /// Publisher or subscriber: the kind of a port, on the wire and in the
    /// daemon's port registry alike.
    pub enum PortKind: u8 {
        /// A publisher port.
        Publisher = 0,
        /// A subscriber port.
        Subscriber = 1,
    }
}

impl PortKind {
    /// The kind in lower case, as messages name it: `publisher`, `subscriber`.
    pub const fn noun(self) -> &'static str {
        match self {
            Self::Publisher => "publisher",
            Self::Subscriber => "subscriber",
        }
    }
}

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

wire_enum! {
    /// Why the daemon refused a request (see [`ErrorReply::detail`] for the
    /// specifics).
    pub enum ErrorCode: u16 {
        /// The request frame did not decode.
        Malformed = 1,
        /// The client speaks a protocol version the daemon does not.
        UnsupportedVersion = 2,
        /// The request needs a registered connection.
        NotRegistered = 3,
        /// The connection is already registered.
        AlreadyRegistered = 4,
        /// A service description is not valid.
        ServiceNameInvalid = 5,
        /// The port's type differs from the service's other ports.
        TypeMismatch = 6,
        /// The payload type is larger than the largest mempool chunk.
        PayloadTooLarge = 7,
        /// A configured limit (processes, ports, queue capacity) is reached.
        LimitReached = 8,
        /// No such port (or it is not this process's).
        NoSuchPort = 9,
        /// The daemon failed internally.
        Internal = 10,
        /// The daemon is stopping.
        ShuttingDown = 11,
        /// The peer's credentials are not allowed.
        AccessDenied = 12,
        /// A request argument is out of range (e.g. a queue capacity of 0).
        InvalidArgument = 13,
        /// The request is not valid in this direction or state.
        UnexpectedMessage = 14,
    }
}

wire_struct! {
    /// Client → daemon: register this connection as a process. The daemon
    /// takes the pid from `SO_PEERCRED`, never from a message.
    pub struct Register {
        /// The client's [`PROTOCOL_VERSION`](super::PROTOCOL_VERSION).
        pub protocol_version: u8,
        /// A name for introspection (e.g. the executable's).
        pub process_name: FixedString<32>,
    }
}

wire_struct! {
    /// Daemon → client: registration accepted. The frame carries two file
    /// descriptors (`SCM_RIGHTS`): the domain's mgmt segment, **read-only**
    /// (state word, epoch, limits), then this process's own heartbeat file,
    /// read-write (created for this registration, held by nobody else but
    /// the daemon); the sizes here let the runtime check them. A group's
    /// memory comes only with a port in that group ([`PortCreated`]).
    pub struct Registered {
        /// The process's slot (the owner of its ports; also names its
        /// heartbeat file).
        pub process_slot: u32,
        /// The daemon's pid.
        pub daemon_pid: u32,
        /// The daemon's epoch (changes at every daemon start).
        pub epoch: u64,
        /// Size of the management segment in bytes.
        pub mgmt_size: u64,
        /// Size of this process's heartbeat file in bytes.
        pub heartbeat_size: u32,
        /// Segment groups of the domain (`default` included).
        pub group_count: u32,
        /// How often the runtime must beat.
        pub heartbeat_interval_ms: u32,
        /// After how long without a beat the process is unresponsive.
        pub heartbeat_timeout_ms: u32,
    }
}

wire_struct! {
    /// Client → daemon: create a publisher port.
    pub struct CreatePublisher {
        /// The service offered.
        pub service: ServiceDescription,
        /// The payload type.
        pub type_info: TypeInfo,
        /// Samples kept for late-joining subscribers.
        pub history: u32,
        /// Most chunks loaned at once.
        pub max_loans: u32,
    }
}

wire_struct! {
    /// Client → daemon: create a subscriber port.
    pub struct CreateSubscriber {
        /// The service asked for.
        pub service: ServiceDescription,
        /// The payload type.
        pub type_info: TypeInfo,
        /// Capacity of the subscriber's queue.
        pub queue_capacity: u32,
        /// What publishers do when the queue is full.
        pub full_policy: FullPolicy,
        /// History samples wanted on connection.
        pub history_request: u32,
        /// Most samples held (taken, not yet dropped) at once.
        pub max_held: u32,
    }
}

wire_struct! {
    /// Daemon → client: a port was created. The frame carries two file
    /// descriptors (`SCM_RIGHTS`): the port's group's control part
    /// (read-write), then its payload part, read-only for a subscriber
    /// (`SubscriberCreated`) and read-write for a publisher
    /// (`PublisherCreated`); the sizes here let the runtime check them.
    pub struct PortCreated {
        /// Index of the port in its group's control part.
        pub port_index: u32,
        /// The port's segment group (0: `default`).
        pub group: u32,
        /// Which memory of the group the descriptors are: 0 at the daemon's
        /// start, one more at every reset of the group onto fresh memory. A
        /// runtime maps a group's memory again for a port of a newer
        /// incarnation, while its older ports keep theirs.
        pub incarnation: u32,
        /// The generation of this allocation of the port slot (never 0):
        /// with the group, kind and index it names the port exactly, also
        /// across resets ([`RemovePort`], [`PortRevoked`]).
        pub generation: u32,
        /// Size of the group's control part in bytes.
        pub control_size: u64,
        /// Size of the group's payload part in bytes.
        pub payload_size: u64,
    }
}

wire_struct! {
    /// Client → daemon: remove one of this process's ports.
    pub struct RemovePort {
        /// Publisher or subscriber.
        pub kind: PortKind,
        /// Its index in its group.
        pub port_index: u32,
        /// Its segment group.
        pub group: u32,
        /// Its generation, as [`PortCreated`] announced it.
        pub generation: u32,
    }
}

wire_enum! {
    /// Why the daemon revoked a port ([`PortRevoked`]):
    /// [`explanation`](RevokeReason::explanation) says what it found.
    pub enum RevokeReason: u8 {
        /// The port's queue in shared memory was found corrupt.
        CorruptQueue = 1,
        /// The port's record in shared memory was found corrupt.
        CorruptPort = 2,
        /// A mempool of the port's segment group was found corrupt, and the
        /// group was reset onto fresh memory.
        CorruptPool = 3,
        /// An operator reset the port's segment group onto fresh memory
        /// (`zerocpctl reset-group`).
        GroupReset = 4,
        /// An operator revoked the port (`zerocpctl revoke-port`).
        Operator = 5,
    }
}

impl RevokeReason {
    /// What the daemon found, as a clause: "its queue in shared memory was
    /// found corrupt".
    ///
    /// ```
    /// use zerocp_core::wire::RevokeReason;
    /// assert_eq!(
    ///     RevokeReason::CorruptQueue.explanation(),
    ///     "its queue in shared memory was found corrupt"
    /// );
    /// ```
    pub const fn explanation(self) -> &'static str {
        match self {
            Self::CorruptQueue => "its queue in shared memory was found corrupt",
            Self::CorruptPort => "its port record in shared memory was found corrupt",
            Self::CorruptPool => {
                "a mempool of its segment group was found corrupt, and the group was reset \
                 onto fresh memory"
            }
            Self::GroupReset => {
                "an operator reset its segment group onto fresh memory (zerocpctl reset-group)"
            }
            Self::Operator => "an operator revoked it (zerocpctl revoke-port)",
        }
    }
}

wire_struct! {
    /// Daemon → client: a port was revoked. Sent unsolicited (request id 0)
    /// to the port's owner, on its control connection, which only the daemon
    /// writes: the owner trusts this, not the port's state word in shared
    /// memory. Also the reply to [`RevokePort`].
    pub struct PortRevoked {
        /// Publisher or subscriber.
        pub kind: PortKind,
        /// Its index in its group.
        pub port_index: u32,
        /// Its segment group.
        pub group: u32,
        /// Its generation ([`PortCreated::generation`]).
        pub generation: u32,
        /// What the daemon found.
        pub reason: RevokeReason,
    }
}

wire_struct! {
    /// Client → daemon: revoke a port (allowed to root and the daemon's uid
    /// only; answered with [`PortRevoked`]).
    pub struct RevokePort {
        /// Publisher or subscriber.
        pub kind: PortKind,
        /// Its index in its group.
        pub port_index: u32,
        /// Its segment group.
        pub group: u32,
    }
}

wire_struct! {
    /// Client → daemon: reset a segment group onto fresh memory (allowed to
    /// root and the daemon's uid only; answered with [`GroupReset`]).
    pub struct ResetGroup {
        /// The group's name (`default` for the implicit group).
        pub group: FixedString<MAX_GROUP_NAME_LEN>,
    }
}

wire_struct! {
    /// Daemon → client: the group was reset onto fresh memory.
    pub struct GroupReset {
        /// The group's index.
        pub group: u32,
        /// The incarnation of its new memory ([`PortCreated::incarnation`]).
        pub incarnation: u32,
        /// Ports revoked with it.
        pub revoked: u32,
    }
}

/// Longest detail of a finding in a [`GroupInfo`], in bytes.
pub const MAX_FINDING_DETAIL_LEN: usize = 96;

wire_enum! {
    /// What the daemon's audit of shared memory found inconsistent (the
    /// daemon's log says which word, pool or port; `zerocpd`'s
    /// `audit_findings` module describes each kind).
    pub enum FindingKind: u8 {
        /// Nothing found (yet).
        None = 0,
        /// A word of the mgmt header differed from the daemon's; restored.
        MgmtHeader = 1,
        /// A word of a group's header differed from the daemon's; restored.
        GroupHeader = 2,
        /// A freelist header's capacity differed; restored.
        FreelistHeader = 3,
        /// A freelist's head, links or count are damaged.
        FreelistChain = 4,
        /// A subscriber's queue has positions or entries out of range.
        SubscriberQueue = 5,
        /// A daemon-written word of a port's control block differed; restored.
        PortControl = 6,
        /// Chunks neither free nor held by anyone (or counted more often
        /// than held): they will not come back by themselves.
        LostChunks = 7,
        /// Chunks held more often than counted, or free while held: one
        /// chunk can reach two owners.
        OverReferenced = 8,
        /// A process's heartbeat slot was written inconsistently.
        Heartbeat = 9,
    }
}

wire_struct! {
    /// How many findings of each kind the daemon's audit made since it
    /// started, and how many audits ran.
    ///
    /// With the feature `serde`, `Serialize` writes exactly these fields, in
    /// this order (`zerocpctl status --json` shows them as `audit`).
    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
    pub struct AuditCounts {
        /// Audits run (timer and reclaims).
        pub audits: u64,
        /// [`FindingKind::MgmtHeader`] findings.
        pub mgmt_header: u64,
        /// [`FindingKind::GroupHeader`] findings.
        pub group_header: u64,
        /// [`FindingKind::FreelistHeader`] findings.
        pub freelist_header: u64,
        /// [`FindingKind::FreelistChain`] findings.
        pub freelist_chain: u64,
        /// [`FindingKind::SubscriberQueue`] findings.
        pub subscriber_queue: u64,
        /// [`FindingKind::PortControl`] findings.
        pub port_control: u64,
        /// [`FindingKind::LostChunks`] findings.
        pub lost_chunks: u64,
        /// [`FindingKind::OverReferenced`] findings.
        pub over_referenced: u64,
        /// [`FindingKind::Heartbeat`] findings.
        pub heartbeat: u64,
    }
}

impl AuditCounts {
    /// No audit run, nothing found.
    pub const fn new() -> Self {
        Self {
            audits: 0,
            mgmt_header: 0,
            group_header: 0,
            freelist_header: 0,
            freelist_chain: 0,
            subscriber_queue: 0,
            port_control: 0,
            lost_chunks: 0,
            over_referenced: 0,
            heartbeat: 0,
        }
    }

    fn counter(&mut self, kind: FindingKind) -> Option<&mut u64> {
        Some(match kind {
            FindingKind::None => return None,
            FindingKind::MgmtHeader => &mut self.mgmt_header,
            FindingKind::GroupHeader => &mut self.group_header,
            FindingKind::FreelistHeader => &mut self.freelist_header,
            FindingKind::FreelistChain => &mut self.freelist_chain,
            FindingKind::SubscriberQueue => &mut self.subscriber_queue,
            FindingKind::PortControl => &mut self.port_control,
            FindingKind::LostChunks => &mut self.lost_chunks,
            FindingKind::OverReferenced => &mut self.over_referenced,
            FindingKind::Heartbeat => &mut self.heartbeat,
        })
    }

    /// Counts one finding of `kind` (nothing for [`FindingKind::None`]).
    ///
    /// ```
    /// use zerocp_core::wire::{AuditCounts, FindingKind};
    /// let mut counts = AuditCounts::new();
    /// counts.add(FindingKind::Heartbeat);
    /// counts.add(FindingKind::None);
    /// assert_eq!((counts.get(FindingKind::Heartbeat), counts.findings()), (1, 1));
    /// ```
    pub fn add(&mut self, kind: FindingKind) {
        if let Some(counter) = self.counter(kind) {
            *counter = counter.saturating_add(1);
        }
    }

    /// Findings of `kind` (0 for [`FindingKind::None`]).
    pub fn get(&self, kind: FindingKind) -> u64 {
        match kind {
            FindingKind::None => 0,
            FindingKind::MgmtHeader => self.mgmt_header,
            FindingKind::GroupHeader => self.group_header,
            FindingKind::FreelistHeader => self.freelist_header,
            FindingKind::FreelistChain => self.freelist_chain,
            FindingKind::SubscriberQueue => self.subscriber_queue,
            FindingKind::PortControl => self.port_control,
            FindingKind::LostChunks => self.lost_chunks,
            FindingKind::OverReferenced => self.over_referenced,
            FindingKind::Heartbeat => self.heartbeat,
        }
    }

    /// Findings of every kind together.
    pub fn findings(&self) -> u64 {
        FindingKind::ALL
            .iter()
            .map(|&kind| self.get(kind))
            .fold(0, u64::saturating_add)
    }
}

impl Default for AuditCounts {
    fn default() -> Self {
        Self::new()
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
        /// The payload type.
        pub type_info: TypeInfo,
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
        /// Fewest free chunks seen since the daemon started.
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

wire_enum! {
    /// Whom an [`AccessRule`] admits.
    pub enum RuleScope: u8 {
        /// Only the listed uids and gids (and root and the daemon's uid).
        Listed = 0,
        /// Every process allowed to connect (the `default` group's rules).
        Everyone = 1,
    }
}

wire_struct! {
    /// Who may create one kind of port (publishers or subscribers) in a
    /// segment group.
    pub struct AccessRule {
        /// Everyone, or only the listed ids.
        pub scope: RuleScope,
        /// Uids admitted (besides root and the daemon's own uid).
        pub uids: heapless::Vec<u32, MAX_RULE_IDS>,
        /// Primary gids admitted.
        pub gids: heapless::Vec<u32, MAX_RULE_IDS>,
    }
}

wire_struct! {
    /// One segment group: the services it claims, its access rules and its
    /// mempools.
    pub struct GroupInfo {
        /// Its name (`default` for the implicit group).
        pub name: FixedString<MAX_GROUP_NAME_LEN>,
        /// Its service patterns (`service/instance/event`, `*` for a whole
        /// part); empty for `default`, which holds every service no other
        /// group claims.
        pub patterns: heapless::Vec<FixedString<MAX_PATTERN_LEN>, MAX_GROUP_PATTERNS>,
        /// Who may create publishers.
        pub publish: AccessRule,
        /// Who may create subscribers.
        pub subscribe: AccessRule,
        /// Its pools, smallest chunk size first.
        pub pools: heapless::Vec<MempoolInfo, MAX_MEMPOOLS>,
        /// How often the daemon reset the group onto fresh memory since it
        /// started (by an operator, or to recover chunks lost to corruption).
        pub resets: u32,
        /// Findings of the daemon's audit in the group's memory so far.
        pub findings: u64,
        /// The kind of the last one ([`FindingKind::None`]: none yet).
        pub last_finding: FindingKind,
        /// What the last one was (cut to fit), empty when none.
        pub last_finding_detail: FixedString<MAX_FINDING_DETAIL_LEN>,
    }
}

wire_struct! {
    /// Daemon → client: a page of segment groups, `default` first.
    pub struct GroupsPage {
        /// The groups.
        pub entries: heapless::Vec<GroupInfo, GROUPS_PER_PAGE>,
        /// Where the next page starts, or [`PAGE_END`].
        pub next: u32,
    }
}

wire_struct! {
    /// Daemon → client: the request failed.
    pub struct ErrorReply {
        /// What kind of failure.
        pub code: ErrorCode,
        /// Human-readable specifics (names, values).
        pub detail: FixedString<128>,
    }
}

impl ErrorReply {
    /// An error reply; `detail` is cut at a character boundary to fit.
    pub fn new(code: ErrorCode, detail: &str) -> Self {
        Self {
            code,
            detail: FixedString::from_str_truncated(detail),
        }
    }
}
