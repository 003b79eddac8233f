//! [`Publisher<T>`] and its builder: the sending end of a service, and
//! [`PublisherCore`], its type-erased data path.
//!
//! A publisher loans a chunk of shared memory, the application writes the
//! sample into it in place, and publishing hands that very chunk to every
//! subscriber of the service. `PublisherCore` knows the payload's size, not
//! its type, and follows the data-path protocol of `docs/protocol.md`:
//!
//! - **loan**: a free loan slot (process-local mask, the `max_loans` limit),
//!   room in the chunk quotas (the port's: its loans and history within the
//!   pool's port quota; the process's, [`crate::quota`]), a chunk from the
//!   port's mempool (refcount 1), its header, and the chunk recorded in the
//!   port's `loans` list before the application sees it;
//! - **publish**: deliver the chunk to every routed subscriber ([`delivery`];
//!   a block-publisher subscriber is waited for at most the publish timeout,
//!   [`publish_timeout`]), keep one reference in the history ring (the
//!   loan's quota count passes to it), unlist the loan and drop the
//!   publisher's own reference.
//!
//! Once the daemon revoked the port ([`crate::port_status`]), both fail with
//! `Revoked` (a sample loaned before is released), and so does a publish
//! waiting for room in a full queue, at its next slice.
//!
//! Publishing stamps the chunk header with the sequence number and the
//! publish time (one `CLOCK_MONOTONIC` read through the vDSO,
//! [`crate::Timestamp`]); the header's publisher port and generation are
//! written at loan ([`crate::PublisherId`]).
//!
//! No lock, no allocation and no system call unless a subscriber sleeps or
//! a block-publisher queue is full.

mod creation;
mod delivery;
pub(crate) mod publish_timeout;
pub(crate) mod targeted;
pub(crate) mod wake_fd_cache;

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::mempool_manager::{self, MemPoolManager, PayloadSpec};
use zerocp_core::port::PublisherPort;
use zerocp_core::service::{ServiceDescription, TypeInfo};
use zerocp_core::sync::Ordering;
use zerocp_core::wire::PortKind;

use crate::ZeroCopySafe;
use crate::error::{
    CreatePortError, CreatePortReason, LoanError, QuotaScope, UpdateConnectionsError,
};
use crate::lifecycle::Lifecycle;
use crate::loaned_sample::LoanedSample;
use crate::mapped::Mapped;
use crate::port_cell::PortCell;
use crate::port_owner::PortOwner;
use crate::port_request;
use crate::port_status::PortStatus;
use crate::publisher_id::PublisherId;
use crate::quota::PoolCount;
use crate::registration::Gone;
use crate::segment_mappings::{GroupMappings, Pools};
use crate::slots::SlotMask;
use creation::PublisherOptions;
use delivery::Delivery;
pub(crate) use delivery::DeliveryError;
use publish_timeout::{DEFAULT_PUBLISH_TIMEOUT, PublishTimeout};

/// Default of [`PublisherBuilder::max_loans`].
pub const DEFAULT_MAX_LOANS: u32 = 4;

/// Options of a new publisher; made by [`Runtime::publisher`](crate::Runtime::publisher).
///
/// ```no_run
/// use std::time::Duration;
/// use zerocp::PublishTimeout;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let publisher = rt
///     .publisher::<[f32; 3]>(&svc)
///     .history(4)   // the last 4 samples go to subscribers that join later
///     .max_loans(8) // samples loaned and not yet published, at once
///     .publish_timeout(Duration::from_millis(50)) // for block-publisher subscribers
///     .on_publish_timeout(PublishTimeout::Fail)   // default: DropForSubscriber
///     .create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct PublisherBuilder<'r, T> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
    type_info: TypeInfo,
    history: u32,
    max_loans: u32,
    publish_timeout: Duration,
    on_publish_timeout: PublishTimeout,
    _payload: PhantomData<fn() -> T>,
}

