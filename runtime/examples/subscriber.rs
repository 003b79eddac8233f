//! Prints the `Counter` messages published on `Examples/Demo/Counter`.
//!
//! Needs a running `zerocpd` of the domain in `ZEROCP_DOMAIN` (see the
//! `publisher` example). Options: `--count N` messages to receive before
//! exiting (default 0: until interrupted or the daemon stops), `--history N`
//! samples to ask the publishers for on connecting (default 4).

#[path = "common/message.rs"]
mod message;

use std::process::ExitCode;
use std::time::Duration;

use message::{Counter, SERVICE, now_ns};
use zerocp::{Runtime, ServiceDescription, WaitError};

struct Options {
    count: u64,
    history: u32,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        count: 0,
        history: 4,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            let text = args.next().ok_or(format!("{name} needs a value"))?;
            text.parse().map_err(|e| format!("{name} {text:?}: {e}"))
        };
        match arg.as_str() {
            "--count" => options.count = value("--count")?,
            "--history" => {
                options.history = u32::try_from(value("--history")?).map_err(|e| e.to_string())?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn run(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let rt = Runtime::init("example-subscriber")?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let subscriber = rt
        .subscriber::<Counter>(&svc)
        .queue_capacity(16)
        .history(options.history)
        .create()?;
    println!("subscriber: ready on {svc} in domain {}", rt.domain());
    let mut received = 0;
    while options.count == 0 || received < options.count {
        while let Some(sample) = subscriber.take()? {
            let latency_us = now_ns().saturating_sub(sample.sent_ns) / 1_000;
            println!(
                "subscriber: #{} from pid {} ({latency_us} µs after publishing): {}",
                sample.count,
                sample.pid,
                sample.text()
            );
            received += 1;
        }
        match subscriber.wait(Some(Duration::from_secs(1))) {
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
