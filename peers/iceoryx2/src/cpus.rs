//! The two CPUs a run uses and pinning to them (rustix).

use super::*;

/// The CPUs of the two sides: the publisher's and the subscribers'.
#[derive(Clone, Copy)]
pub(crate) struct Cpus {
    pub(crate) parent: usize,
    pub(crate) child: usize,
}

impl Cpus {
    /// The first two CPUs this process may use; with a single CPU both
    /// sides share it and the subscribers' busy-poll yields.
    pub(crate) fn pick() -> Res<Self> {
        let cpus = allowed_cpus()?;
        let (&parent, rest) = cpus
            .split_first()
            .ok_or("no CPU is allowed to this process")?;
        let child = rest.first().copied().unwrap_or(parent);
        if child == parent {
            eprintln!(
                "# WARNING: only CPU {parent} is available; both sides share it (busy-poll loops yield)"
            );
        }
        Ok(Self { parent, child })
    }

    pub(crate) fn shared(&self) -> bool {
        self.parent == self.child
    }
}

/// The CPUs in the calling thread's affinity mask, ascending.
pub(crate) fn allowed_cpus() -> Res<Vec<usize>> {
    let set = sched_getaffinity(None).map_err(|e| format!("sched_getaffinity: {e}"))?;
    Ok((0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect())
}

/// Pins the calling thread (and threads it starts later) to `cpu`.
pub(crate) fn pin(cpu: usize) -> Res<()> {
    // `CpuSet::set` panics on a CPU beyond the set's capacity (`--cpu` of
    // a hand-started subscriber role).
    if cpu >= CpuSet::MAX_CPU {
        return Err(format!(
            "pinning to CPU {cpu}: beyond the {} CPUs an affinity mask holds",
            CpuSet::MAX_CPU
        ));
    }
    let mut set = CpuSet::new();
    set.set(cpu);
    sched_setaffinity(None, &set).map_err(|e| format!("pinning to CPU {cpu}: {e}"))
}

// ---------------------------------------------------------------------------
// iceoryx2 setup
