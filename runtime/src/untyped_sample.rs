//! [`UntypedSample`]: a sample taken by an
//! [`UntypedSubscriber`](crate::UntypedSubscriber): the payload and the
//! user header as bytes, read in place, with the metadata a typed
//! [`Sample`](crate::Sample) has.
//!
//! It is checked when taken exactly as a typed sample (chunk, header,
//! payload offset after the user header, a size the [`ServiceType`]
//! allows), held and released the same way. Bytes are always a valid view:
//! a `ZeroCopySafe` payload has no padding, and whatever a publisher wrote
//! is some byte.

use std::marker::PhantomData;
use std::rc::Rc;

use crate::publisher_id::PublisherId;
use crate::service_type::ServiceType;
use crate::subscriber::{SubscriberCore, Taken};
use crate::timestamp::Timestamp;

/// A sample of an [`UntypedSubscriber`](crate::UntypedSubscriber)
/// (module docs).
///
/// ```no_run
/// use zerocp::{ServiceType, TypeInfo};
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Lidar", "Front", "Scan")?;
/// let scans = rt
///     .untyped_subscriber(&svc, ServiceType::slice(TypeInfo::of::<f32>()))
///     .create()?;
/// if let Some(scan) = scans.take()? {
///     println!("{} ranges, {} bytes", scan.len(), scan.payload().len());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct UntypedSample<'s> {
    /// The core it was taken from (see [`Sample`](crate::Sample)).
    core: Rc<SubscriberCore>,
    taken: Taken,
    /// The size of one payload element (of the service type's payload).
    element_size: u32,
    /// The size of the user header (0 without one).
    header_size: u32,
    _subscriber: PhantomData<&'s ()>,
}

impl UntypedSample<'_> {
    /// A sample of `taken`, of a port whose type is `service_type` (only
    /// its two sizes are kept: a sample is moved on every take).
    pub(crate) fn new(core: Rc<SubscriberCore>, taken: Taken, service_type: &ServiceType) -> Self {
        Self {
            core,
            taken,
            element_size: service_type.payload.size,
            header_size: service_type.user_header.size,
            _subscriber: PhantomData,
        }
    }

    /// The payload's bytes: one value of the service's type, or `len()`
    /// elements of a slice.
    pub fn payload(&self) -> &[u8] {
        // Cannot overflow: `take` checked `len` whole elements lie in the chunk.
        let bytes = self.taken.len * self.element_size as usize;
        // SAFETY: `take` checked that the chunk lies in the mapped data
        // segment and that its payload, `len` elements of the service
        // type's size, lies within the chunk at `payload`; we hold a
        // reference, so no publisher reuses the chunk while the sample
        // lives; every byte is a valid `u8`.
        unsafe { std::slice::from_raw_parts(self.taken.payload.as_ptr(), bytes) }
    }

    /// The user header's bytes (empty without one).
    pub fn user_header(&self) -> &[u8] {
        let bytes = self.header_size as usize;
        // SAFETY: the user header starts at offset 64 of the chunk and ends
        // before the payload offset `take` checked (the port's header type
        // places the payload after it), so it lies in the chunk; held as
        // the payload is; every byte is a valid `u8`.
        unsafe { std::slice::from_raw_parts(self.taken.user_header.as_ptr(), bytes) }
    }

    /// Elements of a slice payload (1 for a sized one).
    pub fn len(&self) -> usize {
        self.taken.len
    }

    /// Whether a slice payload is empty (never for a sized one).
    pub fn is_empty(&self) -> bool {
        self.taken.len == 0
    }

    /// The publisher's sequence number of this sample
    /// ([`Sample::sequence`](crate::Sample::sequence)).
    pub fn sequence(&self) -> u64 {
        self.taken.sequence
    }

    /// The publisher that sent it.
    pub fn publisher(&self) -> PublisherId {
        PublisherId::new(self.taken.origin, self.taken.origin_generation)
    }

    /// When the publisher published it: `CLOCK_MONOTONIC` of the
    /// publisher, as [`Sample::publish_time`](crate::Sample::publish_time).
    pub fn publish_time(&self) -> Timestamp {
        Timestamp::from_nanos(self.taken.publish_time)
    }

    /// The global index of the chunk in the data segment.
    pub fn chunk_index(&self) -> u32 {
        self.taken.chunk
    }
}

impl Drop for UntypedSample<'_> {
    fn drop(&mut self) {
        self.core.unhold(self.taken.slot, self.taken.chunk);
    }
}

impl std::fmt::Debug for UntypedSample<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UntypedSample")
            .field("sequence", &self.taken.sequence)
            .field("publisher", &self.publisher())
            .field("publish_time", &self.publish_time())
            .field("len", &self.taken.len)
            .finish()
    }
}
