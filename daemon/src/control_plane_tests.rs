//! In-process tests of [`ControlPlane`]: the mgmt segment and the default
//! group's control and payload parts live in heap memory here, so every rule (routing, topologies, type checks,
//! limits, reclaiming) is checked against the shared-memory records directly.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;

use zerocp_core::fixed_string::FixedString;
use zerocp_core::mempool_manager::{MemPoolManager, PayloadSpec};
use zerocp_core::mgmt::{Mgmt, MgmtLayout};
use zerocp_core::port::{PortState, TOPOLOGY_WORDS};
use zerocp_core::service::{ServiceDescription, TypeInfo};
use zerocp_core::wire::{
    CreatePublisher, CreateSubscriber, ErrorCode, FullPolicy, PROTOCOL_VERSION, PayloadShape,
    PortKind, ProcessState, Register, RemovePort,
};
use zerocp_os_linux::names::DomainName;
use zerocp_os_linux::seqpacket::PeerCredentials;

use crate::config::{DaemonConfig, MempoolSpec};
use crate::control_plane::{ControlPlane, DaemonIdentity, Departure};
use crate::group_memory::GroupMemory;

/// The tests' configuration: small limits, one pool of 8 chunks of 64 bytes.
pub(crate) fn test_config(max_subscribers: u32) -> DaemonConfig {
    let mut config = DaemonConfig::default();
    config.limits.max_processes = 4;
    config.limits.max_publishers = 4;
    config.limits.max_subscribers = max_subscribers;
    config.limits.max_history = 4;
    config.mempools = vec![MempoolSpec { size: 64, count: 8 }];
    config
}

/// Zeroed, page-aligned heap memory standing in for the mgmt segment.
struct Region {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Region {
    fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len.max(1), 4096).expect("layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) }).expect("allocation");
        Self { ptr, layout }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) };
    }
}

/// A daemon's configuration and mgmt segment; each plane made from it gets
/// the default group's memory of its own (real memory files, which leave
/// nothing behind).
pub(crate) struct Fixture {
    mgmt: Region,
    config: DaemonConfig,
}

impl Fixture {
    pub(crate) fn new(max_subscribers: u32) -> Self {
        Self::with_config(test_config(max_subscribers))
    }

    pub(crate) fn with_config(config: DaemonConfig) -> Self {
        let mgmt_config = config.mgmt_config().expect("valid");
        let mgmt_len = MgmtLayout::compute(&mgmt_config)
            .expect("layout")
            .total_size();
        Self {
            mgmt: Region::new(mgmt_len as usize),
            config,
        }
    }

    pub(crate) fn plane(&self) -> ControlPlane<'_> {
        let mgmt_config = self.config.mgmt_config().expect("valid");
        // SAFETY: zero-filled, page-aligned, writable, owned by `self`, which
        // the returned plane borrows.
        let mgmt =
            unsafe { Mgmt::create(self.mgmt.ptr, self.mgmt.layout.size(), &mgmt_config, 1, 7) }
                .expect("mgmt");
        let domain = DomainName::new("plane-test").expect("valid");
        let groups = self.config.segment_groups().expect("valid");
        let parts: Vec<GroupMemory> = self
            .config
            .group_configs()
            .expect("valid")
            .iter()
            .map(|c| {
                let commit = self.config.memory.commit_pools;
                GroupMemory::create(&domain, groups.name(c.group()), c, 0, commit).expect("memory")
            })
            .collect();
        let (control_size, data_size) = parts[0].sizes();
        let identity = DaemonIdentity {
            pid: 1,
            uid: 0,
            epoch: 7,
            started_ms: 0,
            mgmt_size: self.mgmt.layout.size() as u64,
            domain,
            control_size,
            data_size,
        };
        ControlPlane::new(mgmt, parts, self.config.clone(), groups, identity)
    }
}

/// The chunk manager of `plane`'s group `group`.
pub(crate) fn pools<'p>(plane: &'p ControlPlane<'_>, group: u32) -> &'p MemPoolManager<'p> {
    plane.pool_manager(group).expect("a group")
}

pub(crate) fn me() -> PeerCredentials {
    PeerCredentials {
        pid: std::process::id(),
        uid: 0,
        gid: 0,
    }
}

