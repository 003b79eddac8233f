//! [`ChunkAccounting`]: every chunk of a group either free or held as often
//! as counted, checked in a consistent snapshot of the group's control part.
//!
//! A chunk's reference count (the refcount region) must equal the number of
//! references listed for it in the group's ports: a live publisher's loans
//! and history, every subscriber slot's held list and queue entries (a free
//! subscriber slot's too: the daemon releases what a late publisher pushed
//! there when it hands the slot out again; a slot never handed out since
//! the memory was made is not read, since no publisher was ever routed to
//! it and a read would commit its pages). A free chunk (on its pool's
//! freelist chain) must have count 0 and no reference. The audit finds
//!
//! - **lost** chunks: not free, and counted more often than listed (or
//!   counted 0 and listed nowhere): nobody will ever release them to zero,
//!   or nobody holds them at all (a freelist cut short by a corrupt link
//!   leaves the rest of its chain here). A chunk a publisher still lists
//!   (loaned, or in its history) may be counted more often than listed,
//!   though: a delivery counts every receiving subscriber first and pushes
//!   to their queues after (a history entry for a new subscriber too), and a
//!   publisher blocked on a full queue (`BlockPublisher`) stays in between
//!   for as long as that subscriber does not take; such a chunk is not lost;
//! - **over-referenced** chunks: listed more often than counted, or free
//!   while counted or listed: a release will free a chunk someone still
//!   holds, which then reaches two owners.
//!
//! Every loan, publish, take and release changes these words, so one read
//! is meaningless while the group works. A snapshot reads everything twice
//! (freelist heads with their tags and chains, counts, lists, queue
//! positions and entries), folding what it read into a fingerprint, and is
//! used only when both fingerprints agree and every freelist and queue held
//! still during its read (up to three tries, else the audit skips the
//! group this time). Even a consistent snapshot can catch a live process
//! between two steps of an operation (a chunk popped and not yet listed),
//! so a chunk is reported only when two audits in a row find it lost (or
//! over-referenced). Everything read is hostile: indices are checked before
//! use and every buffer is sized by the daemon's own configuration.

use zerocp_core::mempool_manager::MemPoolManager;

use crate::audit_findings::Finding;

/// Snapshots taken before the audit gives up on a busy group.
const ATTEMPTS: usize = 3;

/// What a chunk looked like in a consistent snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Sound,
    Lost,
    OverReferenced,
}

/// The chunk accounting of one group: the chunks found lost or
/// over-referenced in its last consistent snapshot (module docs).
#[derive(Debug, Clone)]
pub struct ChunkAccounting {
    before: Vec<Verdict>,
}

/// One read of the words the accounting needs.
struct Snapshot {
    refcounts: Vec<u32>,
    listed: Vec<u32>,
    /// Listed by a publisher, in its loans or history (a delivery of it may
    /// be in flight).
    publishing: Vec<bool>,
    free: Vec<bool>,
    fingerprint: u64,
    /// Every freelist and queue held still while it was read.
    settled: bool,
}

impl Snapshot {
    fn new(chunks: usize) -> Self {
        Self {
            refcounts: vec![0; chunks],
            listed: vec![0; chunks],
            publishing: vec![false; chunks],
            free: vec![false; chunks],
            fingerprint: 0xCBF2_9CE4_8422_2325,
            settled: true,
        }
    }

    fn mix(&mut self, value: u64) {
        self.fingerprint =
            (self.fingerprint.rotate_left(5) ^ value).wrapping_mul(0x517C_C1B7_2722_0A95);
    }

    /// Counts one listed reference to `chunk` (an index naming no chunk is
    /// left to the reclaim, which skips it).
    fn list(&mut self, chunk: u32) {
        self.mix(u64::from(chunk));
        if let Some(count) = self.listed.get_mut(chunk as usize) {
            *count = count.saturating_add(1);
        }
    }

