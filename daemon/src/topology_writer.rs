//! Writing publishers' topologies into shared memory.
//!
//! The daemon is the only writer of a publisher's topology: a `SeqLock` of
//! `(subscriber index, generation)` pairs in the publisher's port, which the
//! publisher reads on every publish (one load when unchanged). What a
//! topology holds is decided by [`crate::route_table`] (every subscriber of
//! the publisher's service); a fresh publisher slot starts with an empty one
//! ([`crate::port_registry`]).

use zerocp_core::mgmt::Mgmt;
use zerocp_core::port::{MAX_SUBSCRIBERS_PER_PUBLISHER, PublisherPort};

use crate::port_id::PortId;

/// Writes the topology of every publisher in `publishers`: `subscribers`.
pub fn write_all(mgmt: &Mgmt<'_>, publishers: &[PortId], subscribers: &[PortId]) {
    for &publisher in publishers {
        write_publisher(mgmt, publisher, subscribers);
    }
}

/// Writes `subscribers` as the topology of publisher port `publisher`.
pub fn write_publisher(mgmt: &Mgmt<'_>, publisher: PortId, subscribers: &[PortId]) {
    match mgmt.publisher(publisher.index) {
        Some(port) => write(port, subscribers),
        None => log::error!("cannot write the topology of {publisher}: no such slot"),
    }
}

/// Writes `subscribers` as `(index, generation)` pairs into `port`'s topology
/// (at most [`MAX_SUBSCRIBERS_PER_PUBLISHER`] of them).
pub fn write(port: &PublisherPort, subscribers: &[PortId]) {
    let words: Vec<u32> = subscribers
        .iter()
        .take(MAX_SUBSCRIBERS_PER_PUBLISHER)
        .flat_map(|s| [s.index, s.generation])
        .collect();
    if let Err(e) = port.topology.write(&words) {
        // Cannot happen: the route table keeps every service within a topology's capacity.
        log::error!("topology write failed: {e}");
    }
}
