//! Event services in one command: `cargo run --release -p zerocp --example events`.
//!
//! A notifier and a listener of the event service `Robot/Map/Updated` run as
//! two processes (this executable again, with a role argument), against the
//! daemon of `ZEROCP_DOMAIN` if one serves, else a private `zerocpd` it
//! starts and stops as the `demo` example does (`common/private_daemon.rs`).
//! It shows, step by step and deterministically (up to pids):
//!
//! 1. the listener asleep in `wait` is woken by the notifier's `notify(3)`
//!    and takes `{3}`;
//! 2. the notifier raises 7 three times and 42 once while the listener does
//!    not look; the listener's `try_wait` then takes `{7, 42}`: ids
//!    coalesce, so a listener learns *which* events happened, never how
//!    often (`zerocp_core::event`).
//!
//! The orchestrator drives both children through their stdin, one step at a
//! time, so the order of what they print is the order things happened. It
//! exits 0 and leaves nothing behind; every step has a deadline.

#[path = "common/private_daemon.rs"]
#[macro_use]
mod private_daemon;

use std::io::Write;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::Instant;

use private_daemon::{Error, Proc, STEP_DEADLINE, next_line, role, run_daemon};
use zerocp::{EventId, EventSet, Runtime, ServiceDescription};
use zerocp_os_linux::names::DomainName;

/// The event service of the example.
const SERVICE: (&str, &str, &str) = ("Robot", "Map", "Updated");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--role") => run_role(&args[1..]),
        None => orchestrate(),
        Some(other) => Err(format!("unknown argument {other:?} (events takes none)").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "events: error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// The child processes: `--role daemon DOMAIN|listener|notifier`. Each reads
// one command per line on stdin and answers with one line on stdout.

fn run_role(args: &[String]) -> Result<(), Error> {
    match args.first().map(String::as_str) {
        Some("daemon") => run_daemon(args.get(1).cloned()),
        Some("listener") => run_listener(),
        Some("notifier") => run_notifier(),
        other => Err(format!("unknown role {other:?}").into()),
    }
}

fn service() -> Result<ServiceDescription, Error> {
    Ok(ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?)
}

/// One line to the orchestrator: an error, not a panic, when it is gone.
fn emit(line: std::fmt::Arguments<'_>) -> Result<(), Error> {
    writeln!(std::io::stdout(), "{line}")
        .map_err(|e| format!("writing to the orchestrator: {e}").into())
}

fn commands() -> impl Iterator<Item = std::io::Result<String>> {
    std::io::stdin().lines()
}

fn show(set: &EventSet) -> String {
    let ids: Vec<String> = set.iter().map(|id| id.value().to_string()).collect();
    format!("{{{}}}", ids.join(", "))
}

fn run_listener() -> Result<(), Error> {
    let rt = Runtime::init("events-listener")?;
    let listener = rt.listener(&service()?).create()?;
    let pid = std::process::id();
    emit(format_args!("ready"))?;
    for command in commands() {
        match command?.as_str() {
            "wait" => {
                let deadline = Instant::now() + STEP_DEADLINE;
                let mut got = EventSet::default();
                while got.is_empty() && Instant::now() < deadline {
                    got = listener.wait(Some(deadline - Instant::now()))?;
                }
                emit(format_args!(
                    "  listener (pid {pid}) <- {} from wait",
                    show(&got)
                ))?;
            }
            "take" => emit(format_args!(
                "  listener (pid {pid}) <- {} from try_wait: the three 7s came out once",
                show(&listener.try_wait()?)
            ))?,
            "quit" => return Ok(()),
            other => return Err(format!("unknown command {other:?}").into()),
        }
    }
    Ok(())
}

fn run_notifier() -> Result<(), Error> {
    let rt = Runtime::init("events-notifier")?;
    let notifier = rt.notifier(&service()?).create()?;
    let pid = std::process::id();
    emit(format_args!("ready"))?;
    for command in commands() {
        let command = command?;
        if command == "quit" {
            return Ok(());
        }
        let ids: Vec<u32> = command
            .strip_prefix("notify ")
            .ok_or_else(|| format!("unknown command {command:?}"))?
            .split(',')
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        let mut reached = 0;
        for &id in &ids {
            reached = notifier.notify(EventId::new(id)?)?;
        }
        let list: Vec<String> = ids.iter().map(u32::to_string).collect();
        emit(format_args!(
            "  notifier (pid {pid}) -> notify {} (reached {reached} listener)",
            list.join(", ")
        ))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The orchestrator.

fn orchestrate() -> Result<(), Error> {
    private_daemon::with_daemon("events", run_pair)
}

fn run_pair(exe: &Path, domain: &DomainName) -> Result<(), Error> {
    let mut listener = Proc::spawn(
        "listener",
        role(exe, domain, "listener", &[]).stdin(Stdio::piped()),
    )?;
    let listened = listener.lines()?;
    expect_ready(&listened, &mut listener)?;
    let mut notifier = Proc::spawn(
        "notifier",
        role(exe, domain, "notifier", &[]).stdin(Stdio::piped()),
    )?;
    let notified = notifier.lines()?;
    expect_ready(&notified, &mut notifier)?;
    say!(
        "events: listener (pid {}) and notifier (pid {}) on {}/{}/{}",
        listener.pid(),
        notifier.pid(),
        SERVICE.0,
        SERVICE.1,
        SERVICE.2
    );

    say!("events: 1. the listener sleeps in wait; the notifier raises id 3");
    listener.send("wait")?;
    notifier.send("notify 3")?;
    say!("{}", next_line(&notified, &mut notifier)?);
    say!("{}", next_line(&listened, &mut listener)?);

    say!("events: 2. the notifier raises 7 three times and 42 while the listener does not look");
    notifier.send("notify 7,7,7,42")?;
    say!("{}", next_line(&notified, &mut notifier)?);
    listener.send("take")?;
    say!("{}", next_line(&listened, &mut listener)?);

    for (child, lines) in [(&mut notifier, &notified), (&mut listener, &listened)] {
        child.send("quit")?;
        child.finish(lines)?;
    }
    say!("events: done, every id reached the listener through shared memory");
    Ok(())
}

fn expect_ready(lines: &std::sync::mpsc::Receiver<String>, child: &mut Proc) -> Result<(), Error> {
    let line = next_line(lines, child)?;
    if line == "ready" {
        Ok(())
    } else {
        Err(format!("the {} printed {line:?} instead of \"ready\"", child.name).into())
    }
}
