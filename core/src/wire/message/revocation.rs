//! Revocation notices: [`PortRevoked`], sent unsolicited to a port's owner
//! (and as the answer to the operator's `RevokePort`), and the
//! [`RevokeReason`] it gives.

use super::PortKind;
use crate::wire::codec::{wire_enum, wire_struct};

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
    /// memory. Also the reply to [`RevokePort`](super::RevokePort).
    pub struct PortRevoked {
        /// Publisher or subscriber.
        pub kind: PortKind,
        /// Its index in its group.
        pub port_index: u32,
        /// Its segment group.
        pub group: u32,
        /// Its generation ([`PortCreated::generation`](super::PortCreated::generation)).
        pub generation: u32,
        /// What the daemon found.
        pub reason: RevokeReason,
    }
}
