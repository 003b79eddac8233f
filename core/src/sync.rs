//! Atomic and cell types used by every lock-free structure of this crate.
//!
//! Normal builds take 64-bit atomics from `portable-atomic`, so 32-bit and
//! bare-metal targets work (pick `critical-section` or
//! `unsafe-assume-single-core` on targets without native 64-bit atomics).
//! Under `--cfg loom` the same names resolve to loom's model-checked types, so
//! the loom models exercise the production code, not a copy of it.

#[cfg(not(loom))]
pub use core::sync::atomic::{AtomicU32, Ordering, fence};
#[cfg(not(loom))]
pub use portable_atomic::AtomicU64;

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

/// Interior-mutability cell for lock-free structures that own plain (non-atomic) memory.
///
/// Under `--cfg loom` this is loom's `UnsafeCell`, which checks every access
/// for data races. Otherwise it is a zero-cost, `#[repr(transparent)]` wrapper
/// of [`core::cell::UnsafeCell`] with the same `with`/`with_mut` interface, so
/// an array of cells has exactly the layout of an array of `T`.
pub mod cell {
    #[cfg(loom)]
    pub use loom::cell::UnsafeCell;

    /// A [`core::cell::UnsafeCell`] with loom's closure-based access interface.
    #[cfg(not(loom))]
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        pub const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        /// Calls `f` with a read pointer to the contents.
        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a write pointer to the contents.
        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}
