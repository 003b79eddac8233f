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
//! | `floor-6` (`floor-lines`) | the same with six cache lines moving per message, each written by both sides: what the lines of a ZeroCP message cost alone |
//! | `floor-chain` | the same with two lines per message, the second found through the first (the turn word names the data line), as a queue cell names a chunk |
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
//! 64,4096`, `--max-floor-ratio R` (exit status 2 when a `zerocp` median is
//! more than `R` times the floor probes around it, measured again while
//! those two disagree: the CI's regression check, a ratio of one run, never
//! an absolute time), and `--profile-loop
//! [--iterations N]` (one thread: loan, write, publish, take, drop N times
//! per size of `--sizes`; for callgrind);
//! `ZEROCP_BENCH_HISTORY=K` gives the ping-pong's publishers a history of
//! `K`. See `docs/performance.md`.

mod common {
    pub mod daemon;
    pub mod error;
    pub mod floor;
    pub mod floor_chain;
    pub mod floor_lines;
    pub mod machine;
    pub mod mode;
    pub mod pingpong;
    pub mod process;
    pub mod recorder;
    pub mod request_response;
    pub mod seq;
    pub mod shared_object;
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
const CASES: [&str; 10] = [
    "floor",
    "floor-lines",
    "floor-chain",
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
    max_floor_ratio: Option<f64>,
}

fn parse_options(args: &[String]) -> Result<Options, BenchError> {
    let mut options = Options {
        cases: Vec::new(),
        sizes: SIZES.to_vec(),
        profile_iterations: None,
        max_floor_ratio: None,
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
            "--max-floor-ratio" => {
                let ratio = it.next().and_then(|r| r.parse::<f64>().ok());
                let ratio = ratio.filter(|r| r.is_finite() && *r > 0.0).ok_or_else(|| {
                    BenchError::Usage("--max-floor-ratio needs a positive ratio".into())
                })?;
                options.max_floor_ratio = Some(ratio);
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
        Ok(Some(role)) => run_role(&role).map(|()| Vec::new()),
        Ok(None) => parse_options(&args).and_then(|o| orchestrate(&o)),
        Err(e) => Err(e),
    };
    match result {
        Ok(above) if above.is_empty() => ExitCode::SUCCESS,
        Ok(above) => {
            for line in above {
                eprintln!("latency: above the floor ratio: {line}");
            }
            ExitCode::from(2)
        }
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
        "floor-lines-pong" => common::floor_lines::role_main(role),
        "floor-chain-pong" => common::floor_chain::role_main(role),
        "uds-pong" => common::uds::role_main(role),
        "zerocp-pong" => common::pingpong::role_main(role),
        "zerocp-rr-server" => common::request_response::role_main(role),
        other => Err(BenchError::Usage(format!("unknown role {other:?}"))),
    }
}

/// The parent: private daemon, every case, clean stop. Returns the
/// `zerocp` cases above `--max-floor-ratio`.
fn orchestrate(options: &Options) -> Result<Vec<String>, BenchError> {
    // First, while this process has a single thread (it sets the environment).
    let domain = PrivateDomain::create("latency")?;
    let scale = scale()?;
    let cpus = Cpus::pick()?;
    if options.profile_iterations.is_none() {
        common::machine::idle_check("before");
    }
    let daemon = Daemon::start(&domain, DAEMON_CONFIG)?;
    let result = pin(cpus.parent).and_then(|()| match options.profile_iterations {
        Some(n) => options
            .sizes
            .iter()
            .try_for_each(|&size| {
                common::pingpong::profile_loop(size, n).map(|line| println!("{line}"))
            })
            .map(|()| Vec::new()),
        None => run_cases(options, cpus, scale, &domain),
    });
    let stopped = daemon.stop();
    let above = result?;
    stopped?;
    if options.profile_iterations.is_none() {
        common::machine::idle_check("after");
    }
    Ok(above)
}

fn run_cases(
    options: &Options,
    cpus: Cpus,
    scale: f64,
    domain: &PrivateDomain,
) -> Result<Vec<String>, BenchError> {
    let started = std::time::Instant::now();
    let mut above = Vec::new();
    println!("{HEADER}");
    for case in &options.cases {
        if case == "floor" {
            emit(common::floor::run(cpus, scale)?);
            continue;
        }
        if case == "floor-lines" {
            emit(common::floor_lines::run(cpus, scale)?);
            continue;
        }
        if case == "floor-chain" {
            emit(common::floor_chain::run(cpus, scale)?);
            continue;
        }
        for &size in &options.sizes {
            let mut measured = measure(case, cpus, size, scale, domain)?;
            if let (Some(limit), "zerocp") = (options.max_floor_ratio, case.as_str()) {
                above.extend(judge(&mut measured, limit, || {
                    measure(case, cpus, size, scale, domain)
                })?);
            }
            emit(measured.line);
        }
    }
    eprintln!(
        "# run time {:.1} s, scale {scale}, kernel {}",
        started.elapsed().as_secs_f64(),
        kernel_release()
    );
    Ok(above)
}

/// A case's result line and the floor probes around it.
struct Measured {
    before: u64,
    line: String,
    after: u64,
}

/// Runs `case` at `size` between two floor probes, reported on stderr.
fn measure(
    case: &str,
    cpus: Cpus,
    size: usize,
    scale: f64,
    domain: &PrivateDomain,
) -> Result<Measured, BenchError> {
    let before = common::floor::probe(cpus)?;
    let line = match case {
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
    Ok(Measured {
        before,
        line,
        after,
    })
}

/// Tries of a judged case before it is left unjudged.
const JUDGE_TRIES: usize = 3;

/// `--max-floor-ratio`: the case described if its median is more than
/// `limit` times its floor, else `None`. A ratio means something only if
/// the host did not move the two CPUs during the case: while the probes
/// around it differ by more than a quarter, the case is measured again
/// (`again`, at most [`JUDGE_TRIES`] in all), and left unjudged if they
/// never agree.
fn judge(
    measured: &mut Measured,
    limit: f64,
    mut again: impl FnMut() -> Result<Measured, BenchError>,
) -> Result<Option<String>, BenchError> {
    let agree = |m: &Measured| m.before.max(m.after) * 4 <= m.before.min(m.after) * 5;
    for _ in 1..JUDGE_TRIES {
        if agree(measured) {
            break;
        }
        *measured = again()?;
    }
    if !agree(measured) {
        eprintln!(
            "# {}: the floor moved during every try; not judged",
            measured.line
        );
        return Ok(None);
    }
    Ok(above_floor(
        &measured.line,
        measured.before.max(measured.after),
        limit,
    ))
}

/// The result `line` described against `floor` if its median is more than
/// `limit` times it, else `None`.
fn above_floor(line: &str, floor: u64, limit: f64) -> Option<String> {
    let median: u64 = line.split_whitespace().nth(2)?.parse().ok()?;
    let ratio = median as f64 / floor.max(1) as f64;
    eprintln!("# {line}: {ratio:.2} x its floor {floor} ns (limit {limit})");
    (ratio > limit).then(|| format!("{line}: {ratio:.2} x its floor {floor} ns > {limit}"))
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
