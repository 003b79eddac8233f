//! A subscriber's data path: take, hold, release, wait.
//!
//! [`SubscriberCore`] is the type-erased part of a `Subscriber<T>`:
//!
//! - **take**: a free held-slot (process-local mask, the `max_held` limit),
//!   pop the queue, check the chunk (index in range, header consistent with
//!   its pool, payload size the port's), record it in the port's `held` list
//!   before the application sees it; under the block-publisher policy, wake
//!   publishers waiting for space (a fence and a load when none waits);
//! - **release** (a sample dropped): unlist, then drop the reference;
//! - **wait**: sleep on the port's futex word until the queue is non-empty
//!   (see [`crate::wait`]).

use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zerocp_core::port::SubscriberPort;

use crate::adaptive_spin::AdaptiveSpin;
use crate::error::{TakeError, WaitError};
use crate::runtime::RuntimeInner;
use crate::slots::SlotMask;
use crate::wait::{WaitEnd, wait_for_data, wake_blocked_publishers};

/// A taken chunk: its held-slot, global index and payload address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Taken {
    pub(crate) slot: u32,
    pub(crate) chunk: u32,
    pub(crate) payload: NonNull<u8>,
    pub(crate) sequence: u64,
    pub(crate) origin: u32,
}

/// The type-erased state of a subscriber port.
pub(crate) struct SubscriberCore {
    rt: Arc<RuntimeInner>,
    /// Valid while `rt` is (it keeps the mapping alive).
    port: &'static SubscriberPort,
    index: u32,
    payload_size: u32,
    held: SlotMask,
    spin: AdaptiveSpin,
    blocks_publishers: bool,
}

impl SubscriberCore {
    /// Wraps subscriber port `index` (checked by the caller: active, owned
    /// by this process) receiving payloads of `payload_size` bytes.
    pub(crate) fn new(
        rt: Arc<RuntimeInner>,
        port: &'static SubscriberPort,
        index: u32,
        payload_size: u32,
        (max_held, wait_spins): (u32, u32),
        blocks_publishers: bool,
    ) -> Self {
        Self {
            rt,
            port,
            index,
            payload_size,
            held: SlotMask::new(max_held),
            spin: AdaptiveSpin::new(wait_spins),
            blocks_publishers,
        }
    }

    /// The runtime this port belongs to.
    pub(crate) fn runtime(&self) -> &Arc<RuntimeInner> {
        &self.rt
    }

    /// The port index.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// The port in shared memory.
    pub(crate) fn port(&self) -> &SubscriberPort {
        self.port
    }

    /// Takes the oldest queued sample, if any.
    pub(crate) fn take(&self) -> Result<Option<Taken>, TakeError> {
        if self.rt.shared().is_gone() {
            return Err(TakeError::DaemonGone);
        }
        let Some(slot) = self.held.take() else {
            return if self.port.queue.is_empty() {
                Ok(None)
            } else {
                Err(TakeError::TooManyHeld {
                    max: self.held.limit(),
                })
            };
        };
        let Some(chunk) = self.port.queue.pop() else {
            self.held.give(slot);
            return Ok(None);
        };
        if self.blocks_publishers
            && let Err(e) = wake_blocked_publishers(self.port)
        {
            log::warn!("subscriber port {}: {e}", self.index);
        }
        let result = self.hold(slot, chunk);
        if result.is_err() {
            self.held.give(slot);
        }
        result.map(Some)
    }

    /// Checks `chunk` and records it in `held[slot]`.
    fn hold(&self, slot: u32, chunk: u32) -> Result<Taken, TakeError> {
        let pools = self.rt.shared().segments().pools();
        let corrupt = |reason| TakeError::CorruptChunk {
            index: chunk,
            reason,
        };
        let Some(header) = pools.chunk(chunk) else {
            // Not a chunk: there is nothing to release.
            return Err(corrupt("index outside the data segment"));
        };
        if self.port.held.record(slot, chunk).is_err() {
            self.release(chunk);
            return Err(corrupt("held slot outside the port's list"));
        }
        let checked = pools
            .layout()
            .locate(chunk)
            .and_then(|(pool, _)| pools.layout().pools().get(pool))
            .ok_or("index outside every mempool")
            .and_then(|pool| {
                header
                    .validate(pool.stride())
                    .map_err(|_| "inconsistent chunk header")
            })
            .and_then(|range| {
                if range.size == self.payload_size {
                    Ok(range)
                } else {
                    Err("payload size differs from the port's type")
                }
            });
        let range = match checked {
            Ok(range) => range,
            Err(reason) => {
                self.unhold(slot, chunk);
                return Err(corrupt(reason));
            }
        };
        // SAFETY: `validate` checked offset + size <= the chunk's stride, and
        // `chunk()` resolved the header inside the mapped data segment, so the
        // payload lies inside the mapping; a pointer into it is non-null.
        let payload = unsafe {
            NonNull::from(header)
                .cast::<u8>()
                .add(range.offset as usize)
        };
        Ok(Taken {
            slot,
            chunk,
            payload,
            sequence: header.sequence(),
            origin: header.origin_port(),
        })
    }

    /// Gives a taken sample back: unlists it, then drops the reference.
    pub(crate) fn unhold(&self, slot: u32, chunk: u32) {
        self.port.held.clear(slot);
        self.held.give(slot);
        self.release(chunk);
    }

    fn release(&self, chunk: u32) {
        if let Err(e) = self.rt.shared().segments().pools().release(chunk) {
            log::error!("subscriber port {}: {e}", self.index);
        }
    }

    /// Sleeps until a sample is queued (`Ok(true)`) or `timeout` passes
    /// (`Ok(false)`); `None` waits without limit.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Result<bool, WaitError> {
        let shared = self.rt.shared();
        if shared.is_gone() {
            return Err(WaitError::DaemonGone);
        }
        // A zero timeout is a poll: no spinning.
        if timeout != Some(Duration::ZERO) && self.spin.spin_until(|| !self.port.queue.is_empty()) {
            return Ok(true);
        }
        let deadline = timeout.map(|t| Instant::now().checked_add(t).unwrap_or_else(far_future));
        match wait_for_data(self.port, deadline, || shared.is_gone()).map_err(WaitError::Futex)? {
            WaitEnd::Data => Ok(true),
            WaitEnd::TimedOut => Ok(false),
            WaitEnd::Gone => Err(WaitError::DaemonGone),
        }
    }
}

/// A deadline that never comes, for timeouts too long for `Instant`.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}
