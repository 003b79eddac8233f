//! [`HeartbeatFile`]: one registered process's heartbeat, in a memory file
//! shared with that process only.
//!
//! The domain's mgmt segment is mapped by every process, so it holds
//! nothing a process could use to disturb another (runtimes map it
//! read-only, [`zerocp_core::mgmt`]). A heartbeat must be written by its
//! process, so each registration gets a fresh one-page memory file
//! `zerocp.<domain>.heartbeat.<slot>`, created, committed and sealed like
//! every segment ([`SharedMemory::create`]), holding one [`HeartbeatSlot`]
//! at offset 0. The daemon maps it, assigns the slot and sends the
//! descriptor, read-write, with the `Registered` reply to that process and
//! to nobody else; it reads the beats from its own mapping and writes the
//! `dropped` mark there. The file lives as long as the process's entry in
//! the [`crate::process_manager::ProcessManager`]: when the process is
//! reclaimed the daemon unmaps it and closes its descriptor, and the next
//! process in the same slot gets another file, so a descriptor the dead
//! process passed on never reaches it.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd};
use std::ptr::NonNull;

use zerocp_core::heartbeat::HeartbeatSlot;
use zerocp_os_linux::error::{MapError, ShmError};
use zerocp_os_linux::mmap::{Mapping, page_size};
use zerocp_os_linux::names::{DomainName, SegmentName};
use zerocp_os_linux::shm::SharedMemory;

/// Creating a process's heartbeat file failed.
#[derive(Debug)]
pub enum HeartbeatFileError {
    /// Creating, committing or sealing the file failed (e.g. out of memory
    /// or descriptors).
    Shm(ShmError),
    /// Mapping it, or finding the slot in the mapping, failed.
    Map(MapError),
}

impl fmt::Display for HeartbeatFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shm(e) => write!(f, "cannot create the process's heartbeat file: {e}"),
            Self::Map(e) => write!(f, "cannot map the process's heartbeat file: {e}"),
        }
    }
}

impl std::error::Error for HeartbeatFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Shm(e) => Some(e),
            Self::Map(e) => Some(e),
        }
    }
}

/// One process's heartbeat file, mapped by the daemon (module docs).
///
/// ```
/// use zerocp_daemon::heartbeat_file::HeartbeatFile;
/// use zerocp_os_linux::names::DomainName;
/// let file = HeartbeatFile::create(&DomainName::new("doc-heartbeat")?, 3)?;
/// file.slot().assign(4242, 1, 1_000);
/// assert_eq!(file.slot().pid(), 4242);
/// assert_eq!(file.size() as usize, zerocp_os_linux::mmap::page_size());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct HeartbeatFile {
    /// The slot at offset 0 of `map`.
    slot: NonNull<HeartbeatSlot>,
    // The mapping is declared (and so dropped) before its file.
    map: Mapping,
    shm: SharedMemory,
}

impl HeartbeatFile {
    /// Creates, commits, seals and maps a fresh heartbeat file for the
    /// process registering in `slot` of `domain`; its slot is all zeros.
    pub fn create(domain: &DomainName, slot: u32) -> Result<Self, HeartbeatFileError> {
        let name = SegmentName::heartbeat(domain, slot);
        let shm = SharedMemory::create(&name, page_size()).map_err(HeartbeatFileError::Shm)?;
        let map = Mapping::map(&shm, true).map_err(HeartbeatFileError::Map)?;
        // SAFETY: a `HeartbeatSlot` is atomics only (valid for any bits, a
        // fresh file is zeros); `ref_at` checks bounds and alignment.
        let slot = unsafe { map.ref_at::<HeartbeatSlot>(0) }.map_err(HeartbeatFileError::Map)?;
        Ok(Self {
            slot: NonNull::from(slot),
            map,
            shm,
        })
    }

    /// The process's heartbeat slot, in the daemon's mapping.
    pub fn slot(&self) -> &HeartbeatSlot {
        // SAFETY: `create` checked that the pointer is an aligned slot inside
        // `self.map`, which lives (and stays mapped) as long as `self`, which
        // the reference borrows; a slot is atomics only, and every write,
        // the daemon's or the process's, is atomic.
        unsafe { self.slot.as_ref() }
    }

    /// The descriptor the process receives (read-write).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.shm.as_fd()
    }

    /// The file's size in bytes (what `Registered` announces).
    pub fn size(&self) -> u64 {
        self.map.len() as u64
    }
}
