//! `cargo bench -p zerocp --bench throughput`: one publisher streaming to
//! 1, 4 and 16 subscribers, each in a process of its own, against a private
//! `zerocpd`. The publisher runs on the first allowed CPU, every subscriber
//! on the second.
//!
//! The publisher loans, writes the sequence number into the first 8 bytes
//! and publishes as fast as it can; subscribers take and drop every sample
//! at once, busy-polling `take` (`mode=poll`), or blocking in `wait` with
//! its default short adaptive spin before the futex sleep (`mode=wait`) or
//! with `wait_spins(0)`, sleeping at once (`mode=sleep`: every publish to a
//! sleeping subscriber pays a futex wake-up). Queues hold 256 samples and drop the oldest when full
//! (counted); the mempools have more chunks than all queues can hold, so a
//! loan never fails.
//!
//! One line per case:
//!
//! ```text
//! throughput subs=N payload=64B msgs_per_s=… ns_per_publish=… mode=poll delivered_pct=…
//! ```
//!
//! `msgs_per_s` is samples published per second of the timed loop and
//! `ns_per_publish` its inverse (loan + write + publish, one sample);
//! `delivered_pct` the share of (samples × subscribers) that subscribers
//! took, the rest was dropped by full queues. Messages per case (scaled by
//! `ZEROCP_BENCH_SCALE`): 400 k busy-polling, 100 k blocking, at least 1000.
//!
//! First, unless deselected, the `floor-stream` case: two cores streaming
//! 64-byte messages through shared memory with nothing else (a ring of
//! cells naming slots of a header line and a payload line,
//! [`common::floor_stream`]), on the same two CPUs, with the poll case's
//! message count; its line has `mode=floor-stream`, and the publisher's
//! rate is read beside it.
//!
//! Options select cases: `--modes floor,poll,wait,sleep,waitset,fd` (default:
//! the first four), `--sizes 64,4096`, `--subs 1,4,16`.

mod common {
    pub mod daemon;
    pub mod error;
    pub mod floor_stream;
    pub mod machine;
    pub mod mode;
    pub mod process;
    pub mod seq;
    pub mod shared_object;
    pub mod stats;
    pub mod waiter;
}

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use common::daemon::{Daemon, PrivateDomain};
use common::error::{BenchError, Context};
use common::mode::Mode;
use common::process::{Cpus, RoleArgs, RoleChild, Spin, child_start, pin, spawn_role, tell_parent};
use common::seq::{read_seq, write_seq};
use common::stats::{scale, size_label};
use common::waiter::{Wait, with_waiter};
use zerocp::{Runtime, ServiceDescription, Subscriber};

/// Chunks for every queue full plus every subscriber's held sample.
const DAEMON_CONFIG: &str = "\
[[mempool]]
size = 64
count = 2048

[[mempool]]
size = 4096
count = 1024
";

/// Queue capacity of every subscriber (the daemon's maximum).
const QUEUE_CAPACITY: u32 = 256;
/// Subscriber counts.
const SUBSCRIBERS: [usize; 3] = [1, 4, 16];
/// Payload sizes.
const SIZES: [usize; 2] = [64, 4096];
/// The sequence number that ends the subscribers.
const STOP: u64 = u64::MAX;
/// Fewest timed messages per case.
const MIN_MESSAGES: usize = 1000;

