//! The live view of `top` (feature `tui`): a frame drawn every interval on
//! a [`Screen`] that always gives the terminal back, keys handled at once
//! ([`App`]), ended by a key, SIGINT/SIGTERM, or the daemon stopping.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::terminal::{Input, Screen};
use super::{App, Frame, Order, Snapshot, Step, TopError, gone};

/// The longest the live loop waits without looking at the stop flag.
const POLL: Duration = Duration::from_millis(100);

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

/// Set by SIGINT and SIGTERM (Ctrl-C itself arrives as a key in raw mode).
fn stop_flag() -> Result<Arc<AtomicBool>, TopError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}
