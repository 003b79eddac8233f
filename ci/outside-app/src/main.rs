//! A user's first ZeroCP program, built outside the ZeroCP workspace by
//! `ci/packages.sh`: a subscriber and a publisher of one service in one
//! process, one message through the `zerocpd` of `ZEROCP_DOMAIN`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use zerocp::{Runtime, ServiceDescription};

/// The value sent and expected back.
const ANSWER: u64 = 42;
/// How long the message may take.
const DEADLINE: Duration = Duration::from_secs(10);

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let rt = Runtime::init("outside-app")?;
    let svc = ServiceDescription::new("Outside", "App", "Answer")?;
    let subscriber = rt.subscriber::<u64>(&svc).create()?;
    let publisher = rt.publisher::<u64>(&svc).create()?;
    publisher.loan_uninit()?.write(ANSWER).publish()?;
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(sample) = subscriber.take()? {
            let value = *sample;
            if value != ANSWER {
                return Err(format!("received {value}, sent {ANSWER}").into());
            }
            println!("outside-app: received {value} in domain {}", rt.domain());
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
