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

#[cfg(test)]
extern crate std;

pub mod cache_padded;
pub mod chunk_header;
pub mod chunk_queue;
pub mod discovery;
pub mod event;
pub mod fixed_string;
pub mod freelist;
pub mod group_control;
pub mod heartbeat;
pub mod history_ring;
pub mod listener_port;
pub mod mempool;
pub mod mempool_manager;
pub mod mgmt;
pub mod notify_word;
pub mod port;
pub mod prefetch;
pub mod refcount;
pub mod seqlock;
pub mod service;
pub mod spsc_ring;
pub mod sync;
pub mod type_layout;
pub mod used_chunk_list;
pub mod wake_protocol;
pub mod wire;
pub mod word_repair;
