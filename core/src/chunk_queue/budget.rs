//! Crash injection: how many accesses to the queue's shared memory an
//! operation may make before it stops for good, as if its process had been
//! killed there.
//!
//! Real operations run with [`Unlimited`], whose stop type is uninhabited, so
//! every check compiles away. Tests drive [`StopAfter`] through the
//! `abandon_*_after` methods of [`ChunkQueue`](super::ChunkQueue).

use core::convert::Infallible;

/// Decides whether an operation may make its next shared-memory access.
pub(super) trait Budget {
    /// Why the operation stopped ([`Infallible`] for real operations).
    type Stop;

    /// Called before every load, CAS or store on a position or cell.
    fn step(&mut self) -> Result<(), Self::Stop>;
}

/// Never stops: the budget of every real operation.
pub(super) struct Unlimited;

impl Budget for Unlimited {
    type Stop = Infallible;

    #[inline(always)]
    fn step(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Allows this many more accesses, then stops.
pub(super) struct StopAfter(pub(super) u32);

/// The operation was stopped before it finished.
pub(super) struct Stopped;

impl Budget for StopAfter {
    type Stop = Stopped;

    fn step(&mut self) -> Result<(), Stopped> {
        self.0 = self.0.checked_sub(1).ok_or(Stopped)?;
        Ok(())
    }
}
