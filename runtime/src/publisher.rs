//! [`Publisher<T>`] and its builder: the sending end of a service.
//!
//! A publisher loans a chunk of shared memory, the application writes the
//! sample into it in place, and publishing hands that very chunk to every
//! subscriber of the service. See [`crate::publish`] for the data path.

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::sync::Arc;

use zerocp_core::chunk_header::payload_offset;
use zerocp_core::mempool::PoolSelectError;
use zerocp_core::mempool_manager::PayloadSpec;
use zerocp_core::port::{MAX_HISTORY, MAX_LOANS};
use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{CreatePublisher, Message, PortKind};

use crate::error::{
    CreatePublisherError, LoanError, PortRequestError, UpdateConnectionsError, check_option,
};
use crate::loaned_sample::LoanedSample;
use crate::port_request;
use crate::publish::{DeliveryError, PublisherCore};
use crate::{Runtime, ZeroCopySafe};

/// Default of [`PublisherBuilder::max_loans`].
pub const DEFAULT_MAX_LOANS: u32 = 4;

/// Options of a new publisher; made by [`Runtime::publisher`].
///
/// ```no_run
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let publisher = rt
///     .publisher::<[f32; 3]>(&svc)
///     .history(4)   // the last 4 samples go to subscribers that join later
///     .max_loans(8) // samples loaned and not yet published, at once
///     .create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct PublisherBuilder<'r, T> {
    rt: &'r Runtime,
    service: ServiceDescription,
    history: u32,
    max_loans: u32,
    _payload: PhantomData<fn() -> T>,
}

impl<'r, T: ZeroCopySafe> PublisherBuilder<'r, T> {
    pub(crate) fn new(rt: &'r Runtime, service: &ServiceDescription) -> Self {
        Self {
            rt,
            service: *service,
            history: 0,
            max_loans: DEFAULT_MAX_LOANS,
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

    /// Creates the publisher (one request to the daemon).
    pub fn create(self) -> Result<Publisher<T>, CreatePublisherError> {
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "ZeroCopySafe types have no drop glue"
            )
        };
        check_option("history", self.history, 0, MAX_HISTORY as u32)?;
        check_option("max_loans", self.max_loans, 1, MAX_LOANS as u32)?;
        let info = port_request::type_info::<T>();
        let payload_align = payload_offset(info.align)
            .map(|_| info.align)
            .map_err(|e| CreatePublisherError::UnsupportedAlignment(PoolSelectError::Align(e)))?;
        let inner = Arc::clone(self.rt.inner());
        let shared = inner.shared();
        let request = Message::CreatePublisher(CreatePublisher {
            service: self.service,
            type_info: info,
            history: self.history,
            max_loans: self.max_loans,
        });
        let index = port_request::create(
            shared,
            &request,
            "CreatePublisher",
            &self.service,
            info.size,
        )?;
        let port = shared.segments().mgmt().publisher(index);
        port_request::check_owned(shared, PortKind::Publisher, index, port.map(|p| &p.control))?;
        let Some(port) = port else {
            return Err(PortRequestError::InvalidPort { index }.into());
        };
        let pool = port.control.settings().mempool;
        let layout = shared
            .segments()
            .pools()
            .layout()
            .pools()
            .get(pool as usize)
            .copied();
        if layout.is_none_or(|l| l.chunk_size() < info.size) {
            port_request::remove(shared, PortKind::Publisher, index);
            return Err(PortRequestError::InvalidPort { index }.into());
        };
        let spec = PayloadSpec {
            size: info.size,
            align: payload_align,
            origin_port: index,
        };
        Ok(Publisher {
            core: PublisherCore::new(inner.clone(), port, index, pool, spec, self.max_loans),
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
    core: PublisherCore,
    service: ServiceDescription,
    _payload: PhantomData<fn() -> T>,
}

impl<T: ZeroCopySafe> Publisher<T> {
    /// Loans an uninitialised sample in shared memory. Initialise it with
    /// [`LoanedSample::write`], [`LoanedSample::write_with`] (in place, for
    /// large payloads) or [`LoanedSample::zeroed`], then publish it.
    ///
    /// Fails with [`LoanError::TooManyLoans`] when `max_loans` samples are
    /// loaned already, [`LoanError::OutOfChunks`] when the mempool is
    /// exhausted, [`LoanError::DaemonGone`] once the daemon is gone.
    pub fn loan_uninit(&self) -> Result<LoanedSample<'_, MaybeUninit<T>>, LoanError> {
        let loan = self.core.loan()?;
        Ok(LoanedSample::new(&self.core, loan))
    }

    /// Hands the history to subscribers that joined since the last publish,
    /// without publishing a new sample (publishing does this too).
    pub fn update_connections(&self) -> Result<(), UpdateConnectionsError> {
        self.core.update_connections().map_err(|e| match e {
            DeliveryError::Gone => UpdateConnectionsError::DaemonGone,
            DeliveryError::Futex(e) => UpdateConnectionsError::Wait(e),
        })
    }

    /// The service this publisher offers.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// The port index in the daemon's registry (as `zerocpctl services` shows).
    pub fn port_index(&self) -> u32 {
        self.core.index()
    }
}

impl<T> std::fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("service", &self.service)
            .field("port", &self.core.index())
            .finish()
    }
}

impl<T> Drop for Publisher<T> {
    fn drop(&mut self) {
        let shared = self.core.runtime().shared();
        port_request::remove(shared, PortKind::Publisher, self.core.index());
    }
}
