//! `iox2-throughput`: iceoryx2 0.10 publish→subscribe throughput, measured the
//! way ZeroCP's `runtime/benches/throughput.rs` measures ZeroCP (mode `poll`).
//!
//! One publisher (this process, pinned to the first allowed CPU) streams to
//! 1, 4 or 16 subscriber processes (this binary re-executed with
//! `--role subscriber`, pinned to the second allowed CPU). The publisher
//! loans, writes the sequence number into the first 8 bytes and sends as fast
//! as it can; subscribers busy-poll `receive()` and drop every sample at once.
//! Subscriber buffers hold 256 samples and drop the oldest when full
//! (`enable_safe_overflow`).
//!
//! One line per case:
//!
//! ```text
//! throughput subs=N payload=64B msgs_per_s=… ns_per_publish=… mode=poll delivered_pct=… case=iox2
//! ```
//!
//! `msgs_per_s` is samples published per second of the timed loop,
//! `ns_per_publish` its inverse; `delivered_pct` the share of
//! (samples × subscribers) the subscribers took. Messages per case: 400 k
//! scaled by `IOX2_TP_SCALE` (default 1), at least 1000; warm-up 10 % (at
//! least 100) before the timed loop.
//!
//! Options: `--sizes 64,4096`, `--subs 1,4,16` (`--modes poll` is accepted
//! for symmetry with ZeroCP's bench; poll is the only mode).
//!
//! All iceoryx2 files carry the prefix `iox2tp_<pid>_`; they are removed
//! when the run ends (see README.md). `IOX2_TP_KEEP_FILES=1` keeps them for
//! inspection.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// The idle check of ZeroCP's own benches, the same file: both programs
/// judge the machine alike.
#[path = "../../../runtime/benches/common/machine.rs"]
mod machine;

mod cleanup;
mod cpus;
mod role;

use cleanup::*;
use cpus::*;
use role::*;

use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;
use rustix::process::{Pid, Signal, getppid, set_parent_process_death_signal};
use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
use signal_hook::consts::{SIGINT, SIGTERM};

/// Queue capacity of every subscriber (ZeroCP: `QUEUE_CAPACITY`, the daemon's maximum).
const QUEUE_CAPACITY: usize = 256;
/// Subscriber counts.
const SUBSCRIBERS: [usize; 3] = [1, 4, 16];
/// Payload sizes.
const SIZES: [usize; 2] = [64, 4096];
/// The sequence number that ends the subscribers.
const STOP: u64 = u64::MAX;
/// Fewest timed messages per case.
const MIN_MESSAGES: usize = 1000;
/// Timed messages per case at scale 1 (ZeroCP's busy-polling count).
const BASE_MESSAGES: usize = 400_000;
/// Environment variable scaling the message count (like `ZEROCP_BENCH_SCALE`).
const SCALE_ENV: &str = "IOX2_TP_SCALE";
/// How long any single step may take before the benchmark gives up.
const DEADLINE: Duration = Duration::from_secs(30);
/// Root of iceoryx2's non-shm files (ICEORYX2_ROOT_PATH on Linux).
const IOX2_ROOT: &str = "/tmp/iceoryx2";

type Res<T> = Result<T, String>;

