//! One command that shows ZeroCP working: `cargo run --release -p zerocp --example demo`.
//!
//! It uses the daemon of `ZEROCP_DOMAIN` (default `default`) if one runs;
//! otherwise it starts its own `zerocpd` on a private domain (`demo-<pid>`):
//! the `zerocpd` binary beside this example's target directory
//! (`target/release/zerocpd`) when it was built, else the daemon library
//! (`zerocp_daemon::daemon::run`) in a child process of the demo. Then it runs
//! a subscriber and a publisher as two more processes (this executable again,
//! with a role argument), shows the messages flowing, and stops the daemon it
//! started with SIGTERM, checking that nothing is left in `/dev/shm` or the
//! run directory.

#[path = "common/message.rs"]
mod message;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use message::{Counter, SERVICE, now_ns};
use zerocp::{Runtime, ServiceDescription};
use zerocp_os_linux::names::{DomainName, DomainPaths};
use zerocp_os_linux::seqpacket::SeqpacketConn;

/// Messages the demo publisher sends.
const MESSAGES: u64 = 10;
/// How long any step may take before the demo gives up.
const DEADLINE: Duration = Duration::from_secs(30);

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--role") => run_role(&args[1..]),
        None => orchestrate(),
        Some(other) => Err(format!("unknown argument {other:?} (the demo takes none)").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A child process of the demo: `--role daemon|subscriber|publisher`.
fn run_role(args: &[String]) -> Result<(), Error> {
    match args.first().map(String::as_str) {
        Some("daemon") => run_daemon(args.get(1).cloned()),
        Some("subscriber") => run_subscriber(),
        Some("publisher") => run_publisher(),
        other => Err(format!("unknown role {other:?}").into()),
    }
}

fn run_daemon(domain: Option<String>) -> Result<(), Error> {
    zerocp_daemon::logging::init("zerocpd", zerocp_daemon::logging::LevelFilter::Warn);
    let options = zerocp_daemon::daemon::DaemonOptions {
        domain,
        config: None,
    };
    zerocp_daemon::daemon::run(&options)?;
    Ok(())
}

fn run_subscriber() -> Result<(), Error> {
    let rt = Runtime::init("demo-subscriber")?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let subscriber = rt.subscriber::<Counter>(&svc).queue_capacity(16).create()?;
    println!("ready");
    let mut received = 0;
    let deadline = Instant::now() + DEADLINE;
    while received < MESSAGES {
        while let Some(sample) = subscriber.take()? {
            let latency_us = now_ns().saturating_sub(sample.sent_ns) / 1_000;
            println!(
                "  subscriber (pid {}) <- #{} {:?}, {latency_us} µs after it was published",
                std::process::id(),
                sample.count,
                sample.text()
            );
            received += 1;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("only {received} of {MESSAGES} messages arrived").into());
        }
        subscriber.wait(Some(left))?;
    }
    Ok(())
}

