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
//! rendered either in the terminal (`draw`, on a `terminal::Screen`
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
//!
//! The live view (`view`, `draw`, `terminal`) is the crate's feature `tui`
//! (on by default): it brings ratatui and crossterm. Built without it,
//! `zerocpctl` is about 430 KB smaller and [`live`] answers
//! [`TopError::NoLiveView`]; `--once` is the same either way.

mod app;
#[cfg(feature = "tui")]
mod draw;
mod error;
pub mod frame;
pub mod order;
mod panels;
pub mod rates;
mod snapshot;
#[cfg(feature = "tui")]
pub mod terminal;
mod text;
#[cfg(feature = "tui")]
mod view;

use std::time::Duration;

pub use app::{App, Key, Step};
pub use error::TopError;
pub use frame::Frame;
pub use order::{Order, SortKey};
pub use snapshot::Snapshot;
pub use text::{frame_json, frame_text};
#[cfg(feature = "tui")]
pub use view::live;

use crate::ctl::CtlError;

/// The time between frames, and between `--once`'s two snapshots.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

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

/// Without the live view (feature `tui` off): says so.
#[cfg(not(feature = "tui"))]
pub fn live(_domain: Option<&str>, _interval: Duration, _order: Order) -> Result<(), TopError> {
    Err(TopError::NoLiveView)
}

/// A query that failed after an earlier one succeeded: the daemon
/// stopped, unless the failure says otherwise.
pub(crate) fn gone(earlier: &Snapshot, e: CtlError) -> TopError {
    match e {
        CtlError::NotRunning { .. } | CtlError::Closed { .. } | CtlError::Socket(_) => {
            TopError::DaemonGone {
                domain: earlier.domain.clone(),
            }
        }
        other => TopError::Query(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
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
