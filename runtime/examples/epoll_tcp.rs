//! ZeroCP beside a TCP socket in one epoll loop: `cargo run --release -p
//! zerocp --example epoll_tcp`.
//!
//! The main thread owns one epoll instance with three descriptors: a TCP
//! listener on 127.0.0.1, the connection it accepts, and a subscriber's
//! wake descriptor ([`Subscriber::as_fd`](zerocp::Subscriber::as_fd)). A
//! publisher in another process (this executable again, with a role
//! argument) sends five messages, and a thread of this process connects
//! and sends five lines over TCP; the loop handles both as they come, with
//! no thread per input and no polling. The subscriber's protocol: when its
//! descriptor is readable, `take` until `None`. The example starts its own
//! `zerocpd` on a private domain unless one serves `ZEROCP_DOMAIN`, stops it
//! at the end and checks that nothing is left.

#[path = "common/message.rs"]
mod message;
#[path = "common/private_daemon.rs"]
mod private_daemon;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use message::{Counter, now_ns};
use private_daemon::{Error, Proc, STEP_DEADLINE, role, run_main, with_daemon};
use zerocp::{Runtime, ServiceDescription};
use zerocp_os_linux::names::DomainName;
use zerocp_os_linux::poller::{Events, Interest, Poller};

/// Messages over ZeroCP, and lines over TCP.
const COUNT: u64 = 5;
const PACE: Duration = Duration::from_millis(20);
const LISTENER: u64 = 1;
const SUBSCRIBER: u64 = 2;
const STREAM: u64 = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--role") if args.get(1).map(String::as_str) == Some("daemon") => {
            private_daemon::run_daemon(args.get(2).cloned())
        }
        Some("--role") if args.get(1).map(String::as_str) == Some("main") => run(),
        Some("--role") => publish(),
        None => with_daemon("epoll_tcp", run_main),
        Some(other) => Err(format!("unknown argument {other:?} (epoll_tcp takes none)").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("epoll_tcp: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn service() -> Result<ServiceDescription, Error> {
    Ok(ServiceDescription::new("Examples", "Epoll", "Counter")?)
}

/// `--role publisher`: publishes [`COUNT`] messages (the subscriber exists already).
fn publish() -> Result<(), Error> {
    let rt = Runtime::init("epoll-publisher")?;
    let publisher = rt.publisher::<Counter>(&service()?).create()?;
    for count in 0..COUNT {
        let text = format!("zerocp #{count}");
        publisher
            .loan_uninit()?
            .write(Counter::new(count, now_ns(), &text))
            .publish()?;
        std::thread::sleep(PACE);
    }
    Ok(())
}

/// The TCP peer: connects and sends [`COUNT`] lines.
fn tcp_peer(port: u16) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    for i in 0..COUNT {
        writeln!(stream, "tcp #{i}")?;
        std::thread::sleep(PACE);
    }
    Ok(())
}

fn run() -> Result<(), Error> {
    let exe = &std::env::current_exe()?;
    let domain = &DomainName::from_env()?;
    let rt = Runtime::init("epoll-main")?;
    let subscriber = rt
        .subscriber::<Counter>(&service()?)
        .queue_capacity(16)
        .create()?;
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();

    let poller = Poller::new()?;
    poller.add(&listener, LISTENER, Interest::Readable)?;
    poller.add(subscriber.as_fd()?, SUBSCRIBER, Interest::Readable)?;

    let mut publisher = Proc::spawn("publisher", &mut role(exe, domain, "publisher", &[]))?;
    let peer = std::thread::spawn(move || tcp_peer(port));
    println!("epoll_tcp: one epoll loop: TCP listener on port {port}, a connection, a subscriber");

    let mut events = Events::with_capacity(8);
    let (mut messages, mut lines, mut eof) = (0u64, 0u64, false);
    let mut stream: Option<TcpStream> = None;
    let mut pending = String::new();
    while messages < COUNT || !eof {
        if poller.wait(&mut events, Some(STEP_DEADLINE))? == 0 {
            return Err(format!("nothing happened for {STEP_DEADLINE:?}").into());
        }
        for event in events.iter() {
            match event.token {
                LISTENER => {
                    let (s, from) = listener.accept()?;
                    s.set_nonblocking(true)?;
                    poller.add(&s, STREAM, Interest::Readable)?;
                    println!("epoll_tcp: TCP connection from {from}");
                    stream = Some(s);
                }
                SUBSCRIBER => {
                    while let Some(sample) = subscriber.take()? {
                        messages += 1;
                        println!("epoll_tcp: zerocp  <- {:?}", sample.text());
                    }
                }
                STREAM => {
                    if let Some(s) = stream.as_mut() {
                        eof |= read_lines(s, &mut pending, &mut lines)?;
                    }
                    if eof && let Some(s) = stream.take() {
                        poller.delete(&s)?;
                    }
                }
                _ => {}
            }
        }
    }
    peer.join().map_err(|_| "the TCP peer panicked")??;
    publisher.wait_success()?;
    if lines != COUNT {
        return Err(format!("{lines} of {COUNT} TCP lines arrived").into());
    }
    println!("epoll_tcp: done: {messages} ZeroCP messages and {lines} TCP lines in one loop");
    Ok(())
}

/// Reads what `stream` has, printing whole lines; true at end of stream.
fn read_lines(
    stream: &mut TcpStream,
    pending: &mut String,
    lines: &mut u64,
) -> Result<bool, Error> {
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => {
                pending.push_str(std::str::from_utf8(&buf[..n])?);
                while let Some(end) = pending.find('\n') {
                    println!("epoll_tcp: tcp     <- {:?}", &pending[..end]);
                    *lines += 1;
                    pending.drain(..=end);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}
