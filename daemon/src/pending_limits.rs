//! [`PendingLimits`]: how many unregistered connections the daemon keeps,
//! and which one gives way when a newcomer would exceed a limit.
//!
//! A connection is *pending* from its accept until it registers (and again
//! after it unregisters). A pending connection proves nothing yet and costs
//! the daemon a descriptor and a table entry, so pending connections are
//! bounded per uid (`limits.max_pending_per_uid`), in all
//! (`limits.max_pending_connections`) and in time
//! (`limits.register_timeout_ms`, counted from the accept, so queries do not
//! extend it; see [`crate::diroute`]).
//!
//! **A newcomer is never refused for room.** Refusing newcomers hands the
//! domain to whoever holds the slots: a few silent connections would lock
//! every application and `zerocpctl` out. Instead one pending connection
//! gives way ([`PendingLimits::eviction_for`]), and is told why
//! (`LimitReached`, the detail naming the limit) before it is closed:
//!
//! - when the newcomer's uid already holds `max_pending_per_uid`, the oldest
//!   pending connection of that same uid: a uid that floods evicts only its
//!   own connections;
//! - else, when `max_pending_connections` are pending, the oldest connection
//!   of the uid holding the most; on a tie the newcomer's own uid, else the
//!   uid whose oldest connection is the oldest.
//!
//! So a pending connection of uid A is evicted only by a newcomer of A, or
//! when A holds more pending connections than the newcomer's uid and at
//! least as many as any other: a uid that opens few, short-lived
//! connections (a runtime registering, `zerocpctl`) is never pushed out by
//! another uid's flood, which evicts its own connections. The oldest goes
//! first: a client that means to register does so within milliseconds of
//! connecting, so the connection that waited longest is the likeliest idle.
//!
//! **A flooder of the victim's own uid** is the case these rules cannot
//! separate: both are the same user to the kernel. The victim's connection
//! survives `max_pending_per_uid - 1` newer connections of its uid and
//! gives way to the next one. The event loop reads the frames a connection
//! has queued already when it accepts it, so a client that sends `Register`
//! (or a query) right after connecting is served before any later newcomer
//! is accepted; one that is evicted all the same is told so and connects
//! again (the runtime and `zerocpctl` retry with a jittered backoff), and
//! each retry again needs only to outrun `max_pending_per_uid - 1`
//! connections. Separate uids for separate applications remove the case.

use std::collections::HashMap;
use std::fmt;

use crate::config::Limits;
use crate::process_manager::ConnId;

/// One pending (unregistered) connection, as the eviction choice sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingConn {
    /// Its id (ids grow with every accept).
    pub id: ConnId,
    /// Its peer's uid, from `SO_PEERCRED`.
    pub uid: u32,
    /// `CLOCK_MONOTONIC` ms since which it is pending (its accept, or its
    /// `Unregister`).
    pub since_ms: u64,
}

impl PendingConn {
    /// Older first: pending longer, then accepted earlier.
    fn age_key(&self) -> (u64, ConnId) {
        (self.since_ms, self.id)
    }
}

/// The two limits on pending connections (module docs).
///
/// ```
/// use zerocp_daemon::pending_limits::{Eviction, PendingConn, PendingLimits};
/// let limits = PendingLimits { per_uid: 2, total: 64 };
/// let pending = [
///     PendingConn { id: 16, uid: 1000, since_ms: 5 },
///     PendingConn { id: 17, uid: 1000, since_ms: 6 },
/// ];
/// // A third connection of uid 1000 evicts its oldest one.
/// let eviction = limits.eviction_for(1000, &pending).unwrap();
/// assert_eq!(eviction.victim(), 16);
/// // A connection of another uid evicts nobody.
/// assert_eq!(limits.eviction_for(1001, &pending), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLimits {
    /// Pending connections of one uid (`limits.max_pending_per_uid`).
    pub per_uid: u32,
    /// Pending connections in all (`limits.max_pending_connections`).
    pub total: u32,
}

impl From<&Limits> for PendingLimits {
    fn from(limits: &Limits) -> Self {
        Self {
            per_uid: limits.max_pending_per_uid,
            total: limits.max_pending_connections,
        }
    }
}

/// Which pending connection gives way to a newcomer, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// The newcomer's uid holds `limit` pending connections already: its
    /// oldest one goes.
    PerUid {
        /// The connection evicted.
        victim: ConnId,
        /// Its uid (the newcomer's).
        uid: u32,
        /// `limits.max_pending_per_uid`.
        limit: u32,
    },
    /// `limit` connections are pending in all: the oldest of the uid that
    /// holds the most goes.
    Total {
        /// The connection evicted.
        victim: ConnId,
        /// Its uid.
        uid: u32,
        /// How many pending connections that uid held.
        held: u32,
        /// `limits.max_pending_connections`.
        limit: u32,
    },
}

impl Eviction {
    /// The connection that gives way.
    pub fn victim(&self) -> ConnId {
        match *self {
            Self::PerUid { victim, .. } | Self::Total { victim, .. } => victim,
        }
    }

