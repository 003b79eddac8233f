//! `cargo bench -p zerocp --bench restart`: how soon an existing subscriber
//! receives samples again after the daemon restarts (issue 11).
//!
//! A private `zerocpd`; a subscriber in a process of its own, blocked in
//! `wait`; a publisher in this process (a thread), publishing a sequence
//! number every [`PACE`]. Both runtimes reconnect with the default
//! settings (backoff ceiling `DEFAULT_RECONNECT_CEILING`, 1 s, or
//! `--ceiling-ms N`), and both ports are created once, before the first
//! restart. Then, [`RESTARTS`] times (scaled by `ZEROCP_BENCH_SCALE`, at
//! least 2), alternating: the daemon is killed (`kill -9`) or stopped
//! (SIGTERM); once the subscriber has seen the retryable `Disconnected`
//! (and `--outage-ms N` more have passed, 0 by default), a new daemon
//! starts on the same domain. The longer the outage, the longer the
//! runtimes' backoff has grown by then, up to its ceiling.
//!
//! **What is measured**: from the moment the new daemon accepts
//! connections to the moment the subscriber takes its first sample, both on
//! the system-wide `CLOCK_MONOTONIC`. *Accepting* is the first successful
//! `connect` to the daemon's socket path, which this process tries every
//! 100 µs from the moment it starts the daemon (a connection succeeds once
//! the daemon listens, before it accepts; a runtime cannot connect any
//! earlier). That reading can only be late (the poll step, this thread's
//! scheduling), which shortens the span by as much. The subscriber reads the clock right after the `take` that
//! returned the sample. The span includes: the runtimes noticing the
//! daemon (their next backoff attempt), registering, mapping the new
//! segments, both ports re-attaching on their next call, the publisher's
//! next sample (≤ [`PACE`] later) and the subscriber's wake-up. The
//! subscriber's application loop waits [`RETRY`] after each `Disconnected`
//! before it calls again (calls return at once during an outage).
//!
//! Output: one line per restart on stderr (`# restart 3 kill: 12.345 ms`),
//! then on stdout
//!
//! ```text
//! restart signal=all restarts=20 outage_ms=0 ceiling_ms=1000 median_ms=… max_ms=… min_ms=…
//! restart signal=kill restarts=10 …
//! restart signal=term restarts=10 …
//! ```
//!
//! Goal (issue 11): max ≤ 1000 ms, median ≤ 100 ms. See `docs/performance.md`.

mod common {
    pub mod daemon;
    pub mod error;
    // Every benchmark compiles the shared modules it needs and uses a
    // different part of them: CPU pinning and busy waits (`process`) and
    // payload labels (`stats`) are for the data-path benchmarks.
    #[allow(dead_code)]
    pub mod process;
    #[allow(dead_code)]
    pub mod stats;
}

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::daemon::{Daemon, PrivateDomain};
use common::error::{BenchError, Context};
use common::process::{RoleArgs, RoleChild, child_start, spawn_role, tell_parent};
use common::stats::scale;
use zerocp::{
    DEFAULT_RECONNECT_CEILING, LoanError, PublishError, Publisher, Runtime, ServiceDescription,
    TakeError, WaitError,
};

/// One small pool: the subscriber's queue and a loan.
const DAEMON_CONFIG: &str = "\
[[mempool]]
size = 64
count = 64
";
/// Restarts at scale 1.
const RESTARTS: usize = 20;
/// How often the publisher publishes.
const PACE: Duration = Duration::from_millis(1);
/// How long the subscriber waits after a `Disconnected` before it calls again.
const RETRY: Duration = Duration::from_millis(1);
/// The value that ends the subscriber.
const STOP: u64 = u64::MAX;

/// How the daemon goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// `kill -9`, as a crash.
    Kill,
    /// SIGTERM, as `systemctl restart`.
    Term,
}

