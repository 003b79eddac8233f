//! Connecting to the daemon, for the `publisher` and `subscriber` examples.
#![allow(dead_code)] // shared by several examples, each uses a part of it

use std::time::{Duration, Instant};

use zerocp::{InitError, Runtime};

/// How long the examples wait, by default, for a daemon that does not
/// listen yet (`--wait-daemon-ms`).
pub const DEFAULT_DAEMON_WAIT: Duration = Duration::from_secs(5);
/// Pause between two connection attempts while waiting for the daemon.
const RETRY: Duration = Duration::from_millis(20);

/// `Runtime::init(name)`, tried again while nothing listens on the daemon's
/// socket, for at most `wait`: an example started right after `zerocpd &`
/// may find the daemon still setting up its shared memory. Any other error,
/// and "not running" once `wait` is over, is returned as it is.
pub fn init_runtime(name: &str, wait: Duration) -> Result<Runtime, InitError> {
    let deadline = Instant::now() + wait;
    loop {
        match Runtime::init(name) {
            Err(InitError::DaemonNotRunning { .. }) if Instant::now() < deadline => {
                std::thread::sleep(RETRY);
            }
            other => return other,
        }
    }
}
