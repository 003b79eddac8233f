//! `zerocp-zenoh --config PATH`: runs a bridge until SIGINT or SIGTERM
//! (the crate's docs say what it does). It prints `bridging` once it
//! forwards, `counters: ` and its counters on SIGUSR1, and `stopped: ` and
//! its counters when it has stopped.

use std::path::PathBuf;
use std::process::ExitCode;

use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

use zerocp_zenoh::{Bridge, BridgeConfig};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zerocp-zenoh: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let path = config_path()?;
    // Warnings (a failed put or publish, a refused port) go to stderr
    // without ever blocking a forwarding thread.
    zerocp::logger::AsyncLogger::init("zerocp-zenoh", log::LevelFilter::Info)?;
    let config = BridgeConfig::load(&path)?;
    // Registered first: a signal during the start is handled after it.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGUSR1])?;
    let bridge = Bridge::start(&config)?;
    println!("bridging");
    for signal in signals.forever() {
        if signal != SIGUSR1 {
            break;
        }
        println!("counters: {}", bridge.counters());
    }
    let counters = bridge.counters().to_string();
    bridge.stop();
    println!("stopped: {counters}");
    Ok(())
}

/// The path after `--config`.
fn config_path() -> Result<PathBuf, String> {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next(), args.next()) {
        (Some(flag), Some(path), None) if flag == "--config" => Ok(PathBuf::from(path)),
        _ => Err("usage: zerocp-zenoh --config PATH".into()),
    }
}
