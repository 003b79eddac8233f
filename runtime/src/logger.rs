//! The runtime's non-blocking logger.
//!
//! A `log` call on an application thread — possibly on the data path — must
//! never wait for a terminal, a pipe or a journal. [`AsyncLogger`] formats
//! the record into a fixed 512-byte line on the caller's stack (longer lines
//! are cut), copies it into a lock-free single-producer/single-consumer byte
//! ring ([`zerocp_core::spsc_ring`], 64 KiB), and returns; a background
//! thread pops the lines and writes them to the sink (stderr by default).
//!
//! Several application threads may log at once, but the ring has a single
//! producer: they take turns through a process-local mutex that is only ever
//! *tried* (a bounded number of attempts, each hold is one short copy), so a
//! logging thread never sleeps on it. A line that finds the ring full, or the
//! producer busy for too long, is dropped and counted; the writer thread
//! reports the count. [`AsyncLogger::flush`] waits, with a deadline, until
//! every accepted line is written.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use log::{LevelFilter, Log, Metadata, Record, SetLoggerError};
use zerocp_core::spsc_ring::{Consumer, Producer, SpscRing};

/// Bytes of the ring between loggers and the writer thread.
pub const RING_BYTES: usize = 64 * 1024;
/// Longest line kept; longer ones are cut (and end with `…`).
pub const MAX_LINE: usize = 512;
/// How often the writer thread looks at the ring when nobody wakes it.
const WRITER_PERIOD: Duration = Duration::from_millis(5);
/// Attempts at the producer lock before a line is dropped.
const LOCK_ATTEMPTS: u32 = 256;

/// State shared by the loggers and the writer thread.
struct Shared {
    accepted: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    stop: AtomicBool,
}

/// A `log::Log` that never blocks the caller.
///
/// ```
/// use log::Log;
/// use zerocp::logger::AsyncLogger;
///
/// let sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
/// let logger = AsyncLogger::with_sink("demo", log::LevelFilter::Info, SharedSink(sink.clone()))?;
/// logger.log(&log::Record::builder().level(log::Level::Info).args(format_args!("ready")).build());
/// assert!(logger.flush_within(std::time::Duration::from_secs(5)));
/// assert!(String::from_utf8_lossy(&sink.lock().unwrap()).contains("INFO  ready"));
///
/// struct SharedSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
/// impl std::io::Write for SharedSink {
///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AsyncLogger {
    name: String,
    level: LevelFilter,
    producer: Mutex<Producer<'static, RING_BYTES>>,
    shared: Arc<Shared>,
    writer: Thread,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl AsyncLogger {
    /// A logger writing to stderr from a background thread; lines are
    /// prefixed `name[pid]`.
    pub fn new(name: &str, level: LevelFilter) -> std::io::Result<Self> {
        Self::with_sink(name, level, std::io::stderr())
    }

    /// A logger writing to `sink` from a background thread.
    pub fn with_sink(
        name: &str,
        level: LevelFilter,
        sink: impl Write + Send + 'static,
    ) -> std::io::Result<Self> {
        // The ring lives as long as the process: the writer thread may
        // outlive the logger when it is installed globally.
        let ring: &'static mut SpscRing<RING_BYTES> = Box::leak(Box::new(SpscRing::new()));
        let (producer, consumer) = ring.split();
        let shared = Arc::new(Shared {
            accepted: AtomicU64::new(0),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let writer_shared = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("zerocp-log".into())
            .spawn(move || write_loop(consumer, sink, &writer_shared))?;
        Ok(Self {
            name: name.to_owned(),
            level,
            producer: Mutex::new(producer),
            writer: handle.thread().clone(),
            shared,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Installs a stderr logger as the process's `log` logger.
    pub fn init(name: &str, level: LevelFilter) -> Result<(), InitLoggerError> {
        let logger = Self::new(name, level).map_err(InitLoggerError::Thread)?;
        log::set_logger(Box::leak(Box::new(logger))).map_err(InitLoggerError::AlreadySet)?;
        log::set_max_level(level);
        Ok(())
    }

    /// Lines dropped so far (ring full or producer contended).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every line accepted so far is written, or `timeout`
    /// passes; returns whether everything was written.
    pub fn flush_within(&self, timeout: Duration) -> bool {
        let target = self.shared.accepted.load(Ordering::Acquire);
        let deadline = Instant::now() + timeout;
        while self.shared.written.load(Ordering::Acquire) < target {
            if Instant::now() >= deadline {
                return false;
            }
            self.writer.unpark();
            thread::sleep(Duration::from_micros(200));
        }
        true
    }

    fn push_line(&self, line: &[u8]) {
        for _ in 0..LOCK_ATTEMPTS {
            match self.producer.try_lock() {
                Ok(mut producer) => {
                    if producer.push(line).is_ok() {
                        // Release: the writer's Acquire load of `accepted`
                        // in `flush_within` is only a progress count.
                        self.shared.accepted.fetch_add(1, Ordering::Release);
                    } else {
                        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                }
                Err(TryLockError::Poisoned(_)) => break,
                Err(TryLockError::WouldBlock) => std::hint::spin_loop(),
            }
        }
        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

impl Log for AsyncLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = LineBuf::new();
        // A LineBuf never fails: it cuts what does not fit.
        let _ = writeln!(
            line,
            "{}[{}] {:<5} {}",
            self.name,
            std::process::id(),
            record.level(),
            record.args()
        );
        self.push_line(line.finish());
    }

    fn flush(&self) {
        self.flush_within(Duration::from_secs(1));
    }
}

impl Drop for AsyncLogger {
    fn drop(&mut self) {
        self.flush_within(Duration::from_secs(1));
        self.shared.stop.store(true, Ordering::Release);
        self.writer.unpark();
        if let Some(handle) = self.handle.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
        }
    }
}

/// Why the logger could not be installed.
#[derive(Debug)]
pub enum InitLoggerError {
    /// The writer thread could not be started.
    Thread(std::io::Error),
    /// Another `log` logger is already installed.
    AlreadySet(SetLoggerError),
}

impl std::fmt::Display for InitLoggerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Thread(e) => write!(f, "cannot start the zerocp log writer thread: {e}"),
            Self::AlreadySet(_) => write!(f, "a `log` logger is already installed"),
        }
    }
}

impl std::error::Error for InitLoggerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Thread(e) => Some(e),
            Self::AlreadySet(e) => Some(e),
        }
    }
}

