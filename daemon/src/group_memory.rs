//! [`GroupMemory`]: one incarnation of one segment group's memory, owned by
//! the daemon: its control part `zerocp.<domain>.<group>.control` and
//! payload part `zerocp.<domain>.<group>.payload` (sealed memory files),
//! the daemon's read-write mappings of both, a read-only descriptor of the
//! payload for subscribers, and the chunk manager over them.
//!
//! **What is committed when.** The payload part (unless `[memory]
//! commit_pools = "on-touch"`, [`crate::memory_config`]), and the control
//! part but for its port tables, are committed (`fallocate`) when the
//! memory is created: they are the pools the configuration asks for and the
//! words every loan touches, so a machine short of memory fails at start. The
//! port tables are sized by the group's port limits, and most slots of a
//! generous limit are never used: they are committed one slot at a time,
//! when the port registry first hands a slot out
//! ([`GroupMemory::commit_port`], before the daemon writes the slot and
//! before any process learns of it), so a port costs memory only once it
//! exists, and still never a `SIGBUS`: too little memory refuses that port's
//! creation. Nobody reads a slot that was never handed out (the audit walks
//! only those the registry handed out, `PortRegistry::written`), since a
//! read of a page of a memory file allocates it too.
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

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd};

use zerocp_core::group_control::{GroupConfig, GroupControl, GroupControlLayout};
use zerocp_core::mempool::MempoolLayout;
use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::wire::PortKind;
use zerocp_os_linux::error::ShmError;
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{CONTROL_PART, DomainName, PAYLOAD_PART, SegmentName};
use zerocp_os_linux::shm::SharedMemory;

use crate::memory_config::PoolCommit;
use crate::segment_owner::{SegmentOwnerError, base_of, create_one};

/// Committing a port slot's pages failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortCommitError {
    /// The control part has no such slot.
    NoSuchSlot {
        /// The port's kind.
        kind: PortKind,
        /// The slot asked for.
        index: u32,
    },
    /// The pages could not be committed (`ENOMEM`: too little memory).
    Shm(ShmError),
}

impl fmt::Display for PortCommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchSlot { kind, index } => {
                write!(f, "the control part has no {} slot {index}", kind.noun())
            }
            Self::Shm(e) => write!(f, "cannot commit the port's slot: {e}"),
        }
    }
}

impl std::error::Error for PortCommitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NoSuchSlot { .. } => None,
            Self::Shm(e) => Some(e),
        }
    }
}

/// Commits everything of the fresh control part but its port tables
/// (module docs).
fn commit_all_but_ports(
    control: &SharedMemory,
    layout: &GroupControlLayout,
) -> Result<(), SegmentOwnerError> {
    let (ports, end) = layout.ports_range();
    let tail = layout.total_size() - end;
    commit_range(control, 0, ports)
        .and_then(|()| commit_range(control, end, tail))
        .map_err(SegmentOwnerError::Shm)
}

