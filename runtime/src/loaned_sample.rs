//! [`LoanedSample`]: a chunk of shared memory loaned to a publisher.
//!
//! The sample *is* the memory subscribers will read: writing into it writes
//! into the data segment, and publishing hands over the chunk's index, never
//! a copy. It starts as `LoanedSample<MaybeUninit<T>>` and becomes a
//! `LoanedSample<T>` once initialised; only the latter can be published.
//! Dropping a sample without publishing returns the chunk to its pool.
//!
//! # Filling large payloads in place
//!
//! [`write`](LoanedSample::write) moves a value that was built on the stack
//! into the chunk. For payloads of hundreds of KiB or MiB build nothing on the
//! stack; initialise in place with [`write_with`](LoanedSample::write_with),
//! which hands out `&mut T` over the chunk's current bytes:
//!
//! ```no_run
//! # let rt = zerocp::Runtime::init("doc")?;
//! # let svc = zerocp::ServiceDescription::new("Camera", "Front", "Frame")?;
//! const N: usize = 1 << 20;
//! let publisher = rt.publisher::<[u8; N]>(&svc).create()?;
//! let frame = publisher.loan_uninit()?.write_with(|bytes: &mut [u8; N]| {
//!     for (i, b) in bytes.iter_mut().enumerate() {
//!         *b = (i % 251) as u8; // e.g. copy from the camera driver's buffer
//!     }
//! });
//! frame.publish()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`zeroed`](LoanedSample::zeroed) clears the chunk first, and
//! [`as_mut_ptr`](LoanedSample::as_mut_ptr) with
//! [`assume_init`](LoanedSample::assume_init) serves field-by-field writes
//! through raw pointers.
//!
//! # Slices and user headers
//!
//! A slice publisher's loan is a `LoanedSample<[MaybeUninit<T>]>` of the
//! length asked for, filled in place (`loaned_slice`: `write_from_slice`,
//! `fill`, `write_with`) into a `LoanedSample<[T]>`. A publisher with a
//! user header `H` loans `LoanedSample<P, H>`: the header is zero-filled at
//! every loan, so that no byte of an earlier sample reaches subscribers
//! through a field left unset, and written through
//! [`user_header_mut`](LoanedSample::user_header_mut). Zero-filling (rather
//! than a `MaybeUninit` header that must be written before publishing)
//! keeps publishing one call and costs a few bytes' store per loan; every
//! bit pattern, zeros included, is a valid `ZeroCopySafe` value.
//!
//! # Across a daemon restart
//!
//! A loan keeps the publisher core it came from (an `Rc`,
//! [`crate::port_cell`]): when the publisher re-attaches to a restarted
//! daemon, a loan of the old core stays writable and dropping it releases
//! the chunk into the old memory. Publishing it fails with
//! [`PublishError::LoanedBeforeReconnect`] once the runtime registered
//! again (`Disconnected` before): its chunk index means something else in
//! the new daemon's memory, so it never enters a queue there.

use std::fmt;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::rc::Rc;

use crate::ZeroCopySafe;
use crate::error::PublishError;
use crate::payload::Payload;
use crate::payload::sealed::Place;
use crate::publisher::{DeliveryError, Loan, PublisherCore};
use crate::registration::Gone;

/// A sample loaned from a [`Publisher`](crate::Publisher): `P` is
/// `MaybeUninit<T>` until initialised, then `T` (for a slice publisher
/// `[MaybeUninit<T>]`, then `[T]`); `H` is the user header type.
///
/// It dereferences to the payload in shared memory. Publish it with
/// [`publish`](LoanedSample::publish); drop it to give the chunk back.
pub struct LoanedSample<'p, P: ?Sized, H = ()> {
    /// The core it was loaned from (the publisher's current one, or an old
    /// one after a daemon restart); the publisher is borrowed for `'p`.
    core: Rc<PublisherCore>,
    loan: Loan,
    /// Elements of a slice payload (1 for a sized one).
    len: usize,
    _payload: PhantomData<&'p mut P>,
    _header: PhantomData<fn() -> H>,
}

