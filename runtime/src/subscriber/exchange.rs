//! What request/response ([`crate::request_response`]) needs of a
//! subscriber beyond publish/subscribe: taking samples a client can park in itself, and naming the port as
//! servers' topologies do.

use std::rc::Rc;

use super::{Subscriber, SubscriberCore};
use crate::ZeroCopySafe;
use crate::error::TakeError;
use crate::payload::Payload;
use crate::sample::Sample;

impl<P: ?Sized + Payload, H: ZeroCopySafe> Subscriber<P, H> {
    /// Takes the oldest queued sample as one that borrows nothing (it keeps
    /// its core alive itself): a client parks responses for other requests
    /// in itself ([`crate::request_response`]). Such a sample must stay in
    /// the client, or in a value that borrows it: the client's `Send`
    /// rests on that, as a port's does on samples borrowing it.
    pub(crate) fn take_detached(&self) -> Result<Option<Sample<'static, P, H>>, TakeError> {
        self.cell.call(SubscriberCore::take, |core, taken| {
            taken.map(|taken| Sample::new(Rc::clone(core), taken))
        })
    }

    /// This port as publishers' topologies name it (index and generation),
    /// re-attached first if the daemon restarted since: a client names it
    /// in its requests ([`crate::request_response`]).
    pub(crate) fn peer(&self) -> Result<crate::topology::Peer, TakeError> {
        let current = |core: &SubscriberCore| match core.runtime().registration().gone() {
            Some(gone) => Err(TakeError::from(gone)),
            None => Ok(core.status.key()),
        };
        self.cell.call(current, |_, key| crate::topology::Peer {
            index: key.index,
            generation: key.generation,
        })
    }
}
