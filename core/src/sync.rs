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
