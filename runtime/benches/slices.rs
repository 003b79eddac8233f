//! `cargo bench -p zerocp --bench slices`: the slice path (`Publisher<[u8]>`)
//! against the fixed-size path (`Publisher<[u8; 921600]>`) for a 640×480×3
//! image, against a private `zerocpd`.
//!
//! One thread publishes a sample and takes it back through a subscriber of
//! its own (the same runtime, so no scheduling between processes blurs the
//! few hundred nanoseconds the paths differ by): loan, fill, publish, take,
//! check the length, drop. Cases:
//!
//! - `fixed`: `[u8; 921600]`;
//! - `slice-full`: `[u8]` of 921600 bytes, the fixed size;
//! - `slice-varying`: `[u8]` cycling through 921600, 230400, 9216 and 3
//!   bytes (full image, quarter, a 64×48 crop, one pixel).
//!
//! and two fills: `fill=none` writes nothing (`write_with` of a no-op: the
//! path alone), `fill=copy` copies the sample's bytes from a buffer (as from
//! a camera driver's). Cases alternate round by round and each line gives
//! the median of the rounds' means:
//!
//! ```text
//! slices case=slice-full fill=none bytes=921600 ns_per_sample=… min=… max=…
//! ```
//!
//! Rounds and samples per round scale with `ZEROCP_BENCH_SCALE`.

mod common {
    pub mod daemon;
    pub mod error;
    pub mod machine;
    // Every benchmark compiles the shared modules it needs and uses a
    // part of them (this one: the daemon role's arguments, the scale).
    #[allow(dead_code)]
    pub mod process;
    #[allow(dead_code)]
    pub mod stats;
}

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use common::daemon::{Daemon, PrivateDomain};
use common::error::{BenchError, Context};
use common::process::RoleArgs;
use common::stats::scale;
use zerocp::{Publisher, Runtime, ServiceDescription, Subscriber};

/// Bytes of a 640×480 RGB image.
const IMAGE: usize = 640 * 480 * 3;
/// The lengths `slice-varying` cycles through.
const VARYING: [usize; 4] = [IMAGE, IMAGE / 4, 64 * 48 * 3, 3];
/// One pool of 1 MiB chunks: an image and its chunk header fit.
const DAEMON_CONFIG: &str = "\
[[mempool]]
size = 1048576
count = 8
";
/// Rounds (each runs every case once) and samples per case and round, at scale 1.
const ROUNDS: usize = 15;
const SAMPLES: usize = 400;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match RoleArgs::parse(&args) {
        Ok(Some(role)) if role.name == "daemon" => common::daemon::role_main(&role),
        Ok(Some(role)) => Err(BenchError::Usage(format!("unknown role {:?}", role.name))),
        Ok(None) => orchestrate(),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("slices: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn orchestrate() -> Result<(), BenchError> {
    // First, while this process has a single thread (it sets the environment).
    let domain = PrivateDomain::create("slices")?;
    let scale = scale()?;
    common::machine::idle_check("before");
    let daemon = Daemon::start(&domain, DAEMON_CONFIG)?;
    let result = run(scale);
    let stopped = daemon.stop();
    result?;
    stopped?;
    common::machine::idle_check("after");
    Ok(())
}

/// The sample kinds compared.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    Fixed,
    SliceFull,
    SliceVarying,
}

impl Case {
    const ALL: [Case; 3] = [Case::Fixed, Case::SliceFull, Case::SliceVarying];

    fn name(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::SliceFull => "slice-full",
            Self::SliceVarying => "slice-varying",
        }
    }

    /// The sample's length for sample `i`.
    fn len(self, i: usize) -> usize {
        match self {
            Self::Fixed | Self::SliceFull => IMAGE,
            Self::SliceVarying => VARYING[i % VARYING.len()],
        }
    }
}

/// The ports of both paths, one publisher and one subscriber each.
struct Ports {
    fixed: Publisher<[u8; IMAGE]>,
    fixed_sub: Subscriber<[u8; IMAGE]>,
    slices: Publisher<[u8]>,
    slice_sub: Subscriber<[u8]>,
}

