//! [`GroupMemory`]: one incarnation of one segment group's memory, owned by
//! the daemon: its control part `zerocp.<domain>.<group>.control` and
//! payload part `zerocp.<domain>.<group>.payload` (sealed memory files,
//! committed with `fallocate`), the daemon's read-write mappings of both, a
//! read-only descriptor of the payload for subscribers, and the chunk
//! manager over them.
//!
//! The daemon creates one per group at start (incarnation 0), and a new one
//! whenever it resets the group ([`crate::group_reset`]): fresh memory files,
//! freshly laid out, every chunk free, that no process has ever held. The
//! old value is then dropped: the daemon unmaps and closes its part, while
//! the processes that still map the old memory keep it (no one faults, what
//! they hold stays readable) until the kernel frees it with the last of
//! them. So the daemon holds exactly one incarnation of each group.
//!
//! The chunk manager is built once, here, when the memory is fresh and
//! nobody else has it (later, a process of the group could have written
//! anything into the header a view would be validated against). It is kept
//! beside the mappings it points into as a `'static` view in type only,
//! declared first so it is dropped first, and handed out only for a borrow
//! of its owner ([`GroupMemory::manager`], shortened through covariance):
//! no view outlives the mappings.

use std::os::fd::{AsFd, BorrowedFd};

use zerocp_core::group_control::{GroupConfig, GroupControl, GroupControlLayout};
use zerocp_core::mempool::MempoolLayout;
use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::wire::PortKind;
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{CONTROL_PART, DomainName, PAYLOAD_PART, SegmentName};
use zerocp_os_linux::shm::SharedMemory;

use crate::segment_owner::{SegmentOwnerError, base_of, create_one};

/// One incarnation of a segment group's memory (module docs).
#[derive(Debug)]
pub struct GroupMemory {
    // The view is declared (and so dropped) before the mappings it points
    // into, and those before their segments.
    manager: MemPoolManager<'static>,
    incarnation: u32,
    _control_map: Mapping,
    _payload_map: Mapping,
    control: SharedMemory,
    payload: SharedMemory,
    /// A read-only descriptor of `payload`, what a subscriber gets.
    payload_read_only: SharedMemory,
}

impl GroupMemory {
    /// Creates, maps and lays out fresh memory of group `name` of `domain`
    /// for `config`, as incarnation `incarnation`.
    ///
    /// ```
    /// use zerocp_core::wire::PortKind;
    /// use zerocp_daemon::config::DaemonConfig;
    /// use zerocp_daemon::group_memory::GroupMemory;
    /// use zerocp_os_linux::names::DomainName;
    ///
    /// let config = DaemonConfig::from_toml_str("[[mempool]]\nsize = 64\ncount = 4\n")?;
    /// let group = config.group_configs()?[0];
    /// let domain = DomainName::new("doc-group-memory")?;
    /// let memory = GroupMemory::create(&domain, "default", &group, 1)?;
    /// assert_eq!(memory.incarnation(), 1);
    /// assert_eq!(memory.manager().pool_stats(0).map(|s| s.used), Some(0));
    /// assert_eq!(memory.port_fds(PortKind::Subscriber).len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(
        domain: &DomainName,
        name: &str,
        config: &GroupConfig,
        incarnation: u32,
    ) -> Result<Self, SegmentOwnerError> {
        let control_size = GroupControlLayout::compute(config)
            .map_err(SegmentOwnerError::ControlLayout)?
            .total_size();
        let payload_size = MempoolLayout::compute(config.mempools())
            .map_err(SegmentOwnerError::DataLayout)?
            .total_bytes();
        let (control, control_map) = create_one(
            SegmentName::group_part(domain, name, CONTROL_PART),
            control_size,
        )?;
        let (payload, payload_map) = create_one(
            SegmentName::group_part(domain, name, PAYLOAD_PART),
            payload_size,
        )?;
        let payload_read_only = payload.read_only().map_err(SegmentOwnerError::Shm)?;
        let manager = Self::lay_out(config, (&control, &control_map), (&payload, &payload_map))?;
        Ok(Self {
            manager,
            incarnation,
            _control_map: control_map,
            _payload_map: payload_map,
            control,
            payload,
            payload_read_only,
        })
    }

    /// Lays out the fresh control part and joins it with the payload part.
    fn lay_out(
        config: &GroupConfig,
        (control, control_map): (&SharedMemory, &Mapping),
        (payload, payload_map): (&SharedMemory, &Mapping),
    ) -> Result<MemPoolManager<'static>, SegmentOwnerError> {
        let base = base_of(control_map, control)?;
        // SAFETY: the mapping is read-write and freshly created (so
        // zero-filled, and no other process has its descriptor: descriptors
        // go out only with port replies, once this value exists). Its
        // `'static` is in type only: the caller keeps the view beside the
        // mapping in one `GroupMemory`, drops it first and hands it out
        // only for a borrow of that value (module docs); moving the
        // `Mapping` does not move the memory.
        let control = unsafe {
            GroupControl::create(base, control_map.len(), config, payload_map.len() as u64)
        }
        .map_err(SegmentOwnerError::Control)?;
        let data = base_of(payload_map, payload)?;
        // SAFETY: the read-write mapping of the payload part laid out for
        // `control`'s mempools, kept as long as the view (as above).
        unsafe { MemPoolManager::new(control, data, payload_map.len()) }
            .map_err(|e| SegmentOwnerError::Mempools(e.to_string()))
    }

    /// The chunk manager (and through it the control part), for as long as
    /// this borrow.
    pub fn manager(&self) -> &MemPoolManager<'_> {
        &self.manager
    }

    /// Which memory of the group this is: 0 at start, one more per reset.
    pub fn incarnation(&self) -> u32 {
        self.incarnation
    }

    /// Sizes of the control part and the payload part.
    pub fn sizes(&self) -> (u64, u64) {
        (self.control.size() as u64, self.payload.size() as u64)
    }

    /// The descriptors a process receives with a `kind` port of the group:
    /// the control part read-write, then the payload part, read-write for
    /// a publisher and read-only for any other port (a notifier or listener
    /// reads nothing there: the runtime maps it as a subscriber's, so
    /// every port's reply carries the same two descriptors).
    pub fn port_fds(&self, kind: PortKind) -> [BorrowedFd<'_>; 2] {
        let payload = match kind {
            PortKind::Publisher => self.payload.as_fd(),
            _ => self.payload_read_only.as_fd(),
        };
        [self.control.as_fd(), payload]
    }
}