impl<'r, T: ZeroCopySafe> PublisherBuilder<'r, T> {
    pub(crate) fn new(rt: &'r Arc<Lifecycle>, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
            type_info: port_request::type_info::<T>(),
            history: 0,
            max_loans: DEFAULT_MAX_LOANS,
            publish_timeout: DEFAULT_PUBLISH_TIMEOUT,
            on_publish_timeout: PublishTimeout::default(),
            _payload: PhantomData,
        }
    }

    /// How many of the latest samples to keep for subscribers that join
    /// later (and ask for history): `0..=32`, default 0.
    pub fn history(mut self, depth: u32) -> Self {
        self.history = depth;
        self
    }

    /// How many samples may be loaned (not yet published or dropped) at
    /// once: `1..=32`, default [`DEFAULT_MAX_LOANS`].
    pub fn max_loans(mut self, max: u32) -> Self {
        self.max_loans = max;
        self
    }

    /// The longest one publish waits in all for subscribers whose policy is
    /// [`FullPolicy::BlockPublisher`](crate::FullPolicy) and whose queue is
    /// full: default [`DEFAULT_PUBLISH_TIMEOUT`]; `Duration::ZERO` never
    /// waits, `Duration::MAX` waits without limit (it still returns when the
    /// subscriber goes away or the daemon does). What happens to a
    /// subscriber still full then is [`on_publish_timeout`](Self::on_publish_timeout)'s;
    /// see [`PublishTimeout`].
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// What a publish does about a block-publisher subscriber whose queue
    /// stays full past the [`publish_timeout`](Self::publish_timeout): drop
    /// the sample for it only and return `Ok` (the default), or drop it and
    /// return [`PublishError::Timeout`](crate::PublishError::Timeout).
    /// Either way every other subscriber gets the sample, the drop is
    /// counted in both ports ([`Publisher::timed_out`],
    /// [`Subscriber::timed_out`](crate::Subscriber::timed_out), `zerocpctl
    /// services`), and later publishes do not wait for that subscriber again
    /// until it has room.
    pub fn on_publish_timeout(mut self, action: PublishTimeout) -> Self {
        self.on_publish_timeout = action;
        self
    }

    /// Declares `type_info` instead of `T`'s own to the daemon: a
    /// request/response channel tags its type so that plain ports of `T`
    /// cannot join it ([`crate::request_response`]).
    pub(crate) fn channel_type(mut self, type_info: TypeInfo) -> Self {
        self.type_info = type_info;
        self
    }

    /// Creates the publisher (one request to the daemon).
    pub fn create(self) -> Result<Publisher<T>, CreatePortError> {
        self.try_create().map_err(|reason| CreatePortError {
            kind: PortKind::Publisher,
            reason,
        })
    }

    fn try_create(self) -> Result<Publisher<T>, CreatePortReason> {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "ZeroCopySafe types have no drop glue"
            )
        };
        let options = PublisherOptions {
            service: self.service,
            type_info: self.type_info,
            history: self.history,
            max_loans: self.max_loans,
            publish_timeout: self.publish_timeout,
            on_publish_timeout: self.on_publish_timeout,
        };
        Ok(Publisher {
            cell: PortCell::new(PublisherCore::create(self.rt, options, 0)?),
            service: self.service,
            _payload: PhantomData,
        })
    }
}

/// The sending end of a service, for payloads of type `T`.
///
/// `Send` (move it to another thread), not `Sync`: its samples borrow it.
/// Dropping it removes the port (the daemon releases its history).
///
/// After a daemon restart the same publisher goes on: its next call
/// creates the port again on the restarted daemon with the same options
/// (sequence numbers go on increasing), see [`crate::Runtime`]'s
/// reconnecting and docs/architecture.md, "Daemon restarts".
///
/// ```no_run
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let publisher = rt.publisher::<u64>(&svc).create()?;
/// for counter in 0..10u64 {
///     publisher.loan_uninit()?.write(counter).publish()?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Publisher<T> {
    cell: PortCell<PublisherCore>,
    service: ServiceDescription,
    _payload: PhantomData<fn() -> T>,
}

