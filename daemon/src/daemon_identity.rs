//! [`DaemonIdentity`]: who this daemon is, fixed at start: its pid, uid and
//! epoch, when it started, the domain it serves and the sizes of the memory
//! it created. [`ControlPlane`](crate::control_plane::ControlPlane) holds
//! it (re-exported as `control_plane::DaemonIdentity`); registration
//! replies and the `status` answer are made from it.

use zerocp_os_linux::names::DomainName;

/// What the daemon tells runtimes at registration and shows in `status`.
#[derive(Debug, Clone)]
pub struct DaemonIdentity {
    /// The daemon's pid.
    pub pid: u32,
    /// The daemon's uid (allowed to connect besides root and the configured ones).
    pub uid: u32,
    /// Distinguishes daemon starts (nanoseconds since the Unix epoch at start).
    pub epoch: u64,
    /// `CLOCK_MONOTONIC` ms at start.
    pub started_ms: u64,
    /// Size of the mgmt segment.
    pub mgmt_size: u64,
    /// The domain served (names every process's heartbeat file).
    pub domain: DomainName,
    /// Size of every group's control part, summed.
    pub control_size: u64,
    /// Size of every group's payload part, summed.
    pub data_size: u64,
}
