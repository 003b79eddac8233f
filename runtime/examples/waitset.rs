//! One thread, several inputs: `cargo run --release -p zerocp --example waitset`.
//!
//! Two sensors publish from two other processes (this executable again,
//! with a role argument): an IMU every 10 ms and a GPS every 50 ms, for
//! half a second each. The example's main thread waits on one
//! [`WaitSet`](zerocp::WaitSet) over both subscribers, a 100 ms interval (a
//! status line) and a 200 ms deadline on the GPS (a missed-sensor
//! watchdog), and prints what woke it, by attachment. Once the sensors
//! stop, the deadline fires and the example ends: it stops the daemon it
//! started (as `demo` does: its own `zerocpd` on a private domain unless
//! one serves `ZEROCP_DOMAIN`) and checks that nothing is left.

#[path = "common/message.rs"]
mod message;
#[path = "common/private_daemon.rs"]
mod private_daemon;

use std::process::ExitCode;
use std::time::Duration;

use message::{Counter, now_ns};
use private_daemon::{Error, Proc, STEP_DEADLINE, next_line, role, run_main, with_daemon};
use zerocp::{Readiness, Runtime, ServiceDescription, WaitSet};
use zerocp_os_linux::names::DomainName;

/// Each sensor publishes this long.
const RUN: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--role") if args.get(1).map(String::as_str) == Some("daemon") => {
            private_daemon::run_daemon(args.get(2).cloned())
        }
        Some("--role") if args.get(1).map(String::as_str) == Some("main") => run(),
        Some("--role") => sensor(&args[1..]),
        None => with_daemon("waitset", run_main),
        Some(other) => Err(format!("unknown argument {other:?} (waitset takes none)").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("waitset: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn service(name: &str) -> Result<ServiceDescription, Error> {
    Ok(ServiceDescription::new("Examples", "Sensors", name)?)
}

/// `--role sensor NAME PERIOD_MS`: publishes for [`RUN`].
fn sensor(args: &[String]) -> Result<(), Error> {
    let (name, period) = match args {
        [_, name, ms] => (name.as_str(), Duration::from_millis(ms.parse()?)),
        _ => return Err("usage: --role sensor NAME PERIOD_MS".into()),
    };
    let rt = Runtime::init(&format!("waitset-{name}"))?;
    let publisher = rt.publisher::<Counter>(&service(name)?).create()?;
    println!("ready");
    let end = std::time::Instant::now() + RUN;
    let mut count = 0;
    while std::time::Instant::now() < end {
        let text = format!("{name} #{count}");
        publisher
            .loan_uninit()?
            .write(Counter::new(count, now_ns(), &text))
            .publish()?;
        count += 1;
        std::thread::sleep(period);
    }
    Ok(())
}

fn run() -> Result<(), Error> {
    let exe = &std::env::current_exe()?;
    let domain = &DomainName::from_env()?;
    let rt = Runtime::init("waitset-main")?;
    let imu = rt
        .subscriber::<Counter>(&service("Imu")?)
        .queue_capacity(64)
        .create()?;
    let gps = rt
        .subscriber::<Counter>(&service("Gps")?)
        .queue_capacity(16)
        .create()?;
    let waitset = WaitSet::new()?;
    let imu_data = waitset.attach(&imu)?;
    let gps_data = waitset.attach(&gps)?;
    let status = waitset.attach_interval(Duration::from_millis(100))?;
    let watchdog = waitset.attach_deadline(&gps, Duration::from_millis(200))?;

    let mut sensors = Vec::new();
    for (name, ms) in [("Imu", "10"), ("Gps", "50")] {
        let mut p = Proc::spawn(name, &mut role(exe, domain, "sensor", &[name, ms]))?;
        let lines = p.lines()?;
        if next_line(&lines, &mut p)? != "ready" {
            return Err(format!("the {name} sensor did not start").into());
        }
        sensors.push(p);
    }
    println!("waitset: one thread waits on IMU, GPS, a 100 ms interval and a 200 ms GPS deadline");
    let (mut imu_n, mut gps_n, mut wakes) = (0u64, 0u64, 0u64);
    let mut latency_us = 0u64;
    loop {
        let events = waitset.wait(Some(STEP_DEADLINE))?;
        if events.is_empty() {
            return Err(format!("nothing happened for {STEP_DEADLINE:?}").into());
        }
        wakes += 1;
        if events.contains(&imu_data) {
            while let Some(s) = imu.take()? {
                imu_n += 1;
                latency_us = now_ns().saturating_sub(s.sent_ns) / 1_000;
            }
        }
        if events.contains(&gps_data) {
            while let Some(s) = gps.take()? {
                gps_n += 1;
                println!("waitset: GPS fix {:?}", s.text());
            }
        }
        if events.readiness(&status) == Some(Readiness::Tick) {
            println!(
                "waitset: tick: {imu_n} IMU samples, {gps_n} GPS fixes, {wakes} wake-ups, last IMU \
                 sample {latency_us} µs after it was published"
            );
        }
        if events.readiness(&watchdog) == Some(Readiness::Missed) {
            println!("waitset: deadline: no GPS fix for 200 ms");
            if gps_n > 0 {
                break;
            }
        }
    }
    for mut sensor in sensors {
        sensor.wait_success()?;
    }
    if imu_n == 0 {
        return Err("no IMU sample arrived".into());
    }
    println!("waitset: done: {imu_n} IMU samples and {gps_n} GPS fixes in {wakes} wake-ups");
    Ok(())
}
