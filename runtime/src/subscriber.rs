//! [`Subscriber<T>`] and its builder: the receiving end of a service, and
//! [`SubscriberCore`], its type-erased data path.
//!
//! A subscriber owns a bounded queue in shared memory into which every
//! publisher of its service pushes chunk indices. Taking a sample pops one
//! and maps it to the payload in place. `SubscriberCore` knows the payload's
//! size, not its type:
//!
//! - **take**: a free held-slot (process-local mask, the `max_held` limit),
//!   room in the chunk quotas (the port's: its taken samples within the
//!   pool's port quota; the process's, [`crate::quota`]), pop the queue,
//!   check the chunk (index in range, header consistent with its pool,
//!   payload size the port's), record it in the port's `held` list before
//!   the application sees it, and publish the held count in the port's
//!   statistics (publishers bound queued plus taken samples by the port
//!   quota with it); under the block-publisher policy, wake publishers
//!   waiting for space (a fence and a load when none waits);
//! - **take latest** ([`take_latest`]): the same, but it pops the newest
//!   queued chunk, releasing every older one unread;
//! - **release** (a sample dropped): unlist, then drop the reference (the
//!   chunk's refcount word and freelist are in the group's control part),
//!   give the quota count back; when publishers bound this port by its
//!   quota, a release makes room too, so under the block-publisher policy
//!   it wakes them;
//! - **wait**: spin briefly ([`crate::adaptive_spin`]), then sleep on the
//!   port's futex word until the queue is non-empty (see [`crate::wait`]).
//!
//! Once the daemon revoked the port ([`crate::port_status`]), `take` still
//! hands out what was queued and then fails with `Revoked` where it would
//! return `None`, and `wait` fails with it instead of sleeping (a sleeper is
//! woken): the one check each adds is a load of the port's status word, on
//! an empty queue only.
//!
//! None of these writes the data segment: the chunk header and payload are
//! only read (the payload through `&T`), so a process that only subscribes
//! can map that segment read-only.

#[cfg(feature = "tokio")]
mod async_receive;
mod builder;
mod chunk_check;
mod creation;
mod exchange;
mod senders;
mod take_latest;
mod untyped;
mod wake_fd;

use std::cell::OnceCell;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zerocp_core::chunk_header::{CHUNK_HEADER_SIZE, ChunkHeader};
use zerocp_core::mempool_manager::MemPoolManager;
use zerocp_core::port::SubscriberPort;
use zerocp_core::service::ServiceDescription;
use zerocp_core::sync::Ordering;
use zerocp_os_linux::wake_socket::WakeSocket;

pub use self::builder::SubscriberBuilder;
use self::chunk_check::check_header;
use self::creation::SubscriberOptions;
pub use self::untyped::{UntypedSubscriber, UntypedSubscriberBuilder};
use crate::ZeroCopySafe;
use crate::adaptive_spin::AdaptiveSpin;
use crate::error::{QuotaScope, TakeError, WaitError};
use crate::mapped::Mapped;
use crate::payload::{Payload, PayloadLayout};
use crate::port_cell::PortCell;
use crate::port_owner::PortOwner;
use crate::port_request;
use crate::port_status::PortStatus;
use crate::quota::PoolCount;
use crate::sample::Sample;
use crate::segment_mappings::Pools;
use crate::slots::SlotMask;
use crate::wait::{WaitEnd, wait_for_data, wake_blocked_publishers};

/// Default of [`SubscriberBuilder::queue_capacity`].
pub const DEFAULT_QUEUE_CAPACITY: u32 = 16;
/// Default of [`SubscriberBuilder::max_held`].
pub const DEFAULT_MAX_HELD: u32 = 8;