pub(crate) fn register(plane: &mut ControlPlane<'_>, conn: u64) -> u32 {
    let msg = Register {
        protocol_version: PROTOCOL_VERSION,
        process_name: FixedString::from_str_truncated("unit"),
    };
    plane
        .register(me(), conn, &msg, 0)
        .expect("register")
        .0
        .slot
}

pub(crate) fn service() -> ServiceDescription {
    ServiceDescription::new("Unit", "Plane", "Event").expect("service")
}

pub(crate) fn publisher_msg(type_info: TypeInfo) -> CreatePublisher {
    CreatePublisher {
        service: service(),
        type_info,
        history: 0,
        max_loans: 4,
        shape: PayloadShape::Sized,
        max_slice_len: 0,
        user_header: TypeInfo::of::<()>(),
        layout: zerocp_core::type_layout::TypeLayout::unknown(),
    }
}

pub(crate) fn subscriber_msg(type_info: TypeInfo) -> CreateSubscriber {
    CreateSubscriber {
        service: service(),
        type_info,
        queue_capacity: 4,
        full_policy: FullPolicy::DiscardOldest,
        history_request: 0,
        max_held: 4,
        shape: PayloadShape::Sized,
        user_header: TypeInfo::of::<()>(),
        layout: zerocp_core::type_layout::TypeLayout::unknown(),
    }
}

/// Creates a `u64` publisher on [`service`] for the process in `slot`; its port index.
pub(crate) fn add_publisher(plane: &mut ControlPlane<'_>, slot: u32) -> u32 {
    plane
        .create_publisher(slot, &publisher_msg(TypeInfo::of::<u64>()))
        .expect("publisher")
        .port_index
}

/// Creates a `u64` subscriber on [`service`] for the process in `slot`; its port index.
pub(crate) fn add_subscriber(plane: &mut ControlPlane<'_>, slot: u32) -> u32 {
    plane
        .create_subscriber(slot, &subscriber_msg(TypeInfo::of::<u64>()))
        .expect("subscriber")
        .port_index
}

/// A `u64` payload loaned to publisher port `origin_port`.
pub(crate) fn u64_spec(origin_port: u32) -> PayloadSpec {
    PayloadSpec {
        size: 8,
        align: 8,
        user_header_size: 0,
        origin_port,
        origin_generation: 1,
    }
}

/// The generation of subscriber port `index` of the default group.
pub(crate) fn generation(plane: &ControlPlane<'_>, index: u32) -> u32 {
    let port = pools(plane, 0).control().subscriber(index).expect("port");
    port.control.generation()
}

pub(crate) fn topology(plane: &ControlPlane<'_>, publisher: u32) -> Vec<u32> {
    let mut words = [0u32; TOPOLOGY_WORDS];
    let port = pools(plane, 0)
        .control()
        .publisher(publisher)
        .expect("port");
    let snapshot = port.topology.read(&mut words).expect("read");
    words[..snapshot.len].to_vec()
}

#[test]
fn topologies_follow_subscribers() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let publisher = add_publisher(&mut plane, slot);
    assert!(topology(&plane, publisher).is_empty());
    let a = add_subscriber(&mut plane, slot);
    let b = add_subscriber(&mut plane, slot);
    let (gen_a, gen_b) = (generation(&plane, a), generation(&plane, b));
    assert_eq!(topology(&plane, publisher), [a, gen_a, b, gen_b]);
    let remove = RemovePort {
        kind: PortKind::Subscriber,
        port_index: a,
        group: 0,
        generation: gen_a,
    };
    plane.remove_port(slot, &remove).expect("remove");
    assert_eq!(topology(&plane, publisher), [b, gen_b]);
    let state = pools(&plane, 0)
        .control()
        .subscriber(a)
        .expect("port")
        .control
        .state();
    assert_eq!(state, Some(PortState::Free));
    assert_eq!(
        plane.remove_port(slot, &remove).map_err(|e| e.code),
        Err(ErrorCode::NoSuchPort)
    );
}

