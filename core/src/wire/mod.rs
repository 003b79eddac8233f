//! The control-plane wire format: frames exchanged between runtimes and the
//! daemon over a `SOCK_SEQPACKET` Unix socket (one frame per packet).
//!
//! A frame is a 12-byte [`FrameHeader`] followed by the body of one
//! [`Message`]; at most [`MAX_FRAME_SIZE`] bytes in all. Everything is
//! little-endian; strings are a `u16` length and UTF-8 bytes, lists a `u16`
//! count and their entries, structs their fields in declaration order without
//! padding (see the payload types for the order). The encoding is canonical:
//! a value has exactly one encoding, and `encode(decode(bytes)) == bytes`.
//!
//! One [`Message`] enum covers both directions (rather than separate request
//! and response enums) so one decoder, one fuzz target and one set of tests
//! cover the whole protocol; [`MessageKind::direction`] tells requests
//! (codes `0x01..=0x7F`, client → daemon) from replies and notifications
//! (`0x80..=0xFF`, daemon → client), and each side rejects the other side's
//! kinds with [`ErrorCode::UnexpectedMessage`]. A reply carries the request's
//! `request_id`; the unsolicited [`Message::Shutdown`] and the
//! [`Message::PortRevoked`] a port's owner is sent and
//! [`Message::HistoryWanted`] carry 0 ([`Message::is_notice`]).
//!
//! [`decode`] never panics, never allocates, and names what is wrong in a
//! [`DecodeError`]: every read goes through a bounds-checked cursor, every
//! string is checked for length and UTF-8, every enum code and service name is
//! validated. It is fuzzed (`fuzz/`) and property-tested.
//!
//! ```
//! use zerocp_core::wire::{self, Message, PageRequest, MAX_FRAME_SIZE};
//!
//! let mut buf = [0u8; MAX_FRAME_SIZE];
//! let msg = Message::QueryProcesses(PageRequest { start: 0 });
//! let len = wire::encode(&msg, 7, &mut buf)?;
//! let (header, decoded) = wire::decode(&buf[..len])?;
//! assert_eq!(header.request_id, 7);
//! assert_eq!(decoded, msg);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod codec;
mod error;
mod frame;
mod message;
#[cfg(test)]
mod tests;

use crate::service::ServiceDescription;
use codec::{Reader, Wire, Writer};
pub use error::{DecodeError, EncodeError};
pub use frame::{Direction, FrameHeader, HEADER_LEN, MessageKind};
pub use message::{
    AccessRule, AuditCounts, CreateListener, CreateNotifier, CreatePublisher, CreateSubscriber,
    ErrorCode, ErrorReply, FindingKind, GROUPS_PER_PAGE, GroupInfo, GroupReset, GroupsPage,
    HistoryWanted, MAX_FINDING_DETAIL_LEN, MAX_GROUP_NAME_LEN, MAX_GROUP_PATTERNS, MAX_PATTERN_LEN,
    MAX_RULE_IDS, MempoolInfo, Mempools, PAGE_END, PORTS_PER_PAGE, PROCESSES_PER_PAGE, PageRequest,
    PayloadShape, PortCreated, PortInfo, PortKind, PortRevoked, PortsPage, ProcessInfo,
    ProcessState, ProcessesPage, Register, Registered, RemovePort, ResetGroup, RevokePort,
    RevokeReason, RuleScope, ServiceLayout, Status, WakeFdPort,
};

pub use crate::port::FullPolicy;
pub use crate::service::TypeInfo;