/// The receiving end of a service, for payloads of type `P` (a
/// [`ZeroCopySafe`] type, or a slice of one: [`Payload`]) with user
/// headers of type `H` (none by default, [`SubscriberBuilder::user_header`]).
///
/// `Send` (move it to another thread), not `Sync`: its samples borrow it.
/// Dropping it removes the port (the daemon releases what is still queued).
///
/// After a daemon restart the same subscriber goes on: its next `take` or
/// `wait` creates the port again on the restarted daemon with the same
/// options (docs/architecture.md, "Daemon restarts").
///
/// ```no_run
/// use std::time::Duration;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let subscriber = rt.subscriber::<u64>(&svc).queue_capacity(8).create()?;
/// loop {
///     while let Some(sample) = subscriber.take()? {
///         println!("got {} (#{})", *sample, sample.sequence());
///     }
///     subscriber.wait(Some(Duration::from_millis(100)))?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Subscriber<P: ?Sized, H = ()> {
    cell: PortCell<SubscriberCore>,
    service: ServiceDescription,
    /// The wake descriptor, once made ([`Subscriber::as_fd`]).
    wake_fd: OnceCell<Arc<WakeSocket>>,
    /// Samples [`Subscriber::take_latest`] released unread.
    skipped: std::cell::Cell<u64>,
    _types: PhantomData<fn() -> (*const P, H)>,
}

impl<P: ?Sized + Payload, H: ZeroCopySafe> Subscriber<P, H> {
    /// Takes the oldest queued sample, or `None` when the queue is empty.
    ///
    /// Fails with [`TakeError::TooManyHeld`] when `max_held` samples are
    /// held already (and one is queued), [`TakeError::QuotaExceeded`] when
    /// this subscriber or this process holds as many chunks of the pool as
    /// the daemon's `[quota]` allows (and one is queued), [`TakeError::DaemonGone`] once the
    /// daemon is gone, [`TakeError::Unresponsive`] once it dropped this
    /// process for missing heartbeats, [`TakeError::Revoked`] once it revoked
    /// this port and the queue is empty (what was queued is still taken);
    /// [`TakeError::Disconnected`] while the daemon restarts, and
    /// [`TakeError::NotRecreated`] when the restarted daemon refused this
    /// port (module docs of [`crate::error`]).
    pub fn take(&self) -> Result<Option<Sample<'_, P, H>>, TakeError> {
        self.cell.call(SubscriberCore::take, |core, taken| {
            taken.map(|taken| Sample::new(Rc::clone(core), taken))
        })
    }

    /// Sleeps until a sample is queued, `timeout` passes (`None`: no
    /// limit), or a publisher of this subscriber was removed or died
    /// (once per departure: [`publishers`](Self::publishers) says how many
    /// are left). Returns whether a sample is queued. Costs no system call when
    /// one already is; otherwise the thread sleeps on a futex in shared
    /// memory, which publishers wake only when someone sleeps on it, and
    /// then once per sleep however many samples they publish meanwhile.
    ///
    /// Fails with [`WaitError::DaemonGone`] once the daemon is gone, and
    /// with [`WaitError::Unresponsive`] once it dropped this process for
    /// missing heartbeats, also while sleeping: it never hangs on a stopped
    /// daemon, nor after this process was stopped and resumed. Fails with
    /// [`WaitError::Revoked`] once the daemon revoked this port and the
    /// queue is empty, also while sleeping. While the daemon restarts it
    /// fails at once with [`WaitError::Disconnected`]; once the runtime
    /// registered again it re-attaches the port and waits on the new one
    /// (then `timeout` counts from there).
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool, WaitError> {
        self.cell
            .call(|core| core.wait(timeout), |_, queued| queued)
    }

    /// The current core (for a [`WaitSet`](crate::WaitSet)'s checks).
    pub(crate) fn core(&self) -> Rc<SubscriberCore> {
        self.cell.get()
    }

    /// Samples this subscriber took since its port was created (by the
    /// daemon it runs with now: a restarted daemon counts from 0).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let subscriber = rt.subscriber::<u64>(&svc).create()?;
    /// while subscriber.take()?.is_some() {}
    /// println!("{} received, {} dropped", subscriber.received(), subscriber.dropped());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn received(&self) -> u64 {
        // Relaxed: a statistic.
        self.cell
            .get()
            .port()
            .stats
            .received
            .load(Ordering::Relaxed)
    }

    /// Samples dropped so far because the queue was full, or held the
    /// port's chunk quota (discard-oldest policy), by every publisher.
    pub fn dropped(&self) -> u64 {
        // Relaxed: a statistic.
        self.cell.get().port().stats.dropped.load(Ordering::Relaxed)
    }

    /// Samples publishers gave up delivering to this subscriber because its
    /// queue stayed full past their publish timeout (block-publisher
    /// policy, [`PublisherBuilder::publish_timeout`](crate::PublisherBuilder::publish_timeout)).
    pub fn timed_out(&self) -> u64 {
        // Relaxed: a statistic.
        self.cell
            .get()
            .port()
            .stats
            .timed_out
            .load(Ordering::Relaxed)
    }

    /// Samples queued now (a snapshot).
    pub fn queued(&self) -> u32 {
        self.cell.get().port().queue.len()
    }

    /// The service this subscriber receives.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// The port index in the daemon's registry (as `zerocpctl services` shows).
    pub fn port_index(&self) -> u32 {
        self.cell.get().index()
    }
}

