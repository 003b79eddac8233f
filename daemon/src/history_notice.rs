//! History on connect: when a subscriber that asked for history is routed,
//! the daemon tells the owner of every publisher of the service that keeps
//! history, with the unsolicited [`Message::HistoryWanted`] on the owner's
//! control connection. The owner's runtime then hands the newcomer the
//! history from a background thread, without waiting for the publisher's
//! next publish (docs/architecture.md, "History").
//!
//! The history depth is the daemon's own record of the publisher's
//! settings, not a word read from shared memory. A publisher whose process
//! was dropped as unresponsive is unrouted, so it is not named here; one
//! whose connection is gone is skipped when the notice is sent.

use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::{HistoryWanted, Message, PortKind};

use crate::control_plane::ControlPlane;
use crate::port_id::PortId;

impl ControlPlane<'_> {
    /// After routing `subscriber` (asking for `history` samples) on
    /// `service`: queues [`Message::HistoryWanted`] for the owner of each of
    /// the service's publishers that keeps history (module docs).
    pub(crate) fn announce_history_wanted(
        &mut self,
        subscriber: PortId,
        service: &ServiceDescription,
        history: u32,
    ) {
        if subscriber.kind != PortKind::Subscriber || history == 0 {
            return;
        }
        let Some(routes) = self.routes.get(service) else {
            return;
        };
        let keeping = routes.publishers.iter().filter(|&&id| {
            id.kind == PortKind::Publisher
                && self
                    .ports
                    .settings_in_use(id)
                    .is_some_and(|s| s.history > 0)
        });
        let mut notices = Vec::new();
        for &publisher in keeping {
            let Some(owner) = self.processes.iter().find(|p| p.ports.contains(&publisher)) else {
                continue;
            };
            log::debug!("{subscriber} wants history: telling {owner} for its {publisher}");
            let notice = Message::HistoryWanted(HistoryWanted {
                group: publisher.group,
                port_index: publisher.index,
                generation: publisher.generation,
            });
            notices.push((owner.conn, notice));
        }
        self.notices.extend(notices);
    }
}