/// Largest frame, header included. A buffer of this size holds any message.
pub const MAX_FRAME_SIZE: usize = 4096;
/// Protocol version spoken by this build. Version 3 added the segment
/// groups: [`Message::QueryGroups`] / [`Message::GroupsPage`], and the
/// group of each [`MempoolInfo`]. Version 4 gave every group its own
/// memory: [`Registered`] carries only the mgmt segment, [`PortCreated`]
/// the port's group's parts; ports are named by (group, index)
/// ([`PortCreated`], [`RemovePort`], [`PortInfo`]). Version 5 made the
/// mgmt segment read-only for runtimes and gave every process a heartbeat
/// file of its own: [`Registered`] carries both descriptors and the
/// heartbeat file's size. Version 6 made shared memory something the daemon
/// audits and recovers, and connections something it admits: [`PortCreated`]
/// carries the group's incarnation and the port's generation, [`RemovePort`]
/// the generation; [`Status`] carries the connections the daemon turned
/// away (refused, evicted, expired) and the audit's findings by kind
/// ([`AuditCounts`]); each [`GroupInfo`] its group's reset count, its
/// findings and the last one; [`Message::PortRevoked`] tells a port's owner
/// (unsolicited) that its port was revoked and why; [`Message::ResetGroup`] /
/// [`Message::GroupReset`] and [`Message::RevokePort`] are the operator's
/// requests. It also added the chunk quotas: each [`MempoolInfo`] carries
/// its pool's process and port quotas, each [`PortInfo`] its publish
/// timeouts, each [`ProcessInfo`] the chunks its ports hold. Version 7
/// added the event services: [`Message::CreateNotifier`] /
/// [`Message::NotifierCreated`], [`Message::CreateListener`] /
/// [`Message::ListenerCreated`], and the port kinds
/// [`PortKind::Notifier`] and [`PortKind::Listener`] (in [`RemovePort`],
/// [`RevokePort`], [`PortInfo`]);
/// and wake descriptors: [`Message::SetWakeFd`] / [`Message::WakeFdSet`]
/// and [`Message::QueryWakeFd`] / [`Message::WakeFd`] ([`WakeFdPort`]), and
/// the refusals [`ErrorCode::NotRouted`] and [`ErrorCode::NotArmed`].
/// Version 8 added history on connect (the notice [`Message::HistoryWanted`]),
/// slices and user headers: [`CreatePublisher`] carries
/// the payload's [`PayloadShape`], the longest slice and the user header's
/// [`TypeInfo`], [`CreateSubscriber`] the shape and the user header's type.
/// Version 9 added the counters: each [`PortInfo`] carries its port's
/// samples published and received, failed loans and nanoseconds blocked,
/// and [`Status`] the daemon's counts of processes registered, died and
/// dropped for missing heartbeats, and of chunk references reclaimed.
/// Version 10 added self-describing types: [`CreatePublisher`] and
/// [`CreateSubscriber`] carry the payload type's
/// [`TypeLayout`](crate::type_layout::TypeLayout), and
/// [`Message::QueryServiceLayout`] / [`Message::ServiceLayout`] give a
/// tool the layout the daemon keeps for a service. It also added the
/// discovery event, without a new message: the daemon
/// raises [`SERVICES_CHANGED`](crate::discovery::SERVICES_CHANGED) in every
/// listener of [`discovery_service`](crate::discovery::discovery_service)
/// whenever a port of another service is routed or unrouted, and refuses
/// every other kind of port on that name (`AccessDenied`); a runtime that
/// watches services relies on both, so it must not meet an older daemon.
pub const PROTOCOL_VERSION: u8 = 10;
/// First two bytes of every frame: `0x5A43` little-endian (bytes `43 5A`).
pub const FRAME_MAGIC: u16 = 0x5A43;

/// Largest body of each payload type; all must fit a frame.
const MAX_BODY_LENS: [usize; 25] = [
    Register::MAX_LEN,
    Registered::MAX_LEN,
    CreatePublisher::MAX_LEN,
    CreateSubscriber::MAX_LEN,
    PortCreated::MAX_LEN,
    RemovePort::MAX_LEN,
    Status::MAX_LEN,
    PageRequest::MAX_LEN,
    ProcessesPage::MAX_LEN,
    PortsPage::MAX_LEN,
    Mempools::MAX_LEN,
    ErrorReply::MAX_LEN,
    ProcessInfo::MAX_LEN,
    PortInfo::MAX_LEN,
    GroupsPage::MAX_LEN,
    GroupInfo::MAX_LEN,
    ResetGroup::MAX_LEN,
    RevokePort::MAX_LEN,
    GroupReset::MAX_LEN,
    PortRevoked::MAX_LEN,
    CreateNotifier::MAX_LEN,
    CreateListener::MAX_LEN,
    WakeFdPort::MAX_LEN,
    HistoryWanted::MAX_LEN,
    ServiceLayout::MAX_LEN,
];