/// The throughput benchmark's view of a subscriber's [`Mode`].
impl Mode {
    /// Timed messages per case at scale 1.
    fn base(self) -> usize {
        match self {
            Self::Poll => 400_000,
            Self::Wait | Self::Sleep | Self::WaitSet | Self::Fd => 100_000,
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match RoleArgs::parse(&args) {
        Ok(Some(role)) => match role.name.as_str() {
            "daemon" => common::daemon::role_main(&role),
            "subscriber" => subscriber_role(&role),
            "floor-stream" => common::floor_stream::role_main(&role),
            other => Err(BenchError::Usage(format!("unknown role {other:?}"))),
        },
        Ok(None) => Selection::parse(&args).and_then(|sel| orchestrate(&sel)),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The cases to run: `--modes floor,poll,wait,sleep --sizes 64,4096 --subs
/// 1,4,16` (the defaults; `floor` is the `floor-stream` case, run once
/// whatever the sizes and subscriber counts).
struct Selection {
    floor: bool,
    modes: Vec<Mode>,
    sizes: Vec<usize>,
    subs: Vec<usize>,
}

impl Selection {
    fn parse(args: &[String]) -> Result<Self, BenchError> {
        let mut sel = Self {
            floor: true,
            modes: vec![Mode::Poll, Mode::Wait, Mode::Sleep],
            sizes: SIZES.to_vec(),
            subs: SUBSCRIBERS.to_vec(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut list = || {
                it.next()
                    .map(|l| l.split(',').map(str::trim).collect::<Vec<_>>())
                    .ok_or_else(|| BenchError::Usage(format!("{arg} needs a list")))
            };
            match arg.as_str() {
                // Passed by `cargo bench`.
                "--bench" => {}
                "--modes" => {
                    let (floor, modes): (Vec<_>, Vec<_>) =
                        list()?.into_iter().partition(|m| *m == "floor");
                    sel.floor = !floor.is_empty();
                    sel.modes = modes
                        .into_iter()
                        .map(Mode::parse)
                        .collect::<Result<_, _>>()?
                }
                "--sizes" => sel.sizes = numbers(&list()?, &SIZES, "--sizes")?,
                "--subs" => sel.subs = numbers(&list()?, &SUBSCRIBERS, "--subs")?,
                other => {
                    return Err(BenchError::Usage(format!(
                        "unknown argument {other:?} (--modes floor,poll,wait,sleep,waitset,fd; --sizes {SIZES:?}; --subs {SUBSCRIBERS:?})"
                    )));
                }
            }
        }
        Ok(sel)
    }
}

/// Parses `items` as numbers, each one of `allowed`.
fn numbers(items: &[&str], allowed: &[usize], option: &str) -> Result<Vec<usize>, BenchError> {
    items
        .iter()
        .map(|item| match item.parse::<usize>() {
            Ok(n) if allowed.contains(&n) => Ok(n),
            _ => Err(BenchError::Usage(format!(
                "{option}: {item:?} is not one of {allowed:?}"
            ))),
        })
        .collect()
}

fn orchestrate(sel: &Selection) -> Result<(), BenchError> {
    // First, while this process has a single thread (it sets the environment).
    let domain = PrivateDomain::create("throughput")?;
    let scale = scale()?;
    let cpus = Cpus::pick()?;
    common::machine::idle_check("before");
    let daemon = Daemon::start(&domain, DAEMON_CONFIG)?;
    let result = pin(cpus.parent).and_then(|()| run_cases(sel, cpus, scale));
    let stopped = daemon.stop();
    result?;
    stopped?;
    common::machine::idle_check("after");
    Ok(())
}

fn run_cases(sel: &Selection, cpus: Cpus, scale: f64) -> Result<(), BenchError> {
    if sel.floor {
        let messages = ((Mode::Poll.base() as f64 * scale) as usize).max(MIN_MESSAGES);
        print_line(&common::floor_stream::run(cpus, messages as u64)?);
    }
    for &mode in &sel.modes {
        for &size in &sel.sizes {
            for &subs in &sel.subs {
                let messages = ((mode.base() as f64 * scale) as usize).max(MIN_MESSAGES);
                let line = match size {
                    64 => publish_case::<64>(cpus, mode, subs, messages)?,
                    _ => publish_case::<4096>(cpus, mode, subs, messages)?,
                };
                print_line(&line);
            }
        }
    }
    Ok(())
}

/// Prints a case's result line at once.
fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn service(instance: &str) -> Result<ServiceDescription, BenchError> {
    ServiceDescription::new("Bench", instance, "Stream").zerocp("ServiceDescription::new")
}

/// Publishes `warm-up + messages + 1` samples to `subs` subscriber
/// processes; returns the result line.
fn publish_case<const N: usize>(
    cpus: Cpus,
    mode: Mode,
    subs: usize,
    messages: usize,
) -> Result<String, BenchError> {
    let instance = format!(
        "throughput-{N}-{}-{subs}-{}",
        mode.name(),
        std::process::id()
    );
    let rt = Runtime::init("bench-publisher").zerocp("Runtime::init")?;
    let publisher = rt
        .publisher::<[u8; N]>(&service(&instance)?)
        .max_loans(1)
        .create()
        .zerocp("create publisher")?;
    let mut opts = cpus.child_opts();
    opts.extend([
        ("mode", mode.name().to_owned()),
        ("size", N.to_string()),
        ("instance", instance),
    ]);
    let mut children: Vec<RoleChild> = Vec::with_capacity(subs);
    for _ in 0..subs {
        children.push(spawn_role("subscriber", &opts)?);
    }
    for child in &mut children {
        child.expect_line("ready")?;
    }
    let publish = |seq: u64| -> Result<(), BenchError> {
        let sample = publisher.loan_uninit().zerocp("loan_uninit")?;
        let sample = sample.write_with(|bytes: &mut [u8; N]| write_seq(bytes, seq));
        sample.publish().zerocp("publish")
    };
    let warmup = (messages / 10).max(100) as u64;
    for seq in 0..warmup {
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
    let sent = warmup + messages as u64 + 1;
    let secs = elapsed.as_secs_f64();
    Ok(format!(
        "throughput subs={subs} payload={} msgs_per_s={:.0} ns_per_publish={:.1} mode={} delivered_pct={:.1}",
        size_label(N),
        messages as f64 / secs,
        secs * 1e9 / messages as f64,
        mode.name(),
        100.0 * received as f64 / (sent * subs as u64) as f64
    ))
}

fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key))
        .and_then(|v| v.parse().ok())
}

/// `--role subscriber`: takes and drops every sample until STOP, then
/// reports how many it took.
fn subscriber_role(args: &RoleArgs) -> Result<(), BenchError> {
    let yield_cpu = child_start(args, rustix::process::Signal::KILL)?;
    let mode = Mode::parse(args.get("mode")?)?;
    let svc = service(args.get("instance")?)?;
    match args.parse_value::<usize>("size")? {
        64 => subscribe::<64>(&svc, mode, yield_cpu),
        4096 => subscribe::<4096>(&svc, mode, yield_cpu),
        other => Err(BenchError::Usage(format!(
            "unsupported payload size {other}"
        ))),
    }
}

fn subscribe<const N: usize>(
    svc: &ServiceDescription,
    mode: Mode,
    yield_cpu: bool,
) -> Result<(), BenchError> {
    let rt = Runtime::init("bench-subscriber").zerocp("Runtime::init")?;
    let mut builder = rt
        .subscriber::<[u8; N]>(svc)
        .queue_capacity(QUEUE_CAPACITY)
        .max_held(1);
    if mode == Mode::Sleep {
        builder = builder.wait_spins(0);
    }
    let subscriber = builder.create().zerocp("create subscriber")?;
    let received = with_waiter(&subscriber, mode, |wait| {
        tell_parent("ready")?;
        take_until_stop(&subscriber, mode, yield_cpu, wait)
    })?;
    tell_parent(&format!(
        "result received={received} dropped={}",
        subscriber.dropped()
    ))
}

/// Takes and drops samples until STOP, waiting the way of `mode` when the
/// queue is empty; returns how many it took.
fn take_until_stop<const N: usize>(
    subscriber: &Subscriber<[u8; N]>,
    mode: Mode,
    yield_cpu: bool,
    wait: Wait<'_>,
) -> Result<u64, BenchError> {
    let mut received = 0u64;
    let mut spin = Spin::new(yield_cpu);
    loop {
        if let Some(sample) = subscriber.take().zerocp("take")? {
            received += 1;
            if read_seq(&sample[..]) == STOP {
                return Ok(received);
            }
            spin = Spin::new(yield_cpu);
        } else if mode == Mode::Poll {
            spin.turn("sample")?;
        } else {
            wait()?;
        }
    }
}
