//! Targeted publishing: a chunk handed to one routed subscriber instead of
//! all of them, with the chunk header's exchange words written first.
//!
//! Request/response is built on it ([`crate::request_response`]): a client
//! sends a request to the oldest routed server ([`Target::Oldest`]), a
//! server sends a response only to the client port the request named
//! ([`Target::Peer`], checked against the publisher's topology). The chunk
//! is otherwise published as [`PublisherCore::publish`] does (sequence
//! number, publish time, the full-queue policy of the receiving port), but
//! never kept in the history.

use super::{DeliveryError, Loan, PublisherCore};
use crate::topology::Peer;

/// Which routed subscriber gets the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The first routed one in the topology (the oldest: the daemon lists
    /// subscribers in creation order).
    Oldest,
    /// Exactly this port and generation, if the topology names it.
    Peer(Peer),
}

/// Where a targeted chunk went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handed {
    /// Into this subscriber's queue.
    To(Peer),
    /// Nowhere: no routed subscriber fits the target.
    NoPeer,
    /// Nowhere: this subscriber's queue stayed full (or at its quota) past
    /// the publish timeout.
    Full(Peer),
}

/// A targeted chunk that was handed over: to whom, and its sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// Where it went.
    pub(crate) handed: Handed,
    /// The sequence number stamped into its header.
    pub(crate) sequence: u64,
}

impl PublisherCore {
    /// Publishes a loaned chunk to the one subscriber `target` names and
    /// consumes the loan; `exchange` gives the header's exchange words from
    /// the chunk's sequence number. A chunk nobody got is released.
    pub(crate) fn publish_to(
        &self,
        loan: &Loan,
        target: Target,
        exchange: impl FnOnce(u64) -> [u32; 2],
    ) -> Result<Sent, DeliveryError> {
        if let Err(e) = self.usable() {
            self.drop_loan(loan);
            return Err(e);
        }
        let sequence = self.stamp(loan);
        loan.header().set_exchange(exchange(sequence));
        let result = self.deliver_one(loan.chunk, target);
        self.drop_loan(loan);
        result.map(|handed| Sent { handed, sequence })
    }

    /// Zeroes the `size` bytes of a loan's payload (a chunk sent for its
    /// header only, whose bytes must not leak what the chunk held before).
    pub(crate) fn zero_payload(&self, loan: &Loan, size: u32) {
        // SAFETY: the loan's payload lies inside the chunk, which the loan
        // holds exclusively; `size` is the size it was loaned for, which
        // the chunk's header initialisation checked fits the chunk.
        unsafe { std::ptr::write_bytes(loan.payload.as_ptr(), 0, size as usize) };
    }

    /// Whether `peer` is still the subscriber port routed to this
    /// publisher (index and generation): a client checks its server's
    /// request port with it.
    pub(crate) fn routes(&self, peer: Peer) -> bool {
        self.shared.routed_port(peer).is_some()
    }
}
