//! Admitting connections, for [`Diroute`]: the `[access]` check at
//! accept, the limits on unregistered connections and their life.
//!
//! - A peer whose uid and gid `[access]` does not admit is told so at
//!   accept (`AccessDenied`, request id 0) and closed at once: it never
//!   holds a slot, so it cannot take one an allowed peer needs, nor evict
//!   anybody. Its client reads the reason even though the daemon closed
//!   first (`zerocp_os_linux::seqpacket`).
//! - An allowed newcomer is always admitted. When it would exceed
//!   `limits.max_pending_per_uid` or `limits.max_pending_connections`, an
//!   older unregistered connection gives way first
//!   ([`crate::pending_limits`] says which), told why (`LimitReached`,
//!   request id 0: the client may connect again).
//! - The frames a newcomer queued before its accept are served at once, so
//!   a client that sends `Register` (or a query) right after connecting is
//!   served before any later newcomer can evict it.
//! - An unregistered connection lives at most `limits.register_timeout_ms`
//!   from its accept (or its `Unregister`), however many queries it sends;
//!   then it is told why (`LimitReached`) and closed.
//!
//! Every connection turned away is counted and logged through
//! [`crate::connection_refusals`]: one line per kind and second at most.

use zerocp_core::wire::ErrorCode;
use zerocp_os_linux::clock::monotonic_ms;
use zerocp_os_linux::poller::Interest;
use zerocp_os_linux::seqpacket::SeqpacketConn;

use super::Diroute;
use crate::client_connection::ClientConnection;
use crate::connection_refusals::Refusal;
use crate::pending_limits::{PendingConn, PendingLimits};
use crate::process_manager::ConnId;

impl Diroute<'_> {
    /// Admits an accepted connection (module docs).
    pub(super) fn admit(&mut self, socket: SeqpacketConn) {
        let creds = match socket.peer_credentials() {
            Ok(creds) => creds,
            Err(e) => {
                log::warn!("dropping a connection: {e}");
                return;
            }
        };
        let now = monotonic_ms();
        let id = self.next_conn;
        self.next_conn += 1;
        let conn = ClientConnection::new(id, socket, creds, now);
        if !self.plane.allows(&creds) {
            let reason = format!(
                "uid {} gid {} may not use this domain: see [access] in the daemon's configuration",
                creds.uid, creds.gid
            );
            if let Err(e) = conn.send_error(ErrorCode::AccessDenied, &reason, 0) {
                log::debug!("{conn}: {e}");
            }
            self.refusals.record(Refusal::Denied, creds, &reason, now);
            return;
        }
        self.make_room_for(creds.uid, now);
        if let Err(e) = self.poller.add(&conn.socket, id, Interest::Readable) {
            log::error!("{conn}: {e}");
            return;
        }
        log::debug!("{conn}: accepted");
        self.conns.insert(id, conn);
        self.read_frames(id);
    }

    /// Evicts unregistered connections until a newcomer of `uid` fits
    /// both limits.
    fn make_room_for(&mut self, uid: u32, now: u64) {
        let limits = PendingLimits::from(&self.plane.config().limits);
        loop {
            let pending: Vec<PendingConn> = self
                .conns
                .values()
                .filter_map(ClientConnection::pending)
                .collect();
            let Some(eviction) = limits.eviction_for(uid, &pending) else {
                return;
            };
            self.turn_away(
                eviction.victim(),
                Refusal::Evicted,
                &eviction.to_string(),
                now,
            );
        }
    }

    /// Tells the unregistered connections older than
    /// `limits.register_timeout_ms` why, and closes them.
    pub(super) fn expire_pending(&mut self, now: u64) {
        let limit = self.plane.config().limits.register_timeout_ms;
        let expired: Vec<ConnId> = self
            .conns
            .values()
            .filter_map(ClientConnection::pending)
            .filter(|c| now.saturating_sub(c.since_ms) > limit)
            .map(|c| c.id)
            .collect();
        if expired.is_empty() {
            return;
        }
        let reason = format!(
            "not registered within {limit} ms of connecting (limits.register_timeout_ms): \
             connect again"
        );
        for id in expired {
            self.turn_away(id, Refusal::Expired, &reason, now);
        }
    }

    /// Tells the unregistered connection `id` why it goes
    /// (`LimitReached`, request id 0), counts it as `kind` and closes it.
    fn turn_away(&mut self, id: ConnId, kind: Refusal, reason: &str, now: u64) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        if let Err(e) = conn.send_error(ErrorCode::LimitReached, reason, 0) {
            log::debug!("{conn}: {e}");
        }
        self.refusals.record(kind, conn.creds, reason, now);
        self.drop_connection(id);
    }
}
