//! [`ServiceInfo`]: one service as the daemon knows it — its name, its
//! messaging pattern, its type and how many ports of each kind it has — and
//! how a list of them is made from the daemon's ports answer.
//!
//! The daemon's `QueryServices` lists ports, not services (each with its
//! service, kind and payload type, as `zerocpctl services` shows them); this
//! module groups them by service. What a port reports of its type is the
//! name the daemon shows: a slice's element type as `[T]`
//! ([`ServiceType::from_reported`]), a request/response channel's type
//! tagged `request:`/`response:` (the tag becomes the
//! [`MessagingPattern`], the name keeps the type's own), and an event
//! service's the event type (size 0). The daemon's own discovery event
//! ([`zerocp_core::discovery`]) is left out: it is the means of watching,
//! not a service of the applications.

use std::collections::BTreeMap;

use zerocp_core::discovery::is_discovery_service;
use zerocp_core::fixed_string::FixedString;
use zerocp_core::service::{REQUEST_TYPE_TAG, RESPONSE_TYPE_TAG, ServiceDescription, TypeInfo};
use zerocp_core::wire::{PayloadShape, PortInfo, PortKind};

use crate::service_type::ServiceType;

/// How a service carries messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessagingPattern {
    /// Publishers and subscribers of samples.
    PublishSubscribe,
    /// Notifiers and listeners of event ids (no payload).
    Event,
    /// The request channel of a request/response service (`S/I/E:request`:
    /// its clients publish, its servers subscribe).
    Request,
    /// The response channel of a request/response service (`S/I/E:response`:
    /// its servers publish, its clients subscribe).
    Response,
}

/// One service as the daemon knows it now ([`Runtime::services`](crate::Runtime::services)).
///
/// Counts are of ports, not processes: a process with two subscribers of a
/// service counts twice. A service has ports of one pattern only, so either
/// `publishers`/`subscribers` or `notifiers`/`listeners` are zero.
///
/// ```no_run
/// use zerocp::{MessagingPattern, Runtime};
///
/// let rt = Runtime::init("inspector")?;
/// for info in rt.services()? {
///     if info.pattern == MessagingPattern::PublishSubscribe {
///         println!(
///             "{}: {} ({} bytes), {} publishers, {} subscribers",
///             info.service, info.payload.name.as_str(), info.payload.size,
///             info.publishers, info.subscribers
///         );
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The service.
    pub service: ServiceDescription,
    /// How it carries messages.
    pub pattern: MessagingPattern,
    /// Its payload type: for a slice, the element type; for a
    /// request/response channel, the request's or response's type without
    /// the channel's tag; for an event service, the event type (size 0).
    pub payload: TypeInfo,
    /// One value of `payload` per sample, or a slice of them.
    pub shape: PayloadShape,
    /// Publisher ports (request: clients; response: servers).
    pub publishers: u32,
    /// Subscriber ports (request: servers; response: clients).
    pub subscribers: u32,
    /// Notifier ports (event services).
    pub notifiers: u32,
    /// Listener ports (event services).
    pub listeners: u32,
}

impl ServiceInfo {
    /// A service with no port counted yet, typed as `port` reports it.
    fn of_port(port: &PortInfo) -> Self {
        let event = matches!(port.kind, PortKind::Notifier | PortKind::Listener);
        let reported = ServiceType::from_reported(&port.type_info);
        let (pattern, payload) = if event {
            (MessagingPattern::Event, reported.payload)
        } else {
            untagged(&reported.payload)
                .unwrap_or((MessagingPattern::PublishSubscribe, reported.payload))
        };
        Self {
            service: port.service,
            pattern,
            payload,
            shape: reported.shape,
            publishers: 0,
            subscribers: 0,
            notifiers: 0,
            listeners: 0,
        }
    }

    /// Counts one more port of `kind`.
    fn count(&mut self, kind: PortKind) {
        let count = match kind {
            PortKind::Publisher => &mut self.publishers,
            PortKind::Subscriber => &mut self.subscribers,
            PortKind::Notifier => &mut self.notifiers,
            PortKind::Listener => &mut self.listeners,
        };
        *count = count.saturating_add(1);
    }
}