impl Stop {
    fn name(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Term => "term",
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match RoleArgs::parse(&args) {
        Ok(Some(role)) => run_role(&role),
        Ok(None) => parse_options(&args).and_then(orchestrate),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("restart: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the command line chose.
#[derive(Debug, Clone, Copy)]
struct Options {
    /// `--outage-ms N` (default 0): how long the daemon stays away after
    /// the subscriber noticed it gone.
    outage: Duration,
    /// `--ceiling-ms N` (default `DEFAULT_RECONNECT_CEILING`): both
    /// runtimes' reconnect ceiling.
    ceiling: Duration,
}

fn parse_options(args: &[String]) -> Result<Options, BenchError> {
    let mut options = Options {
        outage: Duration::ZERO,
        ceiling: DEFAULT_RECONNECT_CEILING,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let slot = match arg.as_str() {
            // Passed by `cargo bench`.
            "--bench" => continue,
            "--outage-ms" => &mut options.outage,
            "--ceiling-ms" => &mut options.ceiling,
            other => {
                return Err(BenchError::Usage(format!(
                    "unknown argument {other:?} (--outage-ms N, --ceiling-ms N)"
                )));
            }
        };
        let ms = it
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| BenchError::Usage(format!("{arg} needs a count of milliseconds")))?;
        *slot = Duration::from_millis(ms);
    }
    Ok(options)
}

/// A runtime with `ceiling` as its reconnect ceiling (otherwise the defaults).
fn runtime(name: &str, ceiling: Duration) -> Result<Runtime, BenchError> {
    Runtime::builder(name)
        .reconnect_ceiling(ceiling)
        .init()
        .zerocp("Runtime::init")
}

/// A child process: the daemon or the subscriber.
fn run_role(role: &RoleArgs) -> Result<(), BenchError> {
    match role.name.as_str() {
        "daemon" => common::daemon::role_main(role),
        "restart-subscriber" => subscriber_main(role),
        other => Err(BenchError::Usage(format!("unknown role {other:?}"))),
    }
}

fn service() -> Result<ServiceDescription, BenchError> {
    ServiceDescription::new("Bench", "Restart", "Seq").zerocp("ServiceDescription::new")
}

/// The parent: daemon, publisher thread, subscriber process, restarts.
fn orchestrate(options: Options) -> Result<(), BenchError> {
    // First, while this process has a single thread (it sets the environment).
    let domain = PrivateDomain::create("restart")?;
    let restarts = ((RESTARTS as f64 * scale()?).round() as usize).max(2);
    let daemon = Daemon::start(&domain, DAEMON_CONFIG)?;
    let ceiling_ms = options.ceiling.as_millis().to_string();
    let mut subscriber = spawn_role("restart-subscriber", &[("ceiling-ms", ceiling_ms)])?;
    subscriber.expect_line("ready")?;
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || publish(&stop, options.ceiling))
    };
    eprintln!(
        "# reconnect ceiling {:?} (default {DEFAULT_RECONNECT_CEILING:?}); the daemon stays away {:?} once the subscriber noticed",
        options.ceiling, options.outage
    );
    let measured = subscriber
        .expect_line("first ")
        .and_then(|_| restart_all(daemon, &domain, &mut subscriber, restarts, options.outage));
    stop.store(true, Ordering::Release);
    let published = publisher
        .join()
        .map_err(|_| BenchError::Usage("the publisher thread panicked".into()))
        .and_then(|r| r);
    let (daemon, measured) = measured?;
    published?;
    subscriber.finish()?;
    daemon.stop()?;
    report(&measured, options);
    Ok(())
}

/// Restarts the daemon `restarts` times, alternating `kill -9` and
/// SIGTERM; returns the last daemon and each restart's way and time to the
/// first sample.
fn restart_all(
    mut daemon: Daemon,
    domain: &PrivateDomain,
    subscriber: &mut RoleChild,
    restarts: usize,
    outage: Duration,
) -> Result<(Daemon, Vec<(Stop, Duration)>), BenchError> {
    let mut measured = Vec::with_capacity(restarts);
    for i in 0..restarts {
        let stop = if i % 2 == 0 { Stop::Kill } else { Stop::Term };
        let took;
        (daemon, took) = restart(daemon, domain, subscriber, stop, outage)?;
        eprintln!(
            "# restart {} {}: {:.3} ms",
            i + 1,
            stop.name(),
            took.as_secs_f64() * 1e3
        );
        measured.push((stop, took));
    }
    Ok((daemon, measured))
}

/// One restart: the daemon goes, the subscriber notices, a new daemon
/// comes; returns it and the time from its accepting connections to the
/// subscriber's first sample.
fn restart(
    daemon: Daemon,
    domain: &PrivateDomain,
    subscriber: &mut RoleChild,
    stop: Stop,
    outage: Duration,
) -> Result<(Daemon, Duration), BenchError> {
    match stop {
        Stop::Kill => daemon.kill()?,
        Stop::Term => daemon.stop()?,
    }
    subscriber.expect_line("down")?;
    std::thread::sleep(outage);
    let mut daemon = Daemon::spawn(domain, DAEMON_CONFIG)?;
    let accepting = daemon.wait_ready()?;
    let line = subscriber.expect_line("first ")?;
    let first = line
        .strip_prefix("first ")
        .and_then(|ns| ns.parse().ok())
        .map(Duration::from_nanos)
        .ok_or_else(|| peer_error(format!("not a clock reading: {line:?}")))?;
    // The runtimes register as soon as the socket appears (inotify), so
    // the bench's own reading of "accepting", only ever late, can come
    // after the sample on a loaded machine: the span was shorter than the
    // reading's delay, counted as zero.
    let took = first.checked_sub(accepting).unwrap_or_else(|| {
        eprintln!(
            "# the sample at {first:?} came before the bench saw the daemon accepting at \
             {accepting:?} (its reading was late): counted as 0 ms"
        );
        Duration::ZERO
    });
    Ok((daemon, took))
}

fn peer_error(detail: String) -> BenchError {
    BenchError::Peer {
        role: "restart-subscriber".into(),
        detail,
    }
}

/// The publisher thread: a sequence number every [`PACE`] until `stop`,
/// then [`STOP`].
fn publish(stop: &AtomicBool, ceiling: Duration) -> Result<(), BenchError> {
    let rt = runtime("bench-restart-pub", ceiling)?;
    let publisher = rt
        .publisher::<u64>(&service()?)
        .create()
        .zerocp("creating the publisher")?;
    let mut seq = 0;
    while !stop.load(Ordering::Acquire) {
        publish_one(&publisher, seq)?;
        seq += 1;
        std::thread::sleep(PACE);
    }
    // The subscriber took a sample since the last restart: both ports are
    // attached, and the last sample of its queue is never dropped.
    while !publish_one(&publisher, STOP)? {
        std::thread::sleep(PACE);
    }
    Ok(())
}

/// Publishes `value`; `false` while the daemon is away (or the loan was
/// made before the runtime registered again).
fn publish_one(publisher: &Publisher<u64>, value: u64) -> Result<bool, BenchError> {
    let loan = match publisher.loan_uninit() {
        Ok(loan) => loan,
        Err(LoanError::Disconnected) => return Ok(false),
        Err(e) => return Err(e).zerocp("loan_uninit"),
    };
    match loan.write(value).publish() {
        Ok(()) => Ok(true),
        Err(PublishError::Disconnected | PublishError::LoanedBeforeReconnect) => Ok(false),
        Err(e) => Err(e).zerocp("publish"),
    }
}

/// The subscriber process: says `ready`, then `first <ns>` (the monotonic
/// clock) at its first sample and at the first after each outage, `down`
/// at the first `Disconnected` of each outage; ends at [`STOP`].
fn subscriber_main(args: &RoleArgs) -> Result<(), BenchError> {
    child_start(args, rustix::process::Signal::KILL)?;
    let ceiling = Duration::from_millis(args.parse_value("ceiling-ms")?);
    let rt = runtime("bench-restart-sub", ceiling)?;
    let subscriber = rt
        .subscriber::<u64>(&service()?)
        .create()
        .zerocp("creating the subscriber")?;
    tell_parent("ready")?;
    let mut down = true;
    loop {
        match subscriber.wait(None) {
            Ok(_) => {}
            Err(WaitError::Disconnected) => {
                noticed_down(&mut down)?;
                std::thread::sleep(RETRY);
                continue;
            }
            Err(e) => return Err(e).zerocp("wait"),
        }
        loop {
            match subscriber.take() {
                Ok(Some(sample)) if *sample == STOP => return Ok(()),
                Ok(Some(_)) if down => {
                    let now = zerocp_os_linux::clock::monotonic_ns();
                    down = false;
                    tell_parent(&format!("first {now}"))?;
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(TakeError::Disconnected) => {
                    noticed_down(&mut down)?;
                    break;
                }
                Err(e) => return Err(e).zerocp("take"),
            }
        }
    }
}

/// Says `down` at the first `Disconnected` after a sample.
fn noticed_down(down: &mut bool) -> Result<(), BenchError> {
    if !*down {
        *down = true;
        tell_parent("down")?;
    }
    Ok(())
}

/// Prints the summary lines: all restarts, then per way.
fn report(measured: &[(Stop, Duration)], options: Options) {
    let times = |filter: Option<Stop>| -> Vec<Duration> {
        measured
            .iter()
            .filter(|(s, _)| filter.is_none_or(|f| f == *s))
            .map(|(_, t)| *t)
            .collect()
    };
    println!("{}", summary("all", times(None), options));
    for stop in [Stop::Kill, Stop::Term] {
        println!("{}", summary(stop.name(), times(Some(stop)), options));
    }
}

/// `restart signal=… restarts=… outage_ms=… ceiling_ms=… median_ms=… max_ms=… min_ms=…`.
fn summary(label: &str, mut times: Vec<Duration>, options: Options) -> String {
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let n = times.len();
    let median = match n {
        0 => 0.0,
        _ if n % 2 == 1 => ms(times[n / 2]),
        _ => (ms(times[n / 2 - 1]) + ms(times[n / 2])) / 2.0,
    };
    format!(
        "restart signal={label} restarts={n} outage_ms={} ceiling_ms={} median_ms={median:.1} max_ms={:.1} min_ms={:.1}",
        options.outage.as_millis(),
        options.ceiling.as_millis(),
        times.last().copied().map_or(0.0, ms),
        times.first().copied().map_or(0.0, ms),
    )
}