fn service(event: &str) -> Result<ServiceDescription, BenchError> {
    ServiceDescription::new("Bench", "Slices", event).zerocp("ServiceDescription::new")
}

fn run(scale: f64) -> Result<(), BenchError> {
    let rt = Runtime::init("bench-slices").zerocp("Runtime::init")?;
    let ports = Ports {
        fixed: rt
            .publisher(&service("Fixed")?)
            .max_loans(1)
            .create()
            .zerocp("fixed publisher")?,
        fixed_sub: rt
            .subscriber(&service("Fixed")?)
            .max_held(1)
            .create()
            .zerocp("fixed subscriber")?,
        slices: rt
            .publisher::<[u8]>(&service("Slice")?)
            .max_slice_len(IMAGE as u32)
            .max_loans(1)
            .create()
            .zerocp("slice publisher")?,
        slice_sub: rt
            .subscriber(&service("Slice")?)
            .max_held(1)
            .create()
            .zerocp("slice subscriber")?,
    };
    let source: Vec<u8> = (0..IMAGE).map(|i| i as u8).collect();
    let rounds = ((ROUNDS as f64 * scale) as usize).max(3);
    let samples = ((SAMPLES as f64 * scale) as usize).max(10);
    for copy in [false, true] {
        let mut means: Vec<Vec<f64>> = vec![Vec::new(); Case::ALL.len()];
        // Warm-up: every case once, untimed.
        for case in Case::ALL {
            run_case(&ports, case, copy, &source, samples / 10 + 1)?;
        }
        for _ in 0..rounds {
            for (k, case) in Case::ALL.into_iter().enumerate() {
                means[k].push(run_case(&ports, case, copy, &source, samples)?);
            }
        }
        for (case, mut m) in Case::ALL.into_iter().zip(means) {
            m.sort_by(f64::total_cmp);
            let bytes = match case {
                Case::SliceVarying => "varying".to_owned(),
                _ => IMAGE.to_string(),
            };
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "slices case={} fill={} bytes={bytes} ns_per_sample={:.0} min={:.0} max={:.0}",
                case.name(),
                if copy { "copy" } else { "none" },
                m[m.len() / 2],
                m[0],
                m[m.len() - 1]
            );
            let _ = out.flush();
        }
    }
    Ok(())
}

/// Publishes and takes back `samples` samples of `case`; the mean ns per sample.
fn run_case(
    ports: &Ports,
    case: Case,
    copy: bool,
    source: &[u8],
    samples: usize,
) -> Result<f64, BenchError> {
    let start = Instant::now();
    for i in 0..samples {
        let len = case.len(i);
        let got = match case {
            Case::Fixed => {
                let loan = ports.fixed.loan_uninit().zerocp("loan_uninit")?;
                let sample = loan.write_with(|bytes: &mut [u8; IMAGE]| {
                    if copy {
                        bytes.copy_from_slice(source);
                    }
                });
                sample.publish().zerocp("publish")?;
                let taken = ports.fixed_sub.take().zerocp("take")?;
                taken.map(|s| s.len())
            }
            Case::SliceFull | Case::SliceVarying => {
                let loan = ports
                    .slices
                    .loan_slice_uninit(len)
                    .zerocp("loan_slice_uninit")?;
                let sample = if copy {
                    loan.write_from_slice(&source[..len])
                        .zerocp("write_from_slice")?
                } else {
                    loan.write_with(|_| {})
                };
                sample.publish().zerocp("publish")?;
                let taken = ports.slice_sub.take().zerocp("take")?;
                taken.map(|s| s.len())
            }
        };
        if got != Some(len) {
            return Err(BenchError::Zerocp {
                what: format!("{}: take", case.name()),
                source: format!("took {got:?}, published {len} bytes").into(),
            });
        }
    }
    Ok(start.elapsed().as_secs_f64() * 1e9 / samples as f64)
}
