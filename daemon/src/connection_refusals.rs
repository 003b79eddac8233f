//! [`ConnectionRefusals`]: the connections the daemon turns away, counted
//! for `Status` and logged as summaries: at most one line per kind and
//! second, however many connections a flood brings.
//!
//! Three kinds ([`Refusal`]): a peer `[access]` does not admit, refused at
//! accept; an unregistered connection evicted to make room for a newcomer
//! ([`crate::pending_limits`]); an unregistered connection closed because
//! it did not register within `limits.register_timeout_ms` of its accept.
//! Each is told why before it is closed (an `Error` frame with request id
//! 0); what it was told is the reason logged.
//!
//! The first refusal of a kind after a quiet second is logged at once, with
//! the peer's pid and uid; the ones that follow within the second are
//! counted, by uid, and written as one summary line when the second is up
//! (at the event loop's next tick), e.g. `evicted 1,204 unregistered
//! connections in the last 1.0 s (uid 1000: 1,200, uid 1001: 4); the last
//! was told: …`. A flood thus costs the log one line per kind and second,
//! and the counters (`zerocpctl status`) keep the totals.

use std::fmt;

use zerocp_os_linux::seqpacket::PeerCredentials;

/// Shortest time between two log lines of one kind.
pub const SUMMARY_INTERVAL_MS: u64 = 1_000;
/// Uids a summary counts one by one; the rest are counted together.
const LISTED_UIDS: usize = 8;

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its peer's uid and gid are not admitted by `[access]` (at accept;
    /// it never held a slot).
    Denied,
    /// Unregistered, it gave way to a newcomer (a pending-connection limit).
    Evicted,
    /// It did not register within `limits.register_timeout_ms` of its accept.
    Expired,
}

impl Refusal {
    const ALL: [Self; 3] = [Self::Denied, Self::Evicted, Self::Expired];

    /// What the daemon did, and to what.
    fn action(self) -> (&'static str, &'static str) {
        match self {
            Self::Denied => ("refused", "connection"),
            Self::Evicted => ("evicted", "unregistered connection"),
            Self::Expired => ("closed", "unregistered connection"),
        }
    }

    fn level(self) -> log::Level {
        match self {
            Self::Denied | Self::Evicted => log::Level::Warn,
            Self::Expired => log::Level::Info,
        }
    }
}

/// Connections turned away since the daemon started, by kind (the
/// `refused_connections`, `evicted_connections` and `expired_connections`
/// of `Status`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionCounters {
    /// Refused at accept by `[access]`.
    pub refused: u64,
    /// Evicted to make room for a newcomer.
    pub evicted: u64,
    /// Closed for not registering in time.
    pub expired: u64,
}

/// The refusals of one kind since its last log line.
#[derive(Debug, Default)]
struct Window {
    count: u64,
    /// When the first of them happened.
    since_ms: u64,
    /// Counts of the first [`LISTED_UIDS`] uids seen.
    by_uid: Vec<(u32, u64)>,
    /// Refusals of the uids beyond those.
    other_uids: u64,
    /// The last one's peer and what it was told.
    last: Option<(PeerCredentials, String)>,
}

impl Window {
    fn add(&mut self, peer: PeerCredentials, reason: &str, now_ms: u64) {
        if self.count == 0 {
            self.since_ms = now_ms;
        }
        self.count += 1;
        let listed = self.by_uid.len();
        match self.by_uid.iter_mut().find(|(uid, _)| *uid == peer.uid) {
            Some((_, n)) => *n += 1,
            None if listed < LISTED_UIDS => self.by_uid.push((peer.uid, 1)),
            None => self.other_uids += 1,
        }
        self.last = Some((peer, reason.to_owned()));
    }
}

/// One kind's total, open window and last log line.
#[derive(Debug, Default)]
struct KindLog {
    total: u64,
    window: Window,
    last_line_ms: Option<u64>,
}

/// The counters and the summaries of turned-away connections (module docs).
///
/// ```
/// use zerocp_daemon::connection_refusals::{ConnectionRefusals, Refusal};
/// use zerocp_os_linux::seqpacket::PeerCredentials;
///
/// let mut refusals = ConnectionRefusals::default();
/// let peer = PeerCredentials { pid: 42, uid: 1000, gid: 1000 };
/// for ms in 0..100 {
///     refusals.record(Refusal::Evicted, peer, "evicted: …", ms);
/// }
/// refusals.tick(1_000); // one summary line for the 99 after the first
/// assert_eq!(refusals.counters().evicted, 100);
/// ```
#[derive(Debug, Default)]
pub struct ConnectionRefusals {
    kinds: [KindLog; 3],
}

impl ConnectionRefusals {
    /// Counts a connection of `peer` turned away as `kind`, told `reason`;
    /// logs it at once when its kind logged nothing in the last
    /// [`SUMMARY_INTERVAL_MS`], else keeps it for the next summary.
    pub fn record(&mut self, kind: Refusal, peer: PeerCredentials, reason: &str, now_ms: u64) {
        let log = &mut self.kinds[kind as usize];
        log.total += 1;
        log.window.add(peer, reason, now_ms);
        if log
            .last_line_ms
            .is_none_or(|at| now_ms >= at.saturating_add(SUMMARY_INTERVAL_MS))
        {
            emit(kind, log, now_ms);
        }
    }

    /// Logs the summary of every kind whose interval is up (the event loop
    /// calls this at each tick).
    pub fn tick(&mut self, now_ms: u64) {
        for kind in Refusal::ALL {
            let log = &mut self.kinds[kind as usize];
            let due = log
                .last_line_ms
                .is_none_or(|at| now_ms >= at.saturating_add(SUMMARY_INTERVAL_MS));
            if log.window.count > 0 && due {
                emit(kind, log, now_ms);
            }
        }
    }

