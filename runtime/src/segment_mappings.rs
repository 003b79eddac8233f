//! [`SegmentMappings`] and [`GroupMappings`]: the shared-memory segments of
//! a domain, as this process maps them, and the only owners of those
//! mappings.
//!
//! The daemon's `Registered` reply carries two descriptors, each checked
//! (sealed against resizing, the size the reply announces): the domain's
//! mgmt segment (the daemon's state word, epoch, limits), read-only, which
//! the runtime maps `PROT_READ` and validates ([`Mgmt::attach`], which only
//! loads); and this process's own heartbeat file, which it maps read-write
//! ([`HeartbeatSlot`] at offset 0). No other process holds either of this
//! process's heartbeat, and no process can write the mgmt segment. Both
//! live as long as the registration.
//!
//! A segment group's memory comes only with a port in that group: the reply
//! to a `CreateSubscriber` carries the group's control part (read-write)
//! and its payload part **read-only**, the reply to a `CreatePublisher` the
//! control part and the payload part read-write. The runtime maps each
//! group's parts once, lazily ([`SegmentMappings::group`]): the control part
//! on its first port in the group, the read-only payload on its first
//! subscriber there, the writable payload on its first publisher there.
//! Later replies' descriptors are closed unused, unless they are of a newer
//! incarnation of the group: when the daemon resets a group onto fresh
//! memory, every port of the group is revoked and new ports get the new
//! memory (`PortCreated::incarnation`); the runtime maps it as a group
//! mapping of its own, while its older ports keep the old one (their
//! samples stay readable) until they are dropped. With the control part, a group's mappings keep
//! the chunk quotas of its pools, read from the mgmt segment, and this
//! process's count of chunks held in each ([`crate::quota`]). A process that only
//! subscribes to a group never maps its payload writable: what a subscriber
//! writes (queues, held lists, refcounts) is all in the control part, so a
//! write through a `Sample` faults. A process with no port in a group holds
//! no descriptor and no mapping of it. Descriptors are closed once mapped:
//! the mappings alone keep the memory, and they stay valid after the daemon
//! stopped (a runtime whose daemon stopped fails its calls with
//! `DaemonGone` but never faults).
//!
//! # Ownership: no view outlives its mapping
//!
//! A group's mappings live in one [`GroupMappings`], shared through an
//! `Arc` by the ports of the group: every port holds one (through
//! [`crate::mapped::Mapped`]), and [`SegmentMappings`] only a `Weak`, so the
//! group is unmapped when its last port goes, and mapped again from the
//! next port's descriptors. The views ([`Mgmt`], [`GroupControl`],
//! [`MemPoolManager`]) are validated once, here, and kept beside the
//! mappings they point into (the views declared first, so they are dropped
//! first). Their stored lifetime is `'static` in type only, and only in this
//! module's private fields and the private constructor of [`Pools`]: every
//! accessor hands a view out with the lifetime of the borrow of its owner
//! (`&self`), shortened through covariance, so no reference or `Copy` view
//! into shared memory can be kept past the value it came from. A [`Pools`]
//! (a chunk manager and the mapping it covers) has no lifetime parameter and
//! no constructor outside this module, so it too is only ever reached
//! through a borrow.
//!
//! What a port keeps across calls (its port record, its [`Pools`]) it keeps
//! as a [`crate::mapped::Mapped`]: a pointer found through such a borrow,
//! stored beside the `Arc`s that keep the mappings alive, and re-borrowed
//! for `&self` only. Validation happens once, when the view or the port is
//! set up; the data path re-borrows without re-checking, and checks only
//! the indices it reads from shared memory.

use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use zerocp_core::group_control::GroupControl;
use zerocp_core::heartbeat::HeartbeatSlot;
use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::mgmt::{Mgmt, QuotaTable};
use zerocp_core::wire::{PortCreated, PortKind, Registered};
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{CONTROL_PART, DomainName, PAYLOAD_PART, SegmentName};
use zerocp_os_linux::shm::SharedMemory;

use crate::error::MapSegmentsError;
use crate::quota::{PoolCount, pool_counts};

/// The mapped mgmt segment and the groups mapped so far (module docs).
pub(crate) struct SegmentMappings {
    // The views are declared (and so dropped) before the mappings they borrow.
    mgmt: Mgmt<'static>,
    /// This process's heartbeat slot, at offset 0 of `_heartbeat_map`.
    heartbeat: NonNull<HeartbeatSlot>,
    /// Each group's mappings while a port of this process holds them, by
    /// group index (as many as the daemon's group count).
    groups: Mutex<Vec<Weak<GroupMappings>>>,
    domain: DomainName,
    _mgmt_map: Mapping,
    _heartbeat_map: Mapping,
}

// SAFETY: `heartbeat` points into `_heartbeat_map`, owned by the same value,
// and is only turned into `&HeartbeatSlot` (atomics only, `Sync`) borrowing
// `self`; every other field is `Send` and `Sync`.
unsafe impl Send for SegmentMappings {}
// SAFETY: as above.
unsafe impl Sync for SegmentMappings {}

