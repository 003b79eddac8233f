//! Process liveness through pidfds.
//!
//! The daemon opens a [`PidFd`] for each registered process (from the pid
//! `SO_PEERCRED` reported, never from a message) and adds it to its epoll
//! set: the descriptor becomes readable the moment the process exits, so a
//! crash is seen at once. Unlike a bare pid, a pidfd cannot be fooled by pid
//! reuse: it refers to the process it was opened for, for good.
//!
//! Needs Linux 5.3 (`pidfd_open`); older kernels fail with `ENOSYS`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::process::{Pid, PidfdFlags};

use crate::error::{Errno, PidFdError};

/// A descriptor referring to one process.
///
/// ```
/// use zerocp_os_linux::pidfd::PidFd;
/// let me = PidFd::open(std::process::id())?;
/// assert!(!me.wait_exit(Some(std::time::Duration::ZERO))?); // still running
/// assert_eq!(me.pid(), std::process::id());
/// # Ok::<(), zerocp_os_linux::error::PidFdError>(())
/// ```
#[derive(Debug)]
pub struct PidFd {
    fd: OwnedFd,
    pid: u32,
}

impl PidFd {
    /// Opens a pidfd for process `pid` (`ESRCH` if there is none).
    pub fn open(pid: u32) -> Result<Self, PidFdError> {
        let raw = to_pid(pid).ok_or(PidFdError::InvalidPid { pid })?;
        let fd = rustix::process::pidfd_open(raw, PidfdFlags::empty())
            .map_err(|errno| PidFdError::Open { pid, errno })?;
        Ok(Self { fd, pid })
    }

    /// The process id this refers to.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits until the process exits, at most `timeout` (`None`: no limit;
    /// zero: just look); returns whether it has exited.
    pub fn wait_exit(&self, timeout: Option<Duration>) -> Result<bool, PidFdError> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            // A pidfd polls readable once its process has exited.
            match rustix::event::poll(&mut fds, left.map(crate::clock::timespec).as_ref()) {
                Ok(0) => return Ok(false),
                Ok(_) => return Ok(true),
                Err(Errno::INTR) => continue,
                Err(errno) => {
                    return Err(PidFdError::Poll {
                        pid: self.pid,
                        errno,
                    });
                }
            }
        }
    }
}

impl PidFd {
    /// Sends `SIGKILL` to the process through its pidfd: unlike `kill(pid)`,
    /// this cannot hit another process that reused the pid after an exit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use zerocp_os_linux::pidfd::PidFd;
    /// let mut child = std::process::Command::new("sleep").arg("600").spawn()?;
    /// let pidfd = PidFd::open(child.id())?;
    /// pidfd.kill()?;
    /// assert!(pidfd.wait_exit(Some(Duration::from_secs(60)))?);
    /// child.wait()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kill(&self) -> Result<(), PidFdError> {
        rustix::process::pidfd_send_signal(&self.fd, rustix::process::Signal::KILL).map_err(
            |errno| PidFdError::Signal {
                pid: self.pid,
                errno,
            },
        )
    }
}

impl AsFd for PidFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// `pid` as a kernel pid, if it is one (1..=i32::MAX).
fn to_pid(pid: u32) -> Option<Pid> {
    Pid::from_raw(i32::try_from(pid).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_pids_are_rejected() {
        assert_eq!(
            PidFd::open(0).unwrap_err(),
            PidFdError::InvalidPid { pid: 0 }
        );
        assert_eq!(
            PidFd::open(u32::MAX).unwrap_err(),
            PidFdError::InvalidPid { pid: u32::MAX }
        );
    }

    #[test]
    fn missing_process_is_esrch() {
        // pid_max is at most 2^22, so this pid never exists.
        let pid = (1 << 22) + 1;
        let err = PidFd::open(pid).unwrap_err();
        assert_eq!(
            err,
            PidFdError::Open {
                pid,
                errno: Errno::SRCH
            }
        );
        assert_eq!(
            err.to_string(),
            format!("cannot open pidfd of process {pid}: no such process (ESRCH)")
        );
    }

    #[test]
    fn live_process_times_out() {
        let me = PidFd::open(std::process::id()).unwrap();
        let start = Instant::now();
        assert!(!me.wait_exit(Some(Duration::from_millis(20))).unwrap());
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
