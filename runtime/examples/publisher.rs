//! Publishes `Counter` messages on `Examples/Demo/Counter`.
//!
//! Needs a running `zerocpd` of the domain in `ZEROCP_DOMAIN` (default
//! `default`):
//!
//! ```sh
//! zerocpd --domain demo &
//! ZEROCP_DOMAIN=demo cargo run -p zerocp --example subscriber &
//! ZEROCP_DOMAIN=demo cargo run -p zerocp --example publisher -- --count 20
//! ```
//!
//! Options: `--count N` messages (default 0: until interrupted),
//! `--interval-ms MS` between them (default 100), `--history N` kept for
//! late subscribers (default 4).

#[path = "common/message.rs"]
mod message;

use std::process::ExitCode;
use std::time::Duration;

use message::{Counter, SERVICE, now_ns};
use zerocp::{Runtime, ServiceDescription};

struct Options {
    count: u64,
    interval: Duration,
    history: u32,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        count: 0,
        interval: Duration::from_millis(100),
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
            "--interval-ms" => options.interval = Duration::from_millis(value("--interval-ms")?),
            "--history" => {
                options.history = u32::try_from(value("--history")?).map_err(|e| e.to_string())?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn run(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let rt = Runtime::init("example-publisher")?;
    let svc = ServiceDescription::new(SERVICE.0, SERVICE.1, SERVICE.2)?;
    let publisher = rt
        .publisher::<Counter>(&svc)
        .history(options.history)
        .create()?;
    println!("publisher: offering {svc} in domain {}", rt.domain());
    let mut count = 0;
    while options.count == 0 || count < options.count {
        let text = format!("hello #{count} from pid {}", std::process::id());
        let sample = publisher
            .loan_uninit()?
            .write(Counter::new(count, now_ns(), &text));
        sample.publish()?;
        println!("publisher: sent #{count}");
        count += 1;
        std::thread::sleep(options.interval);
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
