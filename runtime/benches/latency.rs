//! `cargo bench -p zerocp --bench latency`: one-way latency between two
//! processes pinned to two CPUs (parent on the first allowed CPU, child on
//! the second), ping-pong over two services, against a private `zerocpd`.
//!
//! Cases, in the peer benchmark's format (`case payload median_ns p99_ns
//! max_ns msgs_per_s`, one line each, header first):
//!
//! | case | what |
//! |---|---|
//! | `floor` | a sequence number bounced through two atomics in shared memory (8 B) |
//! | `uds` | Unix SEQPACKET socket, blocking send/recv, 4 MiB socket buffers |
//! | `zerocp` | ZeroCP, the receiver busy-polls `take` |
//! | `zerocp-wait` | ZeroCP, the receiver blocks in `wait` (default: a short adaptive spin, then the futex) |
//! | `zerocp-sleep` | ZeroCP, the receiver blocks in `wait` with `wait_spins(0)` (straight to the futex) |
//! | `zerocp-waitset` | ZeroCP, the receiver blocks in `WaitSet::wait` (one epoll sleep) on a wait set holding its subscriber |
//! | `zerocp-fd` | ZeroCP, the receiver blocks in `poll(2)` on its subscriber's wake descriptor (`Subscriber::as_fd`) |
//! | `zerocp-rr` | ZeroCP request/response: a client's request and the server's one response, both sides blocking as `zerocp-wait` (`median_ns` is half the round trip, as everywhere) |
//!
//! Payloads 64 B, 4 KiB, 64 KiB, 1 MiB and 4 MiB; the writer touches only
//! the first 8 bytes, as the peer's iceoryx2 cases do. Round trips (scaled
//! by `ZEROCP_BENCH_SCALE`, default 1.0): busy-poll 200 k (≤ 4 KiB), 50 k
//! (64 KiB), 5 k (≥ 1 MiB); blocking 100 k / 25 k / 2.5 k; at least 100.
//!
//! Around each case a short `floor` probe goes to stderr (`# floor probe …`):
//! on a virtual machine the cost of moving a cache line between the two
//! CPUs changes with where the host places them, and the probe tells which
//! state a case saw.
//!
//! Options: case names to run only those (`-- zerocp uds`), `--sizes
//! 64,4096`, and `--profile-loop [--iterations N]` (one thread: loan, write,
//! publish, take, drop N times per size of `--sizes`; for callgrind);
//! `ZEROCP_BENCH_HISTORY=K` gives the ping-pong's publishers a history of
//! `K`. See `docs/performance.md`.

mod common {
    pub mod daemon;
    pub mod error;
    pub mod floor;
    pub mod machine;
    pub mod mode;
    pub mod pingpong;
    pub mod process;
    pub mod recorder;
    pub mod request_response;
    pub mod seq;
    pub mod stats;
    pub mod uds;
    pub mod waiter;
}

use std::io::Write;
use std::process::ExitCode;

use common::daemon::{Daemon, PrivateDomain};
use common::error::BenchError;
use common::mode::Mode;
use common::pingpong::SIZES;
use common::process::{Cpus, RoleArgs, pin};
use common::recorder::HEADER;
use common::stats::{scale, size_label};

/// The daemon's configuration: a pool per payload size, a few chunks each
/// (a ping-pong holds at most two per direction).
const DAEMON_CONFIG: &str = "\
[[mempool]]
size = 64
count = 64

[[mempool]]
size = 4096
count = 64

[[mempool]]
size = 65536
count = 16

[[mempool]]
size = 1048576
count = 8

[[mempool]]
size = 4194304
count = 8
";

/// Case names, in the order they run.
const CASES: [&str; 8] = [
    "floor",
    "uds",
    "zerocp",
    "zerocp-wait",
    "zerocp-sleep",
    "zerocp-waitset",
    "zerocp-fd",
    "zerocp-rr",
];

/// What the command line asked for.
struct Options {
    cases: Vec<String>,
    sizes: Vec<usize>,
    profile_iterations: Option<u64>,
}

