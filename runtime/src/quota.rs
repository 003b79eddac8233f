//! The chunk quotas a process enforces on itself: how many chunks of each
//! pool it, and each of its ports, may hold at once.
//!
//! The daemon writes every pool's quotas into the mgmt segment, which no
//! process can write ([`zerocp_core::mgmt::quota`]); a group's mappings
//! ([`crate::segment_mappings::GroupMappings`]) read them once, when the
//! group is mapped, and keep one [`PoolCount`] per pool of the group: the
//! quota and a process-wide count of the chunks of that pool this process
//! holds through its runtime (loans, its publishers' history, taken
//! samples). A loan first makes room in the count
//! ([`PoolCount::try_hold`], exact however many threads loan) and fails
//! with [`QuotaExceeded`] when there is none, before it touches the pool,
//! so a process that loans everything it can stops at its quota while the
//! rest of the pool stays free for the others. A take checks the count
//! ([`PoolCount::check`]) and counts the chunk once it popped one, so that
//! polling an empty queue writes nothing; threads of one process taking at
//! once can thus each go one chunk past the quota. Port quotas are counted by each port itself (its loan and held
//! slots, a publisher's history); what a subscriber's queue holds is bounded
//! by its publishers when they deliver (`crate::publisher`). A quota of the
//! whole pool (100 %) is no quota: nothing is checked, and a pool that runs
//! empty says `OutOfChunks` as it did before quotas existed.
//!
//! The count is one relaxed atomic per pool in this process's memory: no
//! system call, no lock, one compare-and-swap per loan, one addition per
//! take and one subtraction per release. It orders nothing (the freelist and the
//! refcounts do): it only bounds how many chunks this process has at once.
//! A process that bypasses its runtime and writes the group's control part
//! directly is not bounded by this; the daemon's audit of the shared memory
//! is what notices such writes.

use zerocp_core::cache_padded::CachePadded;
use zerocp_core::group_control::GroupConfig;
use zerocp_core::mgmt::{PoolQuota, QuotaTable};
use zerocp_core::sync::{AtomicU32, Ordering};

use crate::error::{MapSegmentsError, QuotaExceeded, QuotaScope};

/// One pool's quotas and the chunks of it this process holds.
#[derive(Debug)]
pub(crate) struct PoolCount {
    quota: PoolQuota,
    chunk_size: u32,
    /// The process quota, unless it is the whole pool (computed once: the
    /// data path only compares).
    process_limit: Option<u32>,
    /// The port quota, likewise.
    port_limit: Option<u32>,
    held: CachePadded<AtomicU32>,
}

impl PoolCount {
    fn new(quota: PoolQuota, chunk_size: u32) -> Self {
        let limit = |share: u32| (share < quota.chunk_count()).then_some(share);
        Self {
            quota,
            chunk_size,
            process_limit: limit(quota.process()),
            port_limit: limit(quota.port()),
            held: CachePadded::new(AtomicU32::new(0)),
        }
    }

    /// Chunks of the pool one port may hold at once, unless that is the
    /// whole pool (then there is nothing to check).
    pub(crate) fn port_limit(&self) -> Option<u32> {
        self.port_limit
    }

    /// Counts one more chunk held by this process, unless that would exceed
    /// the process quota.
    pub(crate) fn try_hold(&self) -> Result<(), QuotaExceeded> {
        let Some(quota) = self.process_limit else {
            self.hold();
            return Ok(());
        };
        // Relaxed: a bound on a count, ordering no other access (module docs).
        let mut held = self.held.load(Ordering::Relaxed);
        loop {
            if held >= quota {
                return Err(self.exceeded(QuotaScope::Process, held));
            }
            match self.held.compare_exchange_weak(
                held,
                held + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => held = now,
            }
        }
    }

    /// Whether the process may hold one more chunk (a relaxed load, no
    /// write): for a take, which counts the chunk with [`hold`](Self::hold)
    /// only once it got one.
    pub(crate) fn check(&self) -> Result<(), QuotaExceeded> {
        let Some(quota) = self.process_limit else {
            return Ok(());
        };
        // Relaxed: see `try_hold`.
        let held = self.held.load(Ordering::Relaxed);
        if held >= quota {
            return Err(self.exceeded(QuotaScope::Process, held));
        }
        Ok(())
    }

