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
//!   [`publish_timeout`]; the time waited is added to the port's
//!   `blocked_ns`), keep one reference in the history ring (the
//!   loan's quota count passes to it), unlist the loan and drop the
//!   publisher's own reference; a port without history hands that
//!   reference to its subscribers instead ([`delivery`]).
//!
//! Once the daemon revoked the port ([`crate::port_status`]), both fail with
//! `Revoked` (a sample loaned before is released), and so does a publish
//! waiting for room in a full queue, at its next slice.
//!
//! Publishing stamps the chunk header with the sequence number and the
//! publish time (one `CLOCK_MONOTONIC` read through the vDSO,
//! [`crate::Timestamp`]) and counts the sample in the port's `published`
//! (a relaxed load and store on a line only this publisher writes); the
//! header's publisher port and generation are written at loan
//! ([`crate::PublisherId`]). A failed loan is counted in `loans_failed`.
//!
//! No allocation and no system call unless a subscriber sleeps or a
//! block-publisher queue is full; one lock, uncontended unless the
//! runtime's background thread is handing history to a late subscriber
//! right then ([`shared_port`], [`crate::history_on_connect`]).

mod background_delivery;
mod builder;
mod creation;
mod delivery;
pub(crate) mod publish_timeout;
mod shared_port;
mod state_cell;
pub(crate) mod targeted;
mod untyped;
pub(crate) mod wake_fd_cache;

use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::chunk_header::{CHUNK_HEADER_SIZE, ChunkHeader};
use zerocp_core::mempool_manager::{self, MemPoolManager, PayloadSpec};
use zerocp_core::port::PublisherPort;
use zerocp_core::service::ServiceDescription;
use zerocp_core::sync::Ordering;

use crate::ZeroCopySafe;
use crate::error::{LoanError, QuotaScope, UpdateConnectionsError};
use crate::loaned_sample::LoanedSample;
use crate::payload::Payload;
use crate::port_cell::PortCell;
use crate::port_owner::PortOwner;
use crate::port_request;
use crate::port_status::PortStatus;
use crate::publisher_id::PublisherId;
use crate::quota::PoolCount;
use crate::registration::Gone;
use crate::slots::SlotMask;
pub use builder::PublisherBuilder;
use creation::PublisherOptions;
pub(crate) use delivery::DeliveryError;
use publish_timeout::PublishTimeout;
pub(crate) use shared_port::SharedPort;
pub use untyped::{UntypedPublisher, UntypedPublisherBuilder};

/// Default of [`PublisherBuilder::max_loans`].
pub const DEFAULT_MAX_LOANS: u32 = 4;

/// The sending end of a service, for payloads of type `P` (a
/// [`ZeroCopySafe`] type, or a slice of one: [`Payload`]) with user
/// headers of type `H` (none by default,
/// [`PublisherBuilder::user_header`]).
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
pub struct Publisher<P: ?Sized, H = ()> {
    cell: PortCell<PublisherCore>,
    service: ServiceDescription,
    _types: PhantomData<fn() -> (*const P, H)>,
}

impl<T: ZeroCopySafe, H: ZeroCopySafe> Publisher<T, H> {
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
    pub fn loan_uninit(&self) -> Result<LoanedSample<'_, MaybeUninit<T>, H>, LoanError> {
        self.cell.call(
            |core| core.loan(size_of::<T>() as u32),
            |core, loan| LoanedSample::new(Rc::clone(core), loan, 1),
        )
    }
}

impl<T: ZeroCopySafe, H: ZeroCopySafe> Publisher<[T], H> {
    /// Loans an uninitialised slice of `len` elements in shared memory (any
    /// length up to the publisher's
    /// [`max_slice_len`](PublisherBuilder::max_slice_len), 0 included).
    /// Fill it in place ([`LoanedSample::write_from_slice`],
    /// [`LoanedSample::fill`], [`LoanedSample::write_with`]), then publish
    /// it: subscribers get a `&[T]` of `len` elements.
    ///
    /// Fails with [`LoanError::SliceTooLong`] for a longer slice (nothing
    /// is loaned), otherwise as [`loan_uninit`](Publisher::loan_uninit).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Lidar", "Front", "Scan")?;
    /// let scans = rt.publisher::<[f32]>(&svc).max_slice_len(4096).create()?;
    /// let ranges = [1.5f32, 2.25, 0.75];
    /// scans.loan_slice_uninit(ranges.len())?.write_from_slice(&ranges)?.publish()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn loan_slice_uninit(
        &self,
        len: usize,
    ) -> Result<LoanedSample<'_, [MaybeUninit<T>], H>, LoanError> {
        let bytes = self.cell.get().options.loan_bytes(len, size_of::<T>())?;
        self.cell.call(
            |core| core.loan(bytes),
            |core, loan| LoanedSample::new(Rc::clone(core), loan, len),
        )
    }

    /// The longest slice this publisher loans, in elements.
    pub fn max_slice_len(&self) -> u32 {
        self.cell.get().options.max_slice_len
    }
}

