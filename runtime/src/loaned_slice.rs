//! Filling a loaned slice in place: the methods of
//! `LoanedSample<[MaybeUninit<T>], H>`, which
//! [`Publisher::loan_slice_uninit`](crate::Publisher::loan_slice_uninit)
//! returns, each turning it into a `LoanedSample<[T], H>` ready to publish.
//!
//! The slice is the chunk's memory: nothing is built on the stack or
//! copied later. [`write_from_slice`](LoanedSample::write_from_slice)
//! copies from a buffer (e.g. a driver's DMA buffer), [`fill`](LoanedSample::fill)
//! repeats one value, [`write_with`](LoanedSample::write_with) hands out
//! `&mut [T]` over the chunk's current bytes (a previous sample's of the
//! same service, or zeros) for code that produces the data in place, and
//! [`zeroed`](LoanedSample::zeroed) clears it.

use std::fmt;
use std::mem::MaybeUninit;

use crate::ZeroCopySafe;
use crate::loaned_sample::LoanedSample;

/// [`LoanedSample::write_from_slice`] was given a slice of another length
/// than the loan's; the loan was dropped (its chunk given back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceLengthError {
    /// The loan's length, in elements.
    pub loaned: usize,
    /// The source's length, in elements.
    pub given: usize,
}

impl fmt::Display for SliceLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot write {} elements into a loaned slice of {}",
            self.given, self.loaned
        )
    }
}

impl std::error::Error for SliceLengthError {}

impl<'p, T: ZeroCopySafe, H> LoanedSample<'p, [MaybeUninit<T>], H> {
    /// Copies `source` into the slice, which must have its length.
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Lidar", "Front", "Scan")?;
    /// let scans = rt.publisher::<[u16]>(&svc).max_slice_len(1028).create()?;
    /// let ranges: Vec<u16> = (0..720).collect();
    /// scans.loan_slice_uninit(ranges.len())?.write_from_slice(&ranges)?.publish()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_from_slice(
        self,
        source: &[T],
    ) -> Result<LoanedSample<'p, [T], H>, SliceLengthError> {
        let loaned = self.len();
        if source.len() != loaned {
            return Err(SliceLengthError {
                loaned,
                given: source.len(),
            });
        }
        // SAFETY: the destination holds `loaned` elements in the chunk,
        // exclusively ours while loaned, and cannot overlap `source` (a
        // shared borrow, while the loan is borrowed mutably by `self`);
        // a bitwise copy of a ZeroCopySafe value is that value (no
        // pointers, no drop glue).
        unsafe {
            std::ptr::copy_nonoverlapping(source.as_ptr(), self.ptr().cast::<T>().as_ptr(), loaned)
        };
        Ok(self.retype())
    }

    /// Sets every element to `value`.
    pub fn fill(self, value: T) -> LoanedSample<'p, [T], H> {
        let start = self.ptr().cast::<T>();
        for i in 0..self.len() {
            // SAFETY: a bitwise copy of a ZeroCopySafe value is that value
            // (no pointers, no drop glue), so it may be made any number of times.
            let copy = unsafe { std::ptr::read(&value) };
            // SAFETY: element `i < len` lies in the loaned slice (see
            // `write_from_slice`).
            let element = unsafe { start.add(i) };
            // SAFETY: that element is valid for writes, aligned, ours.
            unsafe { element.write(copy) };
        }
        self.retype()
    }

    /// Initialises the slice in place: `init` gets `&mut [T]` over the
    /// chunk's current bytes (whatever the previous sample of this
    /// publisher's pool left there, zeros at first) and must set every
    /// element that matters.
    pub fn write_with(self, init: impl FnOnce(&mut [T])) -> LoanedSample<'p, [T], H> {
        // SAFETY: the chunk's bytes are initialised memory (the daemon
        // created the segment zero-filled and every later write is of whole
        // ZeroCopySafe values or zero bytes), and every bit pattern is a
        // valid T.
        let mut sample = unsafe { self.assume_init() };
        init(&mut sample);
        sample
    }

    /// Fills the slice with zero bytes.
    pub fn zeroed(self) -> LoanedSample<'p, [T], H> {
        // SAFETY: the slice's `len * size_of::<T>()` bytes lie in the chunk,
        // exclusively ours; all-zero bytes are a valid T (ZeroCopySafe).
        unsafe {
            self.ptr()
                .cast::<u8>()
                .write_bytes(0, self.len() * size_of::<T>())
        };
        self.retype()
    }

    /// A raw pointer to the first element, for writes through pointers
    /// followed by [`assume_init`](LoanedSample::assume_init).
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr().cast::<T>().as_ptr()
    }

    /// Declares the slice initialised.
    ///
    /// # Safety
    ///
    /// Every element must have been written, or the caller accepts the
    /// chunk's previous bytes as the value of the rest.
    pub unsafe fn assume_init(self) -> LoanedSample<'p, [T], H> {
        self.retype()
    }
}
