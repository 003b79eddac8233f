//! Creating a publisher's core: [`PublisherOptions`] (what the builder
//! collected, kept for re-attaching) and [`PublisherCore::create`], the one
//! piece of code that asks the daemon for the port and sets the core up on
//! it, used by [`PublisherBuilder::create`](crate::PublisherBuilder::create)
//! and by re-attaching after a daemon restart ([`crate::port_cell`]).

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use zerocp_core::chunk_header::{CHUNK_HEADER_SIZE, payload_offset, payload_offset_after};
use zerocp_core::mempool::PoolSelectError;
use zerocp_core::mempool_manager::PayloadSpec;
use zerocp_core::port::{MAX_HISTORY, MAX_LOANS};
use zerocp_core::service::{ServiceDescription, TypeInfo};
use zerocp_core::type_layout::{TypeDescription, TypeLayout};
use zerocp_core::wire::{CreatePublisher, Message, PayloadShape, PortKind, RevokeReason};

use super::PublisherCore;
use super::publish_timeout::PublishTimeout;
use super::shared_port::SharedPort;
use crate::error::{CreatePortReason, LoanError, PortRequestError, check_option};
use crate::lifecycle::Lifecycle;
use crate::mapped::Mapped;
use crate::payload::PayloadLayout;
use crate::port_cell::PortCore;
use crate::port_owner::PortOwner;
use crate::port_request;
use crate::port_status::{PortKey, PortStatus};
use crate::slots::SlotMask;

/// A publisher's options, as created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublisherOptions {
    pub(crate) service: ServiceDescription,
    pub(crate) type_info: TypeInfo,
    pub(crate) shape: PayloadShape,
    /// The longest slice in elements; 0 for a sized payload.
    pub(crate) max_slice_len: u32,
    pub(crate) user_header: TypeInfo,
    /// How the payload type (a slice's element) describes its bytes.
    pub(crate) description: &'static TypeDescription,
    pub(crate) history: u32,
    pub(crate) max_loans: u32,
    pub(crate) publish_timeout: Duration,
    pub(crate) on_publish_timeout: PublishTimeout,
}

impl PublisherOptions {
    /// The bytes of a loan of `len` elements of `element_size` bytes each
    /// (a typed slice's `T`, an untyped publisher's element; 1 for the
    /// byte loans of an untyped publisher, client or server), checked
    /// against the declared type and the longest slice.
    pub(crate) fn loan_bytes(&self, len: usize, element_size: usize) -> Result<u32, LoanError> {
        let max = match self.shape {
            PayloadShape::Sized => 1,
            PayloadShape::Slice => self.max_slice_len,
        };
        // Only an element count can overflow: a byte count is its own size.
        let bytes = len
            .checked_mul(element_size)
            .ok_or(LoanError::SliceTooLong { len, max })?;
        let elements = self
            .layout()
            .elements_of(bytes)
            .ok_or(LoanError::PayloadSize {
                bytes,
                type_size: self.type_info.size,
            })?;
        if elements > max as usize {
            return Err(LoanError::SliceTooLong { len: elements, max });
        }
        // At most `max` elements, which the daemon placed in a chunk.
        u32::try_from(bytes).map_err(|_| LoanError::SliceTooLong { len: elements, max })
    }

    /// The payload sizes the declared type allows.
    pub(crate) fn layout(&self) -> PayloadLayout {
        PayloadLayout {
            shape: self.shape,
            element_size: self.type_info.size,
        }
    }

    /// The smallest payload the declared type allows: a value's size, or
    /// an empty slice.
    pub(crate) fn smallest_payload(&self) -> u32 {
        match self.shape {
            PayloadShape::Sized => self.type_info.size,
            PayloadShape::Slice => 0,
        }
    }
}

impl PublisherCore {
    /// Creates the port `options` describe on `lifecycle`'s current
    /// registration; its sequence numbers start at `sequence`.
    pub(crate) fn create(
        lifecycle: &Arc<Lifecycle>,
        options: PublisherOptions,
        sequence: u64,
    ) -> Result<Self, CreatePortReason> {
        check_option("history", options.history, 0, MAX_HISTORY as u32)?;
        check_option("max_loans", options.max_loans, 1, MAX_LOANS as u32)?;
        let info = options.type_info;
        let placement = Placement::of(&options)?;
        let owner = PortOwner::current(lifecycle);
        let shared = owner.registration();
        let request = Message::CreatePublisher(CreatePublisher {
            service: options.service,
            type_info: info,
            history: options.history,
            max_loans: options.max_loans,
            shape: options.shape,
            max_slice_len: options.max_slice_len,
            user_header: options.user_header,
            layout: TypeLayout::describe(options.description, info.size),
        });
        let (created, group) = port_request::create_mapped(
            shared,
            &request,
            &options.service,
            placement.max_payload,
            PortKind::Publisher,
        )?;
        let key = PortKey::of(PortKind::Publisher, &created);
        let index = created.port_index;
        let port = Mapped::find(&owner, &group, |g| g.control().publisher(index).ok_or(()));
        let control = port.as_ref().ok().map(|p| &p.get().control);
        port_request::check_owned(shared, key, control)?;
        let Ok(port) = port else {
            return Err(PortRequestError::InvalidPort { index }.into());
        };
        let Ok(pools) = Mapped::find(&owner, &group, |g| g.writable_pools().ok_or(())) else {
            port_request::remove(shared, key);
            return Err(PortRequestError::InvalidPort { index }.into());
        };
        let pool = port.get().control.settings().mempool;
        let layout = pools
            .get()
            .manager()
            .layout()
            .pools()
            .get(pool as usize)
            .copied();
        let count = Mapped::find(&owner, &group, |g| g.pool_count(pool).ok_or(()));
        let fits = layout.is_some_and(|l| l.chunk_size() >= placement.chunk_bytes());
        let (true, Ok(count)) = (fits, count) else {
            port_request::remove(shared, key);
            return Err(PortRequestError::InvalidPort { index }.into());
        };
        let spec = PayloadSpec {
            size: placement.max_payload,
            align: info.align,
            user_header_size: options.user_header.size,
            origin_port: index,
            origin_generation: key.generation,
        };
        let status = Arc::new(PortStatus::new(key, None));
        shared.add_port(&status);
        // The port quota needs checking only if loans and history can reach it.
        let most = options.max_loans.saturating_add(options.history);
        let port_limit = count.get().port_limit().filter(|&quota| most > quota);
        let keeps_history = options.history > 0;
        let port = Arc::new(SharedPort::new(
            port,
            pools,
            status,
            count,
            pool,
            keeps_history,
        ));
        // Only here does another thread get to the port (`state_cell`).
        if keeps_history {
            shared.history().add(key, &port);
        }
        Ok(Self {
            shared: port,
            port_limit,
            spec,
            payload_offset: placement.payload_offset,
            loans: SlotMask::new(options.max_loans),
            history_held: Cell::new(0),
            sequence: Cell::new(sequence),
            publish_timeout: options.publish_timeout,
            on_publish_timeout: options.on_publish_timeout,
            options,
        })
    }
}

