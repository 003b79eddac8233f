//! The live commands of `zerocpctl`: `echo`, `hz` and `bw` watch a
//! service's samples as they are published.
//!
//! Unlike the other commands, which ask the daemon over an unregistered
//! connection, a live command is a participant: it registers with the
//! daemon (as a process named `zerocpctl`) and subscribes to the service
//! through the runtime (`zerocp`), so it sees the samples themselves, in
//! place. It was not compiled for the service's type, so it asks the
//! daemon for it first ([`target`]) and subscribes with an
//! [`UntypedSubscriber`](zerocp::UntypedSubscriber) of exactly that type
//! ([`observer`]): the daemon's type check holds as for every port, and the
//! samples are bytes with their metadata.
//!
//! - A live command never slows a publisher: its queue drops its oldest
//!   sample when full, whatever the service's other subscribers chose.
//! - It works on any domain it can connect to (it starts nothing).
//! - It ends after `--count` samples (exit 0), on Ctrl-C or SIGTERM (exit
//!   0, within [`observer::POLL`]), or when the daemon stops (an error
//!   naming the domain, exit 1); it never waits for a daemon to come back.
//! - A service without any port is an error: its type is not known.
//!
//! [`echo`] prints samples (decoded by [`fields`] when the service's type
//! describes itself), [`hz`] the publish rate and [`bw`] the
//! bandwidth, both measured in a [`rate_window`] on the publishers' own
//! publish times.

pub mod bw;
pub mod echo;
mod error;
pub mod fields;
pub mod hz;
pub mod observer;
pub mod rate_window;
pub mod target;

use std::io::Write;
use std::time::Duration;

use zerocp::UntypedSample;

pub use error::LiveError;
use observer::{End, Flow, Observer};
use rate_window::{Arrival, RateWindow};

use crate::ctl::CtlClient;

/// How often `hz` and `bw` report.
pub const REPORT_EVERY: Duration = Duration::from_secs(1);

/// A live command.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveCommand {
    /// Print every sample.
    Echo {
        /// `Service/Instance/Event`.
        service: String,
        /// Stop after this many samples.
        count: Option<u64>,
    },
    /// Print the publish rate.
    Hz {
        /// `Service/Instance/Event`.
        service: String,
        /// The span of publish time measured.
        window: Duration,
        /// Stop after this many samples.
        count: Option<u64>,
    },
    /// Print the bandwidth.
    Bw {
        /// `Service/Instance/Event`.
        service: String,
        /// The span of publish time measured.
        window: Duration,
        /// Stop after this many samples.
        count: Option<u64>,
    },
}

impl LiveCommand {
    fn service(&self) -> &str {
        match self {
            Self::Echo { service, .. } | Self::Hz { service, .. } | Self::Bw { service, .. } => {
                service
            }
        }
    }
}

/// Runs `command` against the daemon of `domain` (`None`: `ZEROCP_DOMAIN`,
/// else `default`), writing to `out` as it goes; returns how it ended.
pub fn run(
    domain: Option<&str>,
    command: &LiveCommand,
    json: bool,
    out: &mut impl Write,
) -> Result<End, LiveError> {
    let mut client = CtlClient::connect(domain)?;
    let target = target::find(&mut client, command.service())?;
    let domain = client.domain().to_owned();
    // The query connection is not needed while observing.
    drop(client);
    let observer = Observer::open(&domain, &target)?;
    match command {
        LiveCommand::Echo { service, count } => {
            let print = |sample: &UntypedSample<'_>| {
                let text = if json {
                    echo::sample_json(service, &target, sample)
                } else {
                    echo::sample_text(&target, sample)
                };
                emit(out, &text)
            };
            observer.run(*count, None, print, || Ok(None))
        }
        LiveCommand::Hz {
            service,
            window,
            count,
        } => rates(
            &observer,
            out,
            *window,
            *count,
            |stats| hz::report(service, *window, stats, json),
            json,
        ),
        LiveCommand::Bw {
            service,
            window,
            count,
        } => rates(
            &observer,
            out,
            *window,
            *count,
            |stats| bw::report(service, *window, stats, json),
            json,
        ),
    }
}

/// `hz` and `bw`: records every sample in a window and prints `report` of
/// it every [`REPORT_EVERY`] and once more at the count.
fn rates(
    observer: &Observer,
    out: &mut impl Write,
    window: Duration,
    count: Option<u64>,
    report: impl Fn(&rate_window::Stats) -> String,
    json: bool,
) -> Result<End, LiveError> {
    let rate_window = std::cell::RefCell::new(RateWindow::new(window));
    let out = std::cell::RefCell::new(out);
    let print = |only_new: bool| -> Flow {
        let mut window = rate_window.borrow_mut();
        let fresh = window.take_new() > 0;
        let text = match window.stats() {
            Some(stats) if fresh || !only_new => report(&stats),
            _ if json => return Ok(None),
            _ => "no new samples\n".to_owned(),
        };
        emit(&mut **out.borrow_mut(), &text)
    };
    let record = |sample: &UntypedSample<'_>| -> Flow {
        let publisher = sample.publisher();
        rate_window.borrow_mut().record(Arrival {
            publisher: (publisher.port_index(), publisher.generation()),
            sequence: sample.sequence(),
            time_ns: sample.publish_time().as_nanos(),
            bytes: sample.payload().len(),
        });
        Ok(None)
    };
    let end = observer.run(count, Some(REPORT_EVERY), record, || print(true))?;
    if end == End::Count {
        print(false)?;
    }
    Ok(end)
}

/// Writes `text` and flushes it (a reader sees each line as it comes); a
/// closed pipe ends the command quietly.
fn emit(out: &mut impl Write, text: &str) -> Flow {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Some(End::OutputClosed)),
        Err(e) => Err(LiveError::Output(e)),
    }
}
