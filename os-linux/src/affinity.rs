//! Pinning the calling thread to one CPU, for benchmarks and real-time
//! publishers/subscribers that must not migrate.

use rustix::thread::CpuSet;

use crate::error::AffinityError;

/// Pins the calling thread to CPU `cpu` (`sched_setaffinity`).
///
/// ```
/// use zerocp_os_linux::affinity::{allowed_cpus, set_cpu_affinity};
/// let cpus = allowed_cpus()?;
/// set_cpu_affinity(cpus[0])?;
/// assert_eq!(allowed_cpus()?, vec![cpus[0]]);
/// # Ok::<(), zerocp_os_linux::error::AffinityError>(())
/// ```
pub fn set_cpu_affinity(cpu: usize) -> Result<(), AffinityError> {
    if cpu >= CpuSet::MAX_CPU {
        return Err(AffinityError::CpuOutOfRange {
            cpu,
            max: CpuSet::MAX_CPU,
        });
    }
    let mut set = CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).map_err(|errno| AffinityError::Set { cpu, errno })
}

/// The CPUs the calling thread may run on, in ascending order.
pub fn allowed_cpus() -> Result<Vec<usize>, AffinityError> {
    let set =
        rustix::thread::sched_getaffinity(None).map_err(|errno| AffinityError::Get { errno })?;
    Ok((0..CpuSet::MAX_CPU)
        .filter(|&cpu| set.is_set(cpu))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_cpu_is_rejected() {
        assert_eq!(
            set_cpu_affinity(CpuSet::MAX_CPU),
            Err(AffinityError::CpuOutOfRange {
                cpu: CpuSet::MAX_CPU,
                max: CpuSet::MAX_CPU
            })
        );
    }

    #[test]
    fn pinning_restricts_and_restoring_works() {
        // In a thread of its own, so the test harness's threads keep theirs.
        std::thread::spawn(|| {
            let before = allowed_cpus().unwrap();
            assert!(!before.is_empty());
            let last = *before.last().unwrap();
            set_cpu_affinity(last).unwrap();
            assert_eq!(allowed_cpus().unwrap(), vec![last]);
        })
        .join()
        .unwrap();
    }
}
