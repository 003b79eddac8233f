//! How the benchmarks' ZeroCP subscribers wait for samples, named on the
//! command line and in the `mode` option passed to child processes.

use crate::common::error::BenchError;

/// How a subscriber waits for samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Busy-polls `take` (the latency case `zerocp`; the peer's `iox2`).
    Poll,
    /// Blocks in `wait` with the subscriber's default settings, which spin
    /// briefly before the futex sleep (the latency case `zerocp-wait`).
    Wait,
    /// Blocks in `wait` with `wait_spins(0)`: straight to the futex sleep
    /// (the latency case `zerocp-sleep`; like for like with the peer's
    /// `iox2-event`).
    Sleep,
    /// Blocks in `WaitSet::wait` on a wait set holding the one subscriber
    /// (the latency case `zerocp-waitset`; the peer's `iox2-waitset`).
    WaitSet,
    /// Blocks in `poll(2)` on the subscriber's wake descriptor
    /// (`Subscriber::as_fd`: the latency case `zerocp-fd`, an application's
    /// own event loop).
    Fd,
}

impl Mode {
    /// The mode's name: `poll`, `wait`, `sleep`, `waitset` or `fd`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::Wait => "wait",
            Self::Sleep => "sleep",
            Self::WaitSet => "waitset",
            Self::Fd => "fd",
        }
    }

    /// The mode named `text`.
    pub fn parse(text: &str) -> Result<Self, BenchError> {
        match text {
            "poll" => Ok(Self::Poll),
            "wait" => Ok(Self::Wait),
            "sleep" => Ok(Self::Sleep),
            "waitset" => Ok(Self::WaitSet),
            "fd" => Ok(Self::Fd),
            other => Err(BenchError::Usage(format!("unknown mode {other:?}"))),
        }
    }
}
