//! One command that shows ZeroCP working: `cargo run --release -p zerocp --example demo`.
//!
//! It uses the daemon of `ZEROCP_DOMAIN` (default `default`) if one serves;
//! otherwise it starts its own `zerocpd` on a private domain (`demo-<pid>`):
//! the `zerocpd` binary beside this example's target directory
//! (`target/release/zerocpd`) when it was built, else the daemon library
//! (`zerocp_daemon::daemon::run`) in a child process of the demo (what the
//! examples share for this is in `common/private_daemon.rs`). Then it runs
//! a subscriber and a publisher as two more processes (this executable again,
//! with a role argument) and shows the messages flowing, then stops.
//!
//! What it prints is deterministic up to pids and latencies: the demo reads
//! both children's lines and prints, for each message, the publisher's line
//! and then the subscriber's, the order in which things happened (a message
//! is received only after it was published). The subscriber stops as soon as
//! it has every message, so the demo ends a few milliseconds after the last
//! one.
//!
//! A daemon the demo started is stopped with SIGTERM at the end, and the demo
//! checks, and says, what is gone: both shared-memory segments, the control
//! socket and the lock file, and the run directory too when it did not exist
//! before the demo (the daemon removes a run directory it created, never one
//! it found). A daemon that was already running is left as it was.
//!
//! Every step has a deadline ([`STEP_DEADLINE`]); a child that misses it is
//! killed and the demo fails, naming the step.

#[path = "common/message.rs"]
mod message;
#[path = "common/private_daemon.rs"]
#[macro_use]
mod private_daemon;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use message::{Counter, SERVICE, now_ns};
use private_daemon::{Error, Proc, STEP_DEADLINE, next_line, role, run_daemon};
use zerocp::{Runtime, ServiceDescription};
use zerocp_os_linux::names::DomainName;

/// Messages the demo publisher sends.
const MESSAGES: u64 = 10;
/// Pause between two messages, so they can be watched flowing.
const INTERVAL: Duration = Duration::from_millis(100);

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
            let _ = writeln!(std::io::stderr(), "demo: error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// The child processes: `--role daemon DOMAIN|subscriber|publisher`.
// Publisher and subscriber print one line per message, `<count>\t<text>`, for
// the demo to put in order.

fn run_role(args: &[String]) -> Result<(), Error> {
    match args.first().map(String::as_str) {
        Some("daemon") => run_daemon(args.get(1).cloned()),
        Some("subscriber") => run_subscriber(),
        Some("publisher") => run_publisher(),
        other => Err(format!("unknown role {other:?}").into()),
    }
}

/// One line to the demo through stdout (a pipe): an error, not a panic, when
/// the demo is gone.
fn emit(line: std::fmt::Arguments<'_>) -> Result<(), Error> {
    writeln!(std::io::stdout(), "{line}").map_err(|e| format!("writing to the demo: {e}").into())
}

fn run_subscriber() -> Result<(), Error> {
    let rt = Runtime::init("demo-subscriber")?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let subscriber = rt.subscriber::<Counter>(&svc).queue_capacity(16).create()?;
    emit(format_args!("ready"))?;
    let mut received = 0;
    let mut deadline = Instant::now() + STEP_DEADLINE;
    loop {
        while let Some(sample) = subscriber.take()? {
            let latency_us = now_ns().saturating_sub(sample.sent_ns) / 1_000;
            emit(format_args!(
                "{}\t  subscriber (pid {}) <- #{} {:?}, {latency_us} µs after it was published",
                sample.count,
                std::process::id(),
                sample.count,
                sample.text()
            ))?;
            received += 1;
            deadline = Instant::now() + STEP_DEADLINE;
        }
        // Checked before sleeping: the last message ends the wait at once.
        if received >= MESSAGES {
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "only {received} of {MESSAGES} messages arrived, none in the last {STEP_DEADLINE:?}"
            )
            .into());
        }
        subscriber.wait(Some(left))?;
    }
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
        emit(format_args!(
            "{count}\t  publisher  (pid {}) -> #{count} {text:?}",
            std::process::id()
        ))?;
        if count + 1 < MESSAGES {
            std::thread::sleep(INTERVAL);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The demo itself.

/// Daemon (if needed), subscriber, publisher, clean stop.
fn orchestrate() -> Result<(), Error> {
    private_daemon::with_daemon("demo", run_pair)
}

fn run_pair(exe: &Path, domain: &DomainName) -> Result<(), Error> {
    let mut subscriber = Proc::spawn("subscriber", &mut role(exe, domain, "subscriber", &[]))?;
    let sub_lines = subscriber.lines()?;
    let ready = next_line(&sub_lines, &mut subscriber)?;
    if ready != "ready" {
        return Err(format!("the subscriber printed {ready:?} instead of \"ready\"").into());
    }
    say!(
        "demo: subscriber (pid {}) ready; starting the publisher ({MESSAGES} messages, one every {} ms)",
        subscriber.pid(),
        INTERVAL.as_millis()
    );
    let mut publisher = Proc::spawn("publisher", &mut role(exe, domain, "publisher", &[]))?;
    let pub_lines = publisher.lines()?;
    for count in 0..MESSAGES {
        say!("{}", message_line(&pub_lines, &mut publisher, count)?);
        say!("{}", message_line(&sub_lines, &mut subscriber, count)?);
    }
    publisher.finish(&pub_lines)?;
    subscriber.finish(&sub_lines)?;
    say!("demo: all {MESSAGES} messages went through shared memory, zero copies");
    Ok(())
}

/// The next line of `child`, which must be about message `count`; its text.
fn message_line(lines: &Receiver<String>, child: &mut Proc, count: u64) -> Result<String, Error> {
    let line = next_line(lines, child)?;
    match line.split_once('\t') {
        Some((n, text)) if n.parse() == Ok(count) => Ok(text.to_owned()),
        _ => Err(format!(
            "the {} printed {line:?}, expected message #{count}",
            child.name
        )
        .into()),
    }
}
