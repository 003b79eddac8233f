//! # zerocp-os-linux
//!
//! The Linux system calls ZeroCP needs, as thin typed wrappers over `rustix`
//! (raw syscalls through its `linux_raw` backend, no libc):
//!
//! | module | owns |
//! |---|---|
//! | [`names`] | domain names, shared-memory names, a domain's paths (DESIGN §2) |
//! | [`run_dir`] | where the control socket and lock file live |
//! | [`shm`] | POSIX shared-memory objects, committed at creation |
//! | [`mmap`] | mappings of those objects (RAII) |
//! | [`seqpacket`] | the control plane's `SOCK_SEQPACKET` Unix sockets |
//! | [`lockfile`] | the daemon's per-domain `flock` lock file |
//! | [`pidfd`] | process liveness through pidfds |
//! | [`clock`] | `CLOCK_MONOTONIC` readings comparable across processes |
//! | [`error`] | one error enum per family, each naming the object and errno |
//!
//! Every descriptor is opened close-on-exec. Errors carry the kernel's errno
//! and the name of the object involved; nothing here panics on bad input.

pub mod clock;
pub mod error;
pub mod lockfile;
pub mod mmap;
pub mod names;
pub mod pidfd;
pub mod run_dir;
pub mod seqpacket;
pub mod shm;

pub use names::{DomainName, DomainPaths, ShmName};
