//! Publishes `Counter` messages on `Examples/Demo/Counter`, then exits.
//!
//! Needs a `zerocpd` serving the domain in `ZEROCP_DOMAIN` (default
//! `default`); one that is still starting is waited for (see
//! `--wait-daemon-ms`):
//!
//! ```sh
//! zerocpd --domain demo &
//! ZEROCP_DOMAIN=demo cargo run -p zerocp --example subscriber -- --count 20 &
//! ZEROCP_DOMAIN=demo cargo run -p zerocp --example publisher -- --count 20
//! ```
//!
//! Options:
//!
//! - `--count N`: messages to send before exiting (default 10; 0: until
//!   interrupted); the subscriber example's `--count` must match for it to
//!   stop at the last one;
//! - `--interval-ms MS` between two messages (default 100);
//! - `--history N` messages kept for late subscribers (default 4);
//! - `--wait-daemon-ms MS`: how long to wait for a daemon that does not
//!   listen yet (default 5000).

#[path = "common/message.rs"]
mod message;
#[path = "common/startup.rs"]
mod startup;

use std::process::ExitCode;
use std::time::Duration;

use message::{Counter, SERVICE, now_ns};
use zerocp::ServiceDescription;

/// Messages sent when `--count` is not given.
const DEFAULT_COUNT: u64 = 10;

struct Options {
    count: u64,
    interval: Duration,
    history: u32,
    wait_daemon: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        count: DEFAULT_COUNT,
        interval: Duration::from_millis(100),
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
            "--interval-ms" => options.interval = Duration::from_millis(value("--interval-ms")?),
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
    let rt = startup::init_runtime("example-publisher", options.wait_daemon)?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let publisher = rt
        .publisher::<Counter>(&svc)
        .history(options.history)
        .create()?;
    println!("publisher: offering {svc} in domain {}", rt.domain());
    let mut count = 0;
    while options.count == 0 || count < options.count {
        if count > 0 {
            std::thread::sleep(options.interval);
        }
        let text = format!("hello #{count} from pid {}", std::process::id());
        let sample = publisher
            .loan_uninit()?
            .write(Counter::new(count, now_ns(), &text));
        sample.publish()?;
        println!("publisher: sent #{count}");
        count += 1;
    }
    println!("publisher: done, {count} messages sent");
    Ok(())
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("publisher: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("publisher: error: {e}");
            ExitCode::FAILURE
        }
    }
}
