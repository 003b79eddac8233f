//! Shared mappings of [`SharedMemory`] segments, unmapped on drop.
//!
//! A [`Mapping`] is an address range, nothing more: it hands out raw
//! pointers, plus bounds- and alignment-checked references for the types
//! that live in shared memory (the `unsafe` [`Mapping::ref_at`], for atomics
//! and `repr(C)` structures of atomics). It never hands out `&[u8]`: other
//! processes write the memory concurrently, so plain slices over it would be
//! data races.
//!
//! Real-time users can pre-fault the pages (`MAP_POPULATE`) and lock them in
//! RAM (`mlock`) with [`MapOptions`], so no page fault happens on the data
//! path.

use std::ffi::c_void;
use std::ptr::NonNull;

use rustix::mm::{MapFlags, ProtFlags};

use crate::error::MapError;
use crate::names::SegmentName;
use crate::shm::SharedMemory;

/// How to map a [`SharedMemory`]: read-only by default, optionally writable,
/// pre-faulted and locked in RAM.
///
/// ```
/// # use zerocp_os_linux::{names::SegmentName, shm::SharedMemory, mmap::MapOptions};
/// # let shm = SharedMemory::create(&SegmentName::new("zerocp.doc.mapopt")?, 4096)?;
/// let mapping = MapOptions::new().writable(true).populate(true).map(&shm)?;
/// assert_eq!(mapping.len(), 4096);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapOptions {
    writable: bool,
    populate: bool,
    lock: bool,
}

impl MapOptions {
    /// Read-only, pages faulted in on first touch, not locked.
    pub fn new() -> Self {
        Self::default()
    }

    /// Map read-write (the object must have been opened writable).
    pub fn writable(mut self, writable: bool) -> Self {
        self.writable = writable;
        self
    }

    /// Fault every page in now (`MAP_POPULATE`).
    pub fn populate(mut self, populate: bool) -> Self {
        self.populate = populate;
        self
    }

    /// Lock the pages in RAM (`mlock`); subject to `RLIMIT_MEMLOCK`.
    pub fn lock(mut self, lock: bool) -> Self {
        self.lock = lock;
        self
    }

    /// Maps all of `shm` with `MAP_SHARED`.
    pub fn map(&self, shm: &SharedMemory) -> Result<Mapping, MapError> {
        let name = shm.name();
        if self.writable && !shm.is_writable() {
            return Err(MapError::NotWritable { name: name.clone() });
        }
        let len = shm.size();
        let mut prot = ProtFlags::READ;
        if self.writable {
            prot |= ProtFlags::WRITE;
        }
        let mut flags = MapFlags::SHARED;
        if self.populate {
            flags |= MapFlags::POPULATE;
        }
        // SAFETY: we ask for a fresh mapping (no address hint, no MAP_FIXED),
        // so no existing memory of this process is replaced; `len` is the
        // object's size (non-zero, checked by `SharedMemory`) and the fd is
        // open for the duration of the call.
        let raw = unsafe { rustix::mm::mmap(std::ptr::null_mut(), len, prot, flags, shm, 0) }
            .map_err(|errno| MapError::Map {
                name: name.clone(),
                len,
                errno,
            })?;
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or_else(|| MapError::Map {
            name: name.clone(),
            len,
            errno: rustix::io::Errno::NOMEM,
        })?;
        let mapping = Mapping {
            ptr,
            len,
            name: name.clone(),
            writable: self.writable,
        };
        if self.lock {
            // SAFETY: the range is exactly the mapping created above, which
            // `mapping` owns; mlock only pins pages, it changes no content.
            unsafe { rustix::mm::mlock(raw, len) }.map_err(|errno| MapError::Lock {
                name: name.clone(),
                len,
                errno,
            })?;
        }
        Ok(mapping)
    }
}

