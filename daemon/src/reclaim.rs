//! Reclaiming a port: returning every chunk reference it held and waking
//! whoever waits on it.
//!
//! When a port is removed or its process dies, the daemon releases one
//! reference for every chunk index listed in the port's shared-memory
//! records: a publisher's `loans` and `history`, a subscriber's `held` list
//! and the indices still in its queue. Each index was written by an
//! application, so it is hostile: [`MemPoolManager::release`] bounds-checks
//! it, and a bad index (or a refcount that is already zero) is logged and
//! skipped, never trusted. A port's indices are resolved in its own group
//! only (its group's [`MemPoolManager`]): an index that is valid in another
//! group names nothing here.
//!
//! Before that, the port's wake words are bumped and futex-woken, so a
//! publisher blocked on a full queue re-checks (and sees the subscriber gone
//! from its topology) and nobody sleeps on a port that no longer exists.

use zerocp_core::group_control::GroupControl;
use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::port::{PublisherPort, SubscriberPort, WakeWord};
use zerocp_core::sync::Ordering;
use zerocp_core::wire::PortKind;
use zerocp_os_linux::futex::futex_wake_all;

use crate::port_id::PortId;

/// What reclaiming one port returned.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reclaimed {
    /// References released.
    pub released: u32,
    /// Chunks that went back to their freelist (their last reference was released).
    pub freed: u32,
    /// Indices that were out of range or whose refcount was already zero.
    pub rejected: u32,
}

impl Reclaimed {
    /// Adds the counts of `other` (totals over several ports).
    pub fn add(&mut self, other: Reclaimed) {
        self.released += other.released;
        self.freed += other.freed;
        self.rejected += other.rejected;
    }

    fn release(&mut self, pools: &MemPoolManager<'_>, id: PortId, what: &str, chunk: u32) {
        match pools.release(chunk) {
            Ok(freed) => {
                self.released += 1;
                self.freed += u32::from(freed);
            }
            Err(e) => {
                self.rejected += 1;
                log::warn!("{id}: skipping {what} chunk {chunk}: {e}");
            }
        }
    }
}

/// Bumps both wake words of a subscriber and wakes every waiter on them.
pub fn wake_all(wake: &WakeWord) {
    // Release: a woken waiter that reads the new value (Acquire in its
    // re-check) also sees the state/topology changes made before this call.
    wake.data_seq.fetch_add(1, Ordering::Release);
    wake.space_seq.fetch_add(1, Ordering::Release);
    for word in [&wake.data_seq, &wake.space_seq] {
        if let Err(e) = futex_wake_all(word) {
            log::warn!("futex wake failed: {e}");
        }
    }
}

/// Reclaims port `id` (already retired and removed from every topology)
/// with `pools`, its group's chunk manager.
pub fn reclaim(pools: &MemPoolManager<'_>, id: PortId) -> Reclaimed {
    let control = pools.control();
    match id.kind {
        PortKind::Publisher => match control.publisher(id.index) {
            Some(port) => reclaim_publisher(pools, id, port),
            None => Reclaimed::default(),
        },
        PortKind::Subscriber => match control.subscriber(id.index) {
            Some(port) => {
                wake_all(&port.wake);
                drain_subscriber(pools, id, port)
            }
            None => Reclaimed::default(),
        },
        // Event ports hold no chunks; a listener asleep is woken.
        PortKind::Notifier => Reclaimed::default(),
        PortKind::Listener => {
            if let Some(port) = control.listener(id.index) {
                wake_all(&port.wake);
            }
            Reclaimed::default()
        }
    }
}

/// Wakes whoever sleeps on port `id` of `control` (a subscriber's or a
/// listener's futex words; a publisher or notifier has none).
pub fn wake_port(control: &GroupControl<'_>, id: PortId) {
    match id.kind {
        PortKind::Subscriber => {
            if let Some(port) = control.subscriber(id.index) {
                wake_all(&port.wake);
            }
        }
        PortKind::Listener => {
            if let Some(port) = control.listener(id.index) {
                wake_all(&port.wake);
            }
        }
        PortKind::Publisher | PortKind::Notifier => {}
    }
}

fn reclaim_publisher(pools: &MemPoolManager<'_>, id: PortId, port: &PublisherPort) -> Reclaimed {
    let mut done = Reclaimed::default();
    port.loans
        .drain(|chunk| done.release(pools, id, "loaned", chunk));
    port.history
        .drain(|chunk| done.release(pools, id, "history", chunk));
    done
}

/// Releases every chunk a subscriber port holds or has queued.
///
/// Also used before a subscriber slot is handed out again, to release what a
/// publisher that still saw the old topology pushed after the port retired.
pub fn drain_subscriber(
    pools: &MemPoolManager<'_>,
    id: PortId,
    port: &SubscriberPort,
) -> Reclaimed {
    let mut done = Reclaimed::default();
    port.held
        .drain(|chunk| done.release(pools, id, "held", chunk));
    // Bounded: a hostile process could keep pushing; the queue never holds
    // more than its capacity, so a few laps is plenty.
    let limit = 4 * zerocp_core::port::MAX_QUEUE_CAPACITY;
    for _ in 0..limit {
        let Some(chunk) = port.queue.pop() else { break };
        done.release(pools, id, "queued", chunk);
    }
    done
}
