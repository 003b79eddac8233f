//! A test's own view of a domain's mgmt segment, mapped as a runtime maps
//! it, to observe or poke what the daemon and the runtimes share.

use std::ptr::NonNull;

use zerocp_core::mgmt::Mgmt;
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::ShmName;
use zerocp_os_linux::shm::SharedMemory;

/// A read-write mapping of a mgmt segment; [`MappedMgmt::view`] validates it.
pub struct MappedMgmt {
    map: Mapping,
}

impl MappedMgmt {
    /// Maps the segment `name` (e.g. `/zerocp.<domain>.mgmt`).
    pub fn open(name: &str) -> Self {
        let name = ShmName::new(name).expect("shm name");
        let shm = SharedMemory::open(&name, true).expect("open the mgmt segment");
        Self {
            map: Mapping::map(&shm, true).expect("map the mgmt segment"),
        }
    }

    /// The typed view (the header checked as a runtime checks it).
    pub fn view(&self) -> Mgmt<'_> {
        let base = NonNull::new(self.map.as_ptr()).expect("mapped");
        // SAFETY: `self.map` is a mapping of a mgmt segment of `self.map.len()`
        // bytes and stays mapped as long as the view borrows `self`.
        unsafe { Mgmt::attach(base, self.map.len()) }.expect("attach the mgmt segment")
    }
}