/// A `MAP_SHARED` mapping of a whole shared-memory object; unmapped on drop.
///
/// ```
/// # use zerocp_os_linux::{names::SegmentName, shm::SharedMemory, mmap::Mapping};
/// # use std::sync::atomic::{AtomicU32, Ordering};
/// let shm = SharedMemory::create(&SegmentName::new("zerocp.doc.map")?, 4096)?;
/// let a = Mapping::map(&shm, true)?;
/// let b = Mapping::map(&shm, true)?; // as another process maps what it received
/// // SAFETY: the object is zero-filled shared memory, a valid AtomicU32 at
/// // every aligned offset; both mappings are writable and only ever touch
/// // this word atomically.
/// let (wa, wb) = unsafe { (a.ref_at::<AtomicU32>(64)?, b.ref_at::<AtomicU32>(64)?) };
/// wa.store(7, Ordering::Release);
/// assert_eq!(wb.load(Ordering::Acquire), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    name: SegmentName,
    writable: bool,
}

// SAFETY: a Mapping owns an address range, not Rust data; moving it to
// another thread moves only the right to unmap it. Access to the memory goes
// through atomics or `unsafe` code whose callers uphold synchronisation.
unsafe impl Send for Mapping {}
// SAFETY: `&Mapping` only yields raw pointers and references to types with
// interior mutability that is safe to share (atomics), so sharing it between
// threads is as safe as sharing those.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps all of `shm` (`MAP_SHARED`), read-write when `writable`.
    pub fn map(shm: &SharedMemory, writable: bool) -> Result<Self, MapError> {
        MapOptions::new().writable(writable).map(shm)
    }

    /// The first byte of the mapping. Writing through it is only allowed
    /// when [`Mapping::is_writable`] (otherwise the process gets `SIGSEGV`, and so does a peer given a read-only descriptor),
    /// and only with the synchronisation the shared data requires.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The mapping's length in bytes (the object's size).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: mappings of zero bytes are refused at creation.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the mapping is read-write.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The name of the object this maps.
    pub fn name(&self) -> &SegmentName {
        &self.name
    }

    /// A reference to the `T` at byte `offset`, after checking that it lies
    /// inside the mapping and is aligned for `T`.
    ///
    /// # Safety
    ///
    /// The memory must hold a valid `T` for as long as the reference lives
    /// (e.g. `T` is a `repr(C)` type of integers/atomics, for which any bits
    /// are valid), every concurrent change to it, by this or any other
    /// process, must go through `T`'s interior mutability (atomics), and on
    /// a read-only mapping `T` must never be written through the reference.
    pub unsafe fn ref_at<T>(&self, offset: usize) -> Result<&T, MapError> {
        let size = size_of::<T>();
        let end = offset.checked_add(size);
        if end.is_none_or(|end| end > self.len) {
            return Err(MapError::OutOfBounds {
                name: self.name.clone(),
                offset,
                size,
                len: self.len,
            });
        }
        // In bounds (checked above), so the address is inside the mapping.
        let addr = self.ptr.as_ptr().wrapping_add(offset);
        if !(addr as usize).is_multiple_of(align_of::<T>()) {
            return Err(MapError::Misaligned {
                name: self.name.clone(),
                offset,
                align: align_of::<T>(),
            });
        }
        // SAFETY: in bounds and aligned (checked above); validity and
        // synchronisation are the caller's contract; the reference borrows
        // `self`, so it cannot outlive the mapping.
        Ok(unsafe { &*addr.cast::<T>() })
    }
}