impl<'p, P: ?Sized + Place, H> LoanedSample<'p, P, H> {
    pub(crate) fn new(core: Rc<PublisherCore>, loan: Loan, len: usize) -> Self {
        Self {
            core,
            loan,
            len,
            _payload: PhantomData,
            _header: PhantomData,
        }
    }

    pub(crate) fn ptr(&self) -> NonNull<P> {
        P::place(self.loan.payload, self.len)
    }

    /// The core and the loan, without giving the chunk back.
    pub(crate) fn into_parts(self) -> (Rc<PublisherCore>, Loan, usize) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the core moves
        // out of it exactly once.
        let core = unsafe { std::ptr::read(&this.core) };
        (core, this.loan, this.len)
    }

    /// Changes the payload type without giving the chunk back.
    pub(crate) fn retype<Q: ?Sized>(self) -> LoanedSample<'p, Q, H> {
        let (core, loan, len) = self.into_parts();
        LoanedSample {
            core,
            loan,
            len,
            _payload: PhantomData,
            _header: PhantomData,
        }
    }

    /// The global index of the chunk in the data segment: the same in every
    /// process that sees this sample (for diagnostics and tests of zero copy).
    pub fn chunk_index(&self) -> u32 {
        self.loan.chunk
    }
}

impl<P: ?Sized, H: ZeroCopySafe> LoanedSample<'_, P, H> {
    /// The user header (zero-filled at the loan), in the chunk beside the
    /// payload.
    pub fn user_header(&self) -> &H {
        // SAFETY: the user header lies in the chunk at offset 64, aligned
        // for H (align <= 64, checked at creation), and holds initialised
        // bytes (zero-filled at the loan); every bit pattern is a valid H
        // (ZeroCopySafe contract); the chunk is ours while loaned.
        unsafe { self.loan.user_header.cast::<H>().as_ref() }
    }

    /// The user header, to write; subscribers read it with
    /// [`Sample::user_header`](crate::Sample::user_header).
    ///
    /// ```no_run
    /// use zerocp::ZeroCopySafe;
    /// #[derive(ZeroCopySafe)]
    /// #[repr(C)]
    /// struct Frame { id: u64, exposure_us: u32, _pad: u32 }
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Camera", "Front", "Image")?;
    /// let images = rt.publisher::<[u8]>(&svc).user_header::<Frame>().max_slice_len(1024).create()?;
    /// let mut image = images.loan_slice_uninit(16)?.fill(0x80);
    /// image.user_header_mut().id = 7;
    /// image.user_header_mut().exposure_us = 1500;
    /// image.publish()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn user_header_mut(&mut self) -> &mut H {
        // SAFETY: as in `user_header`; `&mut self` makes the access exclusive.
        unsafe { self.loan.user_header.cast::<H>().as_mut() }
    }
}

impl<'p, T: ZeroCopySafe, H> LoanedSample<'p, MaybeUninit<T>, H> {
    /// Moves `value` into the chunk.
    pub fn write(self, value: T) -> LoanedSample<'p, T, H> {
        // SAFETY: the payload pointer is valid for writes of a `T` (the
        // chunk holds at least size_of::<T>() bytes at an offset aligned for
        // T, checked when the publisher was created) and exclusively ours
        // while loaned.
        unsafe { self.ptr().cast::<T>().write(value) };
        self.retype()
    }

    /// Initialises the payload in place: `init` gets `&mut T` over the
    /// chunk's current bytes (whatever its previous sample left there, zeros
    /// at first) and must set every field that matters. Nothing is built on
    /// the stack, so this suits payloads of any size.
    pub fn write_with(self, init: impl FnOnce(&mut T)) -> LoanedSample<'p, T, H> {
        // SAFETY: the chunk's bytes are initialised memory (the daemon
        // created the segment zero-filled and every later write is of whole
        // ZeroCopySafe values), and a ZeroCopySafe type accepts every bit
        // pattern, so they are a valid T.
        let mut sample = unsafe { self.assume_init() };
        init(&mut sample);
        sample
    }

    /// Fills the payload with zero bytes (a valid `T`, since a
    /// [`ZeroCopySafe`] type accepts every bit pattern).
    pub fn zeroed(self) -> LoanedSample<'p, T, H> {
        // SAFETY: the payload pointer is valid for writes of one T (see
        // `write`); all-zero bytes are a valid T (ZeroCopySafe contract).
        unsafe { self.ptr().cast::<u8>().write_bytes(0, size_of::<T>()) };
        self.retype()
    }

    /// A raw pointer to the payload, for field-by-field initialisation
    /// followed by [`assume_init`](LoanedSample::assume_init).
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr().cast::<T>().as_ptr()
    }

    /// Declares the payload initialised.
    ///
    /// # Safety
    ///
    /// Every field of the payload must have been written, or the caller
    /// accepts the chunk's previous bytes as the value of the rest.
    pub unsafe fn assume_init(self) -> LoanedSample<'p, T, H> {
        self.retype()
    }
}

