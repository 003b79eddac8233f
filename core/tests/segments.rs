//! The mgmt segment, a group control part and the MemPoolManager over heap
//! buffers standing in for shared memory (the multi-process versions live in zerocp-os-linux's tests).
#![cfg(not(loom))]

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;

use zerocp_core::group_control::{
    GROUP_CONTROL_LAYOUT_VERSION, GroupConfig, GroupControl, GroupControlError, GroupControlLayout,
};
use zerocp_core::mempool::{MempoolConfig, MempoolLayout};
use zerocp_core::mempool_manager::{
    LoanChunkError, MemPoolManager, PayloadSpec, ReleaseChunkError,
};
use zerocp_core::mgmt::{
    MGMT_LAYOUT_VERSION, Mgmt, MgmtConfig, MgmtConfigError, MgmtError, MgmtLayout, PoolQuota,
    QuotaError, STATE_READY, STATE_SHUTTING_DOWN,
};

/// A zeroed, 4096-aligned heap buffer.
struct Buffer {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Buffer {
    fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len.max(1), 4096).unwrap();
        // SAFETY: non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) }).expect("allocation");
        Self { ptr, layout }
    }
}

impl Buffer {
    /// Writes one byte, as a hostile process could.
    fn poke(&self, offset: usize, value: u8) {
        assert!(offset < self.layout.size());
        let ptr = self.ptr.as_ptr().wrapping_add(offset);
        // SAFETY: in bounds (asserted); no reference into the buffer is live
        // across this write (views are recreated by `attach`).
        unsafe { ptr.write(value) }
    }
}

