//! # zerocp-os-linux
//!
//! The Linux system calls ZeroCP needs, as thin typed wrappers over `rustix`
//! (raw syscalls through its `linux_raw` backend, no libc):
//!
//! | module | owns |
//! |---|---|
//! | [`names`] | domain names, segment names, a domain's paths |
//! | [`run_dir`] | where the control socket and lock file live |
//! | [`shm`] | shared-memory segments: sealed memory files, committed at creation |
//! | [`mmap`] | mappings of those segments (RAII) |
//! | [`seqpacket`] | the control plane's `SOCK_SEQPACKET` Unix sockets, passing segment descriptors |
//! | [`control_client`] | the client end of the control protocol: requests and replies |
//! | [`backoff`] | jittered, capped waits before connecting again after a refusal for room |
//! | [`futex`] | process-shared futex wait/wake on words in shared memory |
//! | [`lockfile`] | the daemon's per-domain `flock` lock file |
//! | [`pidfd`] | process liveness through pidfds |
//! | [`poller`] | an epoll event loop for the daemon |
//! | [`wakeup`] | an eventfd to wake that loop from another thread |
//! | [`wake_socket`] | a receiving port's wake descriptor: a socket pair whose senders can never block |
//! | [`dir_watch`] | inotify: a name appearing in a directory (a restarted daemon's socket) |
//! | [`clock`] | `CLOCK_MONOTONIC` readings comparable across processes |
//! | [`affinity`] | pinning threads to CPUs (benchmarks, real-time users) |
//! | [`error`] | one error enum per family, each naming the object and errno |
//! | `testing` | feature `test-support`: helpers for ZeroCP's own tests |
//!
//! Every descriptor is opened close-on-exec. Errors carry the kernel's errno
//! and the name of the object involved; nothing here panics on bad input.
//!
//! `rustix` covers every call used here, so the crate does not depend on
//! `linux-raw-sys` directly (rustix itself is built on it).

pub mod affinity;
pub mod backoff;
pub mod clock;
pub mod control_client;
pub mod dir_watch;
pub mod error;
pub mod futex;
pub mod lockfile;
pub mod mmap;
pub mod names;
pub mod pidfd;
pub mod poller;
pub mod run_dir;
pub mod seqpacket;
pub mod shm;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod wake_socket;
pub mod wakeup;

pub use names::{DomainName, DomainPaths, SegmentName};