impl<T: ZeroCopySafe> Publisher<T> {
    /// Loans an uninitialised sample in shared memory. Initialise it with
    /// [`LoanedSample::write`], [`LoanedSample::write_with`] (in place, for
    /// large payloads) or [`LoanedSample::zeroed`], then publish it.
    ///
    /// Fails with [`LoanError::TooManyLoans`] when `max_loans` samples are
    /// loaned already, [`LoanError::QuotaExceeded`] when this publisher (its
    /// loans and history) or this process holds as many chunks of the pool
    /// as the daemon's `[quota]` allows, [`LoanError::OutOfChunks`] when the
    /// mempool is exhausted, [`LoanError::DaemonGone`] once the daemon is gone,
    /// [`LoanError::Unresponsive`] once it dropped this process for missing
    /// heartbeats, [`LoanError::Revoked`] once it revoked this port;
    /// [`LoanError::Disconnected`] while the daemon restarts, and
    /// [`LoanError::NotRecreated`] when the restarted daemon refused this
    /// port (module docs of [`crate::error`]).
    pub fn loan_uninit(&self) -> Result<LoanedSample<'_, MaybeUninit<T>>, LoanError> {
        self.cell.call(PublisherCore::loan, |core, loan| {
            LoanedSample::new(Rc::clone(core), loan)
        })
    }

    /// Hands the history to subscribers that joined since the last publish,
    /// without publishing a new sample (publishing does this too).
    pub fn update_connections(&self) -> Result<(), UpdateConnectionsError> {
        let update = |core: &PublisherCore| {
            core.update_connections().map_err(|e| match e {
                DeliveryError::Gone(gone) => gone.into(),
                DeliveryError::Revoked(reason) => reason.into(),
                DeliveryError::Futex(e) => UpdateConnectionsError::Wait(e),
                DeliveryError::Timeout(e) => UpdateConnectionsError::Timeout(e),
            })
        };
        self.cell.call(update, |_, ()| ())
    }

    /// Samples this publisher did not deliver to some block-publisher
    /// subscriber because its queue stayed full past the publish timeout
    /// (one per sample and subscriber).
    pub fn timed_out(&self) -> u64 {
        // Relaxed: a statistic.
        self.cell
            .get()
            .port()
            .stats
            .timed_out
            .load(Ordering::Relaxed)
    }

    /// The service this publisher offers.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// The port index in the daemon's registry (as `zerocpctl services`
    /// shows; another one once the port re-attached after a daemon restart).
    pub fn port_index(&self) -> u32 {
        self.cell.get().index()
    }

    /// This publisher's id, as its samples carry it
    /// ([`Sample::publisher`](crate::Sample::publisher)): its port index and
    /// generation (another one once the port re-attached after a daemon
    /// restart).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let publisher = rt.publisher::<u64>(&svc).create()?;
    /// assert_eq!(publisher.id().port_index(), publisher.port_index());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> PublisherId {
        let key = self.cell.get().status.key();
        PublisherId::new(key.index, key.generation)
    }
}

impl<T> Publisher<T> {
    /// The current core (request/response publishes through it directly).
    pub(crate) fn core(&self) -> Rc<PublisherCore> {
        self.cell.get()
    }
}

impl<T> std::fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("service", &self.service)
            .field("port", &self.cell.get().index())
            .finish()
    }
}

/// Dropping the last reference to a core (its publisher dropped, or
/// swapped for a re-attached one and its last old loan dropped) removes its
/// port from its daemon, unless that one is gone.
impl Drop for PublisherCore {
    fn drop(&mut self) {
        // The daemon releases the history with the port: it no longer
        // counts against this process's quota.
        self.count().release(self.history_held.get());
        let shared = self.runtime().registration();
        shared.remove_port(&self.status);
        port_request::remove(shared, self.status.key());
    }
}