impl<P: ?Sized + Payload, H: ZeroCopySafe> Publisher<P, H> {
    /// Hands the history to subscribers that joined since the last publish,
    /// without publishing a new sample (publishing does this too). The
    /// runtime does it by itself when the daemon routes such a subscriber
    /// (see [`PublisherBuilder::history`]); this call makes sure it is done
    /// when it returns.
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

    /// Samples this publisher published since its port was created (by
    /// the daemon it runs with now: a restarted daemon counts from 0).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let publisher = rt.publisher::<u64>(&svc).create()?;
    /// publisher.loan_uninit()?.write(7).publish()?;
    /// assert_eq!(publisher.published(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn published(&self) -> u64 {
        // Relaxed: a statistic.
        self.cell
            .get()
            .port()
            .stats
            .published
            .load(Ordering::Relaxed)
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
        let key = self.cell.get().status().key();
        PublisherId::new(key.index, key.generation)
    }
}

impl<P: ?Sized, H> Publisher<P, H> {
    /// The current core (request/response publishes through it directly).
    pub(crate) fn core(&self) -> Rc<PublisherCore> {
        self.cell.get()
    }
}

impl<P: ?Sized, H> std::fmt::Debug for Publisher<P, H> {
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
        // First: the background thread no longer reads the history ring
        // the daemon releases with the port (`crate::history_on_connect`).
        shared.history().remove(self.status().key());
        shared.remove_port(self.status());
        port_request::remove(shared, self.status().key());
    }
}

/// A loaned chunk: its used-slot, global index, and the addresses of its
/// header (found once, at the loan: publishing stamps it without looking
/// the chunk up again), payload and user header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loan {
    pub(crate) slot: u32,
    pub(crate) chunk: u32,
    header: NonNull<ChunkHeader>,
    pub(crate) payload: NonNull<u8>,
    pub(crate) user_header: NonNull<u8>,
}

impl Loan {
    /// The chunk's header.
    fn header(&self) -> &ChunkHeader {
        // SAFETY: `loan_into` took the address from
        // `MemPoolManager::loan_with_header` (a whole header inside the
        // mapped data segment), and the loan's
        // reference keeps the chunk, and the core that maps it, alive until
        // the loan is published or dropped; ChunkHeader is atomics only.
        unsafe { self.header.as_ref() }
    }
}

/// The type-erased state of a publisher port.
pub(crate) struct PublisherCore {
    /// The port's records and delivery state, shared with the runtime's
    /// background thread when the port keeps history
    /// ([`crate::history_on_connect`]).
    shared: Arc<SharedPort>,
    /// The port quota, if `max_loans` and the history depth can exceed it.
    port_limit: Option<u32>,
    /// The payload's alignment, the user header's size and the port; the
    /// size is each loan's.
    spec: PayloadSpec,
    /// Where the payload starts in a chunk (after the user header).
    payload_offset: u32,
    loans: SlotMask,
    /// Entries of the history ring this publisher put there (at most its
    /// depth): they count against the port and process quotas.
    history_held: Cell<u32>,
    sequence: Cell<u64>,
    /// How long one publish may wait for block-publisher subscribers.
    publish_timeout: Duration,
    /// What a publish does when that runs out.
    on_publish_timeout: PublishTimeout,
    /// What the port was created with (to create it again after a restart).
    pub(crate) options: PublisherOptions,
}

impl PublisherCore {
    /// The runtime this port belongs to.
    pub(crate) fn runtime(&self) -> &PortOwner {
        self.shared.runtime()
    }

    /// The port in shared memory.
    pub(crate) fn port(&self) -> &PublisherPort {
        self.shared.port()
    }