/// Commits bytes `offset..offset + len` of `shm`.
fn commit_range(shm: &SharedMemory, offset: u64, len: u64) -> Result<(), ShmError> {
    // The layout was computed for a part of this size, which fits a usize.
    shm.commit(offset as usize, len as usize)
}

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
    /// use zerocp_daemon::memory_config::PoolCommit;
    /// use zerocp_os_linux::names::DomainName;
    ///
    /// let config = DaemonConfig::from_toml_str("[[mempool]]\nsize = 64\ncount = 4\n")?;
    /// let group = config.group_configs()?[0];
    /// let domain = DomainName::new("doc-group-memory")?;
    /// let memory = GroupMemory::create(&domain, "default", &group, 1, PoolCommit::AtStart)?;
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
        commit_pools: PoolCommit,
    ) -> Result<Self, SegmentOwnerError> {
        let control_layout =
            GroupControlLayout::compute(config).map_err(SegmentOwnerError::ControlLayout)?;
        let payload_size = MempoolLayout::compute(config.mempools())
            .map_err(SegmentOwnerError::DataLayout)?
            .total_bytes();
        let (control, control_map) = create_one(
            SegmentName::group_part(domain, name, CONTROL_PART),
            control_layout.total_size(),
            SharedMemory::create_uncommitted,
        )?;
        commit_all_but_ports(&control, &control_layout)?;
        let create_payload = match commit_pools {
            PoolCommit::AtStart => SharedMemory::create,
            PoolCommit::OnTouch => SharedMemory::create_uncommitted,
        };
        let (payload, payload_map) = create_one(
            SegmentName::group_part(domain, name, PAYLOAD_PART),
            payload_size,
            create_payload,
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

    /// Commits the pages of port slot `index` of `kind` (module docs):
    /// call it before the slot is first written or handed out.
    pub fn commit_port(&self, kind: PortKind, index: u32) -> Result<(), PortCommitError> {
        let layout = self.manager.control().layout();
        let (offset, len) = layout
            .port_range(kind, index)
            .ok_or(PortCommitError::NoSuchSlot { kind, index })?;
        commit_range(&self.control, offset, len).map_err(PortCommitError::Shm)
    }

    /// The bytes of memory the control part holds now (module docs).
    pub fn control_committed_bytes(&self) -> Result<u64, ShmError> {
        self.control.committed_bytes()
    }

    /// The bytes of memory the payload part holds now (module docs).
    pub fn payload_committed_bytes(&self) -> Result<u64, ShmError> {
        self.payload.committed_bytes()
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

#[cfg(test)]
mod tests {
    use zerocp_core::mempool_manager::PayloadSpec;
    use zerocp_core::port::PortSettings;

    use super::*;
    use crate::chunk_accounting::ChunkAccounting;
    use crate::config::DaemonConfig;
    use crate::group_audit::audit_group;
    use crate::port_registry::PortRegistry;

    /// A group with generous port limits (a control part of about 12 MB).
    fn generous(domain: &str) -> (GroupMemory, PortRegistry) {
        let config = DaemonConfig::from_toml_str(
            "[limits]\nmax_publishers = 1024\nmax_subscribers = 4096\n\
             [[mempool]]\nsize = 64\ncount = 16\n",
        )
        .unwrap();
        let group = config.group_configs().unwrap()[0];
        let domain = DomainName::new(domain).unwrap();
        let memory =
            GroupMemory::create(&domain, "default", &group, 0, PoolCommit::AtStart).unwrap();
        let limits = [(group.max_publishers(), group.max_subscribers())];
        (memory, PortRegistry::new(&limits))
    }

    fn create_subscriber(memory: &GroupMemory, registry: &mut PortRegistry) {
        let id = registry
            .allocate_committing(0, PortKind::Subscriber, |index| {
                memory.commit_port(PortKind::Subscriber, index)
            })
            .unwrap();
        let settings = PortSettings {
            capacity: 4,
            ..PortSettings::default()
        };
        let control = memory.manager().control();
        registry.init_subscriber(control, id, &settings).unwrap();
    }

    #[test]
    fn port_tables_are_committed_slot_by_slot_and_the_audit_reads_no_other() {
        if zerocp_os_linux::testing::shmem_huge_pages() {
            return;
        }
        let (memory, mut registry) = generous("group-memory-commit");
        let page = rustix::param::page_size() as u64;
        let size = memory.sizes().0;
        let start = memory.control_committed_bytes().unwrap();
        assert!(size > 11 << 20, "{size}");
        assert!(start < size / 16, "{start} of {size} committed at start");
        let slot = size_of::<zerocp_core::port::SubscriberPort>() as u64;
        for _ in 0..3 {
            create_subscriber(&memory, &mut registry);
        }
        let three = memory.control_committed_bytes().unwrap();
        assert!(three > start, "the slots' pages are committed");
        assert!(three - start <= 3 * slot + 2 * page, "{} B", three - start);
        let mut chunks = ChunkAccounting::new(memory.manager().refcounts().len());
        for _ in 0..3 {
            let findings = audit_group(memory.manager(), 0, &registry, &mut chunks);
            assert_eq!(findings, []);
        }
        assert_eq!(memory.control_committed_bytes().unwrap(), three);
    }

    #[test]
    fn pools_committed_on_touch_hold_only_the_chunks_written() {
        if zerocp_os_linux::testing::shmem_huge_pages() {
            return;
        }
        let config = DaemonConfig::from_toml_str("[[mempool]]\nsize = 4096\ncount = 256\n");
        let group = config.unwrap().group_configs().unwrap()[0];
        let domain = DomainName::new("group-memory-on-touch").unwrap();
        let lazy = GroupMemory::create(&domain, "default", &group, 0, PoolCommit::OnTouch);
        let lazy = lazy.unwrap();
        assert!(lazy.sizes().1 > 1 << 20);
        assert_eq!(lazy.payload_committed_bytes().unwrap(), 0);
        let spec = PayloadSpec {
            size: 8,
            align: 8,
            user_header_size: 0,
            origin_port: 0,
            origin_generation: 1,
        };
        let chunk = lazy.manager().loan(0, spec).unwrap();
        let page = rustix::param::page_size() as u64;
        assert_eq!(
            lazy.payload_committed_bytes().unwrap(),
            page,
            "its header's page"
        );
        lazy.manager().release(chunk).unwrap();
        lazy.manager().loan(0, spec).unwrap();
        assert_eq!(
            lazy.payload_committed_bytes().unwrap(),
            page,
            "the same chunk again"
        );
        let eager = GroupMemory::create(&domain, "default", &group, 0, PoolCommit::AtStart);
        assert!(eager.unwrap().payload_committed_bytes().unwrap() >= lazy.sizes().1);
    }

    #[test]
    fn a_port_past_the_table_is_no_slot() {
        let (memory, _) = generous("group-memory-no-slot");
        assert_eq!(
            memory.commit_port(PortKind::Publisher, 1024),
            Err(PortCommitError::NoSuchSlot {
                kind: PortKind::Publisher,
                index: 1024
            })
        );
        assert!(memory.commit_port(PortKind::Publisher, 1023).is_ok());
    }
}