/// A loaned chunk: its used-slot, global index and payload address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loan {
    pub(crate) slot: u32,
    pub(crate) chunk: u32,
    pub(crate) payload: NonNull<u8>,
}

/// The type-erased state of a publisher port.
pub(crate) struct PublisherCore {
    /// The port's record in its group's control part (and the group's
    /// mappings and the runtime owning them).
    port: Mapped<PublisherPort>,
    /// The chunk manager over the writable mapping of the group's payload part.
    pools: Mapped<Pools>,
    /// The port's name, and whether the daemon revoked it.
    status: Arc<PortStatus>,
    /// The pool's quotas and this process's count of its chunks.
    count: Mapped<PoolCount>,
    /// The port quota, if `max_loans` and the history depth can exceed it.
    port_limit: Option<u32>,
    index: u32,
    pool: u32,
    spec: PayloadSpec,
    loans: SlotMask,
    /// Entries of the history ring this publisher put there (at most its
    /// depth): they count against the port and process quotas.
    history_held: Cell<u32>,
    sequence: Cell<u64>,
    delivery: RefCell<Delivery>,
    /// The wake descriptors of armed subscribers (`wake_fd_cache`).
    wake_fds: RefCell<wake_fd_cache::WakeFdCache>,
    /// What the port was created with (to create it again after a restart).
    options: PublisherOptions,
}

impl PublisherCore {
    /// The runtime this port belongs to.
    pub(crate) fn runtime(&self) -> &PortOwner {
        self.port.owner()
    }

    /// The port in shared memory.
    pub(crate) fn port(&self) -> &PublisherPort {
        self.port.get()
    }

    /// The segment group's mappings (control part, payload mappings).
    pub(crate) fn group(&self) -> &GroupMappings {
        self.port.group()
    }