    /// Counts one reference to `chunk` listed by a publisher (loans, history).
    fn list_publishing(&mut self, chunk: u32) {
        self.list(chunk);
        if let Some(publishing) = self.publishing.get_mut(chunk as usize) {
            *publishing = true;
        }
    }

    fn verdict(&self, chunk: usize) -> Verdict {
        let (count, listed) = (self.refcounts[chunk], self.listed[chunk]);
        if self.free[chunk] {
            if count != 0 || listed != 0 {
                return Verdict::OverReferenced;
            }
            return Verdict::Sound;
        }
        if listed > count {
            Verdict::OverReferenced
        } else if count == 0 || (listed < count && !self.publishing[chunk]) {
            Verdict::Lost
        } else {
            Verdict::Sound
        }
    }
}

impl ChunkAccounting {
    /// The accounting of a group of `chunks` chunks, nothing suspected yet.
    pub fn new(chunks: u32) -> Self {
        Self {
            before: vec![Verdict::Sound; chunks as usize],
        }
    }

    /// How many chunks it accounts for.
    pub fn chunks(&self) -> u32 {
        self.before.len() as u32
    }

    /// Takes a consistent snapshot of the group `part` manages, whose
    /// publishers in use are `publishers` and whose subscriber slots handed
    /// out are `subscribers` (slot indices), and reports the
    /// chunks of each pool found lost or over-referenced in this snapshot
    /// and the previous one; nothing when the group was too busy.
    pub fn audit(
        &mut self,
        part: &MemPoolManager<'_>,
        group: u32,
        publishers: &[u32],
        subscribers: &[u32],
    ) -> Vec<Finding> {
        let Some(snapshot) = consistent_snapshot(part, publishers, subscribers) else {
            return Vec::new();
        };
        let mut pools: Vec<[Option<(u32, u32)>; 2]> =
            vec![[None, None]; part.layout().pools().len()];
        for (chunk, before) in self.before.iter_mut().enumerate() {
            let now = snapshot.verdict(chunk);
            let confirmed = now != Verdict::Sound && now == *before;
            *before = now;
            let Some((pool, _)) = part.layout().locate(chunk as u32) else {
                continue;
            };
            if let (true, Some(slots)) = (confirmed, pools.get_mut(pool)) {
                let slot = &mut slots[usize::from(now == Verdict::OverReferenced)];
                let (count, first) = slot.get_or_insert((0, chunk as u32));
                *count += 1;
                *first = (*first).min(chunk as u32);
            }
        }
        findings(group, &pools)
    }
}

/// One finding per pool and verdict from the confirmed chunks.
fn findings(group: u32, pools: &[[Option<(u32, u32)>; 2]]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (pool, [lost, over]) in (0u32..).zip(pools) {
        if let Some((chunks, first)) = *lost {
            out.push(Finding::LostChunks {
                group,
                pool,
                chunks,
                first,
            });
        }
        if let Some((chunks, first)) = *over {
            out.push(Finding::OverReferenced {
                group,
                pool,
                chunks,
                first,
            });
        }
    }
    out
}

/// Two reads that agree, both settled (module docs), or `None`.
fn consistent_snapshot(
    part: &MemPoolManager<'_>,
    publishers: &[u32],
    subscribers: &[u32],
) -> Option<Snapshot> {
    let mut before = read(part, publishers, subscribers);
    for _ in 0..ATTEMPTS {
        let now = read(part, publishers, subscribers);
        if before.settled && now.settled && before.fingerprint == now.fingerprint {
            return Some(now);
        }
        before = now;
    }
    None
}

