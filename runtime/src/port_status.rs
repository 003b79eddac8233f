//! [`PortStatus`]: one of this process's ports as the daemon named it, and
//! whether (and why) the daemon revoked it; and [`PortTable`], the
//! registration's list of them.
//!
//! The daemon revokes a port when what it shares with its group can no
//! longer be trusted (its queue or record found corrupt, its group reset
//! onto fresh memory) or an operator asks. It tells the owner with an
//! unsolicited `PortRevoked` frame on the control connection, which only the
//! daemon writes; the port's state word in shared memory says `Revoked` too,
//! but any process of the group can write that word, so the runtime never
//! fails a port on it. The frame is read by the heartbeat thread between
//! requests, or by a request in flight (the control client keeps notices,
//! `zerocp_os_linux::control_client`); either hands it to the
//! [`PortTable`], which finds the port by kind, group, index and generation
//! (exact, also across resets of the group) and calls [`PortStatus::revoke`].
//! A frame for a port not (yet) in the table is kept for a while: a port's
//! status is added after its creation reply, and the revocation may come
//! first.
//!
//! **Cost on the data path.** Every operation that would otherwise stall or
//! misbehave on a revoked port loads the status word once: `loan`,
//! `publish`, a `take` that finds the queue empty, and `wait`'s wake
//! condition. It lives in this process's heap, next to nothing that is
//! written, and is written once at most (when revoked), so the load hits a
//! line that stays in the cache.
//!
//! **Waking.** [`PortStatus::revoke`] stores the reason and then bumps the
//! subscriber's `data_seq` and futex-wakes it: the same handshake as "the
//! daemon is gone" ([`crate::wait`]): a sleeper reads `data_seq` before it
//! checks the status, so it either sees the reason or sleeps on a word that
//! has already changed. A subscriber armed with a wake descriptor
//! ([`crate::subscriber`]'s `wake_fd`) has that socket signalled too, so a
//! WaitSet or a `poll` on it wakes as well and finds the reason.

use std::collections::VecDeque;
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, OnceLock, Weak};

use zerocp_core::sync::Ordering;
use zerocp_core::wire::{Message, PortCreated, PortKind, PortRevoked, RevokeReason};

use zerocp_os_linux::wake_socket::WakeSocket;

use crate::segment_mappings::GroupMappings;
use crate::wait::wake_subscriber;

/// Notices for ports not in the table kept at most (for ports whose status
/// is added after the notice came; older ones are forgotten first).
const UNCLAIMED: usize = 1024;

/// The daemon's exact name of a port: kind, group, index, generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortKey {
    /// Publisher or subscriber.
    pub(crate) kind: PortKind,
    /// Its segment group.
    pub(crate) group: u32,
    /// Its index in the group.
    pub(crate) index: u32,
    /// The generation of this allocation of the slot.
    pub(crate) generation: u32,
}

impl PortKey {
    /// The key of the `kind` port `created` announces.
    pub(crate) fn of(kind: PortKind, created: &PortCreated) -> Self {
        Self {
            kind,
            group: created.group,
            index: created.port_index,
            generation: created.generation,
        }
    }

    fn named_by(&self, notice: &PortRevoked) -> bool {
        *self
            == Self {
                kind: notice.kind,
                group: notice.group,
                index: notice.port_index,
                generation: notice.generation,
            }
    }
}

/// One port of this process and what the daemon said about it (module docs).
pub(crate) struct PortStatus {
    key: PortKey,
    /// 0 while in service, else the code of the [`RevokeReason`].
    revoked: AtomicU8,
    /// A subscriber's group mappings (its wake words), to wake its
    /// sleepers; weak: the port itself keeps them.
    wake: Option<Weak<GroupMappings>>,
    /// A subscriber's wake descriptor, once armed: signalled with the futex.
    wake_fd: OnceLock<Arc<WakeSocket>>,
}

impl PortStatus {
    /// A port in service; `wake` is a subscriber's group mappings.
    pub(crate) fn new(key: PortKey, wake: Option<Weak<GroupMappings>>) -> Self {
        Self {
            key,
            revoked: AtomicU8::new(0),
            wake,
            wake_fd: OnceLock::new(),
        }
    }

    /// Signals `fd` too whenever the port's sleepers are woken (the port
    /// was armed with it).
    pub(crate) fn set_wake_fd(&self, fd: &Arc<WakeSocket>) {
        // Set once per port: its wake descriptor never changes.
        let _ = self.wake_fd.set(Arc::clone(fd));
    }

    /// The port's name.
    pub(crate) fn key(&self) -> PortKey {
        self.key
    }

    /// Why the daemon revoked the port, if it did (one load: the data
    /// path's check).
    pub(crate) fn revoked(&self) -> Option<RevokeReason> {
        // Acquire: pairs with the store in `revoke`.
        RevokeReason::from_code(self.revoked.load(Ordering::Acquire))
    }

    /// Records the revocation and wakes the port's sleepers.
    pub(crate) fn revoke(&self, reason: RevokeReason) {
        // SeqCst: stored before `data_seq` is bumped (in `wake_sleepers`),
        // which a sleeper reads before it checks this word (crate::wait).
        self.revoked.store(reason as u8, Ordering::SeqCst);
        self.wake_sleepers();
    }

