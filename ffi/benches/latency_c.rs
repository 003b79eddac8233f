//! `cargo bench -p zerocp-ffi --bench latency_c`: the C API's cost on the
//! data path, as one-way latency of a busy-polled ping-pong between two
//! processes pinned to two CPUs, against a private daemon.
//!
//! Three cases per payload size, run one after the other in one sitting and
//! printed in the latency benchmark's format (`case payload median_ns
//! p99_ns max_ns msgs_per_s`):
//!
//! | case | what |
//! |---|---|
//! | `zerocp` | Rust: the loop of `cargo bench -p zerocp --bench latency -- zerocp` (typed `[u8; N]` ports, `loan_uninit` + `write_with` + `publish`, busy `take`) |
//! | `zerocp-c` | C: `benches/c_pingpong.c` over `libzerocp_c.a`, compiled with `cc -O2`, zero-copy (loan, write 8 bytes, publish; busy `zerocp_subscriber_take`, release) |
//! | `zerocp-c-copy` | the same C program with copies (`zerocp_publisher_publish_copy` of an N-byte buffer; busy `zerocp_subscriber_take_copy` into it) |
//!
//! All use the same settings (queue capacity 1, one sample held, one
//! loan, discard-oldest), carry the sequence number in the first 8 bytes
//! (the zero-copy cases write and read only those, the copies move all N),
//! and compute the same statistics (one-way = round trip / 2; the
//! percentile of `n` sorted samples at index `ceil(p n) - 1`; `msgs_per_s`
//! = 2 × round trips / wall time; a warm-up of 10 %, at least 500). The
//! difference of a C median and the Rust one is what the C API adds: the
//! handle lookup, the port lock and the loan bookkeeping of each call, or
//! the copies.
//!
//! The cases alternate for `--rounds N` rounds (default 5), so a shift of
//! the shared machine's load falls on all; with `zerocp` run, each size
//! ends with a line `overhead CASE SIZE NS PERCENT` per C case: the median
//! over the rounds of its median minus the Rust median of the same round.
//!
//! Options: `--sizes 64,4096` (default both), `--rounds N`, case names to
//! run only those (`-- zerocp zerocp-c`); `ZEROCP_BENCH_SCALE` scales the 200 000
//! round trips of each case and round.
//! The roles `--daemon`, `--rust-ping` and `--rust-pong` are this binary's
//! child processes. See `docs/performance.md`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use zerocp::{Publisher, Runtime, ServiceDescription, Subscriber};

#[path = "../tests/support/c_build.rs"]
#[allow(dead_code)] // the benchmark compiles C only
mod c_build;

/// Payload sizes the Rust side is compiled for.
const SIZES: [usize; 2] = [64, 4096];
/// Timed round trips at scale 1.
const BASE_ITERS: f64 = 200_000.0;
/// The sequence number that ends the pong side.
const STOP: u64 = u64::MAX;
/// Longest wait for a child's line (a whole case at scale 1 takes seconds).
const DEADLINE: Duration = Duration::from_secs(300);

/// The daemon's pools: a ping-pong holds at most two chunks per direction.
const DAEMON_CONFIG: &str = "\
[[mempool]]
size = 64
count = 64

[[mempool]]
size = 4096
count = 64
";

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--daemon") => run_daemon(&args[1..]),
        Some("--rust-ping") => rust_role(true, &args[1..]),
        Some("--rust-pong") => rust_role(false, &args[1..]),
        _ => Options::parse(&args).and_then(|o| orchestrate(&o)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latency_c: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The cases, in the order each round runs them; the first is the Rust
/// one the others are measured against.
const CASES: [&str; 3] = ["zerocp", "zerocp-c", "zerocp-c-copy"];

/// What the command line asked for.
struct Options {
    sizes: Vec<usize>,
    rounds: usize,
    /// The cases to run, in `CASES` order.
    cases: Vec<&'static str>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut sizes = SIZES.to_vec();
        let mut rounds = 5;
        let mut asked = Vec::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--bench" => {}
                "--sizes" => {
                    let list = it.next().ok_or("--sizes needs a list")?;
                    sizes = list
                        .split(',')
                        .map(|s| s.trim().parse::<usize>())
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|_| format!("--sizes {list:?}: not a list of byte counts"))?;
                    if let Some(bad) = sizes.iter().find(|s| !SIZES.contains(s)) {
                        return Err(format!("--sizes: {bad} is not one of {SIZES:?}"));
                    }
                }
                "--rounds" => {
                    let n = it.next().ok_or("--rounds needs a count")?;
                    rounds = n
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("--rounds {n:?}: not a positive count"))?;
                }
                case if CASES.contains(&case) => asked.push(case.to_owned()),
                other => {
                    return Err(format!(
                        "unknown argument {other:?} (cases: {}; --sizes LIST; --rounds N)",
                        CASES.join(" ")
                    ));
                }
            }
        }
        let cases = CASES
            .into_iter()
            .filter(|case| asked.is_empty() || asked.iter().any(|a| a == case))
            .collect();
        Ok(Self {
            sizes,
            rounds,
            cases,
        })
    }
}