#[test]
fn requests_are_checked_before_anything_changes() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    add_publisher(&mut plane, slot);
    let code = |r: Result<_, crate::control_plane::RequestError>| r.map(|_| ()).map_err(|e| e.code);
    let mismatch = plane.create_subscriber(slot, &subscriber_msg(TypeInfo::of::<u32>()));
    assert_eq!(code(mismatch), Err(ErrorCode::TypeMismatch));
    let mut big = subscriber_msg(TypeInfo::of::<[u8; 65]>());
    big.service = ServiceDescription::new("Unit", "Plane", "Big").expect("service");
    assert_eq!(
        code(plane.create_subscriber(slot, &big)),
        Err(ErrorCode::PayloadTooLarge)
    );
    // A slice publisher is sized by its longest slice (64-byte chunks: 8
    // u64 fit, 9 do not); its service is not the u64 one.
    let mut slices = publisher_msg(TypeInfo::of::<u64>());
    slices.service = ServiceDescription::new("Unit", "Plane", "Slices").expect("service");
    slices.shape = PayloadShape::Slice;
    slices.max_slice_len = 9;
    assert_eq!(
        code(plane.create_publisher(slot, &slices)),
        Err(ErrorCode::PayloadTooLarge)
    );
    slices.max_slice_len = 0;
    assert_eq!(
        code(plane.create_publisher(slot, &slices)),
        Err(ErrorCode::InvalidArgument)
    );
    let mut slice_of_u64 = slices;
    slice_of_u64.service = service();
    slice_of_u64.max_slice_len = 8;
    assert_eq!(
        code(plane.create_publisher(slot, &slice_of_u64)),
        Err(ErrorCode::TypeMismatch)
    );
    let mut with_header = subscriber_msg(TypeInfo::of::<u64>());
    with_header.user_header = TypeInfo::of::<u32>();
    assert_eq!(
        code(plane.create_subscriber(slot, &with_header)),
        Err(ErrorCode::TypeMismatch)
    );
    let mut deep = publisher_msg(TypeInfo::of::<u64>());
    deep.history = 5;
    assert_eq!(
        code(plane.create_publisher(slot, &deep)),
        Err(ErrorCode::InvalidArgument)
    );
    let mut wide = subscriber_msg(TypeInfo::of::<u64>());
    wide.queue_capacity = 257;
    assert_eq!(
        code(plane.create_subscriber(slot, &wide)),
        Err(ErrorCode::InvalidArgument)
    );
    let unregistered = plane.create_publisher(3, &publisher_msg(TypeInfo::of::<u64>()));
    assert_eq!(code(unregistered), Err(ErrorCode::NotRegistered));
    // Nothing of the refused requests remains.
    let status = plane.status(0, Default::default());
    assert_eq!(
        (status.publishers, status.subscribers, status.services),
        (1, 0, 1)
    );
}

#[test]
fn a_history_that_fills_the_port_quota_is_refused_naming_it() {
    // 8 chunks at the default 50 %: a port may hold 4.
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let mut deep = publisher_msg(TypeInfo::of::<u64>());
    deep.history = 4;
    let e = plane.create_publisher(slot, &deep).expect_err("refused");
    assert_eq!(e.code, ErrorCode::LimitReached);
    assert!(
        e.detail.contains("history 4 leaves no chunk to loan")
            && e.detail.contains("quota.port_percent = 50"),
        "{e}"
    );
    assert_eq!(
        plane.status(0, Default::default()).publishers,
        0,
        "nothing of it remains"
    );
    deep.history = 3;
    plane
        .create_publisher(slot, &deep)
        .expect("a history of 3 fits");
    let pools = plane.mempools().pools;
    assert_eq!((pools[0].process_quota, pools[0].port_quota), (4, 4));
}

#[test]
fn port_limit_is_reported() {
    let fixture = Fixture::new(1);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let msg = subscriber_msg(TypeInfo::of::<u64>());
    plane.create_subscriber(slot, &msg).expect("first");
    let e = plane.create_subscriber(slot, &msg).expect_err("second");
    assert_eq!(e.code, ErrorCode::LimitReached);
    assert!(e.detail.contains("limits.max_subscribers"), "{e}");
}