    /// Bumps a subscriber's or a listener's `data_seq` and wakes
    /// whoever sleeps on it, so it re-checks (the daemon gone, the port
    /// revoked).
    pub(crate) fn wake_sleepers(&self) {
        if let Some(fd) = self.wake_fd.get()
            && let Err(e) = fd.notify()
        {
            log::warn!("cannot signal the wake descriptor of {:?}: {e}", self.key);
        }
        let Some(mappings) = self.wake.as_ref().and_then(Weak::upgrade) else {
            return;
        };
        let PortKey { group, index, .. } = self.key;
        let control = mappings.control();
        let wake = match self.key.kind {
            PortKind::Listener => control.listener(index).map(|p| &p.wake),
            _ => control.subscriber(index).map(|p| &p.wake),
        };
        if let Some(wake) = wake
            && let Err(e) = wake_subscriber(wake)
        {
            log::warn!(
                "cannot wake {:?} port {index} of group {group}: {e}",
                self.key.kind
            );
        }
    }
}

/// This process's ports, and the revocations that came before their port
/// (module docs).
#[derive(Default)]
pub(crate) struct PortTable {
    ports: Vec<Arc<PortStatus>>,
    unclaimed: VecDeque<PortRevoked>,
}

impl PortTable {
    /// Adds `status`, revoking it at once if its revocation came first.
    pub(crate) fn add(&mut self, status: Arc<PortStatus>) {
        let claimed = self.unclaimed.iter().position(|n| status.key.named_by(n));
        if let Some(notice) = claimed.and_then(|pos| self.unclaimed.remove(pos)) {
            status.revoke(notice.reason);
        }
        self.ports.push(status);
    }

    /// Removes `status`.
    pub(crate) fn remove(&mut self, status: &Arc<PortStatus>) {
        self.ports.retain(|p| !Arc::ptr_eq(p, status));
    }

    /// Every port's status.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<PortStatus>> {
        self.ports.iter()
    }

    /// Applies the daemon's notices (`PortRevoked`; others are ignored).
    pub(crate) fn apply(&mut self, notices: Vec<Message>) {
        for notice in notices {
            let Message::PortRevoked(notice) = notice else {
                continue;
            };
            match self.ports.iter().find(|p| p.key.named_by(&notice)) {
                Some(port) => {
                    log::warn!(
                        "the daemon revoked {} port {} of group {}: {}",
                        notice.kind.noun(),
                        notice.port_index,
                        notice.group,
                        notice.reason.explanation()
                    );
                    port.revoke(notice.reason);
                }
                None => {
                    if self.unclaimed.len() == UNCLAIMED {
                        self.unclaimed.pop_front();
                    }
                    self.unclaimed.push_back(notice);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(index: u32, generation: u32) -> PortKey {
        PortKey {
            kind: PortKind::Publisher,
            group: 1,
            index,
            generation,
        }
    }

    fn notice(key: PortKey, reason: RevokeReason) -> Message {
        Message::PortRevoked(PortRevoked {
            kind: key.kind,
            port_index: key.index,
            group: key.group,
            generation: key.generation,
            reason,
        })
    }

    #[test]
    fn a_notice_revokes_the_port_it_names_exactly() {
        let mut table = PortTable::default();
        let port = Arc::new(PortStatus::new(key(2, 5), None));
        table.add(Arc::clone(&port));
        table.apply(vec![notice(key(2, 4), RevokeReason::CorruptQueue)]);
        assert_eq!(port.revoked(), None, "another generation of the slot");
        table.apply(vec![
            Message::Shutdown,
            notice(key(2, 5), RevokeReason::Operator),
        ]);
        assert_eq!(port.revoked(), Some(RevokeReason::Operator));
    }

    #[test]
    fn a_notice_before_the_port_is_kept_for_it() {
        let mut table = PortTable::default();
        table.apply(vec![notice(key(0, 1), RevokeReason::GroupReset)]);
        let port = Arc::new(PortStatus::new(key(0, 1), None));
        table.add(Arc::clone(&port));
        assert_eq!(port.revoked(), Some(RevokeReason::GroupReset));
        table.remove(&port);
        assert_eq!(table.iter().count(), 0);
        let again = Arc::new(PortStatus::new(key(0, 1), None));
        table.add(Arc::clone(&again));
        assert_eq!(again.revoked(), None, "a notice is claimed once");
    }

    #[test]
    fn unclaimed_notices_are_bounded() {
        let mut table = PortTable::default();
        let notices = (0..UNCLAIMED as u32 + 10)
            .map(|i| notice(key(i, 1), RevokeReason::CorruptPort))
            .collect();
        table.apply(notices);
        assert_eq!(table.unclaimed.len(), UNCLAIMED);
        let first = Arc::new(PortStatus::new(key(0, 1), None));
        table.add(Arc::clone(&first));
        assert_eq!(first.revoked(), None, "the oldest were forgotten");
    }
}