impl<P: ?Sized, H> std::fmt::Debug for Subscriber<P, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("service", &self.service)
            .field("port", &self.cell.get().index())
            .finish()
    }
}

/// Dropping the last reference to a core (its subscriber dropped, or
/// swapped for a re-attached one and its last old sample dropped) removes
/// its port from its daemon, unless that one is gone.
impl Drop for SubscriberCore {
    fn drop(&mut self) {
        let shared = self.runtime().registration();
        shared.remove_port(&self.status);
        port_request::remove(shared, self.status.key());
    }
}

/// A taken chunk: its held-slot, global index, payload address and length
/// (elements of a slice, 1 for a sized payload), user header address and
/// metadata.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Taken {
    pub(crate) slot: u32,
    pub(crate) chunk: u32,
    pub(crate) payload: NonNull<u8>,
    pub(crate) len: usize,
    pub(crate) user_header: NonNull<u8>,
    pub(crate) sequence: u64,
    pub(crate) origin: u32,
    pub(crate) origin_generation: u32,
    pub(crate) publish_time: u64,
    /// The request/response exchange words (hostile input, only compared).
    pub(crate) exchange: [u32; 2],
}

/// The type-erased state of a subscriber port.
pub(crate) struct SubscriberCore {
    /// The port's record in its group's control part (and the group's
    /// mappings and the runtime owning them).
    port: Mapped<SubscriberPort>,
    /// The chunk manager over the read-only mapping of the group's payload part.
    pools: Mapped<Pools>,
    /// The port's name, and whether the daemon revoked it.
    status: Arc<PortStatus>,
    /// The pool's quotas and this process's count of its chunks.
    count: Mapped<PoolCount>,
    index: u32,
    /// Where the payload starts in a chunk (after the user header).
    payload_offset: u32,
    /// The payload sizes the port's type allows: a size read from a chunk
    /// header is checked against it ([`PayloadLayout`]).
    layout: PayloadLayout,
    held: SlotMask,
    spin: AdaptiveSpin,
    blocks_publishers: bool,
    /// Publishers bound this port by its quota (queue capacity plus
    /// `max_held` exceed it): they read its held count, and under the
    /// block-publisher policy a release makes room for them.
    bounded: bool,
    /// The port quota, if `max_held` exceeds it.
    port_limit: Option<u32>,
    /// What the port was created with (to create it again after a restart).
    options: SubscriberOptions,
    /// The wake descriptor this core's port is armed with (`wake_fd`).
    wake_fd: OnceCell<Arc<WakeSocket>>,
    /// The port's `senders_gone` last reported (`senders`).
    senders_seen: std::cell::Cell<u32>,
}

impl SubscriberCore {
    /// The runtime this port belongs to.
    pub(crate) fn runtime(&self) -> &PortOwner {
        self.port.owner()
    }

    /// The port index.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// The port in shared memory.
    pub(crate) fn port(&self) -> &SubscriberPort {
        self.port.get()
    }