fn parse_options(args: &[String]) -> Result<Options, BenchError> {
    let mut options = Options {
        cases: Vec::new(),
        sizes: SIZES.to_vec(),
        profile_iterations: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            // Passed by `cargo bench`.
            "--bench" => {}
            "--sizes" => {
                let list = it
                    .next()
                    .ok_or_else(|| BenchError::Usage("--sizes needs a list".into()))?;
                options.sizes = list
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        BenchError::Usage(format!("--sizes {list:?}: not a list of byte counts"))
                    })?;
                if let Some(bad) = options.sizes.iter().find(|s| !SIZES.contains(s)) {
                    return Err(BenchError::Usage(format!(
                        "--sizes: {bad} is not one of {SIZES:?}"
                    )));
                }
            }
            "--profile-loop" => {
                options.profile_iterations = Some(options.profile_iterations.unwrap_or(100_000))
            }
            "--iterations" => {
                let n = it.next().and_then(|n| n.parse().ok()).ok_or_else(|| {
                    BenchError::Usage("--iterations needs a positive count".into())
                })?;
                options.profile_iterations = Some(n);
            }
            case if CASES.contains(&case) => options.cases.push(case.to_owned()),
            other => {
                return Err(BenchError::Usage(format!(
                    "unknown argument {other:?} (cases: {CASES:?}; --sizes LIST; --profile-loop [--iterations N])"
                )));
            }
        }
    }
    if options.cases.is_empty() {
        options.cases = CASES.iter().map(|c| (*c).to_owned()).collect();
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match RoleArgs::parse(&args) {
        Ok(Some(role)) => run_role(&role),
        Ok(None) => parse_options(&args).and_then(|o| orchestrate(&o)),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latency: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A child process: the daemon or the pong side of a case.
fn run_role(role: &RoleArgs) -> Result<(), BenchError> {
    match role.name.as_str() {
        "daemon" => common::daemon::role_main(role),
        "floor-pong" => common::floor::role_main(role),
        "uds-pong" => common::uds::role_main(role),
        "zerocp-pong" => common::pingpong::role_main(role),
        "zerocp-rr-server" => common::request_response::role_main(role),
        other => Err(BenchError::Usage(format!("unknown role {other:?}"))),
    }
}

/// The parent: private daemon, every case, clean stop.
fn orchestrate(options: &Options) -> Result<(), BenchError> {
    // First, while this process has a single thread (it sets the environment).
    let domain = PrivateDomain::create("latency")?;
    let scale = scale()?;
    let cpus = Cpus::pick()?;
    if options.profile_iterations.is_none() {
        common::machine::idle_check("before");
    }
    let daemon = Daemon::start(&domain, DAEMON_CONFIG)?;
    let result = pin(cpus.parent).and_then(|()| match options.profile_iterations {
        Some(n) => options.sizes.iter().try_for_each(|&size| {
            common::pingpong::profile_loop(size, n).map(|line| println!("{line}"))
        }),
        None => run_cases(options, cpus, scale, &domain),
    });
    let stopped = daemon.stop();
    result?;
    stopped?;
    if options.profile_iterations.is_none() {
        common::machine::idle_check("after");
    }
    Ok(())
}

fn run_cases(
    options: &Options,
    cpus: Cpus,
    scale: f64,
    domain: &PrivateDomain,
) -> Result<(), BenchError> {
    let started = std::time::Instant::now();
    println!("{HEADER}");
    for case in &options.cases {
        if case == "floor" {
            emit(common::floor::run(cpus, scale)?);
            continue;
        }
        for &size in &options.sizes {
            let before = common::floor::probe(cpus)?;
            let line = match case.as_str() {
                "uds" => common::uds::run(cpus, size, scale, domain.run_dir())?,
                "zerocp" => common::pingpong::run(Mode::Poll, cpus, size, scale)?,
                "zerocp-wait" => common::pingpong::run(Mode::Wait, cpus, size, scale)?,
                "zerocp-waitset" => common::pingpong::run(Mode::WaitSet, cpus, size, scale)?,
                "zerocp-fd" => common::pingpong::run(Mode::Fd, cpus, size, scale)?,
                "zerocp-rr" => common::request_response::run(cpus, size, scale)?,
                _ => common::pingpong::run(Mode::Sleep, cpus, size, scale)?,
            };
            let after = common::floor::probe(cpus)?;
            eprintln!(
                "# floor probe around {case} {}: {before} ns before, {after} ns after",
                size_label(size)
            );
            emit(line);
        }
    }
    eprintln!(
        "# run time {:.1} s, scale {scale}, kernel {}",
        started.elapsed().as_secs_f64(),
        kernel_release()
    );
    Ok(())
}

/// Prints a result line at once (the run is long; show progress).
fn emit(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}
