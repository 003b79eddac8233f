//! Rendering of kernel error numbers as `description (SYMBOL)`, the form
//! every error message of this crate ends with.

use std::fmt;

use super::Errno;

/// Displays an [`Errno`] as `lower-case description (SYMBOL)`, e.g.
/// `no such file or directory (ENOENT)`.
///
/// ```
/// use zerocp_os_linux::error::{Errno, ErrnoText};
/// assert_eq!(ErrnoText(Errno::EXIST).to_string(), "file exists (EEXIST)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrnoText(pub Errno);

/// Symbol and description of the errnos ZeroCP's system calls can return.
const ERRNO_TABLE: &[(Errno, &str, &str)] = &[
    (Errno::PERM, "EPERM", "operation not permitted"),
    (Errno::NOENT, "ENOENT", "no such file or directory"),
    (Errno::SRCH, "ESRCH", "no such process"),
    (Errno::INTR, "EINTR", "interrupted system call"),
    (Errno::IO, "EIO", "input/output error"),
    (Errno::BADF, "EBADF", "bad file descriptor"),
    (Errno::AGAIN, "EAGAIN", "resource temporarily unavailable"),
    (Errno::NOMEM, "ENOMEM", "cannot allocate memory"),
    (Errno::ACCESS, "EACCES", "permission denied"),
    (Errno::FAULT, "EFAULT", "bad address"),
    (Errno::BUSY, "EBUSY", "device or resource busy"),
    (Errno::EXIST, "EEXIST", "file exists"),
    (Errno::NOTDIR, "ENOTDIR", "not a directory"),
    (Errno::ISDIR, "EISDIR", "is a directory"),
    (Errno::INVAL, "EINVAL", "invalid argument"),
    (Errno::NFILE, "ENFILE", "too many open files in system"),
    (Errno::MFILE, "EMFILE", "too many open files"),
    (Errno::FBIG, "EFBIG", "file too large"),
    (Errno::NOSPC, "ENOSPC", "no space left on device"),
    (Errno::ROFS, "EROFS", "read-only file system"),
    (Errno::PIPE, "EPIPE", "broken pipe"),
    (Errno::NAMETOOLONG, "ENAMETOOLONG", "file name too long"),
    (Errno::NOSYS, "ENOSYS", "function not implemented"),
    (Errno::LOOP, "ELOOP", "too many levels of symbolic links"),
    (
        Errno::OVERFLOW,
        "EOVERFLOW",
        "value too large for defined data type",
    ),
    (Errno::NOTSOCK, "ENOTSOCK", "socket operation on non-socket"),
    (Errno::MSGSIZE, "EMSGSIZE", "message too long"),
    (
        Errno::PROTOTYPE,
        "EPROTOTYPE",
        "protocol wrong type for socket",
    ),
    (Errno::OPNOTSUPP, "EOPNOTSUPP", "operation not supported"),
    (Errno::ADDRINUSE, "EADDRINUSE", "address already in use"),
    (Errno::NOBUFS, "ENOBUFS", "no buffer space available"),
    (
        Errno::CONNABORTED,
        "ECONNABORTED",
        "software caused connection abort",
    ),
    (Errno::CONNRESET, "ECONNRESET", "connection reset by peer"),
    (
        Errno::NOTCONN,
        "ENOTCONN",
        "transport endpoint is not connected",
    ),
    (Errno::TIMEDOUT, "ETIMEDOUT", "connection timed out"),
    (Errno::CONNREFUSED, "ECONNREFUSED", "connection refused"),
    (Errno::DQUOT, "EDQUOT", "disk quota exceeded"),
    (Errno::NOLCK, "ENOLCK", "no locks available"),
];

impl ErrnoText {
    /// The errno's symbolic name (`"EEXIST"`), if it is one ZeroCP expects.
    pub fn symbol(self) -> Option<&'static str> {
        ERRNO_TABLE
            .iter()
            .find(|(e, _, _)| *e == self.0)
            .map(|&(_, s, _)| s)
    }
}

impl fmt::Display for ErrnoText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ERRNO_TABLE.iter().find(|(e, _, _)| *e == self.0) {
            Some((_, symbol, text)) => write!(f, "{text} ({symbol})"),
            None => write!(f, "os error {}", self.0.raw_os_error()),
        }
    }
}