fn main() -> ExitCode {
    set_log_level(LogLevel::Warn);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("--role") {
        RoleArgs::parse(&args).and_then(|role| match role.name.as_str() {
            "subscriber" => subscriber_role(&role),
            other => Err(format!("unknown role {other:?}")),
        })
    } else {
        Selection::parse(&args).and_then(|sel| orchestrate(&sel))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iox2-throughput: error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// Options

/// The cases to run: `--sizes 64,4096 --subs 1,4,16` (each defaults to all).
struct Selection {
    sizes: Vec<usize>,
    subs: Vec<usize>,
}

impl Selection {
    fn parse(args: &[String]) -> Res<Self> {
        let mut sel = Self {
            sizes: SIZES.to_vec(),
            subs: SUBSCRIBERS.to_vec(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let list = it
                .next()
                .map(|l| l.split(',').map(str::trim).collect::<Vec<_>>())
                .ok_or_else(|| format!("{arg} needs a list"));
            match arg.as_str() {
                "--sizes" => sel.sizes = numbers(&list?, &SIZES, "--sizes")?,
                "--subs" => sel.subs = numbers(&list?, &SUBSCRIBERS, "--subs")?,
                "--modes" => {
                    if list?.iter().any(|m| *m != "poll") {
                        return Err("--modes: only poll is implemented".into());
                    }
                }
                other => {
                    return Err(format!(
                        "unknown argument {other:?} (--sizes {SIZES:?}; --subs {SUBSCRIBERS:?}; --modes poll)"
                    ));
                }
            }
        }
        Ok(sel)
    }
}

/// Parses `items` as numbers, each one of `allowed`.
fn numbers(items: &[&str], allowed: &[usize], option: &str) -> Res<Vec<usize>> {
    items
        .iter()
        .map(|item| match item.parse::<usize>() {
            Ok(n) if allowed.contains(&n) => Ok(n),
            _ => Err(format!("{option}: {item:?} is not one of {allowed:?}")),
        })
        .collect()
}

/// `IOX2_TP_SCALE` as a positive float (1.0 when unset).
fn scale() -> Res<f64> {
    match std::env::var(SCALE_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(1.0),
        Err(e) => Err(format!("{SCALE_ENV}: {e}")),
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            _ => Err(format!("{SCALE_ENV}={text:?} is not a positive number")),
        },
    }
}

/// `64B`, `4KiB`.
fn size_label(size: usize) -> String {
    if size >= 1024 && size.is_multiple_of(1024) {
        format!("{}KiB", size / 1024)
    } else {
        format!("{size}B")
    }
}

// ---------------------------------------------------------------------------
// CPUs, idle check

/// The iceoryx2 file prefix of this run: `iox2tp_<pid>_`.
fn run_prefix() -> String {
    format!("iox2tp_{}_", std::process::id())
}

fn config(prefix: &str) -> Res<Config> {
    let mut cfg = Config::default();
    cfg.global.prefix =
        FileName::new(prefix.as_bytes()).map_err(|e| format!("prefix {prefix:?}: {e:?}"))?;
    Ok(cfg)
}

fn node(prefix: &str) -> Res<Node<ipc::Service>> {
    NodeBuilder::new()
        .config(&config(prefix)?)
        .create::<ipc::Service>()
        .map_err(|e| format!("creating node: {e:?}"))
}

fn service_name(text: &str) -> Res<ServiceName> {
    ServiceName::new(text).map_err(|e| format!("service name {text:?}: {e:?}"))
}

// ---------------------------------------------------------------------------
// Interrupts

/// Makes SIGINT/SIGTERM set the returned flag, which ends the run after
/// the current case (so the files are still cleaned up).
///
/// iceoryx2 installs its own handlers for them lazily (first `Node::wait`,
/// or first zero-filled shared memory), replacing whatever was installed
/// before, and its "last signal" is reset by later shm creation, so it
/// cannot be relied on: force its installation first, then put signal-hook's
/// flag handler over it. signal-hook chains to the handler it replaced, so
/// iceoryx2 still records the signal; that only matters if it arrives while
/// iceoryx2 zero-fills new shared memory, which then fails (see README).
fn catch_interrupts(node: &Node<ipc::Service>) -> Res<Arc<AtomicBool>> {
    node.wait(Duration::ZERO)
        .map_err(|e| format!("interrupted (SIGINT/SIGTERM): {e:?}"))?;
    let interrupted = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&interrupted))
            .map_err(|e| format!("catching signal {sig}: {e}"))?;
    }
    Ok(interrupted)
}

// ---------------------------------------------------------------------------
// Publisher side

fn orchestrate(sel: &Selection) -> Res<()> {
    let scale = scale()?;
    let cpus = Cpus::pick()?;
    let prefix = run_prefix();
    let dirs_before = dirs_under(Path::new(IOX2_ROOT));
    let root_existed = Path::new(IOX2_ROOT).exists();
    machine::idle_check("before");
    let result = pin(cpus.parent).and_then(|()| {
        let node = node(&prefix)?;
        let interrupted = catch_interrupts(&node)?;
        run_cases(sel, cpus, scale, &node, &prefix, &interrupted)
    });
    if std::env::var_os("IOX2_TP_KEEP_FILES").is_none() {
        cleanup(&prefix, &dirs_before, root_existed);
    }
    result?;
    machine::idle_check("after");
    Ok(())
}

fn run_cases(
    sel: &Selection,
    cpus: Cpus,
    scale: f64,
    node: &Node<ipc::Service>,
    prefix: &str,
    interrupted: &AtomicBool,
) -> Res<()> {
    for &size in &sel.sizes {
        for &subs in &sel.subs {
            let messages = ((BASE_MESSAGES as f64 * scale) as usize).max(MIN_MESSAGES);
            let line = match size {
                64 => publish_case::<64>(cpus, subs, messages, node, prefix),
                _ => publish_case::<4096>(cpus, subs, messages, node, prefix),
            }
            .map_err(|e| {
                if interrupted.load(Ordering::Relaxed) {
                    format!("interrupted (SIGINT/SIGTERM) during this case: {e}")
                } else {
                    e
                }
            })?;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
            drop(out);
            if interrupted.load(Ordering::Relaxed) {
                return Err("interrupted (SIGINT/SIGTERM); stopped after this case".into());
            }
        }
    }
    Ok(())
}