const _: () = {
    let mut i = 0;
    while i < MAX_BODY_LENS.len() {
        assert!(HEADER_LEN + MAX_BODY_LENS[i] <= MAX_FRAME_SIZE);
        i += 1;
    }
};

/// A control-plane message (see the [module docs](self) for directions).
///
/// A `Message` is a few KiB (a full [`PortsPage`]): `core` cannot box, so the
/// largest variant sets the size, about that of the frame it encodes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Client → daemon: register this connection.
    Register(Register),
    /// Client → daemon: unregister (then close).
    Unregister,
    /// Client → daemon: create a publisher port.
    CreatePublisher(CreatePublisher),
    /// Client → daemon: create a subscriber port.
    CreateSubscriber(CreateSubscriber),
    /// Client → daemon: remove a port.
    RemovePort(RemovePort),
    /// Client → daemon: ask for [`Message::Status`].
    QueryStatus,
    /// Client → daemon: ask for a [`Message::ProcessesPage`].
    QueryProcesses(PageRequest),
    /// Client → daemon: ask for a [`Message::PortsPage`].
    QueryServices(PageRequest),
    /// Client → daemon: ask for [`Message::Mempools`].
    QueryMempools,
    /// Client → daemon: ask for a [`Message::GroupsPage`].
    QueryGroups(PageRequest),
    /// Client → daemon: reset a segment group onto fresh memory.
    ResetGroup(ResetGroup),
    /// Client → daemon: revoke a port.
    RevokePort(RevokePort),
    /// Client → daemon: create a notifier port.
    CreateNotifier(CreateNotifier),
    /// Client → daemon: create a listener port.
    CreateListener(CreateListener),
    /// Client → daemon: keep the wake socket end beside this frame as the wake
    /// descriptor of one of the caller's receiving ports.
    SetWakeFd(WakeFdPort),
    /// Client → daemon: hand me the wake descriptor of a port one of my
    /// ports delivers to.
    QueryWakeFd(WakeFdPort),
    /// Client → daemon: ask for the [`Message::ServiceLayout`] of a service
    /// (version 10).
    QueryServiceLayout(ServiceDescription),
    /// Daemon → client: registration accepted (carries the mgmt segment
    /// read-write and the data segment read-only as descriptors).
    Registered(Registered),
    /// Daemon → client: unregistration done.
    Unregistered,
    /// Daemon → client: publisher created (carries the data segment
    /// read-write as a descriptor).
    PublisherCreated(PortCreated),
    /// Daemon → client: subscriber created.
    SubscriberCreated(PortCreated),
    /// Daemon → client: port removed.
    PortRemoved,
    /// Daemon → client: daemon state.
    Status(Status),
    /// Daemon → client: a page of processes.
    ProcessesPage(ProcessesPage),
    /// Daemon → client: a page of ports.
    PortsPage(PortsPage),
    /// Daemon → client: mempool usage.
    Mempools(Mempools),
    /// Daemon → client: a page of segment groups.
    GroupsPage(GroupsPage),
    /// Daemon → client: a segment group was reset (the reply to
    /// [`Message::ResetGroup`]).
    GroupReset(GroupReset),
    /// Daemon → client: a port was revoked; unsolicited (request id 0) to
    /// its owner, and the reply to [`Message::RevokePort`].
    PortRevoked(PortRevoked),
    /// Daemon → client: notifier created (carries the group's control part).
    NotifierCreated(PortCreated),
    /// Daemon → client: listener created (carries the group's control part).
    ListenerCreated(PortCreated),
    /// Daemon → client, unsolicited: a subscriber that asked for history
    /// was routed to the receiver's publisher port.
    HistoryWanted(HistoryWanted),
    /// Daemon → client: the wake descriptor is kept (the reply to
    /// [`Message::SetWakeFd`]).
    WakeFdSet,
    /// Daemon → client: the port's wake descriptor, beside the frame (the
    /// reply to [`Message::QueryWakeFd`]).
    WakeFd(WakeFdPort),
    /// Daemon → client: the layout of a service's payload type (the reply
    /// to [`Message::QueryServiceLayout`]).
    ServiceLayout(ServiceLayout),
    /// Daemon → client: the request failed.
    Error(ErrorReply),
    /// Daemon → client, unsolicited: the daemon is stopping.
    Shutdown,
}

