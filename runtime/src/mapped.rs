//! [`Mapped<T>`]: a record in this process's shared-memory mappings that a
//! port keeps across calls, stored beside the `Arc` that keeps the mappings
//! alive.
//!
//! A port reaches its own record (its `PublisherPort` or `SubscriberPort`)
//! and its chunk manager ([`crate::segment_mappings::Pools`]) on every call.
//! Looking them up each time would re-check what was checked when the port
//! was set up; keeping a `&'static` would claim more than is true (the
//! mappings live as long as the runtime, not as long as the program) and
//! could be copied out past the runtime. A `Mapped<T>` keeps the pointer
//! found through a borrow of the runtime together with an `Arc` to that
//! runtime, and hands it out again only for a borrow of itself
//! ([`Mapped::get`]): one load, no check, and nothing that outlives the
//! mappings' owner.

use std::ptr::NonNull;
use std::sync::Arc;

use crate::lifecycle::Lifecycle;

/// A `&T` into the mappings of `owner`, kept as long as `owner` is.
pub(crate) struct Mapped<T> {
    ptr: NonNull<T>,
    owner: Arc<Lifecycle>,
}

// SAFETY: a `Mapped<T>` is an `Arc<Lifecycle>` and a shared reference to a
// `T` it keeps alive: sending it is sending both, which is sound when `&T`
// is `Send` (`T: Sync`) and the `Arc` is.
unsafe impl<T: Sync> Send for Mapped<T> where Arc<Lifecycle>: Send {}
// SAFETY: as above: sharing it shares a `&T` and an `Arc`.
unsafe impl<T: Sync> Sync for Mapped<T> where Arc<Lifecycle>: Sync {}

impl<T> Mapped<T> {
    /// Finds the record with `find` in `owner` and keeps it.
    ///
    /// `find` must work for every borrow of the runtime, so what it returns
    /// lives in the runtime (its mappings), or is `'static`.
    pub(crate) fn find<E>(
        owner: &Arc<Lifecycle>,
        find: impl for<'s> FnOnce(&'s Lifecycle) -> Result<&'s T, E>,
    ) -> Result<Self, E> {
        let ptr = NonNull::from(find(owner)?);
        Ok(Self {
            ptr,
            owner: Arc::clone(owner),
        })
    }

    /// The record, for as long as this borrow.
    pub(crate) fn get(&self) -> &T {
        // SAFETY: `find` returned this pointer as a `&'s T` for a borrow `'s`
        // of the `Lifecycle` that `self.owner` keeps alive, valid for every
        // such borrow (`for<'s>`): so it lives in the runtime (the segment
        // mappings its registration owns, which it never unmaps or moves
        // while it lives) or is 'static. The `Arc` in `self` keeps the
        // runtime alive and never lets it be borrowed mutably, so the
        // reference stays valid for as long as `self` is borrowed.
        unsafe { self.ptr.as_ref() }
    }

    /// The runtime whose mappings hold the record.
    pub(crate) fn owner(&self) -> &Arc<Lifecycle> {
        &self.owner
    }
}
