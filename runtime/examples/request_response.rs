//! Request/response in one command:
//! `cargo run --release -p zerocp --example request_response`.
//!
//! A server and a client of the request/response service `Calc/Main/Multiples`
//! run as two processes (this executable again, with a role argument),
//! against the daemon of `ZEROCP_DOMAIN` if one serves, else a private
//! `zerocpd` it starts and stops as the `demo` example does
//! (`common/private_daemon.rs`). A request `[a, n]` asks for the first `n`
//! multiples of `a`; the server answers it with a stream of `n` responses
//! and then ends the stream. Step by step (deterministic up to pids):
//!
//! 1. the client sends three requests before it receives anything (three in
//!    flight), `[7, 1]`, `[6, 1]` and `[3, 4]`, then receives the answers of
//!    each: one response each for the first two, a stream of four for the
//!    third, and each stream's end;
//! 2. the server quits; the client's next request fails at once with
//!    `NoServer`, a typed error rather than a wait.
//!
//! The orchestrator drives both children through their stdin, one step at a
//! time. It exits 0 and leaves nothing behind; every step has a deadline.

#[path = "common/private_daemon.rs"]
#[macro_use]
mod private_daemon;

use std::io::Write;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use private_daemon::{Error, Proc, STEP_DEADLINE, next_line, role, run_daemon};
use zerocp::{Runtime, SendRequestError, ServiceDescription};
use zerocp_os_linux::names::DomainName;

/// The request/response service of the example.
const SERVICE: (&str, &str, &str) = ("Calc", "Main", "Multiples");
/// The requests of step 1: `[a, n]`, the first `n` multiples of `a`.
const REQUESTS: [[u32; 2]; 3] = [[7, 1], [6, 1], [3, 4]];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--role") => run_role(&args[1..]),
        None => orchestrate(),
        Some(other) => {
            Err(format!("unknown argument {other:?} (request_response takes none)").into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "request_response: error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// The child processes: `--role daemon DOMAIN|server|client`. Each reads one
// command per line on stdin and answers with lines on stdout.

fn run_role(args: &[String]) -> Result<(), Error> {
    match args.first().map(String::as_str) {
        Some("daemon") => run_daemon(args.get(1).cloned()),
        Some("server") => run_server(),
        Some("client") => run_client(),
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

/// Answers every request until told to quit (its stdin thread), then
/// says `stopped`.
fn run_server() -> Result<(), Error> {
    let rt = Runtime::init("rr-server")?;
    let server = rt.server::<[u32; 2], u64>(&service()?).create()?;
    let pid = std::process::id();
    let (quit_tx, quit) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            if line.is_ok_and(|l| l == "quit") {
                break;
            }
        }
        let _ = quit_tx.send(());
    });
    emit(format_args!("ready"))?;
    while quit.try_recv().is_err() {
        server.wait(Some(Duration::from_millis(20)))?;
        while let Some(request) = server.receive()? {
            let [a, n] = *request;
            for k in 1..=u64::from(n) {
                request.loan_uninit()?.write(u64::from(a) * k).send()?;
            }
            emit(format_args!(
                "  server (pid {pid}) answered [{a}, {n}] with {n} response(s) and the end"
            ))?;
            request.finish()?;
        }
    }
    drop(server);
    emit(format_args!("stopped"))
}

/// `ask`: sends every request of step 1, then receives each one's stream;
/// `ask-again`: one more request, which must fail with `NoServer`.
fn run_client() -> Result<(), Error> {
    let rt = Runtime::init("rr-client")?;
    let client = rt.client::<[u32; 2], u64>(&service()?).create()?;
    let pid = std::process::id();
    emit(format_args!("ready"))?;
    for command in std::io::stdin().lines() {
        match command?.as_str() {
            "ask" => {
                let mut pending = Vec::new();
                for request in REQUESTS {
                    pending.push(client.loan_uninit()?.write(request).send()?);
                }
                emit(format_args!(
                    "  client (pid {pid}) sent {} requests; in flight: {}",
                    REQUESTS.len(),
                    client.pending()
                ))?;
                for (request, pending) in REQUESTS.iter().zip(&pending) {
                    let mut got = Vec::new();
                    while let Some(response) = pending.receive(Some(STEP_DEADLINE))? {
                        got.push(response.to_string());
                    }
                    emit(format_args!(
                        "  client (pid {pid}) <- {request:?}: {} (end of stream)",
                        got.join(", ")
                    ))?;
                }
            }
            "ask-again" => match client.loan_uninit()?.write([1, 1]).send() {
                Err(SendRequestError::NoServer) => emit(format_args!(
                    "  client (pid {pid}) <- NoServer at once: {}",
                    SendRequestError::NoServer
                ))?,
                Err(e) => return Err(e.into()),
                Ok(_) => return Err("a request was sent with no server".into()),
            },
            "quit" => return Ok(()),
            other => return Err(format!("unknown command {other:?}").into()),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The orchestrator.

fn orchestrate() -> Result<(), Error> {
    private_daemon::with_daemon("request_response", run_pair)
}

fn run_pair(exe: &Path, domain: &DomainName) -> Result<(), Error> {
    let mut server = Proc::spawn(
        "server",
        role(exe, domain, "server", &[]).stdin(Stdio::piped()),
    )?;
    let served = server.lines()?;
    expect_line(&served, &mut server, "ready")?;
    let mut client = Proc::spawn(
        "client",
        role(exe, domain, "client", &[]).stdin(Stdio::piped()),
    )?;
    let asked = client.lines()?;
    expect_line(&asked, &mut client, "ready")?;
    say!(
        "request_response: server (pid {}) and client (pid {}) on {}/{}/{}",
        server.pid(),
        client.pid(),
        SERVICE.0,
        SERVICE.1,
        SERVICE.2
    );

    say!("request_response: 1. three requests in flight, one answered with a stream");
    client.send("ask")?;
    say!("{}", next_line(&asked, &mut client)?);
    for _ in 0..REQUESTS.len() {
        say!("{}", next_line(&served, &mut server)?);
    }
    for _ in 0..REQUESTS.len() {
        say!("{}", next_line(&asked, &mut client)?);
    }

    say!("request_response: 2. the server quits; the client asks again");
    server.send("quit")?;
    expect_line(&served, &mut server, "stopped")?;
    server.finish(&served)?;
    client.send("ask-again")?;
    say!("{}", next_line(&asked, &mut client)?);
    client.send("quit")?;
    client.finish(&asked)?;
    say!("request_response: done, every response went zero-copy to the client that asked");
    Ok(())
}

fn expect_line(
    lines: &std::sync::mpsc::Receiver<String>,
    child: &mut Proc,
    expected: &str,
) -> Result<(), Error> {
    let line = next_line(lines, child)?;
    if line == expected {
        Ok(())
    } else {
        Err(format!(
            "the {} printed {line:?} instead of {expected:?}",
            child.name
        )
        .into())
    }
}
