//! The operator's requests, allowed to root and the daemon's uid only:
//! [`RevokePort`], and [`ResetGroup`] with its answer [`GroupReset`].

use super::{MAX_GROUP_NAME_LEN, PortKind};
use crate::fixed_string::FixedString;
use crate::wire::codec::wire_struct;

wire_struct! {
    /// Client → daemon: revoke a port (allowed to root and the daemon's uid
    /// only; answered with [`PortRevoked`](super::PortRevoked)).
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
        /// The incarnation of its new memory ([`PortCreated::incarnation`](super::PortCreated::incarnation)).
        pub incarnation: u32,
        /// Ports revoked with it.
        pub revoked: u32,
    }
}
