//! The daemon's discovery event: an event service the daemon itself
//! raises whenever the set of services changes, so that applications can
//! watch services appear and disappear without polling.
//!
//! It is an ordinary event service on the wire and in shared memory (a
//! listener port of the service [`discovery_service`], see
//! [`crate::listener_port`]); what is special is who raises it. No process
//! may create a notifier, a publisher or a subscriber on that name (the
//! daemon refuses them), and the daemon, whenever a port of any other
//! service joins or leaves the routes (created, removed, its process dead
//! or dropped, revoked, taken by a group reset), raises
//! [`SERVICES_CHANGED`] in every listener of it, wakes them and signals
//! their wake descriptors exactly as a notifier would. A listener woken
//! this way asks the daemon for the ports (`QueryServices`) and compares.
//!
//! The service's name starts with an underscore (`_zerocp`), which the
//! service-name rules allow and which marks it as the daemon's.
//!
//! ```
//! use zerocp_core::discovery::{discovery_service, is_discovery_service};
//! use zerocp_core::service::ServiceDescription;
//!
//! assert_eq!(discovery_service().to_string(), "_zerocp/discovery/services");
//! assert!(is_discovery_service(&discovery_service()));
//! assert!(!is_discovery_service(&ServiceDescription::new("Robot", "Base", "Pose")?));
//! # Ok::<(), zerocp_core::service::ServiceNameError>(())
//! ```

use crate::event::EventId;
use crate::service::ServiceDescription;

/// The service part of the discovery event's name.
pub const DISCOVERY_SERVICE: &str = "_zerocp";
/// Its instance part.
pub const DISCOVERY_INSTANCE: &str = "discovery";
/// Its event part.
pub const DISCOVERY_EVENT: &str = "services";

/// The id the daemon raises when the set of services (or the ports of
/// one) changed.
pub const SERVICES_CHANGED: EventId = match EventId::new(0) {
    Ok(id) => id,
    Err(_) => panic!("0 is a valid event id"),
};

/// The discovery event's service description (module docs).
pub fn discovery_service() -> ServiceDescription {
    match ServiceDescription::new(DISCOVERY_SERVICE, DISCOVERY_INSTANCE, DISCOVERY_EVENT) {
        Ok(service) => service,
        // The three names are constants the name rules accept (tested).
        Err(_) => unreachable!("the discovery service's name is valid"),
    }
}

/// Whether `service` is the discovery event.
pub fn is_discovery_service(service: &ServiceDescription) -> bool {
    service.service() == DISCOVERY_SERVICE
        && service.instance() == DISCOVERY_INSTANCE
        && service.event() == DISCOVERY_EVENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_are_valid_and_the_id_is_zero() {
        assert!(
            ServiceDescription::new(DISCOVERY_SERVICE, DISCOVERY_INSTANCE, DISCOVERY_EVENT).is_ok()
        );
        assert_eq!(SERVICES_CHANGED.value(), 0);
    }

    #[test]
    fn only_the_exact_name_is_the_discovery_service() {
        let other =
            ServiceDescription::new(DISCOVERY_SERVICE, DISCOVERY_INSTANCE, "other").unwrap();
        assert!(!is_discovery_service(&other));
    }
}