#[test]
fn a_departed_process_returns_every_chunk() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let publisher = add_publisher(&mut plane, slot);
    let subscriber = add_subscriber(&mut plane, slot);
    let spec = u64_spec(publisher);
    let loaned = pools(&plane, 0).loan(0, spec).expect("loan");
    let queued = pools(&plane, 0).loan(0, spec).expect("loan");
    let held = pools(&plane, 0).loan(0, spec).expect("loan");
    let pub_port = pools(&plane, 0)
        .control()
        .publisher(publisher)
        .expect("port");
    let sub_port = pools(&plane, 0)
        .control()
        .subscriber(subscriber)
        .expect("port");
    pub_port.loans.record(0, loaned).expect("record");
    sub_port.queue.push(queued).expect("push");
    sub_port.held.record(0, held).expect("record");
    assert_eq!(pools(&plane, 0).pool_stats(0).expect("stats").used, 3);
    assert_eq!(plane.processes_page(0, 0).entries[0].chunks_held, 3);

    let process = plane
        .remove_process(slot, Departure::Exited)
        .expect("removed");
    assert_eq!(
        process.ports.len(),
        0,
        "ports are detached from the returned process"
    );
    assert_eq!(pools(&plane, 0).pool_stats(0).expect("stats").used, 0);
    assert!(plane.processes().get(slot).is_none());
    assert_eq!(process.heartbeat.slot().pid(), std::process::id());
    assert_eq!(plane.status(0, Default::default()).services, 0);
}

#[test]
fn late_deliveries_to_a_freed_subscriber_are_released_on_reuse() {
    let fixture = Fixture::new(1);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let msg = subscriber_msg(TypeInfo::of::<u64>());
    let created = plane.create_subscriber(slot, &msg).expect("subscriber");
    let index = created.port_index;
    let remove = RemovePort {
        kind: PortKind::Subscriber,
        port_index: index,
        group: 0,
        generation: created.generation,
    };
    plane.remove_port(slot, &remove).expect("remove");
    // A publisher that still saw the old topology delivers afterwards.
    let spec = u64_spec(0);
    let late = pools(&plane, 0).loan(0, spec).expect("loan");
    pools(&plane, 0)
        .control()
        .subscriber(index)
        .expect("port")
        .queue
        .push(late)
        .expect("push");
    assert_eq!(pools(&plane, 0).pool_stats(0).expect("stats").used, 1);
    let again = plane
        .create_subscriber(slot, &msg)
        .expect("reuse")
        .port_index;
    assert_eq!(again, index);
    assert_eq!(pools(&plane, 0).pool_stats(0).expect("stats").used, 0);
}

#[test]
fn introspection_pages_list_everything() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    add_publisher(&mut plane, slot);
    add_subscriber(&mut plane, slot);
    let page = plane.ports_page(0);
    assert_eq!(page.entries.len(), 2);
    assert_eq!(page.next, zerocp_core::wire::PAGE_END);
    assert_eq!(page.entries[0].kind, PortKind::Publisher);
    assert_eq!(page.entries[1].queue_capacity, 4);
    assert_eq!(plane.ports_page(1).entries.len(), 1);
    let processes = plane.processes_page(0, 10);
    assert_eq!(processes.entries.len(), 1);
    assert_eq!(processes.entries[0].pid, std::process::id());
    assert_eq!(processes.entries[0].heartbeat_age_ms, 10);
    let pools = plane.mempools();
    assert_eq!(pools.pools.len(), 1);
    assert_eq!(
        (pools.pools[0].chunk_size, pools.pools[0].chunk_count),
        (64, 8)
    );
}

