//! [`Payload`]: what a publisher or subscriber can carry, one
//! [`ZeroCopySafe`] value `T` or a slice `[T]` of them, and the one place
//! that knows how each is laid out in a chunk.
//!
//! A sized payload is `size_of::<T>()` bytes at the chunk's payload offset.
//! A slice is `len` consecutive `T`s there: the publisher's maximum length
//! sizes the chunk (the daemon picks the mempool by it), and each sample
//! records its own length as the chunk header's `payload_size` in bytes.
//! A subscriber reads that length from shared memory another process
//! writes, so it checks it (`PayloadLayout::elements`) before making a
//! slice of it. `PayloadLayout` is that check as data (the shape and the
//! size of one element), so that it serves a typed subscriber and an
//! [`UntypedSubscriber`](crate::UntypedSubscriber), whose type is known at
//! run time only, alike.
//!
//! The trait is sealed: the runtime's data path relies on these two
//! layouts only. A slice of a zero-sized type carries no data and its
//! length could not be read back from the byte size: creating a port of
//! one does not compile.
//!
//! ```compile_fail
//! # let rt = zerocp::Runtime::init("doc")?;
//! # let svc = zerocp::ServiceDescription::new("Nothing", "At", "All")?;
//! let empty = rt.publisher::<[()]>(&svc).max_slice_len(8).create()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```no_run
//! # let rt = zerocp::Runtime::init("doc")?;
//! # let svc = zerocp::ServiceDescription::new("Lidar", "Front", "Scan")?;
//! // A sized payload and a slice of the same element are different services.
//! let fixed = rt.publisher::<[f32; 4]>(&svc).create()?;
//! let scans = rt.publisher::<[f32]>(&svc).max_slice_len(4096).create(); // refused: TypeMismatch
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ptr::NonNull;

use zerocp_core::service::TypeInfo;
use zerocp_core::type_layout::TypeDescription;
use zerocp_core::wire::PayloadShape;

use crate::ZeroCopySafe;
use crate::port_request;

/// A payload type of [`Publisher`](crate::Publisher) and
/// [`Subscriber`](crate::Subscriber): any [`ZeroCopySafe`] type `T`, or a
/// slice `[T]` of one (of nonzero size). Sealed.
pub trait Payload: sealed::Sealed + 'static {}

impl<T: ZeroCopySafe> Payload for T {}
impl<T: ZeroCopySafe> Payload for [T] {}

pub(crate) mod sealed {
    use super::*;

    /// The layout facts the data path needs about a [`Payload`].
    pub trait Sealed {
        /// One value, or a slice of them.
        const SHAPE: PayloadShape;
        /// Bytes of one value (of one element for a slice).
        const ELEMENT_SIZE: usize;
        /// What the daemon compares: the type (a slice's element type).
        fn type_info() -> TypeInfo;
        /// How the type (a slice's element type) describes its bytes,
        /// sent to the daemon as a layout for tools.
        const DESCRIPTION: &'static TypeDescription;
        /// Fails to compile for a type with drop glue, and for a slice of a
        /// zero-sized element (it would carry no data, and its length could
        /// not be read back).
        const CHECKED: ();
    }

    /// How to make a pointer to a payload (or to its uninitialised form)
    /// from the payload's address and its length in elements.
    pub trait Place {
        /// The payload of `len` elements at `data` (a sized payload ignores `len`).
        fn place(data: NonNull<u8>, len: usize) -> NonNull<Self>;
    }

    impl<P> Place for P {
        fn place(data: NonNull<u8>, _len: usize) -> NonNull<P> {
            data.cast()
        }
    }

    impl<E> Place for [E] {
        fn place(data: NonNull<u8>, len: usize) -> NonNull<[E]> {
            NonNull::slice_from_raw_parts(data.cast(), len)
        }
    }
}

impl<T: ZeroCopySafe> sealed::Sealed for T {
    const SHAPE: PayloadShape = PayloadShape::Sized;
    const ELEMENT_SIZE: usize = size_of::<T>();
    const DESCRIPTION: &'static TypeDescription = &T::DESCRIPTION;
    const CHECKED: () = assert!(
        !std::mem::needs_drop::<T>(),
        "ZeroCopySafe types have no drop glue"
    );

    fn type_info() -> TypeInfo {
        port_request::type_info::<T>()
    }
}

impl<T: ZeroCopySafe> sealed::Sealed for [T] {
    const SHAPE: PayloadShape = PayloadShape::Slice;
    const ELEMENT_SIZE: usize = size_of::<T>();
    const DESCRIPTION: &'static TypeDescription = &T::DESCRIPTION;
    const CHECKED: () = assert!(
        size_of::<T>() > 0 && !std::mem::needs_drop::<T>(),
        "a slice payload needs an element type of nonzero size without drop glue"
    );

    fn type_info() -> TypeInfo {
        port_request::type_info::<T>()
    }
}

/// What payload sizes a port's type allows: one value of `element_size`
/// bytes, or a slice of whole elements of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PayloadLayout {
    /// One value, or a slice of them.
    pub(crate) shape: PayloadShape,
    /// Bytes of one value (of one element for a slice), as the port's
    /// `TypeInfo` declares it.
    pub(crate) element_size: u32,
}

impl PayloadLayout {
    /// The number of elements a payload of `bytes` bytes holds (1 for a
    /// sized payload of exactly its size), or `None` when `bytes` is not a
    /// size this payload can have. `bytes` comes from shared memory: this
    /// is its check.
    pub(crate) fn elements(self, bytes: u32) -> Option<usize> {
        self.elements_of(bytes as usize)
    }

    /// [`elements`](Self::elements) of a length asked for by a caller,
    /// which may exceed any chunk.
    pub(crate) fn elements_of(self, bytes: usize) -> Option<usize> {
        let element_size = self.element_size as usize;
        match self.shape {
            PayloadShape::Sized => (bytes == element_size).then_some(1),
            PayloadShape::Slice => (element_size > 0 && bytes.is_multiple_of(element_size))
                .then(|| bytes / element_size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PayloadLayout;
    use super::sealed::Sealed;
    use zerocp_core::wire::PayloadShape;

    fn layout<P: ?Sized + Sealed>() -> PayloadLayout {
        PayloadLayout {
            shape: P::SHAPE,
            element_size: P::type_info().size,
        }
    }

    #[test]
    fn slices_check_the_byte_length_they_read() {
        assert_eq!(layout::<[u16]>().elements(6), Some(3));
        assert_eq!(layout::<[u16]>().elements(0), Some(0));
        assert_eq!(layout::<[u16]>().elements(7), None);
        assert_eq!(layout::<u64>().elements(8), Some(1));
        assert_eq!(layout::<u64>().elements(16), None);
        assert_eq!(<[u8]>::SHAPE, PayloadShape::Slice);
        assert_eq!(<[u32]>::type_info(), <u32>::type_info());
        let nothing = PayloadLayout {
            shape: PayloadShape::Slice,
            element_size: 0,
        };
        assert_eq!(nothing.elements(0), None);
    }
}
