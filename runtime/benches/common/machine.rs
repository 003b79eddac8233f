//! The machine the numbers come from: whether it was idle around the run
//! (busy-poll cases need both CPUs; anything else runnable preempts a
//! spinner for whole scheduler ticks), as the peer's `run.sh` checks.

use std::time::Duration;

/// (busy, idle) jiffies of all CPUs from `/proc/stat`.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq
    Some((get(0) + get(1) + get(2) + get(5) + get(6), get(3) + get(4)))
}

/// Percentage of CPU time busy over the next second, if `/proc/stat` is readable.
pub fn busy_percent() -> Option<u64> {
    let (b0, i0) = cpu_jiffies()?;
    std::thread::sleep(Duration::from_secs(1));
    let (b1, i1) = cpu_jiffies()?;
    let busy = b1.saturating_sub(b0);
    let idle = i1.saturating_sub(i0);
    Some(100 * busy / (busy + idle + 1))
}

/// Warns on stderr when more than 10 % of the CPUs were busy for a second
/// `when` ("before"/"after") the run; numbers are noisy then.
pub fn idle_check(when: &str) {
    if let Some(pct) = busy_percent()
        && pct > 10
    {
        eprintln!(
            "# WARNING: machine not idle {when} the run ({pct}% CPU busy); numbers are likely noisy"
        );
    }
}
