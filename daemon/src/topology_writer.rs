//! Writing publishers' topologies into shared memory.
//!
//! The daemon is the only writer of a publisher's topology: a `SeqLock` of
//! `(subscriber index, generation)` pairs in the publisher's port, which the
//! publisher reads on every publish (one load when unchanged). A topology
//! names subscribers by their index in the group's control part: a
//! service's ports are all in its group, so no topology crosses groups. What a
//! topology holds is decided by [`crate::route_table`] (every subscriber of
//! the publisher's service); a fresh publisher slot starts with an empty one
//! ([`crate::port_registry`]). A notifier's topology is the same `SeqLock`
//! in its notifier port, naming the listeners of its event service.

use zerocp_core::group_control::GroupControl;
use zerocp_core::port::{MAX_SUBSCRIBERS_PER_PUBLISHER, PublisherPort, TOPOLOGY_WORDS};
use zerocp_core::seqlock::SeqLock;
use zerocp_core::wire::PortKind;

use crate::port_id::PortId;

/// Writes the topology of every publisher in `publishers`: `subscribers`
/// (all ports of one service, so all in the group of `control`).
pub fn write_all(control: &GroupControl<'_>, publishers: &[PortId], subscribers: &[PortId]) {
    for &publisher in publishers {
        write_publisher(control, publisher, subscribers);
    }
}

/// Writes `subscribers` as the topology of publisher port `publisher`, in
/// its group's control part `control`.
pub fn write_publisher(control: &GroupControl<'_>, publisher: PortId, subscribers: &[PortId]) {
    let topology = match publisher.kind {
        PortKind::Notifier => control.notifier(publisher.index).map(|p| &*p.topology),
        _ => control.publisher(publisher.index).map(|p| &*p.topology),
    };
    match topology {
        Some(topology) => write_topology(topology, subscribers),
        None => log::error!("cannot write the topology of {publisher}: no such slot"),
    }
}

/// Writes `subscribers` as `(index, generation)` pairs into `port`'s topology
/// (at most [`MAX_SUBSCRIBERS_PER_PUBLISHER`] of them).
pub fn write(port: &PublisherPort, subscribers: &[PortId]) {
    write_topology(&port.topology, subscribers);
}

/// Writes `receivers` as `(index, generation)` pairs into `topology` (a
/// publisher's or a notifier's: a notifier's names listener ports).
pub fn write_topology(topology: &SeqLock<TOPOLOGY_WORDS>, receivers: &[PortId]) {
    let subscribers = receivers;
    let words: Vec<u32> = subscribers
        .iter()
        .take(MAX_SUBSCRIBERS_PER_PUBLISHER)
        .flat_map(|s| [s.index, s.generation])
        .collect();
    if let Err(e) = topology.write(&words) {
        // Cannot happen: the route table keeps every service within a topology's capacity.
        log::error!("topology write failed: {e}");
    }
}