fn run_publisher() -> Result<(), Error> {
    let rt = Runtime::init("demo-publisher")?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let publisher = rt.publisher::<Counter>(&svc).create()?;
    for count in 0..MESSAGES {
        let text = format!("hello #{count}");
        // Written straight into shared memory; the subscriber reads these bytes.
        publisher
            .loan_uninit()?
            .write(Counter::new(count, now_ns(), &text))
            .publish()?;
        println!("  publisher  (pid {}) -> #{count}", std::process::id());
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// The demo itself: daemon (if needed), subscriber, publisher, clean stop.
fn orchestrate() -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    let user_domain = DomainName::from_env()?;
    let (domain, mut daemon) = if daemon_runs(&user_domain)? {
        println!("demo: using the running zerocpd of domain {user_domain}");
        (user_domain, None)
    } else {
        let domain = DomainName::new(&format!("demo-{}", std::process::id()))?;
        let daemon = start_daemon(&exe, &domain)?;
        (domain, Some(daemon))
    };
    let result = run_pair(&exe, &domain);
    // Stop the daemon we started even when the demo failed.
    let stopped = daemon.as_mut().map_or(Ok(()), |d| stop_daemon(d, &domain));
    result.and(stopped)
}

fn daemon_runs(domain: &DomainName) -> Result<bool, Error> {
    let paths = DomainPaths::for_client(domain)?;
    Ok(SeqpacketConn::connect(&paths.socket).is_ok())
}

/// `zerocpd` beside this example (`target/<profile>/zerocpd`), if built.
fn daemon_binary(exe: &std::path::Path) -> Option<PathBuf> {
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir.join("zerocpd");
    path.is_file().then_some(path)
}

fn start_daemon(exe: &std::path::Path, domain: &DomainName) -> Result<Child, Error> {
    let mut command = match daemon_binary(exe) {
        Some(path) => {
            println!("demo: starting {} --domain {domain}", path.display());
            let mut c = Command::new(path);
            c.args(["--domain", domain.as_str(), "--log-level", "warn"]);
            c
        }
        None => {
            println!(
                "demo: no zerocpd binary built; running the daemon library in a child process"
            );
            let mut c = Command::new(exe);
            c.args(["--role", "daemon", domain.as_str()]);
            c
        }
    };
    let mut child = command
        .env_remove("ZEROCP_DOMAIN")
        .stdin(Stdio::null())
        .spawn()?;
    let paths = DomainPaths::for_client(domain)?;
    let deadline = Instant::now() + DEADLINE;
    while SeqpacketConn::connect(&paths.socket).is_err() {
        if let Some(status) = child.try_wait()? {
            return Err(format!("zerocpd exited with {status} before it was ready").into());
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "zerocpd did not listen on {} in time",
                paths.socket.display()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("demo: zerocpd (pid {}) serves domain {domain}", child.id());
    Ok(child)
}

fn run_pair(exe: &std::path::Path, domain: &DomainName) -> Result<(), Error> {
    let role = |name: &str| {
        let mut c = Command::new(exe);
        c.args(["--role", name])
            .env("ZEROCP_DOMAIN", domain.as_str())
            .stdin(Stdio::null());
        c
    };
    let mut subscriber = role("subscriber").stdout(Stdio::piped()).spawn()?;
    let lines = forward_lines(&mut subscriber)?;
    let ready = lines
        .recv_timeout(DEADLINE)
        .is_ok_and(|line| line == "ready");
    if !ready {
        let _ = subscriber.kill();
        let _ = subscriber.wait();
        return Err("the subscriber did not get ready".into());
    }
    println!("demo: subscriber ready; starting the publisher ({MESSAGES} messages)");
    let mut publisher = role("publisher").spawn()?;
    let published = wait_child(&mut publisher, "publisher");
    let subscribed = wait_child(&mut subscriber, "subscriber");
    published?;
    subscribed?;
    println!("demo: all {MESSAGES} messages went through shared memory, zero copies");
    Ok(())
}

/// Prints the child's stdout lines after the first one, which is returned
/// through the channel (the subscriber's "ready").
fn forward_lines(child: &mut Child) -> Result<mpsc::Receiver<String>, Error> {
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        if let Some(first) = lines.next() {
            let _ = tx.send(first);
        }
        for line in lines {
            println!("{line}");
        }
    });
    Ok(rx)
}

fn wait_child(child: &mut Child, name: &str) -> Result<(), Error> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait()? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("the {name} exited with {status}").into())
            };
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the {name} did not finish in time").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn stop_daemon(daemon: &mut Child, domain: &DomainName) -> Result<(), Error> {
    let pid = rustix::process::Pid::from_child(daemon);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
    wait_child(daemon, "daemon")?;
    let paths = DomainPaths::for_client(domain)?;
    let left: Vec<String> = [
        PathBuf::from(format!("/dev/shm{}", paths.mgmt_shm)),
        PathBuf::from(format!("/dev/shm{}", paths.data_shm)),
        paths.socket.clone(),
        paths.lock.clone(),
    ]
    .into_iter()
    .filter(|p| p.exists())
    .map(|p| p.display().to_string())
    .collect();
    if left.is_empty() {
        println!(
            "demo: zerocpd stopped (SIGTERM); nothing left in /dev/shm or {}",
            paths.run_dir.display()
        );
        Ok(())
    } else {
        Err(format!("left behind: {}", left.join(", ")).into())
    }
}
