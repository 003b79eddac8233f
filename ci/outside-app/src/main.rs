//! A user's first ZeroCP program, built outside the ZeroCP workspace by
//! `ci/packages.sh`: a subscriber and a publisher of one service in one
//! process, one message through the `zerocpd` of `ZEROCP_DOMAIN`. The
//! message is the user's own struct with `#[derive(ZeroCopySafe)]`, which a
//! plain dependency on `zerocp` brings (default feature `derive`).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use zerocp::{Runtime, ServiceDescription, ZeroCopySafe};

/// The message: a value and the process that sent it.
#[derive(Debug, Clone, Copy, PartialEq, ZeroCopySafe)]
#[repr(C)]
struct Answer {
    value: u64,
    sender: u32,
    /// Explicit, so the struct has no padding (the derive checks it).
    _reserved: u32,
}

/// The value sent and expected back.
const ANSWER: u64 = 42;
/// How long the message may take.
const DEADLINE: Duration = Duration::from_secs(10);

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let rt = Runtime::init("outside-app")?;
    let svc = ServiceDescription::new("Outside", "App", "Answer")?;
    let subscriber = rt.subscriber::<Answer>(&svc).create()?;
    let publisher = rt.publisher::<Answer>(&svc).create()?;
    let sent = Answer {
        value: ANSWER,
        sender: std::process::id(),
        _reserved: 0,
    };
    publisher.loan_uninit()?.write(sent).publish()?;
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(sample) = subscriber.take()? {
            let received = *sample;
            if received != sent {
                return Err(format!("received {received:?}, sent {sent:?}").into());
            }
            println!(
                "outside-app: received {} ({} of {} fields) in domain {}",
                received.value,
                Answer::TYPE_NAME,
                Answer::FIELDS.len(),
                rt.domain()
            );
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("no message within {DEADLINE:?}").into());
        }
        subscriber.wait(Some(left))?;
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("outside-app: error: {e}");
            ExitCode::FAILURE
        }
    }
}