    /// The chunk manager over the writable mapping of the group's payload part.
    pub(crate) fn pools(&self) -> &MemPoolManager<'_> {
        self.shared.pools()
    }

    /// The port index.
    pub(crate) fn index(&self) -> u32 {
        self.shared.index
    }

    /// The pool's quotas and this process's count of its chunks.
    pub(crate) fn count(&self) -> &PoolCount {
        self.shared.count()
    }

    /// The port's name, and whether the daemon revoked it.
    pub(crate) fn status(&self) -> &Arc<PortStatus> {
        &self.shared.status
    }

    /// Whether the daemon is gone or dropped this process, and which.
    pub(crate) fn gone(&self) -> Option<Gone> {
        self.runtime().registration().gone()
    }

    /// Why the daemon revoked this port, if it did.
    pub(crate) fn revoked(&self) -> Option<zerocp_core::wire::RevokeReason> {
        self.status().revoked()
    }

    /// `Ok` unless the daemon is gone (or dropped this process) or revoked
    /// this port: what every delivery checks first.
    pub(crate) fn usable(&self) -> Result<(), DeliveryError> {
        if let Some(gone) = self.gone() {
            return Err(DeliveryError::Gone(gone));
        }
        match self.revoked() {
            Some(reason) => Err(DeliveryError::Revoked(reason)),
            None => Ok(()),
        }
    }

    /// Loans a chunk for a payload of `size` bytes (at most the port's
    /// maximum) and records it in the port's `loans` list.
    pub(crate) fn loan(&self, size: u32) -> Result<Loan, LoanError> {
        if let Some(gone) = self.gone() {
            return Err(gone.into());
        }
        if let Some(reason) = self.revoked() {
            return Err(reason.into());
        }
        let result = self.loan_slot(size);
        if result.is_err() {
            // Relaxed: a statistic, displayed only (a failed loan is off
            // the fast path).
            self.port()
                .stats
                .loans_failed
                .fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// [`loan`](Self::loan) once the port is known usable: a loan slot,
    /// room in the quotas, a chunk.
    fn loan_slot(&self, size: u32) -> Result<Loan, LoanError> {
        let slot = self.loans.take().ok_or(LoanError::TooManyLoans {
            max: self.loans.limit(),
        })?;
        let result = self.hold_quota().and_then(|()| {
            let loan = self.loan_into(slot, size);
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

    fn loan_into(&self, slot: u32, size: u32) -> Result<Loan, LoanError> {
        let pools = self.pools();
        let spec = PayloadSpec { size, ..self.spec };
        let loaned = pools.loan_with_header(self.shared.pool, spec);
        let (chunk, header) = loaned.map_err(|e| match e {
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
        if self.port().loans.record(slot, chunk).is_err() {
            return Err(corrupt("the loan slot is outside the port's list"));
        }
        let start = NonNull::from(header).cast::<u8>();
        // SAFETY: `chunk` resolved the header inside the mapped data
        // segment; creation checked that the user header and a payload of
        // the port's maximum size end within the pool's chunks (offset +
        // maximum <= stride), so the pointer stays inside the chunk.
        let user_header = unsafe { start.add(CHUNK_HEADER_SIZE as usize) };
        // SAFETY: as for the user header.
        let payload = unsafe { start.add(self.payload_offset as usize) };
        // No stale bytes of an earlier sample reach subscribers through
        // the user header: it is zero-filled at every loan (a few bytes;
        // without one, not even a call to `memset`).
        let header_bytes = self.spec.user_header_size as usize;
        if header_bytes > 0 {
            // SAFETY: the chunk is exclusively ours (just loaned); the user
            // header's bytes lie inside it (above).
            unsafe { user_header.write_bytes(0, header_bytes) };
        }
        Ok(Loan {
            slot,
            chunk,
            header: NonNull::from(header),
            payload,
            user_header,
        })
    }

    /// Gives up a loan without publishing it: unlists it, then drops the
    /// publisher's reference.
    pub(crate) fn drop_loan(&self, loan: &Loan) {
        self.port().loans.unlist(loan.slot);
        self.release(loan.chunk);
        self.end_loan(loan);
    }

    /// What every loan gives back at its end, whoever got its reference:
    /// its slot and its count in the quotas.
    fn end_loan(&self, loan: &Loan) {
        self.loans.give(loan.slot);
        self.count().release(1);
    }

    /// Publishes a loaned chunk to every routed subscriber and consumes the loan.
    ///
    /// A port without history hands its own reference to the subscribers
    /// (`delivery` module docs): then only the loan slot and the quota
    /// count are given back here.
    pub(crate) fn publish(&self, loan: &Loan) -> Result<(), DeliveryError> {
        if let Err(e) = self.usable() {
            self.drop_loan(loan);
            return Err(e);
        }
        self.stamp(loan);
        // From the port's own options, never from shared memory: once the
        // reference is handed over the chunk may be free again, and the ring
        // must not take a reference to it then.
        let keeps_history = self.shared.keeps_history();
        let mut handed = false;
        let result = {
            let mut state = self.shared.lock();
            let hand_over = (!keeps_history).then_some(&mut handed);
            let result = self.deliver_sample(&mut state, loan, hand_over);
            // Under the lock: the background thread reads the ring only
            // while it holds it (`shared_port`).
            if !handed {
                self.keep_in_history(loan.chunk);
            }
            result
        };
        if handed {
            self.end_loan(loan);
        } else {
            self.drop_loan(loan);
        }
        // The next loan swaps the pool's freelist head, which a subscriber
        // on another core may have written since: ask for it now.
        self.pools().prefetch_loan(self.shared.pool as usize);
        result
    }

    /// Writes the next sequence number and the publish time into `chunk`'s
    /// header and counts the sample published; returns that sequence number.
    fn stamp(&self, loan: &Loan) -> u64 {
        let sequence = self.sequence.get();
        self.sequence.set(sequence.wrapping_add(1));
        self.port().stats.count_published();
        let header = loan.header();
        header.set_sequence(sequence);
        header.set_publish_time(zerocp_os_linux::clock::monotonic_ns());
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
            && self.shared.is_history_entry(evicted)
        {
            self.release(evicted);
        }
    }

    /// Drops one reference to `chunk`.
    fn release(&self, chunk: u32) {
        self.shared.release(chunk);
    }
}
