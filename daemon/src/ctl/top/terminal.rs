//! The terminal while `top` draws on it: taken over, and always given back.
//!
//! [`Screen::enter`] switches the terminal to raw mode (keys arrive one by
//! one, Ctrl-C as a key rather than a signal), to the alternate screen (the
//! shell's screen is left as it was) and hides the cursor. Giving it back
//! undoes the three, and happens on every way out:
//!
//! - when the [`Screen`] is dropped: `q`, Esc, Ctrl-C, SIGINT or SIGTERM
//!   from elsewhere (flags the loop looks at), and every error, the
//!   daemon stopping included (the error is printed after, on the shell's
//!   screen);
//! - on a panic, by a panic hook installed once before the first change,
//!   which restores the terminal and then runs the hook before it (which
//!   prints the message; release builds then abort, so no destructor would
//!   run).
//!
//! Restoring twice is harmless, so the hook and the drop need not know of
//! each other. Keys are read here too ([`Screen::next_input`]), translated
//! to [`Key`] for [`App`].

use std::io::{self, Stdout};
use std::sync::Once;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use super::app::Key;
use super::frame::Frame;
use super::{App, draw};

/// What woke the loop up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A key `top` knows.
    Key(Key),
    /// The terminal was resized, or a key `top` ignores: draw again.
    Redraw,
}

/// The terminal, taken over (module docs).
pub struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    /// Takes the terminal over: raw mode, alternate screen, no cursor.
    pub fn enter() -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        // Cleared here rather than by ratatui, whose `clear` asks the
        // terminal where the cursor is (and fails if it does not answer).
        let entered = execute!(
            io::stdout(),
            EnterAlternateScreen,
            Clear(ClearType::All),
            Hide
        )
        .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match entered {
            Ok(terminal) => Ok(Self { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// Draws `frame` as `app` orders it.
    pub fn draw(&mut self, frame: &Frame, app: &App) -> io::Result<()> {
        self.terminal
            .draw(|canvas| draw::draw(canvas, frame, app))
            .map(drop)
    }

    /// Waits up to `timeout` for input; `None` if none came.
    pub fn next_input(&mut self, timeout: Duration) -> io::Result<Option<Input>> {
        if !event::poll(timeout)? {
            return Ok(None);
        }
        let input = match event::read()? {
            Event::Key(key) if key.kind != KeyEventKind::Release => {
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                match key.code {
                    KeyCode::Char('c') if ctrl => Input::Key(Key::Interrupt),
                    KeyCode::Char(c) if !ctrl => Input::Key(Key::Char(c)),
                    KeyCode::Enter => Input::Key(Key::Enter),
                    KeyCode::Esc => Input::Key(Key::Esc),
                    KeyCode::Backspace => Input::Key(Key::Backspace),
                    _ => Input::Redraw,
                }
            }
            _ => Input::Redraw,
        };
        Ok(Some(input))
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back: raw mode off, the shell's screen, the cursor
/// shown. Failures are ignored: there is nothing better to do with them on
/// the way out.
fn restore() {
    drop(disable_raw_mode());
    drop(execute!(io::stdout(), LeaveAlternateScreen, Show));
}

/// Restores the terminal before a panic's message is printed (module docs).
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