impl Message {
    /// The kind code of this message.
    pub const fn kind(&self) -> MessageKind {
        match self {
            Self::Register(_) => MessageKind::Register,
            Self::Unregister => MessageKind::Unregister,
            Self::CreatePublisher(_) => MessageKind::CreatePublisher,
            Self::CreateSubscriber(_) => MessageKind::CreateSubscriber,
            Self::RemovePort(_) => MessageKind::RemovePort,
            Self::QueryStatus => MessageKind::QueryStatus,
            Self::QueryProcesses(_) => MessageKind::QueryProcesses,
            Self::QueryServices(_) => MessageKind::QueryServices,
            Self::QueryMempools => MessageKind::QueryMempools,
            Self::QueryGroups(_) => MessageKind::QueryGroups,
            Self::ResetGroup(_) => MessageKind::ResetGroup,
            Self::RevokePort(_) => MessageKind::RevokePort,
            Self::CreateNotifier(_) => MessageKind::CreateNotifier,
            Self::CreateListener(_) => MessageKind::CreateListener,
            Self::SetWakeFd(_) => MessageKind::SetWakeFd,
            Self::QueryWakeFd(_) => MessageKind::QueryWakeFd,
            Self::QueryServiceLayout(_) => MessageKind::QueryServiceLayout,
            Self::Registered(_) => MessageKind::Registered,
            Self::Unregistered => MessageKind::Unregistered,
            Self::PublisherCreated(_) => MessageKind::PublisherCreated,
            Self::SubscriberCreated(_) => MessageKind::SubscriberCreated,
            Self::PortRemoved => MessageKind::PortRemoved,
            Self::Status(_) => MessageKind::Status,
            Self::ProcessesPage(_) => MessageKind::ProcessesPage,
            Self::PortsPage(_) => MessageKind::PortsPage,
            Self::Mempools(_) => MessageKind::Mempools,
            Self::GroupsPage(_) => MessageKind::GroupsPage,
            Self::GroupReset(_) => MessageKind::GroupReset,
            Self::PortRevoked(_) => MessageKind::PortRevoked,
            Self::NotifierCreated(_) => MessageKind::NotifierCreated,
            Self::ListenerCreated(_) => MessageKind::ListenerCreated,
            Self::HistoryWanted(_) => MessageKind::HistoryWanted,
            Self::WakeFdSet => MessageKind::WakeFdSet,
            Self::WakeFd(_) => MessageKind::WakeFd,
            Self::ServiceLayout(_) => MessageKind::ServiceLayout,
            Self::Error(_) => MessageKind::Error,
            Self::Shutdown => MessageKind::Shutdown,
        }
    }

    /// Which way this message travels.
    pub const fn direction(&self) -> Direction {
        self.kind().direction()
    }