impl<P: ?Sized + Payload + Place, H> LoanedSample<'_, P, H> {
    /// Publishes the sample to every subscriber of the service, without
    /// copying it; consumes the loan. A subscriber with a full queue (or one
    /// at its port quota) loses its oldest sample, or, with
    /// [`FullPolicy::BlockPublisher`](crate::FullPolicy), makes this call
    /// wait until it takes one, goes away, or the publisher's
    /// [`publish_timeout`](crate::PublisherBuilder::publish_timeout) passes:
    /// then that subscriber does not get this sample, and the call returns
    /// `Ok` or [`PublishError::Timeout`] as the publisher chose
    /// ([`PublishTimeout`](crate::PublishTimeout)).
    ///
    /// A sample loaned before a daemon restart is not published: it fails
    /// with [`PublishError::Disconnected`] during the outage and with
    /// [`PublishError::LoanedBeforeReconnect`] once the runtime registered
    /// again; either way the chunk was released (module docs).
    pub fn publish(self) -> Result<(), PublishError> {
        let (core, loan, _) = self.into_parts();
        core.publish(&loan).map_err(|e| publish_error(&core, e))
    }
}

/// The publish error of a delivery of a loan of `core` that failed.
pub(crate) fn publish_error(core: &PublisherCore, e: DeliveryError) -> PublishError {
    match e {
        DeliveryError::Gone(gone) => gone_error(core, gone),
        DeliveryError::Revoked(reason) => reason.into(),
        DeliveryError::Futex(e) => PublishError::Wait(e),
        DeliveryError::Timeout(e) => PublishError::Timeout(e),
    }
}

/// The error of publishing a loan of `core` whose daemon is gone:
/// `LoanedBeforeReconnect` once the runtime registered again.
#[cold]
fn gone_error(core: &PublisherCore, gone: Gone) -> PublishError {
    if gone == Gone::Disconnected && core.runtime().superseded() {
        PublishError::LoanedBeforeReconnect
    } else {
        gone.into()
    }
}

impl<P: ?Sized + Place, H> Deref for LoanedSample<'_, P, H> {
    type Target = P;

    fn deref(&self) -> &P {
        // SAFETY: the pointer is valid and aligned for P (T or MaybeUninit<T>,
        // same layout; for a slice, `len` of them, within the chunk since
        // len <= the maximum creation placed), exclusively ours while
        // loaned; P is either MaybeUninit (valid for any bytes) or
        // initialised T.
        unsafe { self.ptr().as_ref() }
    }
}

impl<P: ?Sized + Place, H> DerefMut for LoanedSample<'_, P, H> {
    fn deref_mut(&mut self) -> &mut P {
        // SAFETY: as in `deref`; `&mut self` makes the access exclusive.
        unsafe { self.ptr().as_mut() }
    }
}

impl<P: ?Sized, H> Drop for LoanedSample<'_, P, H> {
    fn drop(&mut self) {
        self.core.drop_loan(&self.loan);
    }
}

impl<P: ?Sized, H> fmt::Debug for LoanedSample<'_, P, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoanedSample")
            .field("port", &self.core.index())
            .field("chunk", &self.loan.chunk)
            .finish()
    }
}