/// The parent: a private daemon, the C program compiled, each case run.
fn orchestrate(options: &Options) -> Result<()> {
    let iters = iterations()?;
    let cpus = two_cpus()?;
    let dir = std::env::temp_dir().join(format!("zerocp-bench-c-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("run")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let outcome = compile(&dir).and_then(|program| {
        let daemon = Daemon::start(&dir)?;
        println!("case payload median_ns p99_ns max_ns msgs_per_s");
        let ran = run_cases(options, &daemon, &program, cpus, iters);
        let stopped = daemon.stop();
        ran.and(stopped)
    });
    // The run directory is empty after a clean stop; remove the rest.
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn run_cases(
    options: &Options,
    daemon: &Daemon,
    program: &Path,
    (ping_cpu, pong_cpu): (usize, usize),
    iters: usize,
) -> Result<()> {
    let exe = std::env::current_exe().map_err(|e| format!("the benchmark binary: {e}"))?;
    let (ping_cpu, pong_cpu, iters) = (
        ping_cpu.to_string(),
        pong_cpu.to_string(),
        iters.to_string(),
    );
    for &size in &options.sizes {
        let size = size.to_string();
        // Per case (the Rust one's stays empty), the (C - Rust, Rust)
        // medians of each round.
        let mut gaps = vec![Vec::new(); options.cases.len()];
        for _ in 0..options.rounds {
            let mut medians = Vec::new();
            for &case in &options.cases {
                let (pong, ping) = match case {
                    "zerocp" => (
                        daemon.spawn(&exe, &["--rust-pong", &size, &pong_cpu])?,
                        daemon.spawn(&exe, &["--rust-ping", &size, &ping_cpu, &iters])?,
                    ),
                    _ => {
                        let send = if case == "zerocp-c-copy" {
                            "copy"
                        } else {
                            "loan"
                        };
                        (
                            daemon.spawn(program, &["pong", &size, &pong_cpu, send])?,
                            daemon.spawn(program, &["ping", &size, &ping_cpu, &iters, send])?,
                        )
                    }
                };
                medians.push(report(pair(pong, ping, &format!("{case} "))?)?);
            }
            if options.cases[0] == "zerocp" {
                for (gap, c) in gaps.iter_mut().zip(&medians).skip(1) {
                    gap.push((c - medians[0], medians[0]));
                }
            }
        }
        for (case, gaps) in options.cases.iter().zip(&mut gaps).skip(1) {
            if gaps.is_empty() {
                continue;
            }
            gaps.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (gap, rust) = gaps[(gaps.len() - 1) / 2];
            println!(
                "overhead {case} {size} {gap:.0} {:+.1}%",
                100.0 * gap / rust
            );
        }
    }
    Ok(())
}

/// Prints a case's result line and returns its median (ns).
fn report(line: String) -> Result<f64> {
    println!("{line}");
    line.split_whitespace()
        .nth(2)
        .and_then(|median| median.parse().ok())
        .ok_or_else(|| format!("no median in the result line {line:?}"))
}

/// Waits for `pong`'s "ready", then `ping`'s result line, then both exits.
fn pair(mut pong: ChildProcess, mut ping: ChildProcess, case: &str) -> Result<String> {
    pong.expect_line("ready")?;
    let line = ping.expect_line(case)?;
    ping.expect_success()?;
    pong.expect_success()?;
    Ok(line)
}

fn iterations() -> Result<usize> {
    let scale = match std::env::var("ZEROCP_BENCH_SCALE") {
        Err(_) => 1.0,
        Ok(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0)
            .ok_or_else(|| format!("ZEROCP_BENCH_SCALE={text:?} is not a positive number"))?,
    };
    Ok(((BASE_ITERS * scale) as usize).max(100))
}

/// The first two CPUs this process may use (both sides on one when only
/// one is allowed, with a warning: busy polling then measures the
/// scheduler).
fn two_cpus() -> Result<(usize, usize)> {
    let set =
        rustix::thread::sched_getaffinity(None).map_err(|e| format!("sched_getaffinity: {e}"))?;
    let allowed: Vec<usize> = (0..rustix::thread::CpuSet::MAX_CPU)
        .filter(|&c| set.is_set(c))
        .take(2)
        .collect();
    match allowed[..] {
        [a, b] => Ok((a, b)),
        [a] => {
            eprintln!("# WARNING: only CPU {a} is available; both sides share it");
            Ok((a, a))
        }
        _ => Err("no CPU is allowed to this process".into()),
    }
}

fn pin(cpu: usize) -> Result<()> {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).map_err(|e| format!("pinning to CPU {cpu}: {e}"))
}

