//! The audit of one segment group's control part: what the daemon owns
//! there, compared with its own bookkeeping.
//!
//! In this order, each step bounded by the daemon's configuration, never by
//! a value read from the part:
//!
//! 1. **the group header**: every word compared with the values the daemon
//!    laid the part out with, and restored
//!    ([`zerocp_core::group_control::GroupControl::repair_header`]);
//! 2. **each freelist header's capacity** restored, then **each freelist's
//!    chain** walked from the head ([`zerocp_core::freelist::FreeList::walk`]:
//!    head and links in range, no cycle, a count no shorter than the chain,
//!    judged only where no race explains it);
//! 3. **every port's control block**: its state, and in use its generation
//!    and settings, as the port registry last wrote them ([`crate::port_registry::PortRegistry::written`]),
//!    restored, with a publisher's history depth and a subscriber's queue
//!    capacity; then **each active subscriber's queue** walked
//!    ([`zerocp_core::chunk_queue::ChunkQueue::walk`]): positions within the
//!    capacity, every entry a chunk of the group;
//! 4. **the chunks' reference counts** against the references listed and
//!    the freelists, in a consistent snapshot ([`crate::chunk_accounting`]).
//!
//! Steps 1 and 2's repairs also run right before the daemon hands the
//! group out with a port ([`repair_headers`]), so a scribbled header cannot
//! keep a newcomer out. The findings go to [`crate::audit`], which decides
//! what counts and whom it affects.

use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::port::SubscriberPort;
use zerocp_core::wire::PortKind;

use crate::audit_findings::{Finding, QueueProblem};
use crate::chunk_accounting::ChunkAccounting;
use crate::port_registry::{PortRegistry, WrittenPort};

/// Restores the group header and every freelist header's capacity of the
/// group `part` manages (`group`); one finding per header that was off.
pub fn repair_headers(part: &MemPoolManager<'_>, group: u32) -> Vec<Finding> {
    let mut findings = Vec::new();
    let repair = part.control().repair_header(part.layout().total_bytes());
    if !repair.is_clean() {
        findings.push(Finding::GroupHeader { group, repair });
    }
    for pool in 0..part.layout().pools().len() as u32 {
        let Some(list) = part.freelist(pool) else {
            continue;
        };
        if let Some(found) = list.restore_capacity() {
            findings.push(Finding::FreelistHeader {
                group,
                pool,
                found,
                capacity: list.capacity(),
            });
        }
    }
    findings
}

/// Audits the group `part` manages (`group`) against `registry` (module
/// docs), with `chunks`, the group's chunk accounting.
pub fn audit_group(
    part: &MemPoolManager<'_>,
    group: u32,
    registry: &PortRegistry,
    chunks: &mut ChunkAccounting,
) -> Vec<Finding> {
    let mut findings = repair_headers(part, group);
    findings.extend(freelist_chains(part, group));
    let publishers = registry.written(group, PortKind::Publisher);
    let subscribers = registry.written(group, PortKind::Subscriber);
    findings.extend(publishers.iter().filter_map(|w| publisher_control(part, w)));
    for written in &subscribers {
        findings.extend(subscriber(part, written));
    }
    for kind in [PortKind::Notifier, PortKind::Listener] {
        let written = registry.written(group, kind);
        findings.extend(written.iter().filter_map(|w| event_control(part, w)));
    }
    let in_use: Vec<u32> = publishers
        .iter()
        .filter(|w| w.settings.is_some())
        .map(|w| w.id.index)
        .collect();
    let handed_out: Vec<u32> = subscribers.iter().map(|w| w.id.index).collect();
    findings.extend(chunks.audit(part, group, &in_use, &handed_out));
    findings
}

fn freelist_chains(part: &MemPoolManager<'_>, group: u32) -> Vec<Finding> {
    (0..part.layout().pools().len() as u32)
        .filter_map(|pool| {
            let walk = part.freelist(pool)?.walk(|_| {});
            walk.damage.map(|damage| Finding::FreelistChain {
                group,
                pool,
                head: walk.head,
                damage,
            })
        })
        .collect()
}

/// A publisher's control block and history depth against what was written.
fn publisher_control(part: &MemPoolManager<'_>, written: &WrittenPort) -> Option<Finding> {
    let port = part.control().publisher(written.id.index)?;
    let settings = written.settings.as_ref();
    let in_use = settings.map(|s| (written.id.generation, s));
    let mut repair = port.control.restore(written.state, in_use);
    if let Some(s) = settings {
        repair.merge(port.history.restore_depth(s.history));
    }
    (!repair.is_clean()).then_some(Finding::PortControl {
        port: written.id,
        repair,
    })
}

/// A notifier's or listener's control block against what was written
/// (their other words hold no index the daemon follows: a topology is
/// rewritten whenever it changes, a listener's bitmap and wake words take
/// any value).
fn event_control(part: &MemPoolManager<'_>, written: &WrittenPort) -> Option<Finding> {
    let control = part.control();
    let index = written.id.index;
    let port = match written.id.kind {
        PortKind::Notifier => &control.notifier(index)?.control,
        _ => &control.listener(index)?.control,
    };
    let in_use = written
        .settings
        .as_ref()
        .map(|s| (written.id.generation, s));
    let repair = port.restore(written.state, in_use);
    (!repair.is_clean()).then_some(Finding::PortControl {
        port: written.id,
        repair,
    })
}

/// A subscriber's control block and, in use, its queue.
fn subscriber(part: &MemPoolManager<'_>, written: &WrittenPort) -> Vec<Finding> {
    let Some(port) = part.control().subscriber(written.id.index) else {
        return Vec::new();
    };
    let settings = written.settings.as_ref();
    let repair = port
        .control
        .restore(written.state, settings.map(|s| (written.id.generation, s)));
    let mut findings = Vec::new();
    if !repair.is_clean() {
        findings.push(Finding::PortControl {
            port: written.id,
            repair,
        });
    }
    if let Some(s) = settings {
        let chunks = part.refcounts().len();
        findings.extend(
            queue_problems(port, s.capacity, chunks)
                .into_iter()
                .map(|problem| Finding::SubscriberQueue {
                    port: written.id,
                    problem,
                }),
        );
    }
    findings
}

/// Restores the queue's capacity word, then walks it (at most one problem
/// of each kind).
fn queue_problems(port: &SubscriberPort, capacity: u32, chunks: u32) -> Vec<QueueProblem> {
    let mut problems = Vec::new();
    if let Some(found) = port.queue.restore_capacity(capacity) {
        problems.push(QueueProblem::Capacity { found, capacity });
    }
    let mut stray = None;
    let walk = port.queue.walk(|chunk| {
        if chunk >= chunks {
            stray.get_or_insert(chunk);
        }
    });
    problems.extend(walk.damage.map(QueueProblem::Structure));
    problems.extend(stray.map(|chunk| QueueProblem::Entry { chunk, chunks }));
    problems
}