    /// The configuration key of the limit that was reached.
    pub fn limit_key(&self) -> &'static str {
        match self {
            Self::PerUid { .. } => "limits.max_pending_per_uid",
            Self::Total { .. } => "limits.max_pending_connections",
        }
    }
}

/// The reason the evicted client reads (it fits an error reply's 128 bytes).
impl fmt::Display for Eviction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::PerUid { uid, limit, .. } => write!(
                f,
                "evicted: uid {uid} opened more than {limit} unregistered connections \
                 (limits.max_pending_per_uid); this was its oldest"
            ),
            Self::Total {
                uid, held, limit, ..
            } => write!(
                f,
                "evicted: {limit} unregistered connections \
                 (limits.max_pending_connections); oldest of uid {uid}, which held {held}"
            ),
        }
    }
}

impl PendingLimits {
    /// Which of the `pending` connections must give way before a newcomer
    /// of `uid` is admitted, if any (module docs). Evicting it brings the
    /// counts down by one; calling again until `None` restores both limits
    /// even if they were exceeded.
    pub fn eviction_for(&self, uid: u32, pending: &[PendingConn]) -> Option<Eviction> {
        let own = pending.iter().filter(|c| c.uid == uid);
        if own.clone().count() >= self.per_uid as usize {
            let oldest = own.min_by_key(|c| c.age_key())?;
            return Some(Eviction::PerUid {
                victim: oldest.id,
                uid,
                limit: self.per_uid,
            });
        }
        if pending.len() < self.total as usize {
            return None;
        }
        let newcomer = uid;
        let (owner, (held, oldest)) =
            holdings(pending)
                .into_iter()
                .max_by_key(|&(owner, (held, oldest))| {
                    (held, owner == newcomer, std::cmp::Reverse(oldest.age_key()))
                })?;
        Some(Eviction::Total {
            victim: oldest.id,
            uid: owner,
            held,
            limit: self.total,
        })
    }
}