/// Compiles `benches/c_pingpong.c` with `-O2` into `dir`.
fn compile(dir: &Path) -> Result<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/c_pingpong.c");
    let out = dir.join("c_pingpong");
    let flags = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"];
    c_build::compile(&c_build::c_compiler(), &source, &flags, &out)?;
    Ok(out)
}

/// A private daemon (this binary with `--daemon`), on a domain and run
/// directory of this run alone.
struct Daemon {
    domain: String,
    run_dir: PathBuf,
    child: Child,
}

impl Daemon {
    fn start(dir: &Path) -> Result<Self> {
        let domain = format!("bench-c-{}", std::process::id());
        let run_dir = dir.join("run");
        let config = dir.join("zerocpd.toml");
        std::fs::write(&config, DAEMON_CONFIG).map_err(|e| format!("{}: {e}", config.display()))?;
        let exe = std::env::current_exe().map_err(|e| format!("the benchmark binary: {e}"))?;
        let child = Command::new(exe)
            .arg("--daemon")
            .arg(&domain)
            .arg(&config)
            .env("ZEROCP_RUN_DIR", &run_dir)
            .spawn()
            .map_err(|e| format!("starting the daemon: {e}"))?;
        let daemon = Self {
            domain,
            run_dir,
            child,
        };
        let socket = daemon.run_dir.join(format!("{}.sock", daemon.domain));
        let deadline = Instant::now() + DEADLINE;
        while zerocp_os_linux::seqpacket::SeqpacketConn::connect(&socket).is_err() {
            if Instant::now() > deadline {
                return Err(format!("the daemon did not listen on {}", socket.display()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(daemon)
    }

    /// Starts `program ARGS` as a client of this daemon.
    fn spawn(&self, program: &Path, args: &[&str]) -> Result<ChildProcess> {
        let mut child = Command::new(program)
            .args(args)
            .env("ZEROCP_DOMAIN", &self.domain)
            .env("ZEROCP_RUN_DIR", &self.run_dir)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", program.display()))?;
        let stdout = child.stdout.take().ok_or("the child's stdout")?;
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(ChildProcess { child, lines })
    }

    /// SIGTERM, then a clean exit within the deadline.
    fn stop(mut self) -> Result<()> {
        let pid =
            rustix::process::Pid::from_raw(self.child.id() as i32).ok_or("the daemon's pid")?;
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .map_err(|e| format!("stopping the daemon: {e}"))?;
        let status = self.child.wait().map_err(|e| format!("the daemon: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the daemon exited with {status}"))
        }
    }
}

/// A child whose stdout lines arrive through a channel.
struct ChildProcess {
    child: Child,
    lines: Receiver<String>,
}

impl ChildProcess {
    fn expect_line(&mut self, prefix: &str) -> Result<String> {
        loop {
            match self.lines.recv_timeout(DEADLINE) {
                Ok(line) if line.starts_with(prefix) => return Ok(line),
                Ok(_) => {}
                Err(e) => return Err(format!("no line {prefix:?} from the child: {e}")),
            }
        }
    }

    fn expect_success(&mut self) -> Result<()> {
        let status = self
            .child
            .wait()
            .map_err(|e| format!("waiting for a child: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("a child exited with {status}"))
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The daemon role: the daemon library on the domain and configuration of
/// its arguments, until SIGTERM.
fn run_daemon(args: &[String]) -> Result<()> {
    let [domain, config] = args else {
        return Err("--daemon DOMAIN CONFIG".into());
    };
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain: Some(domain.clone()),
        config: Some(PathBuf::from(config)),
    };
    zerocp_daemon::daemon::run(&options)
        .map(drop)
        .map_err(|e| format!("the daemon: {e}"))
}

/// `--rust-ping SIZE CPU ITERS` / `--rust-pong SIZE CPU`.
fn rust_role(ping: bool, args: &[String]) -> Result<()> {
    let number = |i: usize| -> Result<usize> {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("argument {i} of {args:?} is not a number"))
    };
    let (size, cpu) = (number(0)?, number(1)?);
    let iters = if ping { number(2)? } else { 0 };
    pin(cpu)?;
    match size {
        64 => RustSide::<64>::open(ping)?.run(ping, iters),
        4096 => RustSide::<4096>::open(ping)?.run(ping, iters),
        other => Err(format!("no Rust ping-pong for {other} bytes")),
    }
}

/// One side of the Rust ping-pong.
struct RustSide<const N: usize> {
    publisher: Publisher<[u8; N]>,
    subscriber: Subscriber<[u8; N]>,
}

impl<const N: usize> RustSide<N> {
    fn open(ping: bool) -> Result<Self> {
        let rt = Runtime::init(if ping { "rust-ping" } else { "rust-pong" })
            .map_err(|e| format!("Runtime::init: {e}"))?;
        let service = |event: &str| {
            ServiceDescription::new("Bench", &format!("rust-pingpong-{N}"), event)
                .map_err(|e| format!("service: {e}"))
        };
        let (out, inbox) = if ping {
            (service("Ping")?, service("Pong")?)
        } else {
            (service("Pong")?, service("Ping")?)
        };
        let publisher = rt
            .publisher::<[u8; N]>(&out)
            .max_loans(1)
            .create()
            .map_err(|e| format!("publisher: {e}"))?;
        let subscriber = rt
            .subscriber::<[u8; N]>(&inbox)
            .queue_capacity(1)
            .max_held(1)
            .create()
            .map_err(|e| format!("subscriber: {e}"))?;
        Ok(Self {
            publisher,
            subscriber,
        })
    }

    fn run(&self, ping: bool, iters: usize) -> Result<()> {
        if ping {
            let line = self.ping(iters)?;
            println!("{line}");
            Ok(())
        } else {
            println!("ready");
            self.pong()
        }
    }

    #[inline(always)]
    fn send(&self, seq: u64) -> Result<()> {
        let sample = self
            .publisher
            .loan_uninit()
            .map_err(|e| format!("loan: {e}"))?;
        let sample = sample.write_with(|bytes: &mut [u8; N]| {
            bytes[..8].copy_from_slice(&seq.to_le_bytes());
        });
        sample.publish().map_err(|e| format!("publish: {e}"))
    }

    /// The next sample's sequence number, polling at most `spins` times
    /// (`None`: without bound).
    #[inline(always)]
    fn recv(&self, spins: Option<u64>) -> Result<Option<u64>> {
        let mut polled = 0u64;
        while spins.is_none_or(|s| polled < s) {
            if let Some(sample) = self.subscriber.take().map_err(|e| format!("take: {e}"))? {
                let mut seq = [0u8; 8];
                seq.copy_from_slice(&sample[..8]);
                return Ok(Some(u64::from_le_bytes(seq)));
            }
            polled += 1;
        }
        Ok(None)
    }

    fn pong(&self) -> Result<()> {
        loop {
            match self.recv(None)? {
                Some(STOP) => return Ok(()),
                Some(seq) => self.send(seq)?,
                None => {}
            }
        }
    }

    /// One round trip: send `seq`, poll until it comes back (a late echo of
    /// an earlier probe is skipped).
    #[inline(always)]
    fn round_trip(&self, seq: u64) -> Result<()> {
        self.send(seq)?;
        loop {
            match self.recv(None)? {
                Some(echoed) if echoed == seq => return Ok(()),
                Some(echoed) if echoed > seq => {
                    return Err(format!("sent {seq}, got {echoed} back"));
                }
                _ => {}
            }
        }
    }

    fn ping(&self, iters: usize) -> Result<String> {
        // Until pong is connected: resend the probe until it comes back.
        while self.probe()? != Some(0) {}
        let mut seq = 0;
        for _ in 0..(iters / 10).max(500) {
            seq += 1;
            self.round_trip(seq)?;
        }
        let mut one_way = Vec::with_capacity(iters);
        let begin = Instant::now();
        for _ in 0..iters {
            seq += 1;
            let t0 = Instant::now();
            self.round_trip(seq)?;
            one_way.push(t0.elapsed().as_nanos() as u64 / 2);
        }
        let wall = begin.elapsed();
        self.send(STOP)?;
        Ok(result_line("zerocp", N, &mut one_way, wall))
    }

    fn probe(&self) -> Result<Option<u64>> {
        self.send(0)?;
        self.recv(Some(1_000_000))
    }
}

/// The result line of `one_way` latencies measured over `wall`.
fn result_line(case: &str, size: usize, one_way: &mut [u64], wall: Duration) -> String {
    one_way.sort_unstable();
    let at = |p: f64| one_way[((p * one_way.len() as f64).ceil() as usize).max(1) - 1];
    let rate = 2.0 * one_way.len() as f64 / wall.as_secs_f64();
    format!(
        "{case} {size} {} {} {} {rate:.0}",
        at(0.5),
        at(0.99),
        one_way[one_way.len() - 1]
    )
}
