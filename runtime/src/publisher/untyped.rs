//! [`UntypedPublisher`]: a publisher of a type known at run time only, for
//! bindings to languages without Rust's types (the C API of `zerocp-ffi`)
//! and tools that replay recorded bytes.
//!
//! It is a [`Publisher`](crate::Publisher)'s port with the type given as a
//! value ([`ServiceType`]) instead of Rust types: the same
//! [`PublisherCore`], so the same create request, quotas, loans, delivery,
//! history and re-attaching after a daemon restart. The daemon checks the
//! [`ServiceType`] against the service's registered type as for any port,
//! so its samples reach typed subscribers only when the type's name, size
//! and alignment are exactly the Rust type's. It describes no field layout
//! (tools print its samples in hex).
//!
//! Its loans ([`UntypedLoan`], `crate::untyped_loan`) are the payload's
//! bytes, written by the caller before publishing.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::service::ServiceDescription;
use zerocp_core::type_layout::TypeDescription;
use zerocp_core::wire::{PayloadShape, PortKind};

use super::creation::PublisherOptions;
use super::publish_timeout::{DEFAULT_PUBLISH_TIMEOUT, PublishTimeout};
use super::{DEFAULT_MAX_LOANS, PublisherCore};
use crate::error::{CreatePortError, CreatePortReason, LoanError, check_option};
use crate::lifecycle::Lifecycle;
use crate::port_cell::PortCell;
use crate::service_type::ServiceType;
use crate::untyped_loan::UntypedLoan;

/// Options of a new [`UntypedPublisher`]; made by
/// [`Runtime::untyped_publisher`](crate::Runtime::untyped_publisher).
///
/// ```no_run
/// use zerocp::{ServiceType, TypeInfo};
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let pose = ServiceType::sized(TypeInfo::of::<[f32; 3]>());
/// let publisher = rt.untyped_publisher(&svc, pose).history(1).max_loans(2).create()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `create` is called"]
pub struct UntypedPublisherBuilder<'r> {
    rt: &'r Arc<Lifecycle>,
    service: ServiceDescription,
    service_type: ServiceType,
    history: u32,
    max_loans: u32,
    max_slice_len: Option<u32>,
    publish_timeout: Duration,
    on_publish_timeout: PublishTimeout,
}

impl<'r> UntypedPublisherBuilder<'r> {
    pub(crate) fn new(
        rt: &'r Arc<Lifecycle>,
        service: &ServiceDescription,
        service_type: ServiceType,
    ) -> Self {
        Self {
            rt,
            service: *service,
            service_type,
            history: 0,
            max_loans: DEFAULT_MAX_LOANS,
            max_slice_len: None,
            publish_timeout: DEFAULT_PUBLISH_TIMEOUT,
            on_publish_timeout: PublishTimeout::default(),
        }
    }

    /// As [`PublisherBuilder::history`](crate::PublisherBuilder::history): `0..=32`, default 0.
    pub fn history(mut self, depth: u32) -> Self {
        self.history = depth;
        self
    }

    /// As [`PublisherBuilder::max_loans`](crate::PublisherBuilder::max_loans):
    /// `1..=32`, default [`DEFAULT_MAX_LOANS`].
    pub fn max_loans(mut self, max: u32) -> Self {
        self.max_loans = max;
        self
    }

    /// The longest slice in elements (required for a slice type, at least 1;
    /// a sized type ignores it).
    pub fn max_slice_len(mut self, len: u32) -> Self {
        self.max_slice_len = Some(len);
        self
    }

    /// As [`PublisherBuilder::publish_timeout`](crate::PublisherBuilder::publish_timeout).
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// As [`PublisherBuilder::on_publish_timeout`](crate::PublisherBuilder::on_publish_timeout).
    pub fn on_publish_timeout(mut self, action: PublishTimeout) -> Self {
        self.on_publish_timeout = action;
        self
    }

    /// Creates the publisher (one request to the daemon, which refuses a
    /// type other than the service's with `TypeMismatch`).
    pub fn create(self) -> Result<UntypedPublisher, CreatePortError> {
        self.try_create().map_err(|reason| CreatePortError {
            kind: PortKind::Publisher,
            reason,
        })
    }

    fn try_create(self) -> Result<UntypedPublisher, CreatePortReason> {
        let max_slice_len = match (self.service_type.shape, self.max_slice_len) {
            (PayloadShape::Sized, _) => 0,
            (PayloadShape::Slice, None) => return Err(CreatePortReason::MissingMaxSliceLen),
            (PayloadShape::Slice, Some(len)) => {
                check_option("max_slice_len", len, 1, u32::MAX)?;
                len
            }
        };
        let options = PublisherOptions {
            service: self.service,
            type_info: self.service_type.payload,
            shape: self.service_type.shape,
            max_slice_len,
            user_header: self.service_type.user_header,
            description: &TypeDescription::Opaque,
            history: self.history,
            max_loans: self.max_loans,
            publish_timeout: self.publish_timeout,
            on_publish_timeout: self.on_publish_timeout,
        };
        Ok(UntypedPublisher {
            cell: PortCell::new(PublisherCore::create(self.rt, options, 0)?),
            service: self.service,
            service_type: self.service_type,
        })
    }
}