/// Reads the freelists, counts, lists and queues of the group once: the
/// lists of `publishers` (in use) and the lists and queues of
/// `subscribers` (every slot handed out, free ones included).
fn read(part: &MemPoolManager<'_>, publishers: &[u32], subscribers: &[u32]) -> Snapshot {
    let counts = part.refcounts();
    let mut snap = Snapshot::new(counts.len() as usize);
    for (pool, layout) in (0u32..).zip(part.layout().pools()) {
        let Some(list) = part.freelist(pool) else {
            continue;
        };
        let first = layout.first_chunk();
        let free = &mut snap.free;
        let walk = list.walk(|local| {
            if let Some(slot) = free.get_mut(first.saturating_add(local) as usize) {
                *slot = true;
            }
        });
        snap.mix(walk.head);
        snap.mix(u64::from(walk.length));
        snap.settled &= walk.stable;
    }
    for chunk in 0..counts.len() {
        let count = counts.get(chunk).map_or(0, |c| c.read());
        snap.refcounts[chunk as usize] = count;
        snap.mix(u64::from(count));
    }
    let control = part.control();
    for port in publishers.iter().filter_map(|&i| control.publisher(i)) {
        port.loans.listed(|chunk| snap.list_publishing(chunk));
        port.history.listed(|chunk| snap.list_publishing(chunk));
    }
    for port in subscribers.iter().filter_map(|&i| control.subscriber(i)) {
        port.held.listed(|chunk| snap.list(chunk));
        let walk = port.queue.walk(|chunk| snap.list(chunk));
        snap.mix(u64::from(walk.dequeue) << 32 | u64::from(walk.enqueue));
        snap.settled &= walk.stable;
    }
    snap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(rows: &[(u32, u32, bool)]) -> Snapshot {
        let mut snap = Snapshot::new(rows.len());
        for (i, &(count, listed, free)) in rows.iter().enumerate() {
            snap.refcounts[i] = count;
            snap.listed[i] = listed;
            snap.free[i] = free;
        }
        snap
    }

    #[test]
    fn verdicts_follow_counts_lists_and_the_freelist() {
        let snap = snapshot(&[
            (0, 0, true),  // free
            (2, 2, false), // held twice, counted twice
            (0, 0, false), // neither free nor held: lost
            (3, 1, false), // counted more than held: lost
            (1, 2, false), // held more than counted: over
            (1, 0, true),  // free but counted: over
            (0, 1, true),  // free but held: over
        ]);
        let verdicts: Vec<Verdict> = (0..7).map(|c| snap.verdict(c)).collect();
        use Verdict::*;
        assert_eq!(
            verdicts,
            [
                Sound,
                Sound,
                Lost,
                Lost,
                OverReferenced,
                OverReferenced,
                OverReferenced
            ]
        );
    }

    #[test]
    fn a_chunk_a_publisher_lists_may_be_counted_ahead_of_its_queues() {
        // Loaned, counted for three subscribers, pushed to one so far.
        let mut snap = snapshot(&[(4, 1, false), (4, 1, false)]);
        snap.list_publishing(0);
        assert_eq!(snap.verdict(0), Verdict::Sound);
        assert_eq!(
            snap.verdict(1),
            Verdict::Lost,
            "no publisher lists it: lost"
        );
        snap.refcounts[0] = 1;
        snap.list(0);
        assert_eq!(snap.verdict(0), Verdict::OverReferenced);
    }

    #[test]
    fn the_fingerprint_sees_every_listed_value_and_its_order() {
        let mut a = Snapshot::new(4);
        let mut b = Snapshot::new(4);
        for (snap, chunks) in [(&mut a, [1, 2]), (&mut b, [2, 1])] {
            for chunk in chunks {
                snap.list(chunk);
            }
        }
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_eq!((a.listed[1], a.listed[2]), (1, 1));
        a.list(u32::MAX);
        assert_eq!(a.listed.iter().sum::<u32>(), 2, "an index of no chunk");
    }

    #[test]
    fn findings_are_per_pool_and_verdict() {
        let pools = [[Some((2, 5)), None], [None, Some((1, 9))]];
        assert_eq!(
            findings(3, &pools),
            [
                Finding::LostChunks {
                    group: 3,
                    pool: 0,
                    chunks: 2,
                    first: 5
                },
                Finding::OverReferenced {
                    group: 3,
                    pool: 1,
                    chunks: 1,
                    first: 9
                }
            ]
        );
    }
}