impl Buffer {
    /// Writes the aligned word of `width` bytes (4 or 8) at `offset`
    /// atomically, as a hostile process of the group could.
    fn poke_word(&self, offset: usize, width: usize, value: u64) {
        assert!(offset.is_multiple_of(width) && offset + width <= self.layout.size());
        let ptr = self.ptr.as_ptr().wrapping_add(offset);
        match width {
            // SAFETY: in bounds and aligned (asserted); every access to the
            // header's words is atomic and of this width.
            4 => unsafe { std::sync::atomic::AtomicU32::from_ptr(ptr.cast()) }
                .store(value as u32, std::sync::atomic::Ordering::Relaxed),
            // SAFETY: as above.
            _ => unsafe { std::sync::atomic::AtomicU64::from_ptr(ptr.cast()) }
                .store(value, std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Buffer {
    /// A copy of every byte, as another process would see it.
    fn snapshot(&self) -> Vec<u8> {
        // SAFETY: the whole allocation is initialised (zeroed, then written
        // through atomics); no write is in flight on this thread, and the
        // slice is copied before anything else touches the buffer.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.layout.size()) }.to_vec()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

fn config() -> GroupConfig {
    let pools = [
        MempoolConfig {
            chunk_size: 1024,
            chunk_count: 3,
            group: 0,
        },
        MempoolConfig {
            chunk_size: 128,
            chunk_count: 4,
            group: 0,
        },
    ];
    GroupConfig::new(0, 4, 4, &pools).unwrap()
}

fn segments() -> (Buffer, Buffer, GroupConfig) {
    let config = config();
    let mgmt = Buffer::new(GroupControlLayout::compute(&config).unwrap().total_size() as usize);
    let data = Buffer::new(
        MempoolLayout::compute(config.mempools())
            .unwrap()
            .total_bytes() as usize,
    );
    (mgmt, data, config)
}

const SPEC: PayloadSpec = PayloadSpec {
    size: 100,
    align: 8,
    user_header_size: 0,
    origin_port: 0,
    origin_generation: 1,
};

#[test]
fn mgmt_create_then_attach_sees_the_same_segment() {
    let config = MgmtConfig::new(4, 3).unwrap();
    let m = Buffer::new(MgmtLayout::compute(&config).unwrap().total_size() as usize);
    // SAFETY: zeroed buffer, alive for the test.
    let created = unsafe { Mgmt::create(m.ptr, m.layout.size(), &config, 77, 5) }.unwrap();
    // SAFETY: same buffer.
    let attached = unsafe { Mgmt::attach(m.ptr, m.layout.size()) }.unwrap();
    assert_eq!(attached.config(), created.config());
    assert_eq!(attached.config().group_count(), 3);
    assert_eq!((attached.daemon_pid(), attached.epoch()), (77, 5));
    assert_eq!(attached.state(), STATE_READY);
    // Corrupt the layout version (bytes 8..12), then the group count (bytes 24..28).
    m.poke(8, 9);
    // SAFETY: same buffer.
    let bad_version = unsafe { Mgmt::attach(m.ptr, m.layout.size()) };
    assert!(matches!(
        bad_version,
        Err(MgmtError::VersionMismatch { found: 9 })
    ));
    m.poke(8, MGMT_LAYOUT_VERSION as u8);
    m.poke(24, 0);
    // SAFETY: same buffer.
    let bad_groups = unsafe { Mgmt::attach(m.ptr, m.layout.size()) };
    assert!(
        matches!(bad_groups, Err(MgmtError::Config(_))),
        "{bad_groups:?}"
    );
    created.set_shutting_down();
    assert_eq!(attached.state(), STATE_SHUTTING_DOWN);
}

#[test]
fn mgmt_records_the_quotas_and_attach_checks_them() {
    let quotas = [
        PoolQuota::new(0, 0, 64, 50, 25).unwrap(),
        PoolQuota::new(1, 0, 8, 100, 50)
            .unwrap()
            .from_group_override(true),
    ];
    let config = MgmtConfig::new(4, 2).unwrap().with_quotas(&quotas).unwrap();
    let m = Buffer::new(MgmtLayout::compute(&config).unwrap().total_size() as usize);
    // SAFETY: zeroed buffer, alive for the test.
    let created = unsafe { Mgmt::create(m.ptr, m.layout.size(), &config, 77, 5) }.unwrap();
    // SAFETY: same buffer.
    let attached = unsafe { Mgmt::attach(m.ptr, m.layout.size()) }.unwrap();
    assert_eq!(attached.config(), created.config());
    let nav = attached.config().quotas().get(1, 0).copied().unwrap();
    assert_eq!(
        (nav.process(), nav.port(), nav.is_group_override()),
        (8, 4, true)
    );
    assert_eq!(
        attached.config().quotas().get(0, 0).map(|q| q.port()),
        Some(16)
    );
    // The first record starts at 512: group, pool, chunk_count,
    // process_percent (524), port_percent (528). A percentage of 0 is refused.
    m.poke(528, 0);
    // SAFETY: same buffer.
    let bad = unsafe { Mgmt::attach(m.ptr, m.layout.size()) };
    assert!(
        matches!(
            bad,
            Err(MgmtError::Config(MgmtConfigError::Quota(
                QuotaError::PercentOutOfRange {
                    name: "port_percent",
                    value: 0
                }
            )))
        ),
        "{bad:?}"
    );
    m.poke(528, 25);
    // The quota count (header bytes 28..32) beyond the table is refused.
    m.poke(28, 33);
    // SAFETY: same buffer.
    let bad = unsafe { Mgmt::attach(m.ptr, m.layout.size()) };
    assert!(
        matches!(
            bad,
            Err(MgmtError::Config(MgmtConfigError::Quota(
                QuotaError::TooMany { count: 33 }
            )))
        ),
        "{bad:?}"
    );
}

#[test]
fn control_create_then_attach_sees_the_same_part() {
    let (m, _d, config) = segments();
    // SAFETY: zeroed buffer, alive for the test.
    let created = unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1234) }.unwrap();
    // SAFETY: same buffer.
    let attached = unsafe { GroupControl::attach(m.ptr, m.layout.size(), 0) }.unwrap();
    assert_eq!(attached.config(), created.config());
    assert_eq!((attached.group(), attached.payload_size()), (0, 1234));
    assert!(attached.publisher(3).is_some() && attached.publisher(4).is_none());
    assert!(attached.subscriber(3).is_some() && attached.subscriber(4).is_none());
    assert_eq!(attached.freelist(1).unwrap().capacity(), 3);
    assert!(attached.freelist(2).is_none());
    // SAFETY: same buffer.
    let other = unsafe { GroupControl::attach(m.ptr, m.layout.size(), 1) };
    assert_eq!(
        other.unwrap_err(),
        GroupControlError::WrongGroup {
            expected: 1,
            found: 0
        }
    );
}

#[test]
fn a_group_holds_its_own_pools_only() {
    let grouped = [(2, 128, 2), (2, 64, 3)].map(|(group, size, count)| MempoolConfig {
        chunk_size: size,
        chunk_count: count,
        group,
    });
    let config = GroupConfig::new(2, 2, 2, &grouped).unwrap();
    let m = Buffer::new(GroupControlLayout::compute(&config).unwrap().total_size() as usize);
    // SAFETY: zeroed buffer, alive for the test.
    unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1) }.unwrap();
    // SAFETY: same buffer.
    let attached = unsafe { GroupControl::attach(m.ptr, m.layout.size(), 2) }.unwrap();
    let seen: Vec<(u32, u32)> = attached
        .config()
        .mempools()
        .iter()
        .map(|p| (p.group, p.chunk_size))
        .collect();
    assert_eq!(seen, [(2, 64), (2, 128)]);
    assert_eq!(attached.freelist(0).unwrap().capacity(), 3);
    // Chunk indices are the group's own: 5 chunks, numbered from 0.
    assert_eq!(attached.refcounts().len(), 5);
    assert!(GroupConfig::new(1, 2, 2, &grouped).is_err());
}

#[test]
fn attach_rejects_hostile_headers() {
    let (m, _d, config) = segments();
    let len = m.layout.size();
    // SAFETY: zeroed buffer, alive for the test.
    let zeroed = unsafe { GroupControl::attach(m.ptr, len, 0) };
    assert!(matches!(zeroed, Err(GroupControlError::BadMagic(0))));
    // SAFETY: as above.
    unsafe { GroupControl::create(m.ptr, len, &config, 1) }.unwrap();
    // SAFETY: a mapping shorter than the recorded size.
    let short = unsafe { GroupControl::attach(m.ptr, 1024, 0) };
    assert!(matches!(short, Err(GroupControlError::TooSmall { .. })));
    // Corrupt the layout version (bytes 8..12) and then the mempool count (bytes 28..32).
    m.poke(8, 9);
    // SAFETY: as above.
    let bad_version = unsafe { GroupControl::attach(m.ptr, len, 0) };
    assert!(matches!(
        bad_version,
        Err(GroupControlError::VersionMismatch { found: 9 })
    ));
    m.poke(8, GROUP_CONTROL_LAYOUT_VERSION as u8);
    m.poke(28, 200);
    // SAFETY: as above.
    let bad_count = unsafe { GroupControl::attach(m.ptr, len, 0) };
    assert!(
        matches!(bad_count, Err(GroupControlError::Config(_))),
        "{bad_count:?}"
    );
}

#[test]
fn the_daemon_repairs_a_scribbled_group_header() {
    let (m, d, config) = segments();
    let len = m.layout.size();
    // SAFETY: zeroed buffer, alive for the test.
    let created = unsafe { GroupControl::create(m.ptr, len, &config, 4321) }.unwrap();
    assert!(created.repair_header(4321).is_clean());
    // Every word of the 448 bytes used, each with its own width (the u64
    // fields: magic, the two sizes, the reserved word), then the state
    // word alone.
    let wide = [0, 32, 40, 56];
    for offset in (0..448).step_by(4) {
        let value = (offset as u64).wrapping_mul(0x9E37_79B9) | 1;
        match offset {
            o if wide.contains(&o) => m.poke_word(o, 8, value),
            o if wide.contains(&(o - 4)) => {}
            o => m.poke_word(o, 4, value),
        }
    }
    // SAFETY: same buffer.
    assert!(unsafe { GroupControl::attach(m.ptr, len, 0) }.is_err());
    let repair = created.repair_header(4321);
    assert_eq!(repair.first(), Some("magic"));
    assert!(repair.words() > 100, "{repair:?}");
    assert!(created.repair_header(4321).is_clean(), "repaired at once");
    // SAFETY: same buffer.
    let attached = unsafe { GroupControl::attach(m.ptr, len, 0) }.unwrap();
    assert_eq!(
        (attached.config(), attached.payload_size()),
        (&config, 4321)
    );
    m.poke_word(12, 4, 2);
    let repair = created.repair_header(4321);
    assert_eq!((repair.words(), repair.first()), (1, Some("state")));
    // A freelist header's capacity word (the daemon's view keeps its own).
    // SAFETY: the data buffer is laid out for `config`.
    let pools = unsafe { MemPoolManager::new(created, d.ptr, d.layout.size()) }.unwrap();
    let offset = created.layout().freelist_offset(1).unwrap() as usize;
    m.poke_word(offset + 16, 4, 0xEE);
    // SAFETY: same buffer.
    let refused = unsafe { GroupControl::attach(m.ptr, len, 0) };
    assert!(matches!(
        refused,
        Err(GroupControlError::FreeList { pool: 1 })
    ));
    assert!(refused.unwrap_err().is_header_word());
    assert_eq!(pools.freelist(1).unwrap().restore_capacity(), Some(0xEE));
    // SAFETY: same buffer.
    assert!(unsafe { GroupControl::attach(m.ptr, len, 0) }.is_ok());
}

#[test]
fn the_daemon_repairs_a_scribbled_mgmt_header() {
    let config = MgmtConfig::new(4, 3).unwrap();
    let m = Buffer::new(MgmtLayout::compute(&config).unwrap().total_size() as usize);
    let len = m.layout.size();
    // SAFETY: zeroed buffer, alive for the test.
    let created = unsafe { Mgmt::create(m.ptr, len, &config, 77, 5) }.unwrap();
    assert!(created.repair_header(77, 5).is_clean());
    m.poke_word(12, 4, u64::from(STATE_SHUTTING_DOWN));
    m.poke_word(40, 4, 9);
    // SAFETY: same buffer.
    let refused = unsafe { Mgmt::attach(m.ptr, len) };
    assert!(matches!(refused, Err(MgmtError::NotReady { state: 2 })));
    let repair = created.repair_header(77, 5);
    assert_eq!((repair.words(), repair.first()), (2, Some("mgmt_size")));
    // SAFETY: same buffer.
    let attached = unsafe { Mgmt::attach(m.ptr, len) }.unwrap();
    assert_eq!((attached.state(), attached.epoch()), (STATE_READY, 5));
}

#[test]
fn loan_release_and_stats() {
    let (m, d, config) = segments();
    // SAFETY: zeroed buffers, alive for the test.
    let mgmt = unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1) }.unwrap();
    // SAFETY: the data buffer is laid out for `config`.
    let pools = unsafe { MemPoolManager::new(mgmt, d.ptr, d.layout.size()) }.unwrap();
    assert_eq!(pools.layout().pool_for(0, 100, 8), Ok(0));
    let chunks: Vec<u32> = (0..4).map(|_| pools.loan(0, SPEC).unwrap()).collect();
    assert!(matches!(
        pools.loan(0, SPEC),
        Err(LoanChunkError::OutOfChunks {
            pool: 0,
            chunk_size: 128,
            chunk_count: 4
        })
    ));
    let stats = pools.pool_stats(0).unwrap();
    assert_eq!((stats.used, stats.min_free), (4, 0));
    let first = chunks[0];
    assert_eq!(pools.refcounts().get(first).unwrap().read(), 1);
    pools.acquire(first, 2).unwrap();
    assert_eq!(pools.release(first), Ok(false));
    assert_eq!(pools.release(first), Ok(false));
    assert_eq!(pools.release(first), Ok(true));
    assert_eq!(
        pools.release(first),
        Err(ReleaseChunkError::NotHeld { chunk: first })
    );
    for &c in &chunks[1..] {
        assert_eq!(pools.release(c), Ok(true));
    }
    let stats = pools.pool_stats(0).unwrap();
    assert_eq!((stats.used, stats.min_free), (0, 0));
    assert_eq!(
        pools.release(10_000),
        Err(ReleaseChunkError::OutOfRange { chunk: 10_000 })
    );
}