    /// The chunk manager over the writable mapping of the group's payload part.
    pub(crate) fn pools(&self) -> &MemPoolManager<'_> {
        self.pools.get().manager()
    }

    /// The port index.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// The pool's quotas and this process's count of its chunks.
    pub(crate) fn count(&self) -> &PoolCount {
        self.count.get()
    }

    /// Whether the daemon is gone or dropped this process, and which.
    pub(crate) fn gone(&self) -> Option<Gone> {
        self.runtime().registration().gone()
    }

    /// Why the daemon revoked this port, if it did.
    pub(crate) fn revoked(&self) -> Option<zerocp_core::wire::RevokeReason> {
        self.status.revoked()
    }

    /// Loans a chunk and records it in the port's `loans` list.
    pub(crate) fn loan(&self) -> Result<Loan, LoanError> {
        if let Some(gone) = self.gone() {
            return Err(gone.into());
        }
        if let Some(reason) = self.revoked() {
            return Err(reason.into());
        }
        let slot = self.loans.take().ok_or(LoanError::TooManyLoans {
            max: self.loans.limit(),
        })?;
        let result = self.hold_quota().and_then(|()| {
            let loan = self.loan_into(slot);
            if loan.is_err() {
                self.count().release(1);
            }
            loan
        });
        if result.is_err() {
            self.loans.give(slot);
        }
        result
    }

    /// Makes room for one more chunk in the port quota (this port's loans,
    /// the one being made included, and history) and the process quota.
    fn hold_quota(&self) -> Result<(), LoanError> {
        let count = self.count();
        if let Some(quota) = self.port_limit {
            let held = self.loans.in_use() - 1 + self.history_held.get();
            if held >= quota {
                return Err(LoanError::QuotaExceeded(
                    count.exceeded(QuotaScope::Port, held),
                ));
            }
        }
        count.try_hold().map_err(LoanError::QuotaExceeded)
    }

    fn loan_into(&self, slot: u32) -> Result<Loan, LoanError> {
        let pools = self.pools();
        let chunk = pools.loan(self.pool, self.spec).map_err(|e| match e {
            mempool_manager::LoanChunkError::OutOfChunks {
                pool, chunk_size, ..
            } => LoanError::OutOfChunks { pool, chunk_size },
            other => LoanError::Mempool(other),
        })?;
        let corrupt = |reason| {
            self.release(chunk);
            LoanError::CorruptChunk {
                index: chunk,
                reason,
            }
        };
        let Some(payload) = pools.payload(chunk) else {
            return Err(corrupt("the payload lies outside the data segment"));
        };
        if self.port().loans.record(slot, chunk).is_err() {
            return Err(corrupt("the loan slot is outside the port's list"));
        }
        Ok(Loan {
            slot,
            chunk,
            payload,
        })
    }

    /// Gives up a loan without publishing it: unlists it, then drops the
    /// publisher's reference.
    pub(crate) fn drop_loan(&self, loan: &Loan) {
        self.port().loans.clear(loan.slot);
        self.loans.give(loan.slot);
        self.release(loan.chunk);
        self.count().release(1);
    }

    /// Publishes a loaned chunk to every routed subscriber and consumes the loan.
    pub(crate) fn publish(&self, loan: &Loan) -> Result<(), DeliveryError> {
        if let Some(gone) = self.gone() {
            self.drop_loan(loan);
            return Err(DeliveryError::Gone(gone));
        }
        if let Some(reason) = self.revoked() {
            self.drop_loan(loan);
            return Err(DeliveryError::Revoked(reason));
        }
        self.stamp(loan.chunk);
        let result = self.deliver_sample(loan.chunk);
        self.keep_in_history(loan.chunk);
        self.drop_loan(loan);
        result
    }

    /// Writes the next sequence number and the publish time into `chunk`'s
    /// header; returns that sequence number.
    fn stamp(&self, chunk: u32) -> u64 {
        let sequence = self.sequence.get();
        self.sequence.set(sequence.wrapping_add(1));
        if let Some(header) = self.pools().chunk(chunk) {
            header.set_sequence(sequence);
            header.set_publish_time(zerocp_os_linux::clock::monotonic_ns());
        }
        sequence
    }

    fn keep_in_history(&self, chunk: u32) {
        let depth = self.port().history.depth();
        if depth == 0 {
            return;
        }
        let pools = self.pools();
        if pools.acquire(chunk, 1).is_err() {
            return;
        }
        // Until the ring is full each entry is one more chunk held (the
        // loan's own count goes when the loan is dropped); then an entry
        // replaces the one it evicts.
        if self.history_held.get() < depth {
            self.history_held.set(self.history_held.get() + 1);
            self.count().hold();
        }
        if let Some(evicted) = self.port().history.push(chunk)
            && self.is_history_entry(evicted)
        {
            self.release(evicted);
        }
    }

    /// Whether `chunk`, read from this port's history ring in shared memory,
    /// can be an entry this publisher put there: a chunk of its own mempool.
    /// Anything else is logged and skipped (neither handed out nor
    /// released: it holds no reference of this publisher's).
    fn is_history_entry(&self, chunk: u32) -> bool {
        let own = self
            .pools()
            .layout()
            .pools()
            .get(self.pool as usize)
            .is_some_and(|pool| pool.contains(chunk));
        if !own {
            log::warn!(
                "publisher port {}: history entry {chunk} is not a chunk of mempool {}: skipped",
                self.index,
                self.pool
            );
        }
        own
    }

    /// Drops one reference to `chunk` (logging what cannot happen with a
    /// consistent segment).
    fn release(&self, chunk: u32) {
        if let Err(e) = self.pools().release(chunk) {
            log::error!("publisher port {}: {e}", self.index);
        }
    }
}
