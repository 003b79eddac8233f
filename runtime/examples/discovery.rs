//! Watching services come and go: `cargo run --release -p zerocp --example discovery`.
//!
//! The example's main process lists the services of its domain and watches
//! them with a [`ServiceWatcher`](zerocp::ServiceWatcher) attached to a
//! [`WaitSet`](zerocp::WaitSet): it sleeps until the daemon says the set of
//! services changed, never polling. Two other processes (this executable
//! again, with a role argument) make the changes: a camera publishes
//! `Examples/Camera/Frame` (its service appears), a recorder subscribes to
//! it (the service changes: one subscriber) and leaves again, and the
//! camera stops (the service disappears). Each change is printed as the
//! watcher reports it, and the list [`Runtime::services`] answers is
//! printed once both ports are there. As `demo` does, it runs against the
//! daemon of `ZEROCP_DOMAIN` if one serves, else its own `zerocpd` on a
//! private domain, which it stops at the end; it checks that nothing is left.

#[path = "common/message.rs"]
mod message;
#[path = "common/private_daemon.rs"]
mod private_daemon;

use std::io::BufRead;
use std::process::{ExitCode, Stdio};

use message::Counter;
use private_daemon::{Error, Proc, STEP_DEADLINE, next_line, role, run_main, with_daemon};
use zerocp::{Runtime, ServiceDescription, ServiceEvent, ServiceWatcher, WaitSet};
use zerocp_os_linux::names::DomainName;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--role") => match args.get(1).map(String::as_str) {
            Some("daemon") => private_daemon::run_daemon(args.get(2).cloned()),
            Some("main") => run(),
            Some("camera") => node("camera", true),
            Some("recorder") => node("recorder", false),
            other => Err(format!("unknown role {other:?}").into()),
        },
        None => with_daemon("discovery", run_main),
        Some(other) => Err(format!("unknown argument {other:?} (discovery takes none)").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("discovery: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn frames() -> Result<ServiceDescription, Error> {
    Ok(ServiceDescription::new("Examples", "Camera", "Frame")?)
}

/// `--role camera|recorder`: a publisher (subscriber) of the frames until a
/// line arrives on stdin.
fn node(name: &str, publishes: bool) -> Result<(), Error> {
    let rt = Runtime::init(&format!("discovery-{name}"))?;
    let service = frames()?;
    let _publisher = publishes
        .then(|| rt.publisher::<Counter>(&service).create())
        .transpose()?;
    let _subscriber = (!publishes)
        .then(|| rt.subscriber::<Counter>(&service).create())
        .transpose()?;
    println!("ready");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(())
}

/// Starts the node `name` and waits for its `ready`.
fn start(name: &'static str, exe: &std::path::Path, domain: &DomainName) -> Result<Proc, Error> {
    let mut command = role(exe, domain, name, &[]);
    command.stdin(Stdio::piped());
    let mut node = Proc::spawn(name, &mut command)?;
    let lines = node.lines()?;
    if next_line(&lines, &mut node)? != "ready" {
        return Err(format!("the {name} did not start").into());
    }
    Ok(node)
}

/// Ends the node: a line on its stdin, then its exit.
fn stop(mut node: Proc) -> Result<(), Error> {
    node.send("stop")?;
    node.wait_success()
}

/// Sleeps in the wait set until the watcher reports an event `wanted`
/// accepts, printing every event on the way.
fn wait_for(
    waitset: &WaitSet<'_>,
    watcher: &ServiceWatcher,
    what: &str,
    wanted: impl Fn(&ServiceEvent) -> bool,
) -> Result<(), Error> {
    loop {
        if waitset.wait(Some(STEP_DEADLINE))?.is_empty() {
            return Err(format!("no change of the services for {STEP_DEADLINE:?} ({what})").into());
        }
        for event in watcher.try_wait()? {
            match &event {
                ServiceEvent::Appeared(info) => println!(
                    "discovery: appeared: {} ({}: {} publishers, {} subscribers)",
                    info.service,
                    info.payload.name.as_str(),
                    info.publishers,
                    info.subscribers
                ),
                ServiceEvent::Changed(info) => println!(
                    "discovery: changed: {} ({} publishers, {} subscribers)",
                    info.service, info.publishers, info.subscribers
                ),
                ServiceEvent::Disappeared(service) => {
                    println!("discovery: disappeared: {service}")
                }
            }
            if wanted(&event) {
                return Ok(());
            }
        }
    }
}

fn run() -> Result<(), Error> {
    let exe = &std::env::current_exe()?;
    let domain = &DomainName::from_env()?;
    let service = frames()?;
    let rt = Runtime::init("discovery-main")?;
    let watcher = rt.service_watcher()?;
    println!(
        "discovery: watching; {} services at the start",
        watcher.services().len()
    );
    let waitset = WaitSet::new()?;
    let _changes = waitset.attach(&watcher)?;
    let counts = |publishers, subscribers| {
        move |e: &ServiceEvent| match e {
            ServiceEvent::Appeared(i) | ServiceEvent::Changed(i) => {
                i.service == service && (i.publishers, i.subscribers) == (publishers, subscribers)
            }
            ServiceEvent::Disappeared(_) => false,
        }
    };

    let camera = start("camera", exe, domain)?;
    wait_for(&waitset, &watcher, "the camera", counts(1, 0))?;
    let recorder = start("recorder", exe, domain)?;
    wait_for(&waitset, &watcher, "the recorder", counts(1, 1))?;
    for info in rt.services()? {
        println!(
            "discovery: listed: {} {:?}, type {} ({} bytes, align {}), {} publishers, {} subscribers",
            info.service,
            info.pattern,
            info.payload.name.as_str(),
            info.payload.size,
            info.payload.align,
            info.publishers,
            info.subscribers
        );
    }
    stop(recorder)?;
    wait_for(&waitset, &watcher, "the recorder leaving", counts(1, 0))?;
    stop(camera)?;
    wait_for(
        &waitset,
        &watcher,
        "the camera leaving",
        |e| matches!(e, ServiceEvent::Disappeared(s) if *s == service),
    )?;
    println!(
        "discovery: done: {service} appeared, gained and lost its recorder and disappeared, \
         each change seen as it happened"
    );
    Ok(())
}