#[test]
fn refcounts_live_in_the_control_part_after_the_links() {
    let (m, _d, config) = segments();
    let layout = GroupControlLayout::compute(&config).unwrap();
    let chunks = config.total_chunks();
    assert_eq!(layout.refcount_count(), chunks);
    assert_eq!(layout.refcounts_offset() % 64, 0);
    assert!(layout.refcounts_offset() >= layout.links_offset() + u64::from(chunks) * 4);
    assert!(layout.total_size() >= layout.refcounts_offset() + u64::from(chunks) * 4);
    // SAFETY: zeroed buffer, alive for the test.
    let mgmt = unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1) }.unwrap();
    let refcounts = mgmt.refcounts();
    assert_eq!(refcounts.len(), chunks);
    let last = refcounts.get(chunks - 1).unwrap();
    let at = std::ptr::from_ref(last) as usize - m.ptr.as_ptr() as usize;
    assert_eq!(
        at as u64,
        layout.refcounts_offset() + u64::from(chunks - 1) * 4
    );
    assert!(refcounts.get(chunks).is_err());
    assert!((0..chunks).all(|c| refcounts.get(c).unwrap().read() == 0));
}

#[test]
fn prefetch_hints_write_nothing_whatever_they_are_given() {
    let (m, d, config) = segments();
    // SAFETY: zeroed buffers, alive for the test.
    let mgmt = unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1) }.unwrap();
    // SAFETY: the data buffer is laid out for `config`.
    let pools = unsafe { MemPoolManager::new(mgmt, d.ptr, d.layout.size()) }.unwrap();
    let chunk = pools.loan(0, SPEC).unwrap();
    let (pool, header) = pools.chunk_in_pool(chunk).unwrap();
    let (mgmt_before, data_before) = (m.snapshot(), d.snapshot());
    pools.prefetch_received(header, chunk, 64);
    pools.prefetch_received(header, u32::MAX, u32::MAX);
    for (pool, global) in [
        (pool, chunk),
        (pool + 1, chunk),
        (99, chunk),
        (pool, u32::MAX),
    ] {
        pools.prefetch_last_release(pool, global);
    }
    for pool in [0, 1, 99, usize::MAX] {
        pools.prefetch_loan(pool);
    }
    assert_eq!(
        m.snapshot(),
        mgmt_before,
        "the hints left the control part alone"
    );
    assert_eq!(
        d.snapshot(),
        data_before,
        "the hints left the data segment alone"
    );
    assert_eq!(pools.release(chunk), Ok(true));
}

