//! # zerocp
//!
//! Zero-copy publish/subscribe over shared memory.
