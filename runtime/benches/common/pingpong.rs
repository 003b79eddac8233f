//! The ZeroCP ping-pong: two services (`…/Ping`, `…/Pong`) of payload
//! `[u8; N]`, one publisher and one subscriber on each side, the peer's
//! iceoryx2 setup mirrored: queue capacity 1, one sample held, one loan,
//! discard-oldest.
//!
//! A send loans an uninitialised sample, writes the sequence number into its
//! first 8 bytes in place (`write_with`: nothing of `N` bytes is ever built
//! on the stack) and publishes it; a receive takes the sample, reads those 8
//! bytes and drops it. The receiver busy-polls `take` (`zerocp`), or blocks
//! in `wait`: with the subscriber's default adaptive spin before the futex
//! sleep (`zerocp-wait`), or with `wait_spins(0)`, sleeping at once
//! (`zerocp-sleep`, the like-for-like peer of iceoryx2's `iox2-event`); or
//! it sleeps in a `WaitSet` holding its subscriber (`zerocp-waitset`, the
//! peer of `iox2-waitset`) or in `poll(2)` on the subscriber's descriptor
//! (`zerocp-fd`) ([`crate::common::waiter`]).
//!
//! [`profile_loop`] runs the same operations in one thread of one process,
//! for instruction-level profiles (`--profile-loop`).
//!
//! With `ZEROCP_BENCH_HISTORY=K` both publishers keep a history of `K`
//! samples (default 0): the publish path then also updates the history
//! ring, and the price of history on connect (the publisher's delivery
//! lock) can be compared with and without it.

use std::time::Instant;

use zerocp::{Publisher, Runtime, ServiceDescription, Subscriber};

use crate::common::error::{BenchError, Context};
use crate::common::mode::Mode;
use crate::common::process::{Cpus, RoleArgs, Spin, child_start, spawn_role, tell_parent};
use crate::common::recorder::{iters_for, record, warmup_for};
use crate::common::seq::{read_seq, write_seq};
use crate::common::waiter::{Wait, with_waiter};

/// The sequence number that ends the child.
const STOP: u64 = u64::MAX;
/// Environment variable: the publishers' history depth (default 0).
pub const HISTORY_ENV: &str = "ZEROCP_BENCH_HISTORY";

/// `ZEROCP_BENCH_HISTORY` as a history depth (0 when unset).
fn history() -> Result<u32, BenchError> {
    match std::env::var(HISTORY_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(0),
        Err(e) => Err(BenchError::Usage(format!("{HISTORY_ENV}: {e}"))),
        Ok(text) => text.trim().parse().map_err(|_| {
            BenchError::Usage(format!("{HISTORY_ENV}={text:?} is not a history depth"))
        }),
    }
}
/// Payload sizes the ping-pong is compiled for.
pub const SIZES: [usize; 5] = [64, 4096, 64 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/// The latency benchmark's view of a receiver's [`Mode`].
impl Mode {
    /// The case name in the output.
    pub fn case(self) -> &'static str {
        match self {
            Self::Poll => "zerocp",
            Self::Wait => "zerocp-wait",
            Self::Sleep => "zerocp-sleep",
            Self::WaitSet => "zerocp-waitset",
            Self::Fd => "zerocp-fd",
        }
    }

    /// Timed round trips at scale 1 for payloads up to 4 KiB (the peer's).
    fn base(self) -> usize {
        match self {
            Self::Poll => 200_000,
            Self::Wait | Self::Sleep | Self::WaitSet | Self::Fd => 100_000,
        }
    }
}

fn service(tag: &str, size: usize, event: &str) -> Result<ServiceDescription, BenchError> {
    ServiceDescription::new("Bench", &format!("pingpong-{size}-{tag}"), event)
        .zerocp("ServiceDescription::new")
}

/// One side of the ping-pong.
struct Side<const N: usize> {
    publisher: Publisher<[u8; N]>,
    subscriber: Subscriber<[u8; N]>,
    mode: Mode,
    yield_cpu: bool,
}

impl<const N: usize> Side<N> {
    fn new(
        rt: &Runtime,
        out: &ServiceDescription,
        inbox: &ServiceDescription,
        mode: Mode,
        yield_cpu: bool,
    ) -> Result<Self, BenchError> {
        let publisher = rt
            .publisher::<[u8; N]>(out)
            .max_loans(1)
            .history(history()?)
            .create()
            .zerocp("create publisher")?;
        let mut subscriber = rt
            .subscriber::<[u8; N]>(inbox)
            .queue_capacity(1)
            .max_held(1);
        if mode == Mode::Sleep {
            subscriber = subscriber.wait_spins(0);
        }
        let subscriber = subscriber.create().zerocp("create subscriber")?;
        Ok(Self {
            publisher,
            subscriber,
            mode,
            yield_cpu,
        })
    }

    #[inline(always)]
    fn send(&self, seq: u64) -> Result<(), BenchError> {
        let sample = self.publisher.loan_uninit().zerocp("loan_uninit")?;
        let sample = sample.write_with(|bytes: &mut [u8; N]| write_seq(bytes, seq));
        sample.publish().zerocp("publish")
    }

    #[inline(always)]
    fn try_recv(&self) -> Result<Option<u64>, BenchError> {
        Ok(self
            .subscriber
            .take()
            .zerocp("take")?
            .map(|sample| read_seq(&sample[..])))
    }

    #[inline(always)]
    fn recv(&self, wait: Wait<'_>) -> Result<u64, BenchError> {
        match self.mode {
            Mode::Poll => {
                let mut spin = Spin::new(self.yield_cpu);
                loop {
                    if let Some(v) = self.try_recv()? {
                        return Ok(v);
                    }
                    spin.turn("zerocp sample")?;
                }
            }
            Mode::Wait | Mode::Sleep | Mode::WaitSet | Mode::Fd => loop {
                if let Some(v) = self.try_recv()? {
                    return Ok(v);
                }
                wait()?;
            },
        }
    }
}

