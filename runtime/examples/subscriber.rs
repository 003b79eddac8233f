//! Prints the `Counter` messages published on `Examples/Demo/Counter` and
//! exits after the last one.
//!
//! Needs a `zerocpd` serving the domain in `ZEROCP_DOMAIN` (see the
//! `publisher` example); one that is still starting is waited for.
//!
//! Options:
//!
//! - `--count N`: stop after N messages, or at message #N-1, the last one a
//!   publisher with the same `--count` sends, whichever comes first (so a
//!   subscriber that started late and missed the first messages still stops);
//!   default 10, the publisher's default; 0: until interrupted;
//! - `--timeout-ms MS`: give up, with an error, when no message came for
//!   that long (default 10000; 0: wait for ever);
//! - `--history N`: messages to ask the publishers for on connecting
//!   (default 4);
//! - `--wait-daemon-ms MS`: how long to wait for a daemon that does not
//!   listen yet (default 5000).
//!
//! It also stops, successfully, when the daemon stops.

#[path = "common/message.rs"]
mod message;
#[path = "common/startup.rs"]
mod startup;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use message::{Counter, SERVICE, now_ns};
use zerocp::{ServiceDescription, WaitError};

/// Messages awaited when `--count` is not given (the publisher's default).
const DEFAULT_COUNT: u64 = 10;

struct Options {
    count: u64,
    timeout: Option<Duration>,
    history: u32,
    wait_daemon: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        count: DEFAULT_COUNT,
        timeout: Some(Duration::from_secs(10)),
        history: 4,
        wait_daemon: startup::DEFAULT_DAEMON_WAIT,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            let text = args.next().ok_or(format!("{name} needs a value"))?;
            text.parse().map_err(|e| format!("{name} {text:?}: {e}"))
        };
        match arg.as_str() {
            "--count" => options.count = value("--count")?,
            "--timeout-ms" => {
                let ms = value("--timeout-ms")?;
                options.timeout = (ms > 0).then(|| Duration::from_millis(ms));
            }
            "--history" => {
                options.history = u32::try_from(value("--history")?).map_err(|e| e.to_string())?;
            }
            "--wait-daemon-ms" => {
                options.wait_daemon = Duration::from_millis(value("--wait-daemon-ms")?);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn run(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let rt = startup::init_runtime("example-subscriber", options.wait_daemon)?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let subscriber = rt
        .subscriber::<Counter>(&svc)
        .queue_capacity(16)
        .history(options.history)
        .create()?;
    println!("subscriber: ready on {svc} in domain {}", rt.domain());
    let mut received = 0;
    let mut last_seen = false;
    let mut last_message_at = Instant::now();
    loop {
        while let Some(sample) = subscriber.take()? {
            let latency_us = now_ns().saturating_sub(sample.sent_ns) / 1_000;
            println!(
                "subscriber: #{} from pid {} ({latency_us} µs after publishing): {}",
                sample.count,
                sample.pid,
                sample.text()
            );
            received += 1;
            last_seen |= sample.count + 1 == options.count;
            last_message_at = Instant::now();
        }
        // Checked before sleeping: the last message ends the loop at once.
        if options.count != 0 && (received >= options.count || last_seen) {
            break;
        }
        let left = match options.timeout {
            Some(timeout) => {
                let left = timeout.saturating_sub(last_message_at.elapsed());
                if left.is_zero() {
                    return Err(format!(
                        "no message for {} ms ({received} received); is a publisher running?",
                        timeout.as_millis()
                    )
                    .into());
                }
                Some(left)
            }
            None => None,
        };
        match subscriber.wait(left) {
            Ok(_) => {}
            Err(WaitError::DaemonGone) => {
                println!("subscriber: the daemon stopped");
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "subscriber: done, {received} messages received, {} dropped",
        subscriber.dropped()
    );
    Ok(())
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("subscriber: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("subscriber: error: {e}");
            ExitCode::FAILURE
        }
    }
}