    /// Counts one more chunk held, without a check: a chunk taken after
    /// [`check`](Self::check), or one that changes hands inside this
    /// process (a published loan kept in the history).
    pub(crate) fn hold(&self) {
        // Relaxed: see `try_hold`.
        self.held.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `n` chunks given back (every release pairs with a hold).
    pub(crate) fn release(&self, n: u32) {
        // Relaxed: see `try_hold`.
        let before = self.held.fetch_sub(n, Ordering::Relaxed);
        debug_assert!(before >= n, "released {n} of {before} chunks held");
    }

    /// Chunks of the pool this process holds now (a snapshot).
    #[cfg(test)]
    fn held(&self) -> u32 {
        self.held.load(Ordering::Relaxed)
    }

    /// The error for `scope`'s quota, reached with `held` chunks.
    pub(crate) fn exceeded(&self, scope: QuotaScope, held: u32) -> QuotaExceeded {
        let (quota, percent) = match scope {
            QuotaScope::Process => (self.quota.process(), self.quota.process_percent()),
            QuotaScope::Port => (self.quota.port(), self.quota.port_percent()),
        };
        QuotaExceeded {
            scope,
            group: self.quota.group(),
            pool: self.quota.pool(),
            chunk_size: self.chunk_size,
            chunk_count: self.quota.chunk_count(),
            held,
            quota,
            percent,
            group_override: self.quota.is_group_override(),
        }
    }
}

/// One [`PoolCount`] per pool of the group `config` lays out, with the
/// quotas `quotas` (read from the mgmt segment) records for them: each pool
/// must have its entry, for its chunk count.
pub(crate) fn pool_counts(
    config: &GroupConfig,
    quotas: &QuotaTable,
) -> Result<Box<[PoolCount]>, MapSegmentsError> {
    (0u32..)
        .zip(config.mempools())
        .map(|(pool, spec)| {
            let quota = quotas.get(config.group(), pool).ok_or_else(|| {
                quota_error(
                    config.group(),
                    pool,
                    "the mgmt segment records no quota for it",
                )
            })?;
            if quota.chunk_count() != spec.chunk_count {
                return Err(quota_error(
                    config.group(),
                    pool,
                    "its quota is recorded for another chunk count",
                ));
            }
            Ok(PoolCount::new(*quota, spec.chunk_size))
        })
        .collect()
}

fn quota_error(group: u32, pool: u32, reason: &str) -> MapSegmentsError {
    MapSegmentsError::Data {
        detail: format!("mempool {pool} of group {group}: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::mempool::MempoolConfig;

    fn count(chunks: u32, process: u32, port: u32) -> PoolCount {
        PoolCount::new(PoolQuota::new(0, 0, chunks, process, port).unwrap(), 64)
    }

    #[test]
    fn holds_up_to_the_process_quota_then_refuses_naming_it() {
        let pool = count(8, 50, 25);
        for _ in 0..4 {
            pool.try_hold().unwrap();
        }
        let e = pool.try_hold().unwrap_err();
        assert_eq!(
            (e.scope, e.held, e.quota, e.percent),
            (QuotaScope::Process, 4, 4, 50)
        );
        assert_eq!(e.key(), "quota.process_percent");
        pool.release(1);
        pool.try_hold().unwrap();
        assert_eq!(pool.held(), 4);
        assert_eq!(pool.port_limit(), Some(2));
        let port = pool.exceeded(QuotaScope::Port, 2);
        assert_eq!(
            (port.quota, port.percent, port.key().as_str()),
            (2, 25, "quota.port_percent")
        );
    }

    #[test]
    fn the_whole_pool_is_no_quota() {
        let pool = count(3, 100, 100);
        assert_eq!(pool.port_limit(), None);
        for _ in 0..5 {
            pool.try_hold().unwrap();
        }
        assert_eq!(pool.held(), 5);
        assert_eq!(count(3, 99, 99).port_limit(), Some(2));
    }

    #[test]
    fn checks_and_transfers_are_unchecked_holds() {
        let pool = count(4, 50, 50);
        pool.check().unwrap();
        pool.hold();
        pool.try_hold().unwrap();
        assert_eq!(pool.held(), 2);
        assert!(pool.check().is_err() && pool.try_hold().is_err());
        pool.hold();
        assert_eq!(pool.held(), 3, "a transfer is never refused");
        pool.release(3);
        assert_eq!(pool.held(), 0);
    }

    #[test]
    fn threads_never_hold_more_than_the_quota_together() {
        let pool = std::sync::Arc::new(count(64, 25, 25));
        let held: u32 = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..100).filter(|_| pool.try_hold().is_ok()).count() as u32))
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        assert_eq!(held, 16);
        assert_eq!(pool.held(), 16);
    }

    #[test]
    fn every_pool_of_the_group_needs_its_quota_for_its_count() {
        let pools = [
            MempoolConfig {
                chunk_size: 64,
                chunk_count: 8,
                group: 1,
            },
            MempoolConfig {
                chunk_size: 1024,
                chunk_count: 2,
                group: 1,
            },
        ];
        let config = GroupConfig::new(1, 1, 1, &pools).unwrap();
        let both = [
            PoolQuota::new(1, 0, 8, 50, 50).unwrap(),
            PoolQuota::new(1, 1, 2, 100, 50).unwrap(),
        ];
        let counts = pool_counts(&config, &QuotaTable::new(&both, 2).unwrap()).unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!((counts[1].chunk_size, counts[1].quota.process()), (1024, 2));
        let one = QuotaTable::new(&both[..1], 2).unwrap();
        let e = pool_counts(&config, &one).unwrap_err().to_string();
        assert!(
            e.contains("mempool 1 of group 1") && e.contains("no quota"),
            "{e}"
        );
        let wrong = [both[0], PoolQuota::new(1, 1, 3, 50, 50).unwrap()];
        let e = pool_counts(&config, &QuotaTable::new(&wrong, 2).unwrap()).unwrap_err();
        assert!(e.to_string().contains("another chunk count"), "{e}");
    }
}