/// A publisher whose type is a [`ServiceType`] value (module docs): it
/// loans [`UntypedLoan`]s, the payload as bytes.
///
/// `Send`, not `Sync`, like [`Publisher`](crate::Publisher); dropping it
/// removes the port.
///
/// ```no_run
/// use zerocp::{ServiceType, TypeInfo};
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Tick")?;
/// let ticks = rt
///     .untyped_publisher(&svc, ServiceType::sized(TypeInfo::of::<u64>()))
///     .create()?;
/// let mut loan = ticks.loan()?;
/// for (byte, value) in loan.payload_mut().iter_mut().zip(7u64.to_ne_bytes()) {
///     byte.write(value);
/// }
/// loan.publish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct UntypedPublisher {
    cell: PortCell<PublisherCore>,
    service: ServiceDescription,
    service_type: ServiceType,
}

impl UntypedPublisher {
    /// Loans one value of a sized type (one element of a slice type); fails
    /// as [`Publisher::loan_uninit`](crate::Publisher::loan_uninit) does.
    pub fn loan(&self) -> Result<UntypedLoan<'_>, LoanError> {
        self.loan_slice(1)
    }

    /// Loans `len` elements of a slice type (`len` must be 1 for a sized
    /// one); fails with [`LoanError::SliceTooLong`] beyond the maximum and
    /// [`LoanError::PayloadSize`] for no value of a sized type, otherwise
    /// as [`Publisher::loan_slice_uninit`](crate::Publisher::loan_slice_uninit).
    pub fn loan_slice(&self, len: usize) -> Result<UntypedLoan<'_>, LoanError> {
        if self.service_type.shape == PayloadShape::Sized && len > 1 {
            return Err(LoanError::SliceTooLong { len, max: 1 });
        }
        self.loan_elements(len, self.service_type.payload.size as usize)
    }

    /// Loans a payload of `bytes` bytes: the type's size, or a whole number
    /// of a slice type's elements up to the maximum. Fails with
    /// [`LoanError::PayloadSize`] for another length and
    /// [`LoanError::SliceTooLong`] beyond the maximum (nothing is loaned),
    /// otherwise as [`loan_slice`](Self::loan_slice).
    ///
    /// ```no_run
    /// use zerocp::{ServiceType, TypeInfo};
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
    /// let publisher = rt
    ///     .untyped_publisher(&svc, ServiceType::sized(TypeInfo::of::<u64>()))
    ///     .create()?;
    /// let mut loan = publisher.loan_bytes(8)?;
    /// loan.payload_mut().copy_from_slice(&7u64.to_ne_bytes().map(std::mem::MaybeUninit::new));
    /// loan.publish()?;
    /// assert!(publisher.loan_bytes(4).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn loan_bytes(&self, bytes: usize) -> Result<UntypedLoan<'_>, LoanError> {
        self.loan_elements(bytes, 1)
    }

    /// Loans `len` units of `unit` bytes, once the port's declared type
    /// admits that many bytes (`PublisherOptions::loan_bytes`).
    fn loan_elements(&self, len: usize, unit: usize) -> Result<UntypedLoan<'_>, LoanError> {
        let header_bytes = self.service_type.user_header.size as usize;
        self.cell.call(
            |core| {
                let bytes = core.options.loan_bytes(len, unit)?;
                core.loan(bytes).map(|loan| (loan, bytes))
            },
            |core, (loan, bytes)| {
                UntypedLoan::new(Rc::clone(core), loan, bytes as usize, header_bytes)
            },
        )
    }

    /// Samples this publisher published since its port was created.
    pub fn published(&self) -> u64 {
        // Relaxed: a statistic.
        self.cell
            .get()
            .port()
            .stats
            .published
            .load(zerocp_core::sync::Ordering::Relaxed)
    }

    /// The service this publisher offers.
    pub fn service(&self) -> &ServiceDescription {
        &self.service
    }

    /// The type it publishes.
    pub fn service_type(&self) -> &ServiceType {
        &self.service_type
    }

    /// The port index in the daemon's registry.
    pub fn port_index(&self) -> u32 {
        self.cell.get().index()
    }
}

impl std::fmt::Debug for UntypedPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UntypedPublisher")
            .field("service", &self.service)
            .field("type", &self.service_type)
            .field("port", &self.cell.get().index())
            .finish()
    }
}