/// Publishes `warm-up + messages + 1` samples to `subs` subscriber
/// processes; returns the result line.
fn publish_case<const N: usize>(
    cpus: Cpus,
    subs: usize,
    messages: usize,
    node: &Node<ipc::Service>,
    prefix: &str,
) -> Res<String> {
    const { assert!(N >= 8, "the payload must hold the u64 sequence number") };
    let name = format!("iox2tp/throughput/{N}/{subs}/{}", std::process::id());
    let service = node
        .service_builder(&service_name(&name)?)
        .publish_subscribe::<[u8; N]>()
        .max_publishers(1)
        .max_subscribers(subs)
        .max_nodes(subs + 1)
        .history_size(0)
        .subscriber_max_buffer_size(QUEUE_CAPACITY)
        .subscriber_max_borrowed_samples(1)
        .enable_safe_overflow(true)
        .create()
        .map_err(|e| format!("creating service {name}: {e:?}"))?;
    let publisher = service
        .publisher_builder()
        .max_loaned_samples(1)
        .create()
        .map_err(|e| format!("creating publisher: {e:?}"))?;

    let opts = [
        ("cpu", cpus.child.to_string()),
        ("yield", u8::from(cpus.shared()).to_string()),
        ("size", N.to_string()),
        ("service", name.clone()),
        ("prefix", prefix.to_owned()),
    ];
    let mut children: Vec<RoleChild> = Vec::with_capacity(subs);
    for _ in 0..subs {
        children.push(spawn_role("subscriber", &opts)?);
    }
    for child in &mut children {
        child.expect_line("ready")?;
    }
    // Every subscriber port exists (each printed `ready` after creating
    // it); make the publisher connect to all of them now, outside the
    // timed loop (send() would otherwise do it on the first warm-up sample).
    let since = Instant::now();
    while service.dynamic_config().number_of_subscribers() < subs {
        if since.elapsed() > DEADLINE {
            return Err(format!(
                "only {} of {subs} subscribers registered within {DEADLINE:?}",
                service.dynamic_config().number_of_subscribers()
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    publisher
        .update_connections()
        .map_err(|e| format!("update_connections: {e:?}"))?;

    // loan + write + send; returns the number of subscribers reached.
    let publish = |seq: u64| -> Res<usize> {
        let mut sample = publisher
            .loan_uninit()
            .map_err(|e| format!("loan_uninit: {e:?}"))?;
        // Only the first 8 bytes are written, as in ZeroCP's bench (and the
        // peer's iox2 case); the rest of the chunk is never touched.
        // SAFETY: N >= 8 (asserted at compile time above); the chunk is
        // valid for N bytes.
        unsafe {
            (sample.payload_mut().as_mut_ptr() as *mut u8)
                .cast::<[u8; 8]>()
                .write_unaligned(seq.to_ne_bytes())
        };
        // SAFETY: a [u8; N] has no invalid bit patterns; the untouched
        // bytes are shared memory iceoryx2 zero-filled at creation.
        let sample = unsafe { sample.assume_init() };
        sample.send().map_err(|e| format!("send: {e:?}"))
    };
    let warmup = (messages / 10).max(100) as u64;
    let reached = publish(0)?;
    if reached != subs {
        return Err(format!(
            "the first warm-up sample reached {reached} of {subs} subscribers"
        ));
    }
    for seq in 1..warmup {
        publish(seq)?;
    }
    let start = Instant::now();
    for seq in warmup..warmup + messages as u64 {
        publish(seq)?;
    }
    let elapsed = start.elapsed();
    publish(STOP)?;
    let mut received = 0u64;
    for mut child in children {
        let line = child.expect_line("result")?;
        received += field(&line, "received=").unwrap_or(0);
        child.finish()?;
    }
    drop(publisher);
    drop(service);
    let sent = warmup + messages as u64 + 1;
    let secs = elapsed.as_secs_f64();
    Ok(format!(
        "throughput subs={subs} payload={} msgs_per_s={:.0} ns_per_publish={:.1} mode=poll delivered_pct={:.1} case=iox2",
        size_label(N),
        messages as f64 / secs,
        secs * 1e9 / messages as f64,
        100.0 * received as f64 / (sent * subs as u64) as f64
    ))
}

fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key))
        .and_then(|v| v.parse().ok())
}

// ---------------------------------------------------------------------------
// Child processes