/// One segment group's control part and payload mappings (module docs).
pub(crate) struct GroupMappings {
    // The views are declared (and so dropped) before the mappings they borrow.
    read_only: OnceLock<Pools>,
    writable: OnceLock<Pools>,
    control: GroupControl<'static>,
    /// Each pool's quotas and this process's count of its chunks, by pool.
    counts: Box<[PoolCount]>,
    group: u32,
    /// Which memory of the group this is (`PortCreated::incarnation`).
    incarnation: u32,
    payload_size: u64,
    _control_map: Mapping,
}

/// One mapping of a payload part and the chunk manager over it.
///
/// Only this module makes one and it never hands one out by value: a
/// `Pools` is reached through a borrow of its owner, and its manager only
/// with the lifetime of that borrow ([`Pools::manager`]).
pub(crate) struct Pools {
    // Declared (and so dropped) before the mapping it borrows.
    manager: MemPoolManager<'static>,
    _map: Mapping,
}

impl Pools {
    /// Joins `control` with the mapped payload part `map`.
    ///
    /// # Safety
    /// `control` must be valid as long as the returned value (it is the view
    /// of the control part its owner keeps mapped for as long as it keeps
    /// this).
    unsafe fn join(control: GroupControl<'static>, map: Mapping) -> Result<Self, MapSegmentsError> {
        let base = non_null(&map)?;
        // SAFETY: `base..+len` is the live mapping of the payload part of
        // `control`'s group, owned by the value we return and dropped only
        // after the manager (field order); the manager's `'static` never
        // leaves this type (see `manager`), and `control` lives as long as
        // this value (the caller's contract).
        let manager = unsafe { MemPoolManager::new(control, base, map.len()) }.map_err(|e| {
            MapSegmentsError::Data {
                detail: e.to_string(),
            }
        })?;
        Ok(Self { manager, _map: map })
    }

    /// The chunk manager, for as long as this borrow of its owner.
    pub(crate) fn manager(&self) -> &MemPoolManager<'_> {
        &self.manager
    }
}

impl SegmentMappings {
    /// Checks, maps and validates the mgmt segment of `domain` (read-only)
    /// and this process's heartbeat file (read-write) that came with
    /// `reply` as `fds`.
    pub(crate) fn map(
        domain: &DomainName,
        reply: &Registered,
        fds: Vec<OwnedFd>,
    ) -> Result<Self, MapSegmentsError> {
        let [mgmt_fd, heartbeat_fd] =
            <[OwnedFd; 2]>::try_from(fds).map_err(|fds| MapSegmentsError::Descriptors {
                expected: 2,
                received: fds.len(),
            })?;
        let mgmt_map = map_segment(mgmt_fd, SegmentName::mgmt(domain), reply.mgmt_size, false)?;
        let mgmt_base = non_null(&mgmt_map)?;
        // SAFETY: `mgmt_base..+len` is the live (read-only) mapping of the
        // mgmt segment, owned by the value we return and dropped after the
        // view (field order); `attach` and the accessors the runtime uses
        // only load; the view's `'static` never leaves this module.
        let mgmt =
            unsafe { Mgmt::attach(mgmt_base, mgmt_map.len()) }.map_err(MapSegmentsError::Mgmt)?;
        let heartbeat_name = SegmentName::heartbeat(domain, reply.process_slot);
        let heartbeat_map = map_segment(
            heartbeat_fd,
            heartbeat_name,
            u64::from(reply.heartbeat_size),
            true,
        )?;
        // SAFETY: a `HeartbeatSlot` is atomics only, valid for any bits and
        // only ever accessed atomically, by the daemon and this process;
        // `ref_at` checks bounds and alignment.
        let heartbeat = unsafe { heartbeat_map.ref_at::<HeartbeatSlot>(0) }
            .map(NonNull::from)
            .map_err(MapSegmentsError::Map)?;
        let groups = (0..reply.group_count).map(|_| Weak::new()).collect();
        Ok(Self {
            mgmt,
            heartbeat,
            groups: Mutex::new(groups),
            domain: domain.clone(),
            _mgmt_map: mgmt_map,
            _heartbeat_map: heartbeat_map,
        })
    }

    /// This process's heartbeat slot, for as long as this borrow.
    pub(crate) fn heartbeat(&self) -> &HeartbeatSlot {
        // SAFETY: `heartbeat` was checked (bounds, alignment) against
        // `_heartbeat_map`, which lives as long as `self`, which the
        // reference borrows; a slot is atomics only.
        unsafe { self.heartbeat.as_ref() }
    }

