//! # zerocp-core
//!
//! Everything the ZeroCP daemon and the applications must agree on, in one
//! `#![no_std]` crate that never allocates: the shared-memory layout, the
//! lock-free structures that live in it, and the control-plane wire format.
//!
//! Every type that is placed in shared memory is `#[repr(C)]`, contains no
//! pointers and no `usize`, and has the same size and alignment on 32- and
//! 64-bit targets (asserted at compile time next to each type).
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
extern crate std;

pub mod sync;
