//! The bench's other processes: this binary again with `--role NAME …`,
//! in a domain its environment names (`ZEROCP_DOMAIN`, and the run's
//! `ZEROCP_RUN_DIR`). Each prints `ready` when set up and runs until
//! SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use signal_hook::consts::SIGTERM;
use signal_hook::iterator::Signals;
use zenoh::Wait;
use zenoh::qos::CongestionControl;
use zerocp::Runtime;

use crate::{BenchResult, PING, PONG, ping_service, pong_service, zenoh_session};

/// Runs the role `args[0]` with the arguments after it.
pub fn run(args: &[String]) -> BenchResult<()> {
    let mut signals = Signals::new([SIGTERM]).map_err(|e| e.to_string())?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["daemon", domain, config] => daemon(domain, config),
        ["zenoh-echo", port] => {
            let port = port.parse().map_err(|_| format!("port {port:?}"))?;
            let _session = zenoh_echo(port)?;
            println!("ready");
            signals.forever().next();
            Ok(())
        }
        ["zerocp-echo"] => zerocp_echo(&mut signals),
        other => Err(format!("no role {other:?}")),
    }
}

/// The environment of a process of `domain` in this run.
pub fn envs(base: &Path, domain: &str) -> Vec<(String, String)> {
    vec![
        ("ZEROCP_DOMAIN".into(), domain.into()),
        (
            "ZEROCP_RUN_DIR".into(),
            base.join("run").display().to_string(),
        ),
    ]
}

/// Starts this binary as `role` (and its arguments) in `domain`.
pub fn spawn(base: &Path, domain: &str, role: &[&str]) -> BenchResult<Child> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let stdout = if role.first() == Some(&"daemon") {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    Command::new(exe)
        .arg("--role")
        .args(role)
        .envs(envs(base, domain))
        .stdout(stdout)
        .spawn()
        .map_err(|e| format!("role {role:?}: {e}"))
}

/// Waits for a child's `ready`.
pub fn ready(child: &mut Child) -> BenchResult<()> {
    ready_line(child, "ready")
}

/// Waits for a child's first stdout line, which must be `line`; the rest
/// of its output goes to this process's stdout (so a child never writes
/// into a full or closed pipe).
pub fn ready_line(child: &mut Child, line: &str) -> BenchResult<()> {
    let stdout = child.stdout.take().ok_or("stdout is not piped")?;
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for rest in reader.lines().map_while(Result::ok) {
            println!("# {rest}");
        }
    });
    if first.trim() == line {
        Ok(())
    } else {
        Err(format!("a child said {first:?}, not {line:?}"))
    }
}

/// This process's runtime in `domain` (the run directory is this
/// process's `ZEROCP_RUN_DIR`, set by `main`).
pub fn runtime(domain: &str, name: &str) -> BenchResult<Runtime> {
    Runtime::builder(name)
        .domain(domain)
        .init()
        .map_err(|e| e.to_string())
}

fn daemon(domain: &str, config: &str) -> BenchResult<()> {
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain: Some(domain.to_string()),
        config: Some(config.into()),
    };
    zerocp_daemon::daemon::run(&options)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A Zenoh peer listening on `port` that puts every ping back as a pong.
fn zenoh_echo(port: u16) -> BenchResult<zenoh::Session> {
    let session = zenoh_session(Some(port), None)?;
    let pong = session
        .declare_publisher(PONG)
        .congestion_control(CongestionControl::Block)
        .express(true)
        .wait()
        .map_err(|e| e.to_string())?;
    session
        .declare_subscriber(PING)
        .callback(move |sample| {
            let _ = pong.put(sample.payload().clone()).wait();
        })
        .background()
        .wait()
        .map_err(|e| e.to_string())?;
    Ok(session)
}

/// A ZeroCP process of domain B answering every ping with a pong of the
/// same length and number.
fn zerocp_echo(signals: &mut Signals) -> BenchResult<()> {
    let rt = Runtime::init("bench-bridge-echo").map_err(|e| e.to_string())?;
    let pings = rt
        .subscriber::<[u8]>(&ping_service())
        .queue_capacity(64)
        .create()
        .map_err(|e| e.to_string())?;
    let pongs = rt
        .publisher::<[u8]>(&pong_service())
        .max_slice_len(1 << 20)
        .create()
        .map_err(|e| e.to_string())?;
    println!("ready");
    while signals.pending().next().is_none() {
        let Some(ping) = pings.take().map_err(|e| e.to_string())? else {
            pings
                .wait(Some(std::time::Duration::from_millis(100)))
                .map_err(|e| e.to_string())?;
            continue;
        };
        let loan = pongs
            .loan_slice_uninit(ping.len())
            .map_err(|e| e.to_string())?;
        let pong = loan.write_with(|bytes| bytes[..8].copy_from_slice(&ping[..8]));
        drop(ping);
        pong.publish().map_err(|e| e.to_string())?;
    }
    Ok(())
}