#[test]
fn an_unresponsive_process_is_unrouted_but_keeps_its_chunks_until_it_exits() {
    let fixture = Fixture::new(4);
    let mut plane = fixture.plane();
    let other = register(&mut plane, 1);
    let slot = register(&mut plane, 2);
    let other_pub = add_publisher(&mut plane, other);
    let other_sub = add_subscriber(&mut plane, other);
    let publisher = add_publisher(&mut plane, slot);
    let subscriber = add_subscriber(&mut plane, slot);
    let (gen_other, gen_sub) = (
        generation(&plane, other_sub),
        generation(&plane, subscriber),
    );
    assert_eq!(
        topology(&plane, other_pub),
        [other_sub, gen_other, subscriber, gen_sub]
    );
    let spec = u64_spec(publisher);
    let loaned = pools(&plane, 0).loan(0, spec).expect("loan");
    let held = pools(&plane, 0).loan(0, spec).expect("loan");
    let control = pools(&plane, 0).control();
    control
        .publisher(publisher)
        .expect("port")
        .loans
        .record(0, loaned)
        .expect("record");
    control
        .subscriber(subscriber)
        .expect("port")
        .held
        .record(0, held)
        .expect("record");

    assert!(plane.drop_unresponsive(slot, 5_000).is_some());
    assert!(
        plane.drop_unresponsive(slot, 6_000).is_none(),
        "dropped once"
    );
    assert!(plane.expired_processes(1_000_000).contains(&other));
    assert!(!plane.expired_processes(1_000_000).contains(&slot));
    // Unrouted: out of the other publisher's topology, its own publisher
    // delivers to nobody, both ports retired.
    assert_eq!(topology(&plane, other_pub), [other_sub, gen_other]);
    assert!(topology(&plane, publisher).is_empty());
    let state = pools(&plane, 0)
        .control()
        .subscriber(subscriber)
        .expect("port")
        .control
        .state();
    assert_eq!(state, Some(PortState::Retiring));
    // Nothing reclaimed, no slot reused.
    assert_eq!(pools(&plane, 0).pool_stats(0).expect("stats").used, 2);
    {
        let beat = plane.processes().get(slot).expect("kept").heartbeat.slot();
        assert!(beat.is_dropped() && beat.pid() == std::process::id());
    }
    assert_ne!(register(&mut plane, 3), slot);
    let status = plane.status(0, Default::default());
    assert_eq!((status.publishers, status.subscribers), (2, 2));
    let states: Vec<_> = plane
        .processes_page(0, 0)
        .entries
        .iter()
        .map(|p| (p.process_slot, p.state))
        .collect();
    assert!(
        states.contains(&(slot, ProcessState::Unresponsive)),
        "{states:?}"
    );
    assert!(states.contains(&(other, ProcessState::Alive)), "{states:?}");
    assert_eq!(
        plane.ports_page(0).entries.len(),
        2,
        "only the other process's ports are routed"
    );

    let removed = plane
        .remove_process(slot, Departure::Exited)
        .expect("removed");
    assert_eq!(pools(&plane, 0).pool_stats(0).expect("stats").used, 0);
    // Its heartbeat file leaves with it; the slot's next owner gets another.
    assert!(removed.heartbeat.slot().is_dropped());
    assert!(plane.processes().get(slot).is_none());
    assert_eq!(plane.status(0, Default::default()).subscribers, 1);
}

/// Whether bytes `offset..offset + len` of the memory file `fd` are all
/// committed: no hole starts before their end (`SEEK_HOLE`).
fn committed(fd: std::os::fd::BorrowedFd<'_>, offset: u64, len: u64) -> bool {
    let hole = rustix::fs::seek(fd, rustix::fs::SeekFrom::Hole(offset)).expect("SEEK_HOLE");
    hole >= offset + len
}

#[test]
fn a_port_slot_is_committed_whole_when_first_handed_out() {
    let fixture = Fixture::new(64);
    let mut plane = fixture.plane();
    let slot = register(&mut plane, 1);
    let layout = *pools(&plane, 0).control().layout();
    for _ in 0..4 {
        let created = [
            (PortKind::Subscriber, add_subscriber(&mut plane, slot)),
            (PortKind::Publisher, add_publisher(&mut plane, slot)),
        ];
        for (kind, index) in created {
            let (offset, len) = layout.port_range(kind, index).expect("a slot");
            let control = plane.parts[0].port_fds(kind)[0];
            assert!(committed(control, offset, len), "{kind:?} {index}");
        }
    }
    let (last, len) = layout.port_range(PortKind::Subscriber, 63).expect("a slot");
    let control = plane.parts[0].port_fds(PortKind::Subscriber)[0];
    assert!(!committed(control, last, len), "a slot never handed out");
}
