//! [`Sample`]: a received sample, read in place in shared memory.
//!
//! A sample borrows its subscriber and dereferences to the payload bytes the
//! publisher wrote: the same physical memory, not a copy. While it lives, the
//! chunk is listed in the subscriber port's `held` list (so the daemon can
//! reclaim it if this process dies) and cannot be reused by any publisher;
//! dropping it unlists it and releases the reference.
//!
//! A sample also carries its metadata, read from the chunk header the
//! publisher wrote: [`Sample::sequence`], [`Sample::publish_time`] and
//! [`Sample::publisher`]. The header is shared memory another process
//! writes, so these are reported as read (a hostile publisher can put any
//! number there) and nothing is found or indexed with them.
//!
//! A slice subscriber's sample (`Sample<[T]>`) dereferences to the `&[T]`
//! of the length the publisher published, checked against the chunk
//! (a whole number of elements, within it) when it was taken. A user
//! header is read with [`Sample::user_header`].
//!
//! A sample keeps the subscriber core it came from (an `Rc`,
//! [`crate::port_cell`]): held across a daemon restart, it stays readable
//! after the subscriber re-attached, and dropping it releases the chunk
//! into the old memory (unmapped with the last old sample).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;

use crate::ZeroCopySafe;
use crate::payload::Payload;
use crate::payload::sealed::Place;
use crate::publisher_id::PublisherId;
use crate::subscriber::{SubscriberCore, Taken};
use crate::timestamp::Timestamp;

/// A sample taken from a [`Subscriber`](crate::Subscriber); dereferences to
/// the payload `P` (`T`, or `[T]` for a slice subscriber), with a user
/// header of type `H`.
pub struct Sample<'s, P: ?Sized, H = ()> {
    /// The core it was taken from (the subscriber's current one, or an old
    /// one after a daemon restart); the subscriber is borrowed for `'s`.
    core: Rc<SubscriberCore>,
    taken: Taken,
    _payload: PhantomData<&'s P>,
    _header: PhantomData<fn() -> H>,
}

impl<'s, P: ?Sized + Payload, H: ZeroCopySafe> Sample<'s, P, H> {
    pub(crate) fn new(core: Rc<SubscriberCore>, taken: Taken) -> Self {
        Self {
            core,
            taken,
            _payload: PhantomData,
            _header: PhantomData,
        }
    }

    /// The user header the publisher wrote beside the payload.
    ///
    /// ```no_run
    /// use zerocp::ZeroCopySafe;
    /// #[derive(ZeroCopySafe)]
    /// #[repr(C)]
    /// struct Scan { revolution: u32, rpm: u32 }
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Lidar", "Front", "Scan")?;
    /// let scans = rt.subscriber::<[f32]>(&svc).user_header::<Scan>().create()?;
    /// while let Some(scan) = scans.take()? {
    ///     println!("revolution {}: {} ranges", scan.user_header().revolution, scan.len());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn user_header(&self) -> &H {
        // SAFETY: the user header lies in the chunk at offset 64 (`take`
        // checked the payload starts after it, where this port's types put
        // it, within the chunk), aligned for H (align <= 64, checked at
        // creation); we hold a reference, so no publisher reuses the chunk
        // while the sample lives; every bit pattern is a valid H.
        unsafe { self.taken.user_header.cast::<H>().as_ref() }
    }

    /// The publisher's sequence number of this sample (per publisher, from
    /// 0, one more per publish; a gap means samples this subscriber did not
    /// get).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// # let subscriber = rt.subscriber::<u64>(&svc).create()?;
    /// let mut next = None;
    /// while let Some(sample) = subscriber.take()? {
    ///     if next.is_some_and(|n| sample.sequence() != n) {
    ///         println!("missed {} samples", sample.sequence().wrapping_sub(next.unwrap()));
    ///     }
    ///     next = Some(sample.sequence().wrapping_add(1));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sequence(&self) -> u64 {
        self.taken.sequence
    }

    /// The port index of the publisher that sent it (the port part of
    /// [`publisher`](Self::publisher)).
    pub fn publisher_port(&self) -> u32 {
        self.taken.origin
    }

    /// The publisher that sent it: equal to that publisher's
    /// [`Publisher::id`](crate::Publisher::id).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// # let subscriber = rt.subscriber::<u64>(&svc).create()?;
    /// if let Some(sample) = subscriber.take()? {
    ///     println!("#{} from {}", sample.sequence(), sample.publisher());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publisher(&self) -> PublisherId {
        PublisherId::new(self.taken.origin, self.taken.origin_generation)
    }

    /// When the publisher published it: `CLOCK_MONOTONIC`, the clock
    /// [`Timestamp::now`] reads in this process too.
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// # let subscriber = rt.subscriber::<u64>(&svc).create()?;
    /// use zerocp::Timestamp;
    /// if let Some(sample) = subscriber.take()? {
    ///     let age = Timestamp::now().saturating_duration_since(sample.publish_time());
    ///     println!("sample is {age:?} old");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn publish_time(&self) -> Timestamp {
        Timestamp::from_nanos(self.taken.publish_time)
    }

    /// The global index of the chunk in the data segment: the same number
    /// the publisher's [`LoanedSample::chunk_index`](crate::LoanedSample::chunk_index)
    /// returned for it (for diagnostics and tests of zero copy).
    pub fn chunk_index(&self) -> u32 {
        self.taken.chunk
    }
}

impl<P: ?Sized, H> Sample<'_, P, H> {
    /// The header's request/response exchange words, as read (hostile:
    /// only compared, [`crate::request_response`]).
    pub(crate) fn exchange(&self) -> [u32; 2] {
        self.taken.exchange
    }

    /// The request id a response names, or this request's own id: the low
    /// 32 bits of the request's sequence number.
    pub(crate) fn request_id(&self) -> u32 {
        self.taken.sequence as u32
    }
}

impl<P: ?Sized + Payload + Place, H> Deref for Sample<'_, P, H> {
    type Target = P;

    fn deref(&self) -> &P {
        // SAFETY: `take` checked that the chunk lies in the data segment and
        // that its payload has exactly size_of::<T>() bytes (a slice: `len`
        // whole elements, within the chunk) at the offset this port's types
        // imply, aligned for T; we hold a reference, so no publisher reuses
        // the chunk while the sample lives; every bit pattern is a valid T
        // (ZeroCopySafe contract).
        unsafe { P::place(self.taken.payload, self.taken.len).as_ref() }
    }
}

impl<P: ?Sized, H> Drop for Sample<'_, P, H> {
    fn drop(&mut self) {
        self.core.unhold(self.taken.slot, self.taken.chunk);
    }
}

impl<P: ?Sized + Payload + Place + fmt::Debug, H: ZeroCopySafe> fmt::Debug for Sample<'_, P, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sample")
            .field("sequence", &self.taken.sequence)
            .field("publisher", &self.publisher())
            .field("publish_time", &self.publish_time())
            .field("payload", &&**self)
            .finish()
    }
}
