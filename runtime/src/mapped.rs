//! [`Mapped<T>`]: a record in one segment group's mappings that a port
//! keeps across calls, stored beside the `Arc`s that keep the mappings (and
//! the runtime) alive.
//!
//! A port reaches its own record (its `PublisherPort` or `SubscriberPort`)
//! and its chunk manager ([`crate::segment_mappings::Pools`]) on every call.
//! Looking them up each time would re-check what was checked when the port
//! was set up; keeping a `&'static` would claim more than is true (a group's
//! mappings live as long as some port of the group, not as long as the
//! program) and could be copied out past them. A `Mapped<T>` keeps the
//! pointer found through a borrow of the group's mappings together with an
//! `Arc` to them (and the port's [`PortOwner`]: the runtime, and the
//! registration the port works through), and hands it out again only for a borrow of itself
//! ([`Mapped::get`]): one load, no check, and nothing that outlives the
//! mappings' owner. So a group stays mapped exactly as long as one of this
//! process's ports in it.

use std::ptr::NonNull;
use std::sync::Arc;

use crate::port_owner::PortOwner;
use crate::segment_mappings::GroupMappings;

/// A `&T` into the mappings of `group`, kept as long as `group` is.
pub(crate) struct Mapped<T> {
    ptr: NonNull<T>,
    group: Arc<GroupMappings>,
    owner: PortOwner,
}

// SAFETY: a `Mapped<T>` is two `Arc`s and a shared reference to a `T` one
// of them keeps alive: sending it is sending all three, which is sound when
// `&T` is `Send` (`T: Sync`) and the `Arc`s are.
unsafe impl<T: Sync> Send for Mapped<T>
where
    PortOwner: Send,
    Arc<GroupMappings>: Send,
{
}
// SAFETY: as above: sharing it shares a `&T` and two `Arc`s.
unsafe impl<T: Sync> Sync for Mapped<T>
where
    PortOwner: Sync,
    Arc<GroupMappings>: Sync,
{
}

impl<T> Mapped<T> {
    /// Finds the record with `find` in `group` (a group of `owner`'s
    /// registration) and keeps it.
    ///
    /// `find` must work for every borrow of the group's mappings, so what it
    /// returns lives in them, or is `'static`.
    pub(crate) fn find<E>(
        owner: &PortOwner,
        group: &Arc<GroupMappings>,
        find: impl for<'s> FnOnce(&'s GroupMappings) -> Result<&'s T, E>,
    ) -> Result<Self, E> {
        let ptr = NonNull::from(find(group)?);
        Ok(Self {
            ptr,
            group: Arc::clone(group),
            owner: owner.clone(),
        })
    }

    /// The record, for as long as this borrow.
    pub(crate) fn get(&self) -> &T {
        // SAFETY: `find` returned this pointer as a `&'s T` for a borrow `'s`
        // of the `GroupMappings` that `self.group` keeps alive, valid for
        // every such borrow (`for<'s>`): so it lives in those mappings (which
        // are never unmapped or moved while the value lives: its `OnceLock`s
        // are never emptied) or is 'static. The `Arc` in `self` keeps them
        // alive and never lets them be borrowed mutably, so the reference
        // stays valid for as long as `self` is borrowed.
        unsafe { self.ptr.as_ref() }
    }

    /// The segment group's mappings that hold the record.
    pub(crate) fn group(&self) -> &GroupMappings {
        &self.group
    }

    /// The runtime the port belongs to.
    pub(crate) fn owner(&self) -> &PortOwner {
        &self.owner
    }
}
