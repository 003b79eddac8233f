//! The service layout query (protocol version 10): a tool asks for the
//! [`TypeLayout`] the daemon keeps for a service
//! ([`Message::QueryServiceLayout`](crate::wire::Message::QueryServiceLayout))
//! and gets a [`ServiceLayout`]. A layout is up to 1.4 KiB, so it has its
//! own query rather than a place in every [`PortInfo`](super::PortInfo) of
//! a page.

use crate::service::ServiceDescription;
use crate::type_layout::TypeLayout;
use crate::wire::codec::wire_struct;

wire_struct! {
    /// Daemon → client: the layout of a service's payload type (of one
    /// element, for a slice service): that of its first port that came
    /// with one, or [`TypeLayout::unknown`] when none did.
    pub struct ServiceLayout {
        /// The service.
        pub service: ServiceDescription,
        /// Its payload type's fields.
        pub layout: TypeLayout,
    }
}
