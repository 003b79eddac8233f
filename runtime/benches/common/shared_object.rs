//! The shared object of a `floor` case: what every baseline of the
//! benches (`floor`, `floor-lines`, `floor-chain` of `latency`,
//! `floor-stream` of `throughput`) does the same way. The parent creates
//! the object (a memory file without a name, so a killed run leaves nothing
//! in `/dev/shm`) and maps it populated ([`map_populated`]), starts the
//! child with the object's descriptor number ([`spawn_on`]), and the child
//! opens the parent's object through `/proc` ([`open_parents`]), the way to
//! reach a descriptor of another process.

use std::os::fd::{AsFd, AsRawFd};

use zerocp_os_linux::mmap::{MapOptions, Mapping};
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::open_segment_of;

use crate::common::error::{BenchError, Context};
use crate::common::process::{Cpus, RoleArgs, RoleChild, spawn_role};

/// Maps `shm` writable, its pages populated (a `floor` case's object).
pub fn map_populated(shm: &SharedMemory) -> Result<Mapping, BenchError> {
    MapOptions::new()
        .writable(true)
        .populate(true)
        .map(shm)
        .os(|| format!("mapping {}", shm.name()))
}

/// A child's side of a `floor` case: opens the parent's object `name`
/// through the descriptor the options `pid` and `fd` name.
pub fn open_parents(args: &RoleArgs, name: &str) -> Result<SharedMemory, BenchError> {
    let name = SegmentName::new(name).map_err(|e| BenchError::Usage(e.to_string()))?;
    let number = |key| -> Result<i32, BenchError> {
        args.get(key)?
            .parse()
            .map_err(|e| BenchError::Usage(format!("--{key}: {e}")))
    };
    let (pid, fd) = (number("pid")?, number("fd")?);
    open_segment_of(pid.unsigned_abs(), fd, name.clone(), true)
        .os(|| format!("opening {name} of process {pid}"))
}

/// Starts the child `role` on `shm` (its descriptor passed by number,
/// opened through `/proc`) and waits for its `ready`.
pub fn spawn_on(role: &str, cpus: Cpus, shm: &SharedMemory) -> Result<RoleChild, BenchError> {
    let mut opts = cpus.child_opts();
    opts.push(("pid", std::process::id().to_string()));
    opts.push(("fd", shm.as_fd().as_raw_fd().to_string()));
    let mut child = spawn_role(role, &opts)?;
    child.expect_line("ready")?;
    Ok(child)
}
