//! [`RawClient`]: a client speaking the wire format directly (no runtime),
//! for protocol tests and for children that touch shared memory by hand.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Duration;

use zerocp_core::wire::{MAX_FRAME_SIZE, Message};
use zerocp_os_linux::control_client::{ControlClient, ControlError};

/// A client speaking the wire format directly (no runtime), for protocol
/// tests: the shared [`ControlClient`] with test-friendly panics.
pub struct RawClient {
    /// The client.
    pub client: ControlClient,
}

/// Reply timeout of [`RawClient`].
pub const REPLY_DEADLINE: Duration = Duration::from_secs(20);

impl RawClient {
    /// Connects to `socket`.
    pub fn connect(socket: &Path) -> Self {
        let client = ControlClient::connect(socket)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", socket.display()));
        Self { client }
    }

    /// Sends raw bytes as one frame.
    pub fn send_bytes(&self, bytes: &[u8]) {
        self.client.send_frame(bytes).expect("send a raw frame");
    }

    /// Encodes `msg` with `request_id`.
    pub fn encode(msg: &Message, request_id: u32) -> Vec<u8> {
        let mut buf = vec![0u8; MAX_FRAME_SIZE];
        let len = zerocp_core::wire::encode(msg, request_id, &mut buf).expect("encode");
        buf.truncate(len);
        buf
    }

    /// Receives one frame; `None` when the daemon closed the connection.
    pub fn recv(&mut self) -> Option<(u32, Message)> {
        match self.client.recv(REPLY_DEADLINE) {
            Ok(Some((header, msg))) => Some((header.request_id, msg)),
            Ok(None) => panic!("no frame from the daemon within {REPLY_DEADLINE:?}"),
            Err(ControlError::Closed) => None,
            Err(e) => panic!("receiving from the daemon: {e}"),
        }
    }

    /// Sends `msg` and returns the reply (which carries the request's id).
    pub fn request(&mut self, msg: &Message) -> Message {
        self.client
            .request(msg, REPLY_DEADLINE)
            .unwrap_or_else(|e| panic!("{:?} failed: {e}", msg.kind()))
    }

    /// Registers as `name`; returns the `Registered` payload.
    pub fn register(&mut self, name: &str) -> zerocp_core::wire::Registered {
        self.register_with_segments(name).0
    }

    /// Registers as `name`; returns the `Registered` payload and the segment
    /// descriptor that came with it (the mgmt segment).
    pub fn register_with_segments(
        &mut self,
        name: &str,
    ) -> (zerocp_core::wire::Registered, Vec<OwnedFd>) {
        use zerocp_core::wire::{Message, PROTOCOL_VERSION, Register};
        let msg = Message::Register(Register {
            protocol_version: PROTOCOL_VERSION,
            process_name: zerocp_core::fixed_string::FixedString::from_str_truncated(name),
        });
        match self.client.request_with_fds(&msg, REPLY_DEADLINE) {
            Ok((Message::Registered(r), fds)) => (r, fds),
            Ok((other, _)) => panic!("Register answered with {other:?}"),
            Err(e) => panic!("Register failed: {e}"),
        }
    }

    /// Creates a publisher of `T` on `service`; returns its port index.
    pub fn create_publisher<T>(&mut self, service: &str, history: u32) -> u32 {
        self.create_publisher_with_segments::<T>(service, history)
            .0
            .port_index
    }

    /// Creates a publisher of `T` on `service`; returns the reply (group,
    /// index, sizes) and the descriptors it carries: the group's control
    /// part, then its payload part read-write.
    pub fn create_publisher_with_segments<T>(
        &mut self,
        service: &str,
        history: u32,
    ) -> (zerocp_core::wire::PortCreated, Vec<OwnedFd>) {
        use zerocp_core::wire::{CreatePublisher, Message};
        let msg = Message::CreatePublisher(CreatePublisher {
            service: parse_service(service),
            type_info: zerocp_core::service::TypeInfo::of::<T>(),
            history,
            max_loans: 4,
            shape: zerocp_core::wire::PayloadShape::Sized,
            max_slice_len: 0,
            user_header: zerocp_core::service::TypeInfo::of::<()>(),
            layout: zerocp_core::type_layout::TypeLayout::unknown(),
        });
        match self.client.request_with_fds(&msg, REPLY_DEADLINE) {
            Ok((Message::PublisherCreated(p), fds)) => (p, fds),
            Ok((other, _)) => panic!("CreatePublisher answered with {other:?}"),
            Err(e) => panic!("CreatePublisher failed: {e}"),
        }
    }

    /// Creates a subscriber of `T` on `service`; returns the reply and the
    /// descriptors it carries: the group's control part, then its payload
    /// part read-only.
    pub fn create_subscriber_with_segments<T>(
        &mut self,
        service: &str,
        queue_capacity: u32,
    ) -> (zerocp_core::wire::PortCreated, Vec<OwnedFd>) {
        use zerocp_core::wire::{CreateSubscriber, FullPolicy, Message};
        let msg = Message::CreateSubscriber(CreateSubscriber {
            service: parse_service(service),
            type_info: zerocp_core::service::TypeInfo::of::<T>(),
            queue_capacity,
            full_policy: FullPolicy::DiscardOldest,
            history_request: 0,
            max_held: 4,
            shape: zerocp_core::wire::PayloadShape::Sized,
            user_header: zerocp_core::service::TypeInfo::of::<()>(),
            layout: zerocp_core::type_layout::TypeLayout::unknown(),
        });
        match self.client.request_with_fds(&msg, REPLY_DEADLINE) {
            Ok((Message::SubscriberCreated(p), fds)) => (p, fds),
            Ok((other, _)) => panic!("CreateSubscriber answered with {other:?}"),
            Err(e) => panic!("CreateSubscriber failed: {e}"),
        }
    }

    /// Creates a subscriber of `T` on `service`; returns its port index.
    pub fn create_subscriber<T>(&mut self, service: &str, queue_capacity: u32) -> u32 {
        self.create_subscriber_with_segments::<T>(service, queue_capacity)
            .0
            .port_index
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
