//! History on connect: [`HistoryWanted`], the notice that tells a
//! publisher's owner that a subscriber which asked for history was routed
//! to the publisher, so the owner's runtime hands it the history without
//! waiting for the next publish.

use crate::wire::codec::wire_struct;

wire_struct! {
    /// Daemon → client, unsolicited (request id 0): a subscriber that asked
    /// for history was routed to this process's publisher port. Sent only
    /// for a publisher that keeps history. The notice names the publisher,
    /// not the subscriber: the publisher finds who is new in its topology,
    /// as a publish does.
    pub struct HistoryWanted {
        /// The publisher's segment group.
        pub group: u32,
        /// Its index in its group.
        pub port_index: u32,
        /// Its generation ([`PortCreated::generation`](super::PortCreated::generation)).
        pub generation: u32,
    }
}
