//! The request/response round trip (`zerocp-rr`): a `Client<[u8; N], [u8;
//! N]>` in the parent, a `Server` of the same types in a child process on
//! the other CPU. A round trip loans a request, writes the sequence number
//! into its first 8 bytes in place, sends it, and waits in
//! `PendingResponse::receive` (the response subscriber's adaptive spin,
//! then the futex) for the one response, which the server sends with
//! `send_last` (no end-of-stream marker) after blocking in `Server::wait`
//! the same way. Queue capacity 1, one chunk held, one loan on each side:
//! the setup of the `zerocp-wait` ping-pong ([`crate::common::pingpong`]),
//! so the two are compared like for like. The result line has the peer's
//! format: `median_ns` is half the request-to-response round trip.

use zerocp::{Client, Runtime, ServiceDescription};

use crate::common::error::{BenchError, Context};
use crate::common::pingpong::SIZES;
use crate::common::process::{Cpus, RoleArgs, child_start, spawn_role, tell_parent};
use crate::common::recorder::{iters_for, record, warmup_for};
use crate::common::seq::{read_seq, write_seq};

/// The request that ends the server.
const STOP: u64 = u64::MAX;
/// Timed round trips at scale 1 for payloads up to 4 KiB (as the blocking
/// ping-pong cases).
const BASE: usize = 100_000;

fn service(tag: &str, size: usize) -> Result<ServiceDescription, BenchError> {
    ServiceDescription::new("Bench", &format!("rr-{size}-{tag}"), "Echo")
        .zerocp("ServiceDescription::new")
}

/// Runs the `zerocp-rr` case for `size`; returns its line.
pub fn run(cpus: Cpus, size: usize, scale: f64) -> Result<String, BenchError> {
    match size {
        64 => run_n::<64>(cpus, scale),
        4096 => run_n::<4096>(cpus, scale),
        65536 => run_n::<65536>(cpus, scale),
        1048576 => run_n::<1048576>(cpus, scale),
        4194304 => run_n::<4194304>(cpus, scale),
        other => Err(BenchError::Usage(format!(
            "unsupported payload size {other} (one of {SIZES:?})"
        ))),
    }
}

/// One request and its response.
#[inline(always)]
fn round_trip<const N: usize>(
    client: &Client<[u8; N], [u8; N]>,
    seq: u64,
) -> Result<(), BenchError> {
    let request = client.loan_uninit().zerocp("loan a request")?;
    let pending = request
        .write_with(|bytes: &mut [u8; N]| write_seq(bytes, seq))
        .send()
        .zerocp("send")?;
    let response = pending.receive(None).zerocp("receive")?;
    match response.map(|r| read_seq(&r[..])) {
        Some(got) if got == seq => Ok(()),
        other => Err(BenchError::Peer {
            role: "zerocp-rr-server".into(),
            detail: format!("answered request {seq} with {other:?}"),
        }),
    }
}

fn run_n<const N: usize>(cpus: Cpus, scale: f64) -> Result<String, BenchError> {
    let tag = std::process::id().to_string();
    let rt = Runtime::init("bench-rr-client").zerocp("Runtime::init")?;
    let client = rt
        .client::<[u8; N], [u8; N]>(&service(&tag, N)?)
        .max_loans(1)
        .queue_capacity(1)
        .max_held(1)
        .create()
        .zerocp("create client")?;
    let mut opts = cpus.child_opts();
    opts.extend([("size", N.to_string()), ("tag", tag)]);
    let mut child = spawn_role("zerocp-rr-server", &opts)?;
    child.expect_line("ready")?;

    let iters = iters_for(N, BASE, scale);
    let rec = record(0, warmup_for(iters), iters, |seq| round_trip(&client, seq))?;
    let stop = client.loan_uninit().zerocp("loan the stop request")?;
    drop(
        stop.write_with(|bytes: &mut [u8; N]| write_seq(bytes, STOP))
            .send()
            .zerocp("send the stop request")?,
    );
    child.finish()?;
    Ok(rec.line("zerocp-rr", N))
}

/// The child side (`--role zerocp-rr-server`): answers every request with
/// one response carrying its sequence number.
pub fn role_main(args: &RoleArgs) -> Result<(), BenchError> {
    child_start(args, rustix::process::Signal::KILL)?;
    let tag = args.get("tag")?;
    match args.parse_value::<usize>("size")? {
        64 => serve::<64>(tag),
        4096 => serve::<4096>(tag),
        65536 => serve::<65536>(tag),
        1048576 => serve::<1048576>(tag),
        4194304 => serve::<4194304>(tag),
        other => Err(BenchError::Usage(format!(
            "unsupported payload size {other}"
        ))),
    }
}

fn serve<const N: usize>(tag: &str) -> Result<(), BenchError> {
    let rt = Runtime::init("bench-rr-server").zerocp("Runtime::init")?;
    let server = rt
        .server::<[u8; N], [u8; N]>(&service(tag, N)?)
        .queue_capacity(1)
        .max_held(1)
        .max_loans(1)
        .create()
        .zerocp("create server")?;
    tell_parent("ready")?;
    loop {
        while let Some(request) = server.receive().zerocp("receive")? {
            let seq = read_seq(&request[..]);
            if seq == STOP {
                return Ok(());
            }
            let response = request.loan_uninit().zerocp("loan a response")?;
            response
                .write_with(|bytes: &mut [u8; N]| write_seq(bytes, seq))
                .send_last()
                .zerocp("send_last")?;
        }
        server.wait(None).zerocp("wait")?;
    }
}