/// The size of a memory page on this machine (what a one-page segment is
/// sized to).
///
/// ```
/// let page = zerocp_os_linux::mmap::page_size();
/// assert!(page.is_power_of_two() && page >= 4096);
/// ```
pub fn page_size() -> usize {
    rustix::param::page_size()
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range is exactly the mapping `self` created and owns;
        // every reference into it borrows `self`, so none outlives this.
        let result = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast::<c_void>(), self.len) };
        if let Err(errno) = result {
            log::error!(
                "cannot unmap shared memory {}: {}",
                self.name,
                crate::error::ErrnoText(errno)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{atomic_u32_at, test_object_name};
    use std::sync::atomic::Ordering;

    fn segment(size: usize) -> SharedMemory {
        let name = SegmentName::new(&format!("zerocp.{}", test_object_name(120))).unwrap();
        SharedMemory::create(&name, size).unwrap()
    }

    #[test]
    fn two_mappings_see_each_others_writes() {
        let shm = segment(2 * 4096);
        let a = Mapping::map(&shm, true).unwrap();
        let b = Mapping::map(&shm, true).unwrap();
        assert_ne!(a.as_ptr(), b.as_ptr());
        for (i, offset) in [0, 4, 4096, 2 * 4096 - 4].into_iter().enumerate() {
            atomic_u32_at(&a, offset)
                .unwrap()
                .store(i as u32 + 10, Ordering::Release);
        }
        for (i, offset) in [0, 4, 4096, 2 * 4096 - 4].into_iter().enumerate() {
            assert_eq!(
                atomic_u32_at(&b, offset).unwrap().load(Ordering::Acquire),
                i as u32 + 10
            );
        }
        // Fresh segments read as zero.
        assert_eq!(atomic_u32_at(&b, 8).unwrap().load(Ordering::Relaxed), 0);
        // Mappings outlive the descriptor.
        drop(shm);
        atomic_u32_at(&b, 8).unwrap().store(1, Ordering::Relaxed);
        assert_eq!(atomic_u32_at(&a, 8).unwrap().load(Ordering::Relaxed), 1);
    }

    #[test]
    fn references_are_bounds_and_alignment_checked() {
        let map = Mapping::map(&segment(4096), true).unwrap();
        assert!(atomic_u32_at(&map, 4092).is_ok());
        assert!(matches!(
            atomic_u32_at(&map, 4093),
            Err(MapError::OutOfBounds {
                offset: 4093,
                size: 4,
                len: 4096,
                ..
            })
        ));
        assert!(matches!(
            atomic_u32_at(&map, usize::MAX),
            Err(MapError::OutOfBounds { .. })
        ));
        assert!(matches!(
            atomic_u32_at(&map, 2),
            Err(MapError::Misaligned {
                offset: 2,
                align: 4,
                ..
            })
        ));
    }

    #[test]
    fn read_only_descriptors_and_mappings_refuse_writes() {
        let owner = segment(4096);
        let ro = owner.read_only().unwrap();
        assert!(matches!(
            Mapping::map(&ro, true),
            Err(MapError::NotWritable { .. })
        ));
        let map = Mapping::map(&ro, false).unwrap();
        assert!(!map.is_writable());
        assert!(matches!(
            atomic_u32_at(&map, 0),
            Err(MapError::NotWritable { .. })
        ));
        // The kernel agrees: a descriptor opened read-only cannot be mapped
        // writable even when asked directly.
        // SAFETY: a fresh mapping (no hint, no MAP_FIXED) of a live descriptor.
        let direct = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                4096,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                &ro,
                0,
            )
        };
        assert_eq!(direct.err(), Some(rustix::io::Errno::ACCESS));
    }

    #[test]
    fn populate_and_lock_options_map() {
        let shm = segment(4 * 4096);
        let map = MapOptions::new()
            .writable(true)
            .populate(true)
            .map(&shm)
            .unwrap();
        assert_eq!(map.len(), 4 * 4096);
        match MapOptions::new().lock(true).map(&shm) {
            Ok(locked) => assert_eq!(locked.len(), 4 * 4096),
            // Unprivileged with a tiny RLIMIT_MEMLOCK: the error must say so.
            Err(err @ MapError::Lock { .. }) => assert!(err.to_string().contains("RLIMIT_MEMLOCK")),
            Err(err) => panic!("unexpected error: {err}"),
        }
    }
}
