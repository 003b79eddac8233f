//! `zerocpctl top [--interval SECONDS] [--once] [--filter TEXT] [--sort
//! KEY]`: a live view of a domain, for people ([`live`]) and, with
//! `--once`, for scripts ([`once`]).
//!
//! Every `--interval` (default [`DEFAULT_INTERVAL`]) `top` takes a
//! [`Snapshot`] (processes, ports with their counters, mempools, asked on
//! one unregistered connection: `top` registers nothing and takes no
//! process slot) and builds a [`Frame`] from it and the snapshot before:
//! processes with their heartbeat age and state, services with their
//! publish rate and bandwidth, subscribers with their queue fill and
//! drops, mempools with their use and minimum free. Rates are counter
//! differences over the time between the two snapshots ([`rates`]).
//!
//! The frame is the model; [`Order`] sorts and filters it, and it is
//! rendered either in the terminal (`draw`, on a [`terminal::Screen`]
//! that always gives the terminal back) or as plain text or JSON
//! (`text`), from the same `panels`:
//!
//! - [`live`] draws a frame every interval and reacts to keys at once
//!   ([`App`]: `q`/Esc/Ctrl-C quit, `s` sorts, `/` filters). It ends with
//!   [`TopError::DaemonGone`] when the daemon stops, after the terminal
//!   is restored, and refuses to start ([`TopError::NotATerminal`]) when
//!   stdout is not a terminal.
//! - [`once`] takes two snapshots `interval` apart, so its rates are real,
//!   and returns one frame.

mod app;
mod draw;
mod error;
pub mod frame;
pub mod order;
mod panels;
pub mod rates;
mod snapshot;
pub mod terminal;
mod text;

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use app::{App, Key, Step};
pub use error::TopError;
pub use frame::Frame;
pub use order::{Order, SortKey};
pub use snapshot::Snapshot;
pub use text::{frame_json, frame_text};

use crate::ctl::CtlError;
use terminal::{Input, Screen};

/// The time between frames, and between `--once`'s two snapshots.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// The longest the live loop waits without looking at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// One frame with rates over `interval`, as text or (`json`) one line of
/// JSON, ordered by `order`.
///
/// ```
/// use std::time::Duration;
/// use zerocp_daemon::ctl::top::{self, Order, TopError};
/// let no_daemon = top::once(Some("doc-top-once"), Duration::from_millis(10), &Order::default(), false);
/// assert!(matches!(no_daemon, Err(TopError::Query(_))));
/// ```
pub fn once(
    domain: Option<&str>,
    interval: Duration,
    order: &Order,
    json: bool,
) -> Result<String, TopError> {
    let first = Snapshot::take(domain).map_err(TopError::Query)?;
    std::thread::sleep(interval);
    let second = Snapshot::take(domain).map_err(|e| gone(&first, e))?;
    let frame = order.apply(&Frame::new(Some(&first), &second));
    Ok(if json {
        frame_json(&frame, order)
    } else {
        frame_text(&frame)
    })
}

/// The live view (module docs), until a key or a signal ends it (`Ok`) or
/// an error does.
pub fn live(domain: Option<&str>, interval: Duration, order: Order) -> Result<(), TopError> {
    if !std::io::stdout().is_terminal() {
        return Err(TopError::NotATerminal);
    }
    let stop = stop_flag()?;
    let mut previous = Snapshot::take(domain).map_err(TopError::Query)?;
    let mut frame = Frame::new(None, &previous);
    let mut app = App::new(order);
    let mut screen = Screen::enter()?;
    loop {
        let next = Instant::now() + interval;
        screen.draw(&frame, &app)?;
        while let Some(left) = next.checked_duration_since(Instant::now()) {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            match screen.next_input(left.min(POLL))? {
                Some(Input::Key(key)) if app.on_key(key) == Step::Quit => return Ok(()),
                Some(_) => screen.draw(&frame, &app)?,
                None => {}
            }
        }
        let current = Snapshot::take(domain).map_err(|e| gone(&previous, e))?;
        frame = Frame::new(Some(&previous), &current);
        previous = current;
    }
}

/// A query that failed after an earlier one succeeded: the daemon
/// stopped, unless the failure says otherwise.
fn gone(earlier: &Snapshot, e: CtlError) -> TopError {
    match e {
        CtlError::NotRunning { .. } | CtlError::Closed { .. } | CtlError::Socket(_) => {
            TopError::DaemonGone {
                domain: earlier.domain.clone(),
            }
        }
        other => TopError::Query(other),
    }
}

/// Set by SIGINT and SIGTERM (Ctrl-C itself arrives as a key in raw mode).
fn stop_flag() -> Result<Arc<AtomicBool>, TopError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::wire::ErrorCode;

    #[test]
    fn a_query_failing_after_one_succeeded_means_the_daemon_stopped() {
        let earlier = Snapshot {
            domain: "d".into(),
            at: Instant::now(),
            processes: Vec::new(),
            ports: Vec::new(),
            mempools: Vec::new(),
        };
        let closed = CtlError::Closed {
            socket: "/run/zerocp/d.sock".into(),
        };
        let stopped = gone(&earlier, closed);
        assert_eq!(stopped.to_string(), "zerocpd of domain d stopped");
        let refused = CtlError::Refused {
            code: ErrorCode::AccessDenied,
            detail: "uid 7".into(),
        };
        assert!(matches!(gone(&earlier, refused), TopError::Query(_)));
    }
}
