//! [`RawClient`]: a client speaking the wire format directly (no runtime),
//! for protocol tests and for children that touch shared memory by hand.

use std::path::Path;
use std::time::Duration;

/// A client speaking the wire format directly (no runtime), for protocol tests.
pub struct RawClient {
    /// The connection.
    pub conn: zerocp_os_linux::seqpacket::SeqpacketConn,
    next_id: u32,
}

/// Reply timeout of [`RawClient`].
pub const REPLY_DEADLINE: Duration = Duration::from_secs(20);

impl RawClient {
    /// Connects to `socket`.
    pub fn connect(socket: &Path) -> Self {
        let conn = zerocp_os_linux::seqpacket::SeqpacketConn::connect(socket)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", socket.display()));
        Self { conn, next_id: 1 }
    }

    /// Sends raw bytes as one frame.
    pub fn send_bytes(&self, bytes: &[u8]) {
        self.conn.send(bytes).expect("send a raw frame");
    }

    /// Encodes `msg` with `request_id`.
    pub fn encode(msg: &zerocp_core::wire::Message, request_id: u32) -> Vec<u8> {
        let mut buf = vec![0u8; zerocp_core::wire::MAX_FRAME_SIZE];
        let len = zerocp_core::wire::encode(msg, request_id, &mut buf).expect("encode");
        buf.truncate(len);
        buf
    }

    /// Receives one frame; `None` when the daemon closed the connection.
    pub fn recv(&self) -> Option<(u32, zerocp_core::wire::Message)> {
        use zerocp_os_linux::seqpacket::RecvResult;
        let mut buf = vec![0u8; zerocp_core::wire::MAX_FRAME_SIZE];
        match self.conn.recv_timeout(&mut buf, REPLY_DEADLINE) {
            Ok(RecvResult::Frame(len)) => {
                let (header, msg) =
                    zerocp_core::wire::decode(&buf[..len]).expect("the daemon sends valid frames");
                Some((header.request_id, msg))
            }
            Ok(RecvResult::Closed) => None,
            Err(e) if e.is_disconnected() => None,
            other => panic!("no reply from the daemon within {REPLY_DEADLINE:?}: {other:?}"),
        }
    }

    /// Sends `msg` and returns the reply (asserting it echoes the request id).
    pub fn request(&mut self, msg: &zerocp_core::wire::Message) -> zerocp_core::wire::Message {
        let id = self.next_id;
        self.next_id += 1;
        self.send_bytes(&Self::encode(msg, id));
        let (reply_id, reply) = self.recv().expect("the daemon closed the connection");
        assert_eq!(reply_id, id, "reply {reply:?} carries the wrong request id");
        reply
    }

    /// Registers as `name`; returns the `Registered` payload.
    pub fn register(&mut self, name: &str) -> zerocp_core::wire::Registered {
        use zerocp_core::wire::{Message, PROTOCOL_VERSION, Register};
        let msg = Message::Register(Register {
            protocol_version: PROTOCOL_VERSION,
            process_name: zerocp_core::fixed_string::FixedString::from_str_truncated(name),
        });
        match self.request(&msg) {
            Message::Registered(r) => r,
            other => panic!("Register answered with {other:?}"),
        }
    }

    /// Creates a publisher of `T` on `service`; returns its port index.
    pub fn create_publisher<T>(&mut self, service: &str, history: u32) -> u32 {
        use zerocp_core::wire::{CreatePublisher, Message};
        let msg = Message::CreatePublisher(CreatePublisher {
            service: parse_service(service),
            type_info: zerocp_core::service::TypeInfo::of::<T>(),
            history,
            max_loans: 4,
        });
        match self.request(&msg) {
            Message::PublisherCreated(p) => p.port_index,
            other => panic!("CreatePublisher answered with {other:?}"),
        }
    }

    /// Creates a subscriber of `T` on `service`; returns its port index.
    pub fn create_subscriber<T>(&mut self, service: &str, queue_capacity: u32) -> u32 {
        use zerocp_core::wire::{CreateSubscriber, FullPolicy, Message};
        let msg = Message::CreateSubscriber(CreateSubscriber {
            service: parse_service(service),
            type_info: zerocp_core::service::TypeInfo::of::<T>(),
            queue_capacity,
            full_policy: FullPolicy::DiscardOldest,
            history_request: 0,
            max_held: 4,
        });
        match self.request(&msg) {
            Message::SubscriberCreated(p) => p.port_index,
            other => panic!("CreateSubscriber answered with {other:?}"),
        }
    }
}

/// `"A/B/C"` as a service description.
pub fn parse_service(text: &str) -> zerocp_core::service::ServiceDescription {
    let parts: Vec<&str> = text.split('/').collect();
    assert_eq!(
        parts.len(),
        3,
        "service {text:?} is not service/instance/event"
    );
    zerocp_core::service::ServiceDescription::new(parts[0], parts[1], parts[2])
        .expect("valid service name")
}
