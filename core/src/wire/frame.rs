//! The frame header and the message kinds.

use super::error::DecodeError;
use super::{FRAME_MAGIC, MAX_FRAME_SIZE, PROTOCOL_VERSION};

/// Bytes of the frame header.
pub const HEADER_LEN: usize = 12;

/// Which way a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Sent by a runtime (kinds `0x01..=0x7F`).
    ClientToDaemon,
    /// Sent by the daemon (kinds `0x80..=0xFF`).
    DaemonToClient,
}

macro_rules! kinds {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        /// The kind byte of a frame: which [`Message`](super::Message) the body holds.
        #[repr(u8)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum MessageKind {
            $($(#[$doc])* $name = $value,)*
        }

        impl MessageKind {
            /// Every kind, in code order.
            pub const ALL: &'static [MessageKind] = &[$(Self::$name,)*];

            /// The kind with code `value`, if any.
            pub const fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $($value => Some(Self::$name),)*
                    _ => None,
                }
            }
        }
    };
}

kinds! {
    /// [`Message::Register`](super::Message::Register).
    Register = 0x01,
    /// [`Message::Unregister`](super::Message::Unregister).
    Unregister = 0x02,
    /// [`Message::CreatePublisher`](super::Message::CreatePublisher).
    CreatePublisher = 0x03,
    /// [`Message::CreateSubscriber`](super::Message::CreateSubscriber).
    CreateSubscriber = 0x04,
    /// [`Message::RemovePort`](super::Message::RemovePort).
    RemovePort = 0x05,
    /// [`Message::QueryStatus`](super::Message::QueryStatus).
    QueryStatus = 0x06,
    /// [`Message::QueryProcesses`](super::Message::QueryProcesses).
    QueryProcesses = 0x07,
    /// [`Message::QueryServices`](super::Message::QueryServices).
    QueryServices = 0x08,
    /// [`Message::QueryMempools`](super::Message::QueryMempools).
    QueryMempools = 0x09,
    /// [`Message::QueryGroups`](super::Message::QueryGroups).
    QueryGroups = 0x0A,
    /// [`Message::ResetGroup`](super::Message::ResetGroup).
    ResetGroup = 0x0B,
    /// [`Message::RevokePort`](super::Message::RevokePort).
    RevokePort = 0x0C,
    /// [`Message::CreateNotifier`](super::Message::CreateNotifier).
    CreateNotifier = 0x0D,
    /// [`Message::CreateListener`](super::Message::CreateListener).
    CreateListener = 0x0E,
    /// [`Message::SetWakeFd`](super::Message::SetWakeFd).
    SetWakeFd = 0x10,
    /// [`Message::QueryWakeFd`](super::Message::QueryWakeFd).
    QueryWakeFd = 0x11,
    /// [`Message::QueryServiceLayout`](super::Message::QueryServiceLayout).
    QueryServiceLayout = 0x12,
    /// [`Message::Registered`](super::Message::Registered).
    Registered = 0x81,
    /// [`Message::Unregistered`](super::Message::Unregistered).
    Unregistered = 0x82,
    /// [`Message::PublisherCreated`](super::Message::PublisherCreated).
    PublisherCreated = 0x83,
    /// [`Message::SubscriberCreated`](super::Message::SubscriberCreated).
    SubscriberCreated = 0x84,
    /// [`Message::PortRemoved`](super::Message::PortRemoved).
    PortRemoved = 0x85,
    /// [`Message::Status`](super::Message::Status).
    Status = 0x86,
    /// [`Message::ProcessesPage`](super::Message::ProcessesPage).
    ProcessesPage = 0x87,
    /// [`Message::PortsPage`](super::Message::PortsPage).
    PortsPage = 0x88,
    /// [`Message::Mempools`](super::Message::Mempools).
    Mempools = 0x89,
    /// [`Message::GroupsPage`](super::Message::GroupsPage).
    GroupsPage = 0x8A,
    /// [`Message::GroupReset`](super::Message::GroupReset).
    GroupReset = 0x8B,
    /// [`Message::PortRevoked`](super::Message::PortRevoked).
    PortRevoked = 0x8C,
    /// [`Message::NotifierCreated`](super::Message::NotifierCreated).
    NotifierCreated = 0x8D,
    /// [`Message::ListenerCreated`](super::Message::ListenerCreated).
    ListenerCreated = 0x8E,
    /// [`Message::HistoryWanted`](super::Message::HistoryWanted).
    HistoryWanted = 0x8F,
    /// [`Message::WakeFdSet`](super::Message::WakeFdSet).
    WakeFdSet = 0x90,
    /// [`Message::WakeFd`](super::Message::WakeFd).
    WakeFd = 0x91,
    /// [`Message::ServiceLayout`](super::Message::ServiceLayout).
    ServiceLayout = 0x92,
    /// [`Message::Error`](super::Message::Error).
    Error = 0xFE,
    /// [`Message::Shutdown`](super::Message::Shutdown).
    Shutdown = 0xFF,
}

