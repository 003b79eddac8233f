//! [`Observer`]: the registration and the untyped subscriber a live
//! command observes a service with, and the loop that feeds it samples and
//! clock ticks until its count, Ctrl-C or the daemon's end.
//!
//! - **Registration.** `zerocpctl` registers as a process named
//!   `zerocpctl` with reconnecting off: a daemon that stops ends the
//!   command ([`LiveError::DaemonGone`], exit status 1) instead of a wait
//!   for a restart.
//! - **Subscriber.** An [`UntypedSubscriber`] of the service's type
//!   ([`super::target`]), [`QUEUE_CAPACITY`] samples deep with the
//!   discard-oldest policy (always: a tool never blocks a publisher), one
//!   sample held at a time, no spinning before it sleeps.
//! - **Ctrl-C.** SIGINT and SIGTERM set a flag ([`signal_hook::flag`]); the
//!   loop sleeps at most [`POLL`] at a time and looks at it, so it ends
//!   within that, drops the port and the registration (the daemon removes
//!   both) and the command exits 0: an interrupted observation is the
//!   user's choice, not an error. Nothing of it exists outside the process
//!   and the daemon (memory files, no names), so nothing is left behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use zerocp::{Runtime, TakeError, UntypedSample, UntypedSubscriber, WaitError};

use super::LiveError;
use super::target::Target;

/// Samples the observer's queue holds before the oldest is dropped.
pub const QUEUE_CAPACITY: u32 = 16;
/// The longest sleep between two looks at the Ctrl-C flag.
pub const POLL: Duration = Duration::from_millis(100);
/// The process name `zerocpctl` registers with.
pub const PROCESS_NAME: &str = "zerocpctl";

/// How an observation ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// `--count` samples were seen.
    Count,
    /// Ctrl-C (SIGINT) or SIGTERM.
    Interrupted,
    /// The output was closed (a pipe whose reader left).
    OutputClosed,
}

/// What the loop's callbacks return: go on, or end the observation.
pub type Flow = Result<Option<End>, LiveError>;

/// A registration and its subscriber of one service (module docs).
pub struct Observer {
    // Declared before the runtime: the port goes first.
    subscriber: UntypedSubscriber,
    _runtime: Runtime,
    stop: Arc<AtomicBool>,
    domain: String,
}

impl Observer {
    /// Registers with the daemon of `domain` and subscribes to `target`.
    pub fn open(domain: &str, target: &Target) -> Result<Self, LiveError> {
        let stop = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(LiveError::Output)?;
        }
        let runtime = Runtime::builder(PROCESS_NAME)
            .domain(domain)
            .reconnect(false)
            .init()
            .map_err(LiveError::Init)?;
        let subscriber = runtime
            .untyped_subscriber(&target.service, target.service_type)
            .queue_capacity(QUEUE_CAPACITY)
            .max_held(1)
            .wait_spins(0)
            .create()
            .map_err(|error| LiveError::Subscribe {
                service: target.service.to_string(),
                error,
            })?;
        Ok(Self {
            subscriber,
            _runtime: runtime,
            stop,
            domain: domain.to_owned(),
        })
    }

    /// Hands every sample to `on_sample` and calls `on_tick` every `tick`
    /// of this process's clock (`None`: never), until `count` samples were
    /// handed over (`None`: no limit), a callback ends it, Ctrl-C, or an
    /// error.
    pub fn run(
        &self,
        count: Option<u64>,
        tick: Option<Duration>,
        mut on_sample: impl FnMut(&UntypedSample<'_>) -> Flow,
        mut on_tick: impl FnMut() -> Flow,
    ) -> Result<End, LiveError> {
        let mut seen = 0u64;
        let mut next_tick = tick.map(|t| Instant::now() + t);
        loop {
            while !self.stopped() {
                let Some(sample) = self.subscriber.take().map_err(|e| self.take_error(e))? else {
                    break;
                };
                if let Some(end) = on_sample(&sample)? {
                    return Ok(end);
                }
                seen += 1;
                if count.is_some_and(|n| seen >= n) {
                    return Ok(End::Count);
                }
            }
            if self.stopped() {
                return Ok(End::Interrupted);
            }
            let now = Instant::now();
            if let (Some(at), Some(tick)) = (next_tick, tick)
                && now >= at
            {
                if let Some(end) = on_tick()? {
                    return Ok(end);
                }
                next_tick = Some(now + tick);
            }
            let sleep = next_tick.map_or(POLL, |at| at.saturating_duration_since(now).min(POLL));
            self.subscriber
                .wait(Some(sleep))
                .map_err(|e| self.wait_error(e))?;
        }
    }

    fn stopped(&self) -> bool {
        // Relaxed: the flag is the whole message.
        self.stop.load(Ordering::Relaxed)
    }

    fn take_error(&self, e: TakeError) -> LiveError {
        match e {
            TakeError::DaemonGone => self.daemon_gone(),
            other => LiveError::Take(other),
        }
    }

    fn wait_error(&self, e: WaitError) -> LiveError {
        match e {
            WaitError::DaemonGone => self.daemon_gone(),
            other => LiveError::Wait(other),
        }
    }

    fn daemon_gone(&self) -> LiveError {
        LiveError::DaemonGone {
            domain: self.domain.clone(),
        }
    }
}
