//! # zerocp-os-linux
//!
//! The Linux system calls ZeroCP needs, as thin typed wrappers over `rustix`
//! (raw syscalls, no libc).
