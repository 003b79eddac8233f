//! Creating a subscriber's core: [`SubscriberOptions`] (what the builder
//! collected, kept for re-attaching) and [`SubscriberCore::create`], the
//! one piece of code that asks the daemon for the port and sets the core up
//! on it, used by [`SubscriberBuilder::create`](crate::SubscriberBuilder::create)
//! and by re-attaching after a daemon restart ([`crate::port_cell`]).

use std::sync::Arc;

use zerocp_core::chunk_header::{payload_offset, payload_offset_after};
use zerocp_core::mempool::PoolSelectError;
use zerocp_core::port::{FullPolicy, MAX_HELD, MAX_HISTORY, MAX_QUEUE_CAPACITY};
use zerocp_core::service::{ServiceDescription, TypeInfo};
use zerocp_core::type_layout::{TypeDescription, TypeLayout};
use zerocp_core::wire::{CreateSubscriber, Message, PayloadShape, PortKind, RevokeReason};

use super::SubscriberCore;
use crate::adaptive_spin::AdaptiveSpin;
use crate::error::{CreatePortReason, PortRequestError, check_option};
use crate::lifecycle::Lifecycle;
use crate::mapped::Mapped;
use crate::payload::PayloadLayout;
use crate::port_cell::PortCore;
use crate::port_owner::PortOwner;
use crate::port_request;
use crate::port_status::{PortKey, PortStatus};
use crate::slots::SlotMask;

/// A subscriber's options, as created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SubscriberOptions {
    pub(crate) service: ServiceDescription,
    pub(crate) type_info: TypeInfo,
    pub(crate) shape: PayloadShape,
    pub(crate) user_header: TypeInfo,
    /// How the payload type (a slice's element) describes its bytes.
    pub(crate) description: &'static TypeDescription,
    /// Whether a sample's length is its payload's bytes (a byte view of
    /// the declared type, for untyped clients and servers) rather than its
    /// elements.
    pub(crate) as_bytes: bool,
    pub(crate) queue_capacity: u32,
    pub(crate) full_policy: FullPolicy,
    pub(crate) history: u32,
    pub(crate) max_held: u32,
    pub(crate) wait_spins: u32,
}

impl SubscriberCore {
    /// Creates the port `options` describe on `lifecycle`'s current
    /// registration.
    pub(crate) fn create(
        lifecycle: &Arc<Lifecycle>,
        options: SubscriberOptions,
    ) -> Result<Self, CreatePortReason> {
        check_option(
            "queue_capacity",
            options.queue_capacity,
            1,
            MAX_QUEUE_CAPACITY as u32,
        )?;
        check_option("history", options.history, 0, MAX_HISTORY as u32)?;
        check_option("max_held", options.max_held, 1, MAX_HELD as u32)?;
        let info = options.type_info;
        let unsupported = |e| CreatePortReason::UnsupportedAlignment(PoolSelectError::Align(e));
        payload_offset(options.user_header.align).map_err(unsupported)?;
        let payload_offset =
            payload_offset_after(options.user_header.size, info.align).map_err(unsupported)?;
        let owner = PortOwner::current(lifecycle);
        let shared = owner.registration();
        let request = Message::CreateSubscriber(CreateSubscriber {
            service: options.service,
            type_info: info,
            queue_capacity: options.queue_capacity,
            full_policy: options.full_policy,
            history_request: options.history,
            max_held: options.max_held,
            shape: options.shape,
            user_header: options.user_header,
            layout: TypeLayout::describe(options.description, info.size),
        });
        let (created, group) = port_request::create_mapped(
            shared,
            &request,
            &options.service,
            info.size,
            PortKind::Subscriber,
        )?;
        let key = PortKey::of(PortKind::Subscriber, &created);
        let index = created.port_index;
        let port = Mapped::find(&owner, &group, |g| g.control().subscriber(index).ok_or(()));
        let control = port.as_ref().ok().map(|p| &p.get().control);
        port_request::check_owned(shared, key, control)?;
        let Ok(port) = port else {
            return Err(PortRequestError::InvalidPort { index }.into());
        };
        let pools = Mapped::find(&owner, &group, |g| g.read_only_pools().ok_or(()));
        let pool = port.get().control.settings().mempool;
        let count = Mapped::find(&owner, &group, |g| g.pool_count(pool).ok_or(()));
        let (Ok(pools), Ok(count)) = (pools, count) else {
            port_request::remove(shared, key);
            return Err(PortRequestError::InvalidPort { index }.into());
        };
        let status = Arc::new(PortStatus::new(key, Some(Arc::downgrade(&group))));
        shared.add_port(&status);
        let control = &port.get().control;
        let blocks = control.policy() == FullPolicy::BlockPublisher;
        let most = control.capacity().saturating_add(options.max_held);
        // A slice subscriber's pool is not its publishers' (docs/architecture.md,
        // "Slices and user headers"): they may bound it by theirs, so it
        // always reports its held count.
        let bounded = options.shape == PayloadShape::Slice
            || count.get().port_limit().is_some_and(|quota| most > quota);
        // Its taken samples alone reach the port quota only past it.
        let port_limit = count
            .get()
            .port_limit()
            .filter(|&quota| options.max_held > quota);
        let senders_seen = std::cell::Cell::new(port.get().control.senders_gone());
        Ok(Self {
            port,
            pools,
            status,
            count,
            index,
            payload_offset,
            layout: PayloadLayout {
                shape: options.shape,
                element_size: info.size,
            },
            held: SlotMask::new(options.max_held),
            spin: AdaptiveSpin::new(options.wait_spins),
            bounded,
            port_limit,
            blocks_publishers: blocks,
            options,
            wake_fd: std::cell::OnceCell::new(),
            senders_seen,
        })
    }
}

impl PortCore for SubscriberCore {
    const KIND: PortKind = PortKind::Subscriber;

    fn owner(&self) -> &PortOwner {
        self.runtime()
    }

    fn revoked(&self) -> Option<RevokeReason> {
        self.status.revoked()
    }

    fn service(&self) -> ServiceDescription {
        self.options.service
    }

    fn index(&self) -> u32 {
        self.index
    }

    /// The same port, armed again with this one's wake descriptor (if
    /// it was armed: a failure is logged, the port still works without).
    fn recreate(&self) -> Result<Self, CreatePortReason> {
        let new = Self::create(self.runtime().lifecycle(), self.options)?;
        if let Some(fd) = self.wake_fd.get()
            && let Err(e) = new.arm(fd)
        {
            log::warn!("subscriber port {}: not armed again: {e}", new.index);
        }
        Ok(new)
    }
}
