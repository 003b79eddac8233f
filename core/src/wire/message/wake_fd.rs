//! Wake descriptors: the sending end of a wake socket a process hands the daemon for one of its
//! receiving ports ([`Message::SetWakeFd`](crate::wire::Message::SetWakeFd)),
//! and the one a sender asks for to signal a port it delivers to
//! ([`Message::QueryWakeFd`](crate::wire::Message::QueryWakeFd)).
//!
//! Both requests and the daemon's answer [`Message::WakeFd`](crate::wire::Message::WakeFd)
//! name the port by [`WakeFdPort`]; the descriptor itself travels beside the
//! frame (`SCM_RIGHTS`): with `SetWakeFd` to the daemon, with `WakeFd` back.
//! The daemon keeps one descriptor per port, and hands it only to a process
//! one of whose ports is routed to that port (else `NotRouted`); a port
//! that was never armed is refused with `NotArmed`.

use crate::wire::PortKind;
use crate::wire::codec::wire_struct;

wire_struct! {
    /// The receiving port a wake descriptor belongs to.
    pub struct WakeFdPort {
        /// The kind of the receiving port (a subscriber).
        pub kind: PortKind,
        /// Its segment group.
        pub group: u32,
        /// Its index in its group.
        pub port_index: u32,
        /// Its generation, as `PortCreated` announced it (a sender: as its
        /// topology names it).
        pub generation: u32,
    }
}
