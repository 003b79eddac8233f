//! The error types of this crate, one enum per family of operations.
//!
//! Every error carries the `errno` the kernel returned (as [`Errno`],
//! re-exported from `rustix`) together with the name or path of the object
//! the call was about, and prints as one log line that needs no context:
//!
//! ```text
//! cannot create shared memory /zerocp.test.mgmt: file exists (EEXIST)
//! cannot connect to /run/zerocp/x.sock: no such file or directory (ENOENT); is the daemon running (and in this domain)?
//! ```
//!
//! `source()` returns the [`Errno`] when a system call failed. Callers that
//! build their own messages render an errno the same way with [`ErrnoText`].

mod errno;
mod event;
mod memory;
mod names;
mod process;
mod socket;
mod wake_socket;

pub use errno::ErrnoText;
pub use event::{DirWatchError, FutexError, PollError, WakeupError};
pub use memory::{MapError, ShmError};
pub use names::{NameError, NameKind, RunDirError, RunDirProblem};
pub use process::{AffinityError, LockError, PidFdError};
pub use rustix::io::Errno;
pub use socket::SocketError;
pub use wake_socket::WakeSocketError;
