//! The `uds` baseline: the same ping-pong over a Unix `SOCK_SEQPACKET`
//! connection, blocking `send`/`recv`, `SO_SNDBUF`/`SO_RCVBUF` raised to
//! 4 MiB (so 1 MiB fits in one message), like the peer's `uds` case. Each hop
//! copies the payload into the kernel and out again; the sender writes the
//! sequence number into the first 8 bytes. A size the kernel refuses in one
//! message is reported as `n/a`, as the peer does.
//!
//! The peer uses a `socketpair` inherited through `fork`; these processes are
//! started with `exec`, so the parent listens on a socket in the private run
//! directory and the child connects: the same kind of connected socket.

use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use zerocp_os_linux::seqpacket::{RecvResult, SeqpacketConn, SeqpacketListener};

use crate::common::error::{BenchError, Context};
use crate::common::process::{Cpus, DEADLINE, RoleArgs, child_start, spawn_role, tell_parent};
use crate::common::recorder::{iters_for, na_line, record, warmup_for};
use crate::common::seq::{read_seq, write_seq};

/// Socket buffer sizes (the peer's; `net.core.wmem_max` caps them).
const BUF_SIZE: usize = 4 * 1024 * 1024;
/// Round trips (blocking count of the peer).
const BASE: usize = 100_000;

fn set_buffers(conn: &SeqpacketConn) -> Result<(), BenchError> {
    rustix::net::sockopt::set_socket_send_buffer_size(conn.as_fd(), BUF_SIZE)
        .os(|| "setsockopt(SO_SNDBUF)".into())?;
    rustix::net::sockopt::set_socket_recv_buffer_size(conn.as_fd(), BUF_SIZE)
        .os(|| "setsockopt(SO_RCVBUF)".into())
}

fn recv_frame(conn: &SeqpacketConn, buf: &mut [u8]) -> Result<Option<usize>, BenchError> {
    match conn.recv(buf).os(|| "recv".into())? {
        RecvResult::Frame(n) => Ok(Some(n)),
        RecvResult::Closed => Ok(None),
        other => Err(BenchError::Peer {
            role: "uds".into(),
            detail: format!("unexpected receive result {other:?}"),
        }),
    }
}

/// Accepts the child's connection (the listener is nonblocking).
fn accept(listener: &SeqpacketListener) -> Result<SeqpacketConn, BenchError> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(conn) = listener.accept().os(|| "accept".into())? {
            conn.set_nonblocking(false).os(|| "blocking mode".into())?;
            return Ok(conn);
        }
        if Instant::now() >= deadline {
            return Err(BenchError::Peer {
                role: "uds-pong".into(),
                detail: format!("did not connect within {DEADLINE:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs the `uds` case for payloads of `size` bytes; returns its line.
pub fn run(cpus: Cpus, size: usize, scale: f64, run_dir: &Path) -> Result<String, BenchError> {
    let path = run_dir.join(format!("uds-{size}.sock"));
    let listener =
        SeqpacketListener::bind(&path, 0o600).os(|| format!("binding {}", path.display()))?;
    let mut opts = cpus.child_opts();
    opts.push(("socket", path.display().to_string()));
    opts.push(("size", size.to_string()));
    let mut child = spawn_role("uds-pong", &opts)?;
    let conn = accept(&listener)?;
    drop(listener);
    set_buffers(&conn)?;
    child.expect_line("ready")?;

    let mut out = vec![0xa5u8; size];
    let mut inb = vec![0u8; size];
    // Probe one message: the largest sizes may not fit.
    write_seq(&mut out, 1);
    if let Err(e) = conn.send(&out) {
        eprintln!("uds: {size} B does not fit in one SEQPACKET message: {e}");
        drop(conn);
        child.finish()?;
        return Ok(na_line("uds", size));
    }
    recv_frame(&conn, &mut inb)?;

    let one = |seq: u64| -> Result<(), BenchError> {
        write_seq(&mut out, seq);
        conn.send(&out).os(|| "send".into())?;
        match recv_frame(&conn, &mut inb)? {
            Some(n) if n == size && read_seq(&inb) == seq => Ok(()),
            Some(n) => Err(BenchError::Peer {
                role: "uds-pong".into(),
                detail: format!(
                    "answered {n} B with sequence {}, expected {size} B with {seq}",
                    read_seq(&inb)
                ),
            }),
            None => Err(BenchError::Peer {
                role: "uds-pong".into(),
                detail: "closed the connection".into(),
            }),
        }
    };
    let iters = iters_for(size, BASE, scale);
    // Sequence 1 was the probe above: one warm-up round trip fewer.
    let rec = record(1, warmup_for(iters) - 1, iters, one)?;
    // Closing the connection ends the child.
    drop(conn);
    child.finish()?;
    Ok(rec.line("uds", size))
}

/// The child side (`--role uds-pong`): echoes every message until the
/// parent closes the connection.
pub fn role_main(args: &RoleArgs) -> Result<(), BenchError> {
    child_start(args, rustix::process::Signal::KILL)?;
    let size: usize = args.parse_value("size")?;
    let path = Path::new(args.get("socket")?);
    let conn = SeqpacketConn::connect(path).os(|| format!("connecting to {}", path.display()))?;
    set_buffers(&conn)?;
    let mut buf = vec![0u8; size];
    tell_parent("ready")?;
    while let Some(n) = recv_frame(&conn, &mut buf)? {
        if n != size {
            return Err(BenchError::Peer {
                role: "uds ping".into(),
                detail: format!("sent {n} B, expected {size} B"),
            });
        }
        if let Err(e) = conn.send(&buf[..n]) {
            if e.is_disconnected() {
                return Ok(());
            }
            return Err(e).os(|| "send".into());
        }
    }
    Ok(())
}