fn write_loop(mut consumer: Consumer<'static, RING_BYTES>, mut sink: impl Write, shared: &Shared) {
    let mut buf = vec![0u8; SpscRing::<RING_BYTES>::MAX_RECORD];
    let mut reported = 0;
    loop {
        let mut wrote = false;
        while let Some(n) = consumer.pop(&mut buf) {
            let _ = sink.write_all(&buf[..n]);
            // Release: pairs with the Acquire in `flush_within`.
            shared.written.fetch_add(1, Ordering::Release);
            wrote = true;
        }
        let dropped = shared.dropped.load(Ordering::Relaxed);
        if dropped != reported {
            let _ = writeln!(sink, "zerocp: {} log lines dropped", dropped - reported);
            reported = dropped;
            wrote = true;
        }
        if wrote {
            let _ = sink.flush();
        }
        if shared.stop.load(Ordering::Acquire) && consumer.next_len().is_none() {
            return;
        }
        thread::park_timeout(WRITER_PERIOD);
    }
}

/// A fixed line buffer that cuts what does not fit (ending the line with `…\n`).
struct LineBuf {
    bytes: [u8; MAX_LINE],
    len: usize,
    cut: bool,
}

impl LineBuf {
    fn new() -> Self {
        Self {
            bytes: [0; MAX_LINE],
            len: 0,
            cut: false,
        }
    }

    fn finish(&mut self) -> &[u8] {
        if self.cut {
            const MARK: &[u8] = "…\n".as_bytes();
            let start = floor_char_boundary(&self.bytes[..self.len], MAX_LINE - MARK.len());
            self.bytes[start..start + MARK.len()].copy_from_slice(MARK);
            self.len = start + MARK.len();
        }
        &self.bytes[..self.len]
    }
}

impl std::fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = MAX_LINE - self.len;
        let take = if s.len() <= room {
            s.len()
        } else {
            self.cut = true;
            floor_char_boundary(s.as_bytes(), room)
        };
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

/// The largest `i <= max` that does not split a UTF-8 character of `bytes`.
fn floor_char_boundary(bytes: &[u8], max: usize) -> usize {
    let mut i = max.min(bytes.len());
    while i > 0 && i < bytes.len() && (bytes[i] & 0b1100_0000) == 0b1000_0000 {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[derive(Clone, Default)]
    struct Sink(Arc<StdMutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log_line(logger: &AsyncLogger, level: log::Level, text: &str) {
        logger.log(
            &Record::builder()
                .level(level)
                .args(format_args!("{text}"))
                .build(),
        );
    }

    #[test]
    fn lines_from_many_threads_arrive_whole_and_filtered() {
        let sink = Sink::default();
        let logger =
            Arc::new(AsyncLogger::with_sink("t", LevelFilter::Info, sink.clone()).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let logger = Arc::clone(&logger);
                thread::spawn(move || {
                    for i in 0..200 {
                        log_line(&logger, log::Level::Info, &format!("thread {t} line {i}"));
                        log_line(&logger, log::Level::Debug, "filtered out");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(logger.flush_within(Duration::from_secs(10)));
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let kept = text.lines().filter(|l| l.contains(" line ")).count() as u64;
        assert_eq!(
            kept + logger.dropped(),
            800,
            "every line written or counted"
        );
        assert!(!text.contains("filtered out"));
        assert!(
            text.lines()
                .all(|l| l.starts_with("t[") || l.starts_with("zerocp:"))
        );
    }

    #[test]
    fn long_lines_are_cut_on_a_char_boundary() {
        let sink = Sink::default();
        let logger = AsyncLogger::with_sink("t", LevelFilter::Trace, sink.clone()).unwrap();
        log_line(&logger, log::Level::Warn, &"é".repeat(MAX_LINE));
        assert!(logger.flush_within(Duration::from_secs(10)));
        let bytes = sink.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).expect("valid UTF-8 after cutting");
        assert!(text.len() <= MAX_LINE && text.ends_with("…\n"), "{text:?}");
    }

    #[test]
    fn a_full_ring_drops_and_counts_instead_of_blocking() {
        let sink = Sink::default();
        let logger = AsyncLogger::with_sink("t", LevelFilter::Info, sink).unwrap();
        let line = "x".repeat(400);
        for _ in 0..2000 {
            log_line(&logger, log::Level::Info, &line);
        }
        assert!(logger.flush_within(Duration::from_secs(10)));
        let accepted = logger.shared.accepted.load(Ordering::Relaxed);
        assert_eq!(accepted + logger.dropped(), 2000);
    }
}