    /// Whether the daemon may send this message unasked (with request id
    /// 0): [`Message::Shutdown`], [`Message::PortRevoked`] to a port's
    /// owner and [`Message::HistoryWanted`]. A client keeps the latter two
    /// for whoever tracks its ports rather than skipping them as late
    /// replies.
    pub const fn is_notice(&self) -> bool {
        matches!(
            self,
            Self::Shutdown | Self::PortRevoked(_) | Self::HistoryWanted(_)
        )
    }

    fn put_body(&self, w: &mut Writer<'_>) {
        match self {
            Self::Register(m) => m.put(w),
            Self::CreatePublisher(m) => m.put(w),
            Self::CreateSubscriber(m) => m.put(w),
            Self::RemovePort(m) => m.put(w),
            Self::QueryProcesses(m) | Self::QueryServices(m) | Self::QueryGroups(m) => m.put(w),
            Self::Registered(m) => m.put(w),
            Self::PublisherCreated(m)
            | Self::SubscriberCreated(m)
            | Self::NotifierCreated(m)
            | Self::ListenerCreated(m) => m.put(w),
            Self::CreateNotifier(m) => m.put(w),
            Self::CreateListener(m) => m.put(w),
            Self::Status(m) => m.put(w),
            Self::ProcessesPage(m) => m.put(w),
            Self::PortsPage(m) => m.put(w),
            Self::Mempools(m) => m.put(w),
            Self::GroupsPage(m) => m.put(w),
            Self::ResetGroup(m) => m.put(w),
            Self::RevokePort(m) => m.put(w),
            Self::GroupReset(m) => m.put(w),
            Self::PortRevoked(m) => m.put(w),
            Self::HistoryWanted(m) => m.put(w),
            Self::SetWakeFd(m) | Self::QueryWakeFd(m) | Self::WakeFd(m) => m.put(w),
            Self::QueryServiceLayout(m) => m.put(w),
            Self::ServiceLayout(m) => m.put(w),
            Self::Error(m) => m.put(w),
            Self::Unregister
            | Self::QueryStatus
            | Self::QueryMempools
            | Self::Unregistered
            | Self::PortRemoved
            | Self::WakeFdSet
            | Self::Shutdown => {}
        }
    }

    fn get_body(kind: MessageKind, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        use MessageKind as K;
        Ok(match kind {
            K::Register => Self::Register(Wire::get(r, "Register")?),
            K::Unregister => Self::Unregister,
            K::CreatePublisher => Self::CreatePublisher(Wire::get(r, "CreatePublisher")?),
            K::CreateSubscriber => Self::CreateSubscriber(Wire::get(r, "CreateSubscriber")?),
            K::RemovePort => Self::RemovePort(Wire::get(r, "RemovePort")?),
            K::QueryStatus => Self::QueryStatus,
            K::QueryProcesses => Self::QueryProcesses(Wire::get(r, "QueryProcesses")?),
            K::QueryServices => Self::QueryServices(Wire::get(r, "QueryServices")?),
            K::QueryMempools => Self::QueryMempools,
            K::QueryGroups => Self::QueryGroups(Wire::get(r, "QueryGroups")?),
            K::ResetGroup => Self::ResetGroup(Wire::get(r, "ResetGroup")?),
            K::RevokePort => Self::RevokePort(Wire::get(r, "RevokePort")?),
            K::CreateNotifier => Self::CreateNotifier(Wire::get(r, "CreateNotifier")?),
            K::CreateListener => Self::CreateListener(Wire::get(r, "CreateListener")?),
            K::SetWakeFd => Self::SetWakeFd(Wire::get(r, "SetWakeFd")?),
            K::QueryWakeFd => Self::QueryWakeFd(Wire::get(r, "QueryWakeFd")?),
            K::QueryServiceLayout => Self::QueryServiceLayout(Wire::get(r, "QueryServiceLayout")?),
            K::Registered => Self::Registered(Wire::get(r, "Registered")?),
            K::Unregistered => Self::Unregistered,
            K::PublisherCreated => Self::PublisherCreated(Wire::get(r, "PublisherCreated")?),
            K::SubscriberCreated => Self::SubscriberCreated(Wire::get(r, "SubscriberCreated")?),
            K::PortRemoved => Self::PortRemoved,
            K::Status => Self::Status(Wire::get(r, "Status")?),
            K::ProcessesPage => Self::ProcessesPage(Wire::get(r, "ProcessesPage")?),
            K::PortsPage => Self::PortsPage(Wire::get(r, "PortsPage")?),
            K::Mempools => Self::Mempools(Wire::get(r, "Mempools")?),
            K::GroupsPage => Self::GroupsPage(Wire::get(r, "GroupsPage")?),
            K::GroupReset => Self::GroupReset(Wire::get(r, "GroupReset")?),
            K::PortRevoked => Self::PortRevoked(Wire::get(r, "PortRevoked")?),
            K::NotifierCreated => Self::NotifierCreated(Wire::get(r, "NotifierCreated")?),
            K::ListenerCreated => Self::ListenerCreated(Wire::get(r, "ListenerCreated")?),
            K::HistoryWanted => Self::HistoryWanted(Wire::get(r, "HistoryWanted")?),
            K::WakeFdSet => Self::WakeFdSet,
            K::WakeFd => Self::WakeFd(Wire::get(r, "WakeFd")?),
            K::ServiceLayout => Self::ServiceLayout(Wire::get(r, "ServiceLayout")?),
            K::Error => Self::Error(Wire::get(r, "Error")?),
            K::Shutdown => Self::Shutdown,
        })
    }
}