    /// The chunk manager over the read-only mapping of the group's payload part.
    fn pools(&self) -> &MemPoolManager<'_> {
        self.pools.get().manager()
    }

    /// Takes the oldest queued sample, if any.
    pub(crate) fn take(&self) -> Result<Option<Taken>, TakeError> {
        self.take_popped(|| self.pop())
    }

    /// Pops the oldest queued chunk. An armed port re-arms its descriptor's
    /// edge when it runs dry (`wake_fd` module docs), and looks once more.
    fn pop(&self) -> Option<u32> {
        // A poll of an empty queue reads the queue's head and the count's
        // line, nothing more (its tail is the publishers' line).
        self.port().queue.pop().or_else(|| {
            (self.is_armed() && self.rearm())
                .then(|| self.port().queue.pop())
                .flatten()
        })
    }

    /// Takes the chunk `pop` pops (`take`: the oldest; `take_latest`: the
    /// newest) once a held-slot and the quotas allow, if any.
    fn take_popped(&self, pop: impl FnOnce() -> Option<u32>) -> Result<Option<Taken>, TakeError> {
        if let Some(gone) = self.runtime().registration().gone() {
            return Err(gone.into());
        }
        // Refusals are errors only when there is something to take.
        let refuse = |e| {
            if self.port().queue.is_empty() {
                self.nothing_queued()
            } else {
                Err(e)
            }
        };
        let Some(slot) = self.held.take() else {
            return refuse(TakeError::TooManyHeld {
                max: self.held.limit(),
            });
        };
        if let Err(e) = self.check_quota() {
            self.held.give(slot);
            return refuse(e);
        }
        let Some(chunk) = pop() else {
            self.held.give(slot);
            return self.nothing_queued();
        };
        let located = self.pools().chunk_in_pool(chunk);
        // The header, payload and refcount lines come from the publisher's
        // core: ask for them together, before the bookkeeping below.
        if let Some((_, header)) = located {
            self.pools()
                .prefetch_received(header, chunk, self.payload_offset);
        }
        self.count.get().hold();
        if self.blocks_publishers
            && let Err(e) = wake_blocked_publishers(self.port())
        {
            log::warn!("subscriber port {}: {e}", self.index);
        }
        let result = self.hold(slot, chunk, located);
        match result {
            Ok(_) => {
                self.port().stats.count_received();
                // The refcount line was asked for with the header's, which
                // the hold waited for: if this is the only reference, its
                // drop pushes the chunk back, so ask for the freelist lines.
                if let Some((pool, _)) = located {
                    self.pools().prefetch_last_release(pool, chunk);
                }
            }
            Err(_) => {
                self.held.give(slot);
                self.count.get().release(1);
            }
        }
        self.publish_held();
        result.map(Some)
    }

    /// `take` found the queue empty: nothing, or the revocation once the
    /// daemon revoked the port (the one check `take` adds to an empty poll).
    fn nothing_queued(&self) -> Result<Option<Taken>, TakeError> {
        match self.status.revoked() {
            None => Ok(None),
            Some(reason) => Err(reason.into()),
        }
    }

    /// Whether one more taken chunk fits the port quota (this port's taken
    /// samples, the one being taken included) and the process quota. The
    /// process count moves only once a chunk was popped, so two threads of
    /// the process taking at once can each pass the check at its last free
    /// chunk: takes may go one chunk per such thread past the quota (loans
    /// cannot, [`PoolCount::try_hold`]), which keeps an empty poll free of
    /// read-modify-writes.
    fn check_quota(&self) -> Result<(), TakeError> {
        let count = self.count.get();
        if let Some(quota) = self.port_limit {
            let held = self.held.in_use() - 1;
            if held >= quota {
                return Err(TakeError::QuotaExceeded(
                    count.exceeded(QuotaScope::Port, held),
                ));
            }
        }
        count.check().map_err(TakeError::QuotaExceeded)
    }

    /// Writes how many samples this port holds into its statistics, where
    /// publishers read it to bound it by the port quota; only when they do,
    /// so that an unbounded port never writes the line.
    fn publish_held(&self) {
        if self.bounded {
            // Relaxed: a bound publishers read without ordering (a stale
            // value lets one sample more, or fewer, in).
            self.port()
                .stats
                .held
                .store(self.held.in_use(), Ordering::Relaxed);
        }
    }

    /// Checks `chunk` (in the pool and with the header `located` found,
    /// if it lies in one) and records it in `held[slot]`.
    fn hold(
        &self,
        slot: u32,
        chunk: u32,
        located: Option<(usize, &ChunkHeader)>,
    ) -> Result<Taken, TakeError> {
        let pools = self.pools();
        let corrupt = |reason| TakeError::CorruptChunk {
            index: chunk,
            reason,
        };
        let Some((pool, header)) = located else {
            // Not a chunk: there is nothing to release.
            return Err(corrupt("index outside the data segment"));
        };
        if self.port().held.record(slot, chunk).is_err() {
            self.release(chunk);
            return Err(corrupt("held slot outside the port's list"));
        }
        let checked = check_header(
            pools,
            (chunk, pool, header),
            self.payload_offset,
            self.layout,
        );
        let (range, len) = match checked {
            Ok(checked) => checked,
            Err(reason) => {
                // The caller gives the slot and the quota count back.
                self.port().held.unlist(slot);
                self.release(chunk);
                return Err(corrupt(reason));
            }
        };
        let start = NonNull::from(header).cast::<u8>();
        // The port's own payload offset, which `check_header` found equal
        // to the header's: the payload's address does not wait for the
        // header's line.
        // SAFETY: `validate` checked offset + size <= the chunk's stride (and
        // offset >= 64, so the user header before it lies in the chunk too),
        // and `chunk_in_pool` resolved the header inside the mapped data segment,
        // so both lie inside the mapping; a pointer into it is non-null.
        let payload = unsafe { start.add(self.payload_offset as usize) };
        // SAFETY: as for the payload (64 <= offset).
        let user_header = unsafe { start.add(CHUNK_HEADER_SIZE as usize) };
        Ok(Taken {
            slot,
            chunk,
            payload,
            len: if self.options.as_bytes {
                range.size as usize
            } else {
                len
            },
            user_header,
            // Metadata: reported as read, never used to find anything.
            sequence: header.sequence(),
            origin: header.origin_port(),
            origin_generation: header.origin_generation(),
            publish_time: header.publish_time(),
            exchange: header.exchange(),
        })
    }

    /// Gives a taken sample back: unlists it, then drops the reference.
    pub(crate) fn unhold(&self, slot: u32, chunk: u32) {
        self.port().held.unlist(slot);
        self.held.give(slot);
        self.release(chunk);
        self.count.get().release(1);
        self.publish_held();
        if self.bounded
            && self.blocks_publishers
            && let Err(e) = wake_blocked_publishers(self.port())
        {
            log::warn!("subscriber port {}: {e}", self.index);
        }
    }

    fn release(&self, chunk: u32) {
        if let Err(e) = self.pools().release(chunk) {
            log::error!("subscriber port {}: {e}", self.index);
        }
    }

    /// Sleeps until a sample is queued (`Ok(true)`) or `timeout` passes
    /// (`Ok(false)`); `None` waits without limit.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Result<bool, WaitError> {
        let shared = self.runtime().registration();
        if let Some(gone) = shared.gone() {
            return Err(gone.into());
        }
        // A zero timeout is a poll: no spinning.
        if timeout != Some(Duration::ZERO) && self.spin.spin_until(|| !self.port().queue.is_empty())
        {
            return Ok(true);
        }
        let deadline = timeout.map(|t| Instant::now().checked_add(t).unwrap_or_else(far_future));
        let stop =
            || shared.is_gone() || self.status.revoked().is_some() || self.sender_gone_unseen();
        match wait_for_data(self.port(), deadline, stop).map_err(WaitError::Futex)? {
            WaitEnd::Data => Ok(true),
            WaitEnd::TimedOut => Ok(false),
            WaitEnd::Stopped => match (shared.gone(), self.status.revoked()) {
                (None, None) => {
                    self.mark_senders_seen();
                    Ok(self.has_data())
                }
                (None, Some(reason)) => Err(reason.into()),
                (gone, _) => Err(gone.unwrap_or_else(|| shared.daemon_gone()).into()),
            },
        }
    }
}

/// A deadline that never comes, for timeouts too long for `Instant`.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}