/// A request/response channel's pattern and its type without the tag, if
/// `payload` is tagged as one.
fn untagged(payload: &TypeInfo) -> Option<(MessagingPattern, TypeInfo)> {
    let name = payload.name.as_str();
    let (pattern, rest) = if let Some(rest) = name.strip_prefix(REQUEST_TYPE_TAG) {
        (MessagingPattern::Request, rest)
    } else {
        (
            MessagingPattern::Response,
            name.strip_prefix(RESPONSE_TYPE_TAG)?,
        )
    };
    let payload = TypeInfo {
        name: FixedString::from_str_truncated(rest),
        ..*payload
    };
    Some((pattern, payload))
}

/// The services `ports` belong to, in name order, without the discovery
/// event; a service's type is its first port's (the daemon made every port
/// of a service agree).
pub(crate) fn services_of(ports: &[PortInfo]) -> Vec<ServiceInfo> {
    let mut services: BTreeMap<ServiceDescription, ServiceInfo> = BTreeMap::new();
    for port in ports.iter().filter(|p| !is_discovery_service(&p.service)) {
        services
            .entry(port.service)
            .or_insert_with(|| ServiceInfo::of_port(port))
            .count(port.kind);
    }
    services.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::discovery::discovery_service;
    use zerocp_core::event::event_type_info;

    fn port(service: &ServiceDescription, kind: PortKind, type_name: &str, size: u32) -> PortInfo {
        PortInfo::new(
            *service,
            kind,
            0,
            0,
            1,
            TypeInfo {
                size,
                align: size.clamp(1, 8),
                name: FixedString::from_str_truncated(type_name),
            },
        )
    }

    fn svc(event: &str) -> ServiceDescription {
        ServiceDescription::new("Robot", "Base", event).unwrap()
    }

    #[test]
    fn ports_are_counted_per_service_and_kind() {
        let pose = svc("Pose");
        let ports = [
            port(&pose, PortKind::Publisher, "Pose", 24),
            port(&pose, PortKind::Subscriber, "Pose", 24),
            port(&pose, PortKind::Subscriber, "Pose", 24),
        ];
        let services = services_of(&ports);
        assert_eq!(services.len(), 1);
        let info = &services[0];
        assert_eq!(info.service, pose);
        assert_eq!(info.pattern, MessagingPattern::PublishSubscribe);
        assert_eq!((info.publishers, info.subscribers), (1, 2));
        assert_eq!((info.notifiers, info.listeners), (0, 0));
        assert_eq!(info.payload.name.as_str(), "Pose");
        assert_eq!(info.payload.size, 24);
        assert_eq!(info.shape, PayloadShape::Sized);
    }

    #[test]
    fn slices_channels_and_events_are_told_apart() {
        let scan = svc("Scan");
        let add = ServiceDescription::new("Calc", "Main", "Add:request").unwrap();
        let sum = ServiceDescription::new("Calc", "Main", "Add:response").unwrap();
        let map = svc("MapUpdated");
        let event = event_type_info();
        let ports = [
            port(&scan, PortKind::Publisher, "[f32]", 4),
            port(&add, PortKind::Publisher, "request:[u32; 2]", 8),
            port(&sum, PortKind::Subscriber, "[response:u8]", 1),
            port(&map, PortKind::Listener, event.name.as_str(), 0),
        ];
        let services = services_of(&ports);
        let find = |s: &ServiceDescription| services.iter().find(|i| i.service == *s).unwrap();
        assert_eq!(find(&scan).shape, PayloadShape::Slice);
        assert_eq!(find(&scan).payload.name.as_str(), "f32");
        assert_eq!(find(&add).pattern, MessagingPattern::Request);
        assert_eq!(find(&add).payload.name.as_str(), "[u32; 2]");
        assert_eq!(find(&add).shape, PayloadShape::Sized);
        assert_eq!(find(&sum).pattern, MessagingPattern::Response);
        assert_eq!(find(&sum).payload.name.as_str(), "u8");
        assert_eq!(find(&sum).shape, PayloadShape::Slice);
        assert_eq!(find(&map).pattern, MessagingPattern::Event);
        assert_eq!(find(&map).listeners, 1);
    }

    #[test]
    fn the_discovery_event_is_left_out_and_the_list_is_in_name_order() {
        let event = event_type_info();
        let ports = [
            port(&svc("Zeta"), PortKind::Publisher, "u8", 1),
            port(
                &discovery_service(),
                PortKind::Listener,
                event.name.as_str(),
                0,
            ),
            port(&svc("Alpha"), PortKind::Subscriber, "u8", 1),
        ];
        let names: Vec<String> = services_of(&ports)
            .iter()
            .map(|i| i.service.to_string())
            .collect();
        assert_eq!(names, ["Robot/Base/Alpha", "Robot/Base/Zeta"]);
    }
}