#[test]
fn only_the_loan_writes_the_data_segment() {
    let (m, d, config) = segments();
    // SAFETY: zeroed buffers, alive for the test.
    let mgmt = unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1) }.unwrap();
    // SAFETY: the data buffer is laid out for `config`.
    let pools = unsafe { MemPoolManager::new(mgmt, d.ptr, d.layout.size()) }.unwrap();
    let chunk = pools.loan(0, SPEC).unwrap();
    let after_loan = d.snapshot();
    // What subscribers and the daemon do: add holders, release them all.
    pools.acquire(chunk, 2).unwrap();
    assert_eq!(pools.refcounts().get(chunk).unwrap().read(), 3);
    let mgmt_before = m.snapshot();
    assert_eq!(pools.release(chunk), Ok(false));
    assert_eq!(pools.release(chunk), Ok(false));
    assert_eq!(pools.release(chunk), Ok(true));
    assert_eq!(
        pools.release(chunk),
        Err(ReleaseChunkError::NotHeld { chunk })
    );
    assert_ne!(
        m.snapshot(),
        mgmt_before,
        "the releases wrote the control part"
    );
    assert_eq!(
        d.snapshot(),
        after_loan,
        "the releases left the data segment alone"
    );
}

#[test]
fn payloads_are_distinct_and_inside_the_data_segment() {
    let (m, d, config) = segments();
    // SAFETY: zeroed buffers, alive for the test.
    let mgmt = unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1) }.unwrap();
    // SAFETY: the data buffer is laid out for `config`.
    let pools = unsafe { MemPoolManager::new(mgmt, d.ptr, d.layout.size()) }.unwrap();
    let a = pools.loan(1, SPEC).unwrap();
    let b = pools.loan(1, SPEC).unwrap();
    let (pa, pb) = (pools.payload(a).unwrap(), pools.payload(b).unwrap());
    assert!(pb.as_ptr() as usize - pa.as_ptr() as usize >= 1024);
    let end = d.ptr.as_ptr() as usize + d.layout.size();
    assert!((pb.as_ptr() as usize) + 1024 <= end);
    assert!(pools.payload(7).is_none());
}

