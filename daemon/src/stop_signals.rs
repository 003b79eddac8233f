//! The signals that stop `zerocpd`, turned into readable descriptors for
//! the event loop.
//!
//! SIGTERM (systemd's stop, `kill`), SIGINT (Ctrl-C), SIGHUP (the terminal
//! went away, or an init system's reload) and SIGQUIT (Ctrl-\) all end in
//! the same clean stop: clients are told, the shared memory, the socket, the
//! lock file and a run directory the daemon created are removed, and the
//! exit status is 0. None of them kills the process with its files left
//! behind (SIGHUP's and SIGQUIT's default actions would); a daemon reloads
//! nothing, so SIGHUP has nothing better to mean.
//!
//! Each signal's handler (installed through `signal-hook`, whose handler
//! only writes a byte: async-signal-safe) writes into a nonblocking
//! socket pair of its own; the event loop watches the read ends, so a
//! signal wakes it at once and the loop knows which one came. The handlers
//! are installed before anything else at start, so a signal that arrives
//! while the daemon starts is not lost: the loop sees it at once.

use std::fmt;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

/// A signal that stops the daemon; the discriminant is its place in
/// [`StopSignal::ALL`] and in [`StopSignals`]' descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM.
    Term = 0,
    /// SIGINT.
    Int = 1,
    /// SIGHUP.
    Hup = 2,
    /// SIGQUIT.
    Quit = 3,
}

impl StopSignal {
    /// Every stop signal, in the order of [`StopSignals`]' descriptors.
    pub const ALL: [Self; 4] = [Self::Term, Self::Int, Self::Hup, Self::Quit];

    /// The signal's number.
    pub fn number(self) -> i32 {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
        match self {
            Self::Term => SIGTERM,
            Self::Int => SIGINT,
            Self::Hup => SIGHUP,
            Self::Quit => SIGQUIT,
        }
    }
}

impl fmt::Display for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Term => "SIGTERM",
            Self::Int => "SIGINT",
            Self::Hup => "SIGHUP",
            Self::Quit => "SIGQUIT",
        })
    }
}

/// Installing a handler failed.
#[derive(Debug)]
pub struct SignalError {
    /// The signal whose handler could not be installed.
    pub signal: StopSignal,
    /// Why.
    pub source: std::io::Error,
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot install the {} handler: {}",
            self.signal, self.source
        )
    }
}

impl std::error::Error for SignalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The installed handlers: one readable end per [`StopSignal::ALL`] entry.
///
/// ```no_run
/// use zerocp_daemon::stop_signals::{StopSignal, StopSignals};
/// let signals = StopSignals::install()?;
/// assert_eq!(signals.descriptors().count(), StopSignal::ALL.len());
/// # Ok::<(), zerocp_daemon::stop_signals::SignalError>(())
/// ```
#[derive(Debug)]
pub struct StopSignals {
    pipes: [UnixStream; 4],
}

impl StopSignals {
    /// Installs the handlers of all stop signals.
    pub fn install() -> Result<Self, SignalError> {
        let [term, int, hup, quit] = StopSignal::ALL;
        Ok(Self {
            pipes: [pipe(term)?, pipe(int)?, pipe(hup)?, pipe(quit)?],
        })
    }

    /// Each signal with the descriptor that turns readable when it arrives.
    pub fn descriptors(&self) -> impl Iterator<Item = (StopSignal, BorrowedFd<'_>)> {
        StopSignal::ALL
            .into_iter()
            .zip(self.pipes.iter().map(AsFd::as_fd))
    }

    /// Drains `signal`'s pipe after it turned readable.
    pub fn acknowledge(&self, signal: StopSignal) {
        let mut buf = [0u8; 16];
        // Nonblocking: reads until empty; the byte values carry nothing.
        while matches!((&self.pipes[signal as usize]).read(&mut buf), Ok(n) if n > 0) {}
    }
}

fn pipe(signal: StopSignal) -> Result<UnixStream, SignalError> {
    let fail = |source| SignalError { signal, source };
    let (read, write) = UnixStream::pair().map_err(fail)?;
    read.set_nonblocking(true).map_err(fail)?;
    write.set_nonblocking(true).map_err(fail)?;
    signal_hook::low_level::pipe::register(signal.number(), write).map_err(fail)?;
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discriminants_are_positions_in_all() {
        for (i, signal) in StopSignal::ALL.into_iter().enumerate() {
            assert_eq!(signal as usize, i, "{signal}");
        }
    }
}
