//! Ports: their kind, the requests that create and remove them, and the
//! daemon's [`PortCreated`] answer (which carries the group's memory).

use crate::port::FullPolicy;
use crate::service::{ServiceDescription, TypeInfo};
use crate::type_layout::TypeLayout;
use crate::wire::codec::{wire_enum, wire_struct};

wire_enum! {
    /// Publisher, subscriber, notifier or listener: the kind of a port, on
    /// the wire and in the daemon's port registry alike.
    pub enum PortKind: u8 {
        /// A publisher port.
        Publisher = 0,
        /// A subscriber port.
        Subscriber = 1,
        /// A notifier port (an event service's sender).
        Notifier = 2,
        /// A listener port (an event service's receiver).
        Listener = 3,
    }
}

impl PortKind {
    /// The kind in lower case, as messages name it: `publisher`,
    /// `subscriber`, `notifier`, `listener`.
    pub const fn noun(self) -> &'static str {
        match self {
            Self::Publisher => "publisher",
            Self::Subscriber => "subscriber",
            Self::Notifier => "notifier",
            Self::Listener => "listener",
        }
    }

    /// Whether the port belongs to an event service (notifier, listener).
    ///
    /// ```
    /// use zerocp_core::wire::PortKind;
    /// assert!(PortKind::Listener.is_event() && !PortKind::Subscriber.is_event());
    /// ```
    pub const fn is_event(self) -> bool {
        matches!(self, Self::Notifier | Self::Listener)
    }
}

wire_enum! {
    /// Whether a port's payload is one value of its type or a slice of
    /// them (protocol version 8).
    pub enum PayloadShape: u8 {
        /// One value of the payload type (`Publisher<T>`).
        Sized = 0,
        /// A slice of values of the payload type, of a length each sample
        /// carries (`Publisher<[T]>`); the type info describes one element.
        Slice = 1,
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
        /// One value or a slice of `type_info` (version 8).
        pub shape: PayloadShape,
        /// The longest slice a sample may carry, in elements: the daemon
        /// picks the mempool by it; 0 for a sized payload (version 8).
        pub max_slice_len: u32,
        /// The user header type written beside the payload in every chunk;
        /// `()` (size 0) for none (version 8).
        pub user_header: TypeInfo,
        /// The payload type's fields (a slice's element's), for tools;
        /// [`LayoutState::Unknown`](crate::type_layout::LayoutState::Unknown)
        /// when it does not describe itself (version 10).
        pub layout: TypeLayout,
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
        /// One value or a slice of `type_info` (version 8).
        pub shape: PayloadShape,
        /// The user header type expected beside the payload; `()` (size 0)
        /// for none (version 8).
        pub user_header: TypeInfo,
        /// The payload type's fields, as in [`CreatePublisher::layout`]
        /// (version 10).
        pub layout: TypeLayout,
    }
}

wire_struct! {
    /// Client → daemon: create a notifier port of an event service.
    pub struct CreateNotifier {
        /// The event service notified.
        pub service: ServiceDescription,
    }
}

wire_struct! {
    /// Client → daemon: create a listener port of an event service.
    pub struct CreateListener {
        /// The event service listened to.
        pub service: ServiceDescription,
    }
}

wire_struct! {
    /// Daemon → client: a port was created. The frame carries two file
    /// descriptors (`SCM_RIGHTS`): the port's group's control part
    /// (read-write), then its payload part, read-only for a subscriber
    /// (`SubscriberCreated`) and read-write for a publisher
    /// (`PublisherCreated`); the sizes here let the runtime check them. A
    /// notifier's and a listener's (`NotifierCreated`, `ListenerCreated`)
    /// carry the control part only: events have no payload.
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
        /// across resets ([`RemovePort`], [`PortRevoked`](super::PortRevoked)).
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
        /// The port's kind.
        pub kind: PortKind,
        /// Its index in its group.
        pub port_index: u32,
        /// Its segment group.
        pub group: u32,
        /// Its generation, as [`PortCreated`] announced it.
        pub generation: u32,
    }
}