/// Per uid: how many pending connections it holds, and its oldest one.
fn holdings(pending: &[PendingConn]) -> HashMap<u32, (u32, PendingConn)> {
    let mut by_uid: HashMap<u32, (u32, PendingConn)> = HashMap::new();
    for conn in pending {
        let entry = by_uid.entry(conn.uid).or_insert((0, *conn));
        entry.0 += 1;
        if conn.age_key() < entry.1.age_key() {
            entry.1 = *conn;
        }
    }
    by_uid
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: u32 = 1000;
    const B: u32 = 1001;
    const C: u32 = 1002;

    /// The pending set, built like the event loop builds it: one
    /// connection per accept, ids and times growing.
    #[derive(Default)]
    struct Loop {
        pending: Vec<PendingConn>,
        next_id: ConnId,
        evicted: Vec<(ConnId, u32)>,
    }

    impl Loop {
        /// Admits a newcomer of `uid` under `limits`; returns its id.
        fn admit(&mut self, limits: PendingLimits, uid: u32) -> ConnId {
            while let Some(eviction) = limits.eviction_for(uid, &self.pending) {
                let at = self
                    .pending
                    .iter()
                    .position(|c| c.id == eviction.victim())
                    .expect("the victim is pending");
                let victim = self.pending.remove(at);
                self.evicted.push((victim.id, victim.uid));
            }
            let id = self.next_id;
            self.next_id += 1;
            self.pending.push(PendingConn {
                id,
                uid,
                since_ms: id * 10,
            });
            id
        }

        fn held_by(&self, uid: u32) -> usize {
            self.pending.iter().filter(|c| c.uid == uid).count()
        }
    }

    fn conn(id: ConnId, uid: u32, since_ms: u64) -> PendingConn {
        PendingConn { id, uid, since_ms }
    }

    #[test]
    fn within_both_limits_nobody_is_evicted() {
        let limits = PendingLimits {
            per_uid: 2,
            total: 3,
        };
        assert_eq!(limits.eviction_for(A, &[]), None);
        let pending = [conn(1, A, 0), conn(2, B, 0)];
        assert_eq!(limits.eviction_for(A, &pending), None);
        assert_eq!(limits.eviction_for(C, &pending), None);
    }

    #[test]
    fn a_uid_at_its_limit_evicts_its_own_oldest_even_when_others_are_older() {
        let limits = PendingLimits {
            per_uid: 2,
            total: 64,
        };
        let pending = [conn(1, B, 0), conn(3, A, 30), conn(2, A, 20)];
        let eviction = limits.eviction_for(A, &pending).unwrap();
        assert_eq!(
            eviction,
            Eviction::PerUid {
                victim: 2,
                uid: A,
                limit: 2
            }
        );
        assert_eq!(limits.eviction_for(B, &pending), None);
    }

    #[test]
    fn at_the_total_the_uid_holding_most_gives_its_oldest() {
        let limits = PendingLimits {
            per_uid: 8,
            total: 6,
        };
        let pending = [
            conn(1, C, 0),
            conn(2, B, 10),
            conn(3, A, 30),
            conn(4, A, 20),
            conn(5, B, 40),
            conn(6, A, 50),
        ];
        assert_eq!(
            limits.eviction_for(C, &pending),
            Some(Eviction::Total {
                victim: 4,
                uid: A,
                held: 3,
                limit: 6
            })
        );
    }

    #[test]
    fn ties_go_to_the_newcomers_uid_then_to_the_oldest_connection() {
        let limits = PendingLimits {
            per_uid: 8,
            total: 4,
        };
        // A, B and C hold one each: a newcomer of C evicts its own.
        let pending = [conn(1, A, 0), conn(2, B, 1), conn(3, C, 9), conn(4, A, 2)];
        let eviction = limits.eviction_for(A, &pending).unwrap();
        assert_eq!(eviction.victim(), 1, "{eviction:?}");
        let pending = [conn(1, A, 0), conn(2, B, 1), conn(3, C, 9)];
        let limits3 = PendingLimits {
            per_uid: 8,
            total: 3,
        };
        let eviction = limits3.eviction_for(C, &pending).unwrap();
        assert_eq!(eviction.victim(), 3, "{eviction:?}");
        // A and B hold two each; B's oldest is older (same time: lower id).
        let pending = [
            conn(1, A, 10),
            conn(4, A, 11),
            conn(3, B, 10),
            conn(2, B, 12),
        ];
        let eviction = limits.eviction_for(C, &pending).unwrap();
        assert_eq!(eviction.victim(), 1, "{eviction:?}");
        let pending = [
            conn(1, A, 20),
            conn(4, A, 21),
            conn(3, B, 10),
            conn(2, B, 12),
        ];
        let eviction = limits.eviction_for(C, &pending).unwrap();
        assert_eq!(eviction.victim(), 3, "{eviction:?}");
        // The newcomer's own uid, when it holds the most.
        let pending = [conn(1, A, 0), conn(2, C, 5), conn(3, C, 6), conn(4, B, 7)];
        let eviction = limits.eviction_for(C, &pending).unwrap();
        assert_eq!(eviction.victim(), 2, "{eviction:?}");
    }

    #[test]
    fn a_flood_evicts_only_the_flooders_connections() {
        // Per-uid below the total (the defaults' shape) and above it.
        for (per_uid, total) in [(8, 64), (8, 10), (16, 10), (2, 3), (1, 3)] {
            let limits = PendingLimits { per_uid, total };
            let mut event_loop = Loop::default();
            let others = [event_loop.admit(limits, B), event_loop.admit(limits, C)];
            for _ in 0..1000 {
                event_loop.admit(limits, A);
                assert!(event_loop.pending.len() <= total as usize);
                assert!(event_loop.held_by(A) <= per_uid as usize);
            }
            let survivors: Vec<ConnId> = event_loop.pending.iter().map(|c| c.id).collect();
            for id in others {
                assert!(
                    survivors.contains(&id),
                    "limits {limits:?}: {id} was evicted"
                );
            }
            assert!(event_loop.evicted.iter().all(|&(_, uid)| uid == A));
        }
    }

    #[test]
    fn a_victim_of_the_flooders_uid_survives_per_uid_minus_one_newcomers() {
        let limits = PendingLimits {
            per_uid: 8,
            total: 64,
        };
        let mut event_loop = Loop::default();
        for _ in 0..8 {
            event_loop.admit(limits, A);
        }
        let victim = event_loop.admit(limits, A);
        for _ in 0..7 {
            event_loop.admit(limits, A);
            assert!(event_loop.pending.iter().any(|c| c.id == victim));
        }
        event_loop.admit(limits, A);
        assert!(event_loop.pending.iter().all(|c| c.id != victim));
        assert_eq!(event_loop.held_by(A), 8);
    }

    #[test]
    fn limits_exceeded_meanwhile_are_restored_one_eviction_at_a_time() {
        // Connections that unregister become pending again without an
        // admission: the next admission evicts until both limits hold.
        let limits = PendingLimits {
            per_uid: 2,
            total: 3,
        };
        let mut event_loop = Loop {
            pending: (0..5).map(|id| conn(id, A, id)).collect(),
            next_id: 5,
            ..Loop::default()
        };
        event_loop.admit(limits, A);
        assert_eq!(event_loop.held_by(A), 2);
        let evicted: Vec<ConnId> = event_loop.evicted.iter().map(|&(id, _)| id).collect();
        assert_eq!(evicted, [0, 1, 2, 3]);
    }

    #[test]
    fn the_reason_fits_an_error_reply_and_names_the_limit() {
        let per_uid = Eviction::PerUid {
            victim: 1,
            uid: u32::MAX,
            limit: u32::MAX,
        };
        let total = Eviction::Total {
            victim: 1,
            uid: u32::MAX,
            held: u32::MAX,
            limit: u32::MAX,
        };
        for eviction in [per_uid, total] {
            let text = eviction.to_string();
            assert!(text.len() <= 128, "{} bytes: {text}", text.len());
            assert!(text.contains(eviction.limit_key()), "{text}");
            assert!(text.contains(&u32::MAX.to_string()), "{text}");
        }
    }
}