    /// Logs what is still unreported, whatever the interval (at shutdown).
    pub fn finish(&mut self, now_ms: u64) {
        for kind in Refusal::ALL {
            let log = &mut self.kinds[kind as usize];
            if log.window.count > 0 {
                emit(kind, log, now_ms);
            }
        }
    }

    /// The totals since the daemon started.
    pub fn counters(&self) -> ConnectionCounters {
        let total = |kind: Refusal| self.kinds[kind as usize].total;
        ConnectionCounters {
            refused: total(Refusal::Denied),
            evicted: total(Refusal::Evicted),
            expired: total(Refusal::Expired),
        }
    }
}

/// Writes `log`'s window as one line and starts a new one.
fn emit(kind: Refusal, log: &mut KindLog, now_ms: u64) {
    let window = std::mem::take(&mut log.window);
    log.last_line_ms = Some(now_ms);
    log::log!(
        kind.level(),
        "{}",
        Summary {
            kind,
            window: &window,
            now_ms
        }
    );
}

/// One log line: a single refusal, or a window's summary.
struct Summary<'a> {
    kind: Refusal,
    window: &'a Window,
    now_ms: u64,
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, noun) = self.kind.action();
        let w = self.window;
        let Some((peer, reason)) = &w.last else {
            return Ok(());
        };
        if w.count == 1 {
            return write!(
                f,
                "{verb} the {noun} of pid {} (uid {}), telling it: {reason}",
                peer.pid, peer.uid
            );
        }
        let secs = self.now_ms.saturating_sub(w.since_ms) as f64 / 1000.0;
        write!(
            f,
            "{verb} {} {noun}s in the last {secs:.1} s (",
            grouped(w.count)
        )?;
        let mut by_uid = w.by_uid.clone();
        by_uid.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (i, (uid, n)) in by_uid.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}uid {uid}: {}", grouped(*n))?;
        }
        if w.other_uids > 0 {
            write!(f, ", other uids: {}", grouped(w.other_uids))?;
        }
        write!(f, "); the last was told: {reason}")
    }
}

/// `n` with a comma between groups of three digits (`1,204`).
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(uid: u32) -> PeerCredentials {
        PeerCredentials {
            pid: 100 + uid,
            uid,
            gid: uid,
        }
    }

    fn line(kind: Refusal, window: &Window, now_ms: u64) -> String {
        Summary {
            kind,
            window,
            now_ms,
        }
        .to_string()
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_204), "1,204");
        assert_eq!(grouped(12_345_678), "12,345,678");
    }

    #[test]
    fn one_refusal_names_its_peer_and_reason() {
        let mut window = Window::default();
        window.add(peer(7), "uid 7 gid 7 may not use this domain", 5);
        assert_eq!(
            line(Refusal::Denied, &window, 5),
            "refused the connection of pid 107 (uid 7), telling it: \
             uid 7 gid 7 may not use this domain"
        );
    }

    #[test]
    fn a_summary_counts_by_uid_most_first_and_bounds_the_list() {
        let mut window = Window::default();
        for _ in 0..1_200 {
            window.add(peer(1000), "evicted: …", 0);
        }
        for uid in 1..=LISTED_UIDS as u32 + 3 {
            window.add(peer(uid), "evicted: the last", 10);
        }
        let text = line(Refusal::Evicted, &window, 1_000);
        assert!(
            text.starts_with(
                "evicted 1,211 unregistered connections in the last 1.0 s (uid 1000: 1,200, uid 1: 1,"
            ),
            "{text}"
        );
        assert!(text.contains(", other uids: 4)"), "{text}");
        assert!(
            text.ends_with("; the last was told: evicted: the last"),
            "{text}"
        );
    }

    #[test]
    fn a_kind_logs_at_most_once_per_interval_and_counts_everything() {
        let mut refusals = ConnectionRefusals::default();
        let log = |r: &ConnectionRefusals, kind: Refusal| {
            let k = &r.kinds[kind as usize];
            (k.last_line_ms, k.window.count)
        };
        // The first is logged at once, the next ones wait for the interval.
        refusals.record(Refusal::Evicted, peer(1), "r", 10);
        assert_eq!(log(&refusals, Refusal::Evicted), (Some(10), 0));
        for ms in 11..500 {
            refusals.record(Refusal::Evicted, peer(1), "r", ms);
        }
        refusals.tick(500);
        assert_eq!(log(&refusals, Refusal::Evicted), (Some(10), 489));
        refusals.tick(1_010);
        assert_eq!(log(&refusals, Refusal::Evicted), (Some(1_010), 0));
        // Kinds are independent; a quiet kind logs nothing at its tick.
        refusals.record(Refusal::Denied, peer(2), "r", 1_020);
        assert_eq!(log(&refusals, Refusal::Denied), (Some(1_020), 0));
        refusals.tick(5_000);
        assert_eq!(log(&refusals, Refusal::Evicted), (Some(1_010), 0));
        // Pending counts are written at the end.
        refusals.record(Refusal::Expired, peer(3), "r", 5_000);
        refusals.record(Refusal::Expired, peer(3), "r", 5_001);
        refusals.finish(5_002);
        assert_eq!(log(&refusals, Refusal::Expired), (Some(5_002), 0));
        assert_eq!(
            refusals.counters(),
            ConnectionCounters {
                refused: 1,
                evicted: 490,
                expired: 2
            }
        );
    }
}