/// Encodes `msg` as a frame with `request_id` at the start of `buf`; returns
/// the frame's length. A buffer of [`MAX_FRAME_SIZE`] bytes always suffices.
///
/// ```
/// use zerocp_core::wire::{self, EncodeError, ErrorCode, ErrorReply, Message};
///
/// let msg = Message::Error(ErrorReply::new(ErrorCode::NoSuchPort, "port 7"));
/// let mut small = [0u8; 16];
/// assert!(matches!(
///     wire::encode(&msg, 3, &mut small),
///     Err(EncodeError::BufferTooSmall { available: 16, .. })
/// ));
/// let mut buf = [0u8; wire::MAX_FRAME_SIZE];
/// let len = wire::encode(&msg, 3, &mut buf)?;
/// assert_eq!(wire::decode(&buf[..len])?.1, msg);
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub fn encode(msg: &Message, request_id: u32, buf: &mut [u8]) -> Result<usize, EncodeError> {
    let available = buf.len();
    let mut w = Writer::new(buf);
    w.put(&[0; HEADER_LEN]);
    msg.put_body(&mut w);
    let needed = w.len();
    if needed > available {
        return Err(EncodeError::BufferTooSmall { needed, available });
    }
    let header = FrameHeader {
        version: PROTOCOL_VERSION,
        kind: msg.kind(),
        request_id,
        // Every body is at most MAX_FRAME_SIZE (asserted above): fits a u16.
        body_len: (needed - HEADER_LEN) as u16,
    };
    w.buf()[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    Ok(needed)
}

/// Decodes one frame (exactly the bytes of one packet).
///
/// ```
/// use zerocp_core::wire::{self, DecodeError};
///
/// assert_eq!(wire::decode(&[0x43, 0x5A]), Err(DecodeError::TooShort { len: 2 }));
/// let frame = [0x43, 0x5A, wire::PROTOCOL_VERSION, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]; // Shutdown
/// assert_eq!(wire::decode(&frame)?.1, wire::Message::Shutdown);
/// # Ok::<(), DecodeError>(())
/// ```
pub fn decode(frame: &[u8]) -> Result<(FrameHeader, Message), DecodeError> {
    let header = FrameHeader::parse(frame)?;
    let body = frame.get(HEADER_LEN..).unwrap_or_default();
    let mut r = Reader::new(body, header.kind);
    let msg = Message::get_body(header.kind, &mut r)?;
    r.finish()?;
    Ok((header, msg))
}