/// Runs the `zerocp`/`zerocp-wait` case for `size`; returns its line.
pub fn run(mode: Mode, cpus: Cpus, size: usize, scale: f64) -> Result<String, BenchError> {
    match size {
        64 => run_n::<64>(mode, cpus, scale),
        4096 => run_n::<4096>(mode, cpus, scale),
        65536 => run_n::<65536>(mode, cpus, scale),
        1048576 => run_n::<1048576>(mode, cpus, scale),
        4194304 => run_n::<4194304>(mode, cpus, scale),
        other => Err(BenchError::Usage(format!(
            "unsupported payload size {other} (one of {SIZES:?})"
        ))),
    }
}

fn run_n<const N: usize>(mode: Mode, cpus: Cpus, scale: f64) -> Result<String, BenchError> {
    let tag = format!("{}-{}", mode.name(), std::process::id());
    let rt = Runtime::init("bench-ping").zerocp("Runtime::init")?;
    let (ping, pong) = (service(&tag, N, "Ping")?, service(&tag, N, "Pong")?);
    let side = Side::<N>::new(&rt, &ping, &pong, mode, cpus.shared())?;
    let mut opts = cpus.child_opts();
    opts.extend([
        ("mode", mode.name().to_owned()),
        ("size", N.to_string()),
        ("tag", tag),
    ]);
    let mut child = spawn_role("zerocp-pong", &opts)?;
    child.expect_line("ready")?;

    let iters = iters_for(N, mode.base(), scale);
    let rec = with_waiter(&side.subscriber, mode, |wait| {
        let one = |seq: u64| -> Result<(), BenchError> {
            side.send(seq)?;
            while side.recv(wait)? != seq {}
            Ok(())
        };
        record(0, warmup_for(iters), iters, one)
    })?;
    side.send(STOP)?;
    child.finish()?;
    Ok(rec.line(mode.case(), N))
}

/// The child side (`--role zerocp-pong`): echoes every sample.
pub fn role_main(args: &RoleArgs) -> Result<(), BenchError> {
    let yield_cpu = child_start(args, rustix::process::Signal::KILL)?;
    let mode = Mode::parse(args.get("mode")?)?;
    let tag = args.get("tag")?;
    match args.parse_value::<usize>("size")? {
        64 => pong::<64>(mode, tag, yield_cpu),
        4096 => pong::<4096>(mode, tag, yield_cpu),
        65536 => pong::<65536>(mode, tag, yield_cpu),
        1048576 => pong::<1048576>(mode, tag, yield_cpu),
        4194304 => pong::<4194304>(mode, tag, yield_cpu),
        other => Err(BenchError::Usage(format!(
            "unsupported payload size {other}"
        ))),
    }
}

fn pong<const N: usize>(mode: Mode, tag: &str, yield_cpu: bool) -> Result<(), BenchError> {
    let rt = Runtime::init("bench-pong").zerocp("Runtime::init")?;
    let (ping, pong) = (service(tag, N, "Ping")?, service(tag, N, "Pong")?);
    let side = Side::<N>::new(&rt, &pong, &ping, mode, yield_cpu)?;
    with_waiter(&side.subscriber, mode, |wait| {
        tell_parent("ready")?;
        loop {
            let seq = side.recv(wait)?;
            if seq == STOP {
                return Ok(());
            }
            side.send(seq)?;
        }
    })
}

/// `--profile-loop`: loan, write 8 bytes, publish, take, read, drop, on one
/// thread, `iterations` times (after 1000 untimed ones) with payloads of
/// `size` bytes; returns a line with the mean time per iteration. Run it
/// under `valgrind --tool=callgrind --toggle-collect='*profile_iterations*'`
/// to count the instructions of exactly these operations.
pub fn profile_loop(size: usize, iterations: u64) -> Result<String, BenchError> {
    match size {
        64 => profile_n::<64>(iterations),
        4096 => profile_n::<4096>(iterations),
        65536 => profile_n::<65536>(iterations),
        1048576 => profile_n::<1048576>(iterations),
        4194304 => profile_n::<4194304>(iterations),
        other => Err(BenchError::Usage(format!(
            "unsupported payload size {other} (one of {SIZES:?})"
        ))),
    }
}

fn profile_n<const N: usize>(iterations: u64) -> Result<String, BenchError> {
    let rt = Runtime::init("bench-profile").zerocp("Runtime::init")?;
    let svc = service(&format!("profile-{}", std::process::id()), N, "Loop")?;
    let side = Side::<N>::new(&rt, &svc, &svc, Mode::Poll, false)?;
    profile_iterations(&side, 1000)?;
    let start = Instant::now();
    profile_iterations(&side, iterations)?;
    let elapsed = start.elapsed();
    let per = elapsed.as_nanos() as f64 / iterations.max(1) as f64;
    Ok(format!(
        "profile-loop payload={} iterations={iterations} ns_per_iteration={per:.1} (loan+write+publish+take+read+drop, one thread)",
        crate::common::stats::size_label(N)
    ))
}

#[inline(never)]
fn profile_iterations<const N: usize>(side: &Side<N>, iterations: u64) -> Result<(), BenchError> {
    for seq in 0..iterations {
        side.send(seq)?;
        match side.try_recv()? {
            Some(v) if v == seq => {}
            other => {
                return Err(BenchError::Peer {
                    role: "profile loop".into(),
                    detail: format!("took {other:?} after publishing {seq}"),
                });
            }
        }
    }
    Ok(())
}
