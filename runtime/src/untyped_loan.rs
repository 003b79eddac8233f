//! [`UntypedLoan`]: a chunk loaned by an
//! [`UntypedPublisher`](crate::UntypedPublisher): the payload's bytes in
//! shared memory, written in place and published, or given back when
//! dropped.
//!
//! A loan's bytes are whatever the chunk held before, as a typed
//! publisher's `MaybeUninit` loan: the caller writes every byte (through
//! [`UntypedLoan::payload_mut`], or [`UntypedLoan::as_mut_ptr`] from
//! another language) before publishing. Its user header, when the service
//! type has one, is zero-filled at the loan as a typed loan's is, and
//! written through [`UntypedLoan::user_header_mut`]. Like a
//! [`LoanedSample`](crate::LoanedSample) it keeps the publisher core it
//! came from, and publishing it after a daemon restart fails the same way.

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::rc::Rc;

use crate::error::PublishError;
use crate::loaned_sample::publish_error;
use crate::publisher::{Loan, PublisherCore};

/// A chunk loaned from an [`UntypedPublisher`](crate::UntypedPublisher):
/// the payload's bytes in shared memory (module docs). Publish it with
/// [`publish`](UntypedLoan::publish); drop it to give the chunk back.
///
/// ```no_run
/// use zerocp::{ServiceType, TypeInfo};
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Id")?;
/// let ids = rt
///     .untyped_publisher(&svc, ServiceType::sized(TypeInfo::of::<u32>()))
///     .create()?;
/// let mut loan = ids.loan()?;
/// assert_eq!(loan.len_bytes(), 4);
/// for byte in loan.payload_mut() {
///     byte.write(0xff);
/// }
/// loan.publish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct UntypedLoan<'p> {
    core: Rc<PublisherCore>,
    loan: Loan,
    bytes: usize,
    /// The user header's size (0 without one).
    header_bytes: usize,
    _publisher: PhantomData<&'p ()>,
}

impl UntypedLoan<'_> {
    pub(crate) fn new(
        core: Rc<PublisherCore>,
        loan: Loan,
        bytes: usize,
        header_bytes: usize,
    ) -> Self {
        Self {
            core,
            loan,
            bytes,
            header_bytes,
            _publisher: PhantomData,
        }
    }

    /// The payload's bytes, to write; they hold what the chunk held before.
    pub fn payload_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: the loan's payload lies in the chunk (creation placed
        // the maximum payload in the pool's chunks, and `bytes` is at most
        // it), the chunk is exclusively ours while loaned, and `&mut self`
        // makes the access exclusive; `MaybeUninit<u8>` is valid for any
        // byte.
        unsafe { std::slice::from_raw_parts_mut(self.loan.payload.as_ptr().cast(), self.bytes) }
    }

    /// The payload's first byte, aligned for the type: where a binding
    /// writes the payload (the [`len_bytes`](Self::len_bytes) bytes from
    /// there are the loan's until it is published or dropped).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.loan.payload.as_ptr()
    }

    /// The payload's size in bytes.
    pub fn len_bytes(&self) -> usize {
        self.bytes
    }

    /// The user header's bytes, zero-filled at the loan (empty when the
    /// service type has no user header).
    ///
    /// ```no_run
    /// use zerocp::{ServiceType, TypeInfo};
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Camera", "Front", "Image")?;
    /// let images = ServiceType::slice(TypeInfo::of::<u8>())
    ///     .with_user_header(TypeInfo::of::<u32>());
    /// let publisher = rt.untyped_publisher(&svc, images).max_slice_len(64).create()?;
    /// let mut loan = publisher.loan_slice(3)?;
    /// assert_eq!(loan.user_header_mut(), &[0; 4]);
    /// loan.user_header_mut().copy_from_slice(&7u32.to_ne_bytes());
    /// for byte in loan.payload_mut() {
    ///     byte.write(1);
    /// }
    /// loan.publish()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn user_header_mut(&mut self) -> &mut [u8] {
        // SAFETY: the user header lies in the chunk (creation placed the
        // port's header type before the payload, within the chunk), the
        // chunk is exclusively ours while loaned and `&mut self` makes the
        // access exclusive; the loan zero-filled it, so every byte is an
        // initialised `u8`.
        unsafe { std::slice::from_raw_parts_mut(self.loan.user_header.as_ptr(), self.header_bytes) }
    }

    /// The global index of the chunk in the data segment.
    pub fn chunk_index(&self) -> u32 {
        self.loan.chunk
    }

    /// Publishes the sample to every subscriber of the service; fails as
    /// [`LoanedSample::publish`](crate::LoanedSample::publish) does. The
    /// caller must have written every payload byte.
    pub fn publish(self) -> Result<(), PublishError> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the core moves
        // out of it exactly once.
        let core = unsafe { std::ptr::read(&this.core) };
        core.publish(&this.loan)
            .map_err(|e| publish_error(&core, e))
    }
}

impl Drop for UntypedLoan<'_> {
    fn drop(&mut self) {
        self.core.drop_loan(&self.loan);
    }
}

impl std::fmt::Debug for UntypedLoan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UntypedLoan")
            .field("chunk", &self.loan.chunk)
            .field("bytes", &self.bytes)
            .field("header_bytes", &self.header_bytes)
            .finish()
    }
}