impl MessageKind {
    /// Which way messages of this kind travel (the high bit of the code).
    pub const fn direction(self) -> Direction {
        if (self as u8) & 0x80 == 0 {
            Direction::ClientToDaemon
        } else {
            Direction::DaemonToClient
        }
    }
}

/// The 12-byte header of every frame (all fields little-endian):
///
/// | offset | size | field        | value                                   |
/// |-------:|-----:|--------------|-----------------------------------------|
/// | 0      | 2    | magic        | [`FRAME_MAGIC`] (`"CZ"` on the wire)    |
/// | 2      | 1    | version      | [`PROTOCOL_VERSION`]                    |
/// | 3      | 1    | kind         | [`MessageKind`]                         |
/// | 4      | 4    | request_id   | chosen by the client, echoed in replies |
/// | 8      | 2    | body_len     | bytes after the header                  |
/// | 10     | 2    | reserved     | 0                                       |
///
/// The magic and version stay at offsets 0..3 in every future version, so a
/// peer can always tell an unsupported version from garbage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameHeader {
    /// Protocol version of the frame.
    pub version: u8,
    /// The message kind.
    pub kind: MessageKind,
    /// Request id: chosen by the client, echoed by the daemon in its reply;
    /// 0 in unsolicited messages ([`Shutdown`](super::Message::Shutdown),
    /// [`PortRevoked`](super::Message::PortRevoked) sent to a port's owner,
    /// [`HistoryWanted`](super::Message::HistoryWanted)).
    pub request_id: u32,
    /// Bytes of body after the header.
    pub body_len: u16,
}

impl FrameHeader {
    /// The header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..2].copy_from_slice(&FRAME_MAGIC.to_le_bytes());
        out[2] = self.version;
        out[3] = self.kind as u8;
        out[4..8].copy_from_slice(&self.request_id.to_le_bytes());
        out[8..10].copy_from_slice(&self.body_len.to_le_bytes());
        out
    }

    /// The request id of a frame that may not decode, so an error reply can
    /// still carry it: the id when `frame` starts with [`FRAME_MAGIC`] and is
    /// long enough to hold one, else 0 (the id of nothing).
    ///
    /// ```
    /// use zerocp_core::wire::{self, FrameHeader, Message};
    /// let mut buf = [0u8; wire::MAX_FRAME_SIZE];
    /// let len = wire::encode(&Message::QueryMempools, 9, &mut buf).unwrap();
    /// buf[3] = 0xEE; // an unknown kind: the frame no longer decodes
    /// assert!(wire::decode(&buf[..len]).is_err());
    /// assert_eq!(FrameHeader::salvage_request_id(&buf[..len]), 9);
    /// assert_eq!(FrameHeader::salvage_request_id(b"garbage"), 0);
    /// ```
    pub fn salvage_request_id(frame: &[u8]) -> u32 {
        match frame {
            [m0, m1, _, _, r0, r1, r2, r3, ..] if u16::from_le_bytes([*m0, *m1]) == FRAME_MAGIC => {
                u32::from_le_bytes([*r0, *r1, *r2, *r3])
            }
            _ => 0,
        }
    }

    /// Parses and checks the header of `frame` (the whole frame: its length
    /// is checked against `body_len`).
    pub fn parse(frame: &[u8]) -> Result<Self, DecodeError> {
        let len = frame.len();
        let Some((head, body)) = frame.split_first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::TooShort { len });
        };
        if len > MAX_FRAME_SIZE {
            return Err(DecodeError::TooLong { len });
        }
        let [m0, m1, version, kind, r0, r1, r2, r3, b0, b1, z0, z1] = *head;
        let magic = u16::from_le_bytes([m0, m1]);
        if magic != FRAME_MAGIC {
            return Err(DecodeError::BadMagic { found: magic });
        }
        if version != PROTOCOL_VERSION {
            return Err(DecodeError::UnsupportedVersion { found: version });
        }
        let kind = MessageKind::from_u8(kind).ok_or(DecodeError::UnknownKind { kind })?;
        let reserved = u16::from_le_bytes([z0, z1]);
        if reserved != 0 {
            return Err(DecodeError::ReservedNonZero { value: reserved });
        }
        let body_len = u16::from_le_bytes([b0, b1]);
        if usize::from(body_len) != body.len() {
            return Err(DecodeError::LengthMismatch {
                header: body_len,
                actual: body.len(),
            });
        }
        Ok(Self {
            version,
            kind,
            request_id: u32::from_le_bytes([r0, r1, r2, r3]),
            body_len,
        })
    }
}