    /// The mgmt view, for as long as this borrow.
    pub(crate) fn mgmt(&self) -> &Mgmt<'_> {
        &self.mgmt
    }

    /// The mappings of the group of the port `created` announces, mapping
    /// what a `kind` port needs from `fds` (the reply's descriptors: control
    /// part, then payload part) unless it is mapped already; descriptors
    /// not needed are closed.
    pub(crate) fn group(
        &self,
        created: &PortCreated,
        kind: PortKind,
        fds: Vec<OwnedFd>,
    ) -> Result<Arc<GroupMappings>, MapSegmentsError> {
        let [control_fd, payload_fd] =
            <[OwnedFd; 2]>::try_from(fds).map_err(|fds| MapSegmentsError::Descriptors {
                expected: 2,
                received: fds.len(),
            })?;
        // Held across mapping, so each group and each of its payload
        // mappings is mapped once even when ports are created concurrently.
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        let slot =
            groups
                .get_mut(created.group as usize)
                .ok_or_else(|| MapSegmentsError::Data {
                    detail: format!(
                        "the daemon named segment group {}, which does not exist",
                        created.group
                    ),
                })?;
        let group = match slot.upgrade() {
            Some(group) if group.incarnation == created.incarnation => group,
            // None, or the memory of another incarnation (which the ports
            // that hold it keep): this port's group memory is new.
            _ => {
                let quotas = self.mgmt.config().quotas();
                let group = GroupMappings::map(&self.domain, created, control_fd, quotas)?;
                let group = Arc::new(group);
                *slot = Arc::downgrade(&group);
                group
            }
        };
        group.map_payload(&self.domain, kind, payload_fd)?;
        Ok(group)
    }
}

impl GroupMappings {
    fn map(
        domain: &DomainName,
        created: &PortCreated,
        fd: OwnedFd,
        quotas: &QuotaTable,
    ) -> Result<Self, MapSegmentsError> {
        let name = part_name(domain, created.group, CONTROL_PART);
        let map = map_segment(fd, name, created.control_size, true)?;
        let base = non_null(&map)?;
        // SAFETY: `base..+len` is the live mapping of the control part, owned
        // by the value we return and dropped after every view of it (field
        // order); the view's `'static` never leaves this module.
        let control = unsafe { GroupControl::attach(base, map.len(), created.group) }
            .map_err(MapSegmentsError::Control)?;
        let counts = pool_counts(control.config(), quotas)?;
        Ok(Self {
            read_only: OnceLock::new(),
            writable: OnceLock::new(),
            control,
            counts,
            group: created.group,
            incarnation: created.incarnation,
            payload_size: created.payload_size,
            _control_map: map,
        })
    }

    /// Maps the payload part from `fd` as a `kind` port needs it (read-only
    /// for a subscriber, writable for a publisher), unless already mapped.
    /// Called with the table lock of [`SegmentMappings`] held.
    fn map_payload(
        &self,
        domain: &DomainName,
        kind: PortKind,
        fd: OwnedFd,
    ) -> Result<(), MapSegmentsError> {
        let (cell, writable) = match kind {
            PortKind::Publisher => (&self.writable, true),
            // Event ports get the payload part read-only and never read it.
            PortKind::Subscriber | PortKind::Notifier | PortKind::Listener => {
                (&self.read_only, false)
            }
        };
        if cell.get().is_some() {
            return Ok(());
        }
        let name = part_name(domain, self.group, PAYLOAD_PART);
        let map = map_segment(fd, name, self.payload_size, writable)?;
        // SAFETY: `self.control` lives as long as `self`, which keeps these
        // pools (a `OnceLock` is never emptied) and drops them before
        // `_control_map`.
        let pools = unsafe { Pools::join(self.control, map) }?;
        let _ = cell.set(pools);
        Ok(())
    }

    /// The group's control view, for as long as this borrow.
    pub(crate) fn control(&self) -> &GroupControl<'_> {
        &self.control
    }

    /// Pool `pool`'s quotas and this process's count of its chunks.
    pub(crate) fn pool_count(&self, pool: u32) -> Option<&PoolCount> {
        self.counts.get(pool as usize)
    }

    /// The pools over the read-only payload mapping, once a subscriber of
    /// this process mapped it: enough to take, read and release chunks.
    pub(crate) fn read_only_pools(&self) -> Option<&Pools> {
        self.read_only.get()
    }

    /// The pools over the writable payload mapping, once a publisher of
    /// this process mapped it: needed to loan.
    pub(crate) fn writable_pools(&self) -> Option<&Pools> {
        self.writable.get()
    }
}

/// A label for a part of group `group` in error messages (the runtime knows
/// groups by index; the memory file's own name, which `/proc` shows, is the
/// group's name).
fn part_name(domain: &DomainName, group: u32, part: &str) -> SegmentName {
    SegmentName::group_part(domain, &format!("group-{group}"), part)
}

/// Checks the received `fd` and maps it, read-write when `writable`.
fn map_segment(
    fd: OwnedFd,
    name: SegmentName,
    announced: u64,
    writable: bool,
) -> Result<Mapping, MapSegmentsError> {
    let shm = SharedMemory::from_fd(fd, name).map_err(MapSegmentsError::Open)?;
    if shm.size() as u64 != announced {
        return Err(MapSegmentsError::SizeMismatch {
            name: shm.name().to_string(),
            announced,
            found: shm.size() as u64,
        });
    }
    Mapping::map(&shm, writable).map_err(MapSegmentsError::Map)
}

fn non_null(map: &Mapping) -> Result<NonNull<u8>, MapSegmentsError> {
    NonNull::new(map.as_ptr()).ok_or_else(|| MapSegmentsError::Data {
        detail: format!("mapping of {} is null", map.name()),
    })
}