#[test]
fn a_loan_and_a_lookup_find_the_same_header_and_pool() {
    let (m, d, config) = segments();
    // SAFETY: zeroed buffers, alive for the test.
    let mgmt = unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1) }.unwrap();
    // SAFETY: the data buffer is laid out for `config`.
    let pools = unsafe { MemPoolManager::new(mgmt, d.ptr, d.layout.size()) }.unwrap();
    for pool in [0u32, 1] {
        let (global, header) = pools.loan_with_header(pool, SPEC).unwrap();
        assert_eq!(header.chunk_index(), global);
        let (found_pool, found) = pools.chunk_in_pool(global).unwrap();
        assert_eq!(found_pool, pool as usize);
        assert!(core::ptr::eq(found, header));
        assert!(core::ptr::eq(pools.chunk(global).unwrap(), header));
    }
    let past_the_end = pools.layout().pools().iter().map(|p| p.chunk_count()).sum();
    assert!(pools.chunk_in_pool(past_the_end).is_none());
}

#[test]
fn data_segment_too_small_is_refused() {
    let (m, d, config) = segments();
    // SAFETY: zeroed buffer, alive for the test.
    let mgmt = unsafe { GroupControl::create(m.ptr, m.layout.size(), &config, 1) }.unwrap();
    // SAFETY: a shorter length than mapped is always safe to claim.
    let res = unsafe { MemPoolManager::new(mgmt, d.ptr, 64) };
    assert!(res.is_err());
}
