//! A test's own view of one segment group's control and payload parts,
//! mapped as a runtime maps them (or writable, as any publisher of the group
//! could), to observe or poke what the daemon and the group's runtimes share.

use std::os::fd::OwnedFd;
use std::ptr::NonNull;

use zerocp_core::group_control::{GroupControl, GroupControlError};
use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::{open_segment_of, segment_fd_of};

/// Mappings of a group's control part (read-write) and payload part.
pub struct MappedGroup {
    group: u32,
    control: Mapping,
    payload: Mapping,
}

impl MappedGroup {
    /// Maps group `group`'s parts `names` (control, payload) that the daemon
    /// `pid` holds, both read-write, opened through its descriptors in `/proc`.
    pub fn of_daemon(pid: u32, group: u32, names: [SegmentName; 2]) -> Self {
        let [control, payload] = names.map(|name| {
            let fd = segment_fd_of(pid, &name)
                .unwrap_or_else(|| panic!("the daemon holds no descriptor of {name}"));
            open_segment_of(pid, fd, name, true).expect("open a group part")
        });
        Self::map(group, &control, &payload, true)
    }

    /// Maps the parts a port reply carried (`fds`: control, payload),
    /// the payload writable when `writable` (a publisher's reply).
    pub fn from_reply(
        group: u32,
        fds: Vec<OwnedFd>,
        names: [SegmentName; 2],
        writable: bool,
    ) -> Self {
        let [control_fd, payload_fd] =
            <[OwnedFd; 2]>::try_from(fds).expect("a port reply carries two descriptors");
        let [control_name, payload_name] = names;
        let control = SharedMemory::from_fd(control_fd, control_name).expect("sealed");
        let payload = SharedMemory::from_fd(payload_fd, payload_name).expect("sealed");
        Self::map(group, &control, &payload, writable)
    }

    fn map(group: u32, control: &SharedMemory, payload: &SharedMemory, writable: bool) -> Self {
        Self {
            group,
            control: Mapping::map(control, true).expect("map the control part"),
            payload: Mapping::map(payload, writable).expect("map the payload part"),
        }
    }

    /// The typed view of the control part (checked as a runtime checks it).
    pub fn control(&self) -> GroupControl<'_> {
        let base = NonNull::new(self.control.as_ptr()).expect("mapped");
        // SAFETY: `self.control` is a mapping of `self.control.len()` bytes
        // that stays mapped as long as the view borrows `self`.
        unsafe { GroupControl::attach(base, self.control.len(), self.group) }
            .expect("attach the control part")
    }

    /// The typed view of the control part, or why it does not attach (as a
    /// runtime's attach would fail).
    pub fn try_control(&self) -> Result<GroupControl<'_>, GroupControlError> {
        let base = NonNull::new(self.control.as_ptr()).expect("mapped");
        // SAFETY: as in `control`.
        unsafe { GroupControl::attach(base, self.control.len(), self.group) }
    }

    /// The chunk manager over both parts.
    pub fn pools(&self) -> MemPoolManager<'_> {
        let base = NonNull::new(self.payload.as_ptr()).expect("mapped");
        // SAFETY: `self.payload` is the payload part of the group whose
        // control part `self.control` maps; both stay mapped while `self` is
        // borrowed.
        unsafe { MemPoolManager::new(self.control(), base, self.payload.len()) }
            .expect("join the payload part")
    }

    /// The control part's mapping (base and length), to scribble over.
    pub fn control_mapping(&self) -> &Mapping {
        &self.control
    }

    /// The payload part's mapping (base and length), to scribble over.
    pub fn payload_mapping(&self) -> &Mapping {
        &self.payload
    }
}