/// Where a publisher's samples lie in its chunks.
struct Placement {
    /// The payload's offset from the chunk start (after the user header).
    payload_offset: u32,
    /// The largest payload in bytes (a slice of the longest length).
    max_payload: u32,
}

impl Placement {
    fn of(options: &PublisherOptions) -> Result<Self, CreatePortReason> {
        let unsupported = |e| CreatePortReason::UnsupportedAlignment(PoolSelectError::Align(e));
        payload_offset(options.user_header.align).map_err(unsupported)?;
        let info = options.type_info;
        let payload_offset =
            payload_offset_after(options.user_header.size, info.align).map_err(unsupported)?;
        let elements = u64::from(options.max_slice_len.max(1));
        let max_payload = u32::try_from(u64::from(info.size) * elements).unwrap_or(u32::MAX);
        Ok(Self {
            payload_offset,
            max_payload,
        })
    }

    /// The bytes after the chunk header a sample needs at most (saturated:
    /// no chunk holds `u32::MAX`).
    fn chunk_bytes(&self) -> u32 {
        (self.payload_offset - CHUNK_HEADER_SIZE).saturating_add(self.max_payload)
    }
}

impl PortCore for PublisherCore {
    const KIND: PortKind = PortKind::Publisher;

    fn owner(&self) -> &PortOwner {
        self.runtime()
    }

    fn revoked(&self) -> Option<RevokeReason> {
        self.status().revoked()
    }

    fn service(&self) -> ServiceDescription {
        self.options.service
    }

    fn index(&self) -> u32 {
        PublisherCore::index(self)
    }

    /// The sequence numbers go on where this core's stopped.
    fn recreate(&self) -> Result<Self, CreatePortReason> {
        Self::create(
            self.runtime().lifecycle(),
            self.options,
            self.sequence.get(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(shape: PayloadShape, max_slice_len: u32) -> PublisherOptions {
        PublisherOptions {
            service: ServiceDescription::new("Test", "Loan", "Bytes").expect("a valid name"),
            type_info: TypeInfo::of::<u16>(),
            shape,
            max_slice_len,
            user_header: TypeInfo::of::<()>(),
            description: &TypeDescription::Opaque,
            history: 0,
            max_loans: 1,
            publish_timeout: Duration::ZERO,
            on_publish_timeout: PublishTimeout::DropForSubscriber,
        }
    }

    #[test]
    fn element_and_byte_lengths_are_checked_against_the_type() {
        let sized = options(PayloadShape::Sized, 0);
        assert_eq!(sized.loan_bytes(1, 2), Ok(2));
        assert_eq!(sized.loan_bytes(2, 1), Ok(2));
        assert_eq!(
            sized.loan_bytes(0, 2),
            Err(LoanError::PayloadSize {
                bytes: 0,
                type_size: 2
            })
        );
        let slice = options(PayloadShape::Slice, 4);
        assert_eq!(slice.loan_bytes(4, 2), Ok(8));
        assert_eq!(slice.loan_bytes(0, 1), Ok(0));
        assert_eq!(
            slice.loan_bytes(5, 2),
            Err(LoanError::SliceTooLong { len: 5, max: 4 })
        );
        assert_eq!(
            slice.loan_bytes(7, 1),
            Err(LoanError::PayloadSize {
                bytes: 7,
                type_size: 2
            })
        );
    }

    #[test]
    fn lengths_beyond_any_chunk_are_refused_for_what_they_are() {
        let sized = options(PayloadShape::Sized, 0);
        let huge = usize::MAX - 1;
        assert_eq!(
            sized.loan_bytes(huge, 1),
            Err(LoanError::PayloadSize {
                bytes: huge,
                type_size: 2
            })
        );
        let slice = options(PayloadShape::Slice, 4);
        assert_eq!(
            slice.loan_bytes(huge, 1),
            Err(LoanError::SliceTooLong {
                len: huge / 2,
                max: 4
            })
        );
        assert_eq!(
            slice.loan_bytes(usize::MAX, 2),
            Err(LoanError::SliceTooLong {
                len: usize::MAX,
                max: 4
            })
        );
    }
}
