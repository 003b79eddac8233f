//! A test's own view of a domain's mgmt segment, mapped as a runtime maps
//! it, to observe or poke what the daemon and the runtimes share.

use std::os::fd::OwnedFd;
use std::ptr::NonNull;

use zerocp_core::mgmt::Mgmt;
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::{open_segment_of, segment_fd_of};

/// A mapping of a mgmt segment (read-only as a runtime's, or read-write
/// from the daemon's own descriptor); [`MappedMgmt::view`] validates it.
pub struct MappedMgmt {
    map: Mapping,
}

impl MappedMgmt {
    /// Maps, read-only as a runtime does, the mgmt segment whose descriptor
    /// a registration reply carried (the first one).
    pub fn from_registration(fds: Vec<OwnedFd>, name: SegmentName) -> Self {
        let fd = fds
            .into_iter()
            .next()
            .expect("the reply carried the mgmt segment");
        let shm = SharedMemory::from_fd(fd, name).expect("a sealed mgmt segment");
        Self::map(&shm, false)
    }

    /// Maps the mgmt segment `name` that the daemon `pid` holds, opened
    /// through its descriptor in `/proc`.
    pub fn of_daemon(pid: u32, name: SegmentName) -> Self {
        let fd = segment_fd_of(pid, &name).expect("the daemon holds its mgmt segment");
        let shm = open_segment_of(pid, fd, name, true).expect("open the mgmt segment");
        Self::map(&shm, true)
    }

    fn map(shm: &SharedMemory, writable: bool) -> Self {
        Self {
            map: Mapping::map(shm, writable).expect("map the mgmt segment"),
        }
    }

    /// The mapping itself (to scribble over, when writable).
    pub fn mapping(&self) -> &Mapping {
        &self.map
    }

    /// The typed view (the header checked as a runtime checks it).
    pub fn view(&self) -> Mgmt<'_> {
        let base = NonNull::new(self.map.as_ptr()).expect("mapped");
        // SAFETY: `self.map` is a mapping of a mgmt segment of `self.map.len()`
        // bytes and stays mapped as long as the view borrows `self`.
        unsafe { Mgmt::attach(base, self.map.len()) }.expect("attach the mgmt segment")
    }
}
