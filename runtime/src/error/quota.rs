//! [`QuotaExceeded`]: a loan or a take refused by a chunk quota.

use std::fmt;

/// Which chunk quota refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaScope {
    /// The chunks of the pool this process holds, over all its ports
    /// (loans, publishers' history, taken samples): `process_percent`.
    Process,
    /// The chunks of the pool this port holds (a publisher's loans and
    /// history, or a subscriber's taken samples): `port_percent`.
    Port,
}

impl QuotaScope {
    /// The percentage's key in `[quota]`: `process_percent` or `port_percent`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Process => "process_percent",
            Self::Port => "port_percent",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Process => "process",
            Self::Port => "port",
        }
    }
}

/// A chunk quota is reached: holding one more chunk of the pool would take
/// more of it than the daemon's configuration lets one process or one port
/// hold (`[quota]`, or the group's own `[group.quota]`). Nothing was taken
/// from the pool; publishing or dropping a sample frees room.
///
/// ```
/// use zerocp::error::{QuotaExceeded, QuotaScope};
/// let e = QuotaExceeded {
///     scope: QuotaScope::Process,
///     group: 0,
///     pool: 1,
///     chunk_size: 1024,
///     chunk_count: 64,
///     held: 32,
///     quota: 32,
///     percent: 50,
///     group_override: false,
/// };
/// assert_eq!(e.key(), "quota.process_percent");
/// assert!(e.to_string().contains("this process holds 32 of the 64 chunks of mempool 1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaExceeded {
    /// Which quota.
    pub scope: QuotaScope,
    /// The pool's segment group (0: `default`).
    pub group: u32,
    /// The pool's index in its group (smallest chunks first).
    pub pool: u32,
    /// The pool's chunk size.
    pub chunk_size: u32,
    /// The pool's chunk count.
    pub chunk_count: u32,
    /// Chunks of the pool the process (or port) holds now.
    pub held: u32,
    /// The quota: chunks of the pool it may hold at once.
    pub quota: u32,
    /// The percentage that set the quota.
    pub percent: u32,
    /// Whether the group's own `[group.quota]` set it (else `[quota]`).
    pub group_override: bool,
}

impl QuotaExceeded {
    /// The configuration key that sets this quota: `quota.process_percent`,
    /// `quota.port_percent`, or `group[i].quota.…` for a group that sets its own.
    pub fn key(&self) -> String {
        match self.group.checked_sub(1) {
            Some(index) if self.group_override => {
                format!("group[{index}].quota.{}", self.scope.key())
            }
            _ => format!("quota.{}", self.scope.key()),
        }
    }
}

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chunk quota reached: this {} holds {} of the {} chunks of mempool {} \
             ({}-byte chunks, group {}), and {} = {} allows it {}; publish or drop a sample \
             first, or raise the quota",
            self.scope.noun(),
            self.held,
            self.chunk_count,
            self.pool,
            self.chunk_size,
            self.group,
            self.key(),
            self.percent,
            self.quota
        )
    }
}

impl std::error::Error for QuotaExceeded {}
