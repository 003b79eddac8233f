//! `RouteTable`: which ports belong to which service, and so which
//! subscribers each publisher delivers to.
//!
//! Every publisher of a service delivers to every subscriber of that service.
//! Whenever a service's ports change, the table has the topologies that
//! change with them written ([`crate::topology_writer`]): a new publisher's
//! (the service's subscribers, or none), every publisher's of the service
//! when a subscriber joins or leaves, and a leaving publisher's (emptied).
//!
//! A service belongs to exactly one segment group (by the configuration's
//! patterns), so all its ports are in that group's control part: the caller
//! passes that part, and no topology ever names a port of another group.
//!
//! Event services ([`zerocp_core::event`]) route the same way: notifiers
//! are kept as the service's senders (`publishers`), listeners as its
//! receivers (`subscribers`), and a notifier's topology names listeners.
//! A service name is either an event service or a publish/subscribe
//! service: a port of the other pattern is refused
//! ([`RouteError::PatternMismatch`]), as iceoryx2 ties one messaging
//! pattern to a service name.
//!
//! All ports of one service must carry the same payload type: equal size,
//! alignment and type name, the same shape (one value or a slice) and the
//! same user header type ([`PortType`]). The first port of a service fixes
//! them; a port that differs is refused with a message naming both types
//! (both user headers when those differ). The first port that describes
//! the type's fields gives the service its layout, for tools
//! ([`crate::service_layout`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use zerocp_core::event::event_type_info;
use zerocp_core::group_control::GroupControl;
use zerocp_core::port::MAX_SUBSCRIBERS_PER_PUBLISHER;
use zerocp_core::service::ServiceDescription;
#[cfg(test)]
use zerocp_core::service::TypeInfo;
use zerocp_core::type_layout::TypeLayout;
use zerocp_core::wire::PortKind;

use crate::port_id::PortId;
use crate::port_type::PortType;
use crate::topology_writer;

/// The ports of one service.
#[derive(Debug, Clone)]
pub struct ServiceRoutes {
    /// The service.
    pub service: ServiceDescription,
    /// The payload type, shape and user header every port of it declared.
    pub port_type: PortType,
    /// The payload type's fields, from its first port that described
    /// them ([`crate::service_layout`]); unknown until one did.
    pub layout: TypeLayout,
    /// Its publishers (an event service's notifiers), in creation order.
    pub publishers: Vec<PortId>,
    /// Its subscribers (an event service's listeners), in creation order.
    pub subscribers: Vec<PortId>,
}

/// Adding a port to a service failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// The port's payload type differs from the service's.
    TypeMismatch {
        /// The service.
        service: String,
        /// The type its existing ports declared: name, size, alignment.
        existing: String,
        /// The type the new port declared: name, size, alignment.
        requested: String,
    },
    /// The port's user header type differs from the service's (or one
    /// has a header and the other none).
    UserHeaderMismatch {
        /// The service.
        service: String,
        /// The user header its existing ports declared.
        existing: String,
        /// The user header the new port declared.
        requested: String,
    },
    /// The service already has as many subscribers as a topology holds.
    TooManySubscribers {
        /// The service.
        service: String,
        /// [`MAX_SUBSCRIBERS_PER_PUBLISHER`].
        max: usize,
    },
    /// The service exists with the other messaging pattern (an event
    /// service asked for as publish/subscribe, or the other way round).
    PatternMismatch {
        /// The service.
        service: String,
        /// The kind of port refused.
        requested: PortKind,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TypeMismatch {
                service,
                existing,
                requested,
            } => write!(
                f,
                "service {service} carries {existing}, this port declares {requested}"
            ),
            Self::UserHeaderMismatch {
                service,
                existing,
                requested,
            } => write!(
                f,
                "service {service} carries {existing}, this port declares {requested}"
            ),
            Self::PatternMismatch { service, requested } => {
                let (is, not) = if requested.is_event() {
                    ("a publish/subscribe", "an event")
                } else {
                    ("an event", "a publish/subscribe")
                };
                write!(
                    f,
                    "service {service} is {is} service, not {not} service: \
                     a {} cannot join it",
                    requested.noun()
                )
            }
            Self::TooManySubscribers { service, max } => {
                write!(
                    f,
                    "service {service} already has the maximum of {max} subscribers"
                )
            }
        }
    }
}

impl std::error::Error for RouteError {}

/// Services and their ports.
///
/// ```
/// use zerocp_core::service::{ServiceDescription, TypeInfo};
/// use zerocp_daemon::port_type::PortType;
/// use zerocp_daemon::route_table::RouteTable;
/// let svc = ServiceDescription::new("Robot", "Base", "Pose").unwrap();
/// let table = RouteTable::new();
/// assert!(table.check(&svc, &PortType::sized(TypeInfo::of::<u64>()), None).is_ok());
/// ```
#[derive(Debug, Default)]
pub struct RouteTable {
    services: BTreeMap<ServiceDescription, ServiceRoutes>,
    port_services: HashMap<PortId, ServiceDescription>,
}

impl RouteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks that a port of `port_type` (a subscriber when `kind` says so)
    /// may join `service`.
    pub fn check(
        &self,
        service: &ServiceDescription,
        port_type: &PortType,
        kind: Option<PortKind>,
    ) -> Result<(), RouteError> {
        let Some(routes) = self.services.get(service) else {
            return Ok(());
        };
        if let Some(kind) = kind
            && kind.is_event() != (routes.port_type.payload == event_type_info())
        {
            return Err(RouteError::PatternMismatch {
                service: service.to_string(),
                requested: kind,
            });
        }
        let existing = &routes.port_type;
        if (existing.payload, existing.shape) != (port_type.payload, port_type.shape) {
            return Err(RouteError::TypeMismatch {
                service: service.to_string(),
                existing: existing.describe_payload(),
                requested: port_type.describe_payload(),
            });
        }
        if existing.user_header != port_type.user_header {
            return Err(RouteError::UserHeaderMismatch {
                service: service.to_string(),
                existing: existing.describe_user_header(),
                requested: port_type.describe_user_header(),
            });
        }
        if matches!(kind, Some(PortKind::Subscriber | PortKind::Listener))
            && routes.subscribers.len() >= MAX_SUBSCRIBERS_PER_PUBLISHER
        {
            return Err(RouteError::TooManySubscribers {
                service: service.to_string(),
                max: MAX_SUBSCRIBERS_PER_PUBLISHER,
            });
        }
        Ok(())
    }

    /// Adds port `id` (already initialised and active) to `service` and
    /// rewrites the topologies it affects, in `control` (the control part of
    /// the service's group).
    pub fn add(
        &mut self,
        control: &GroupControl<'_>,
        service: &ServiceDescription,
        port_type: &PortType,
        id: PortId,
    ) -> Result<(), RouteError> {
        self.check(service, port_type, Some(id.kind))?;
        let routes = self
            .services
            .entry(*service)
            .or_insert_with(|| ServiceRoutes {
                service: *service,
                port_type: *port_type,
                layout: TypeLayout::unknown(),
                publishers: Vec::new(),
                subscribers: Vec::new(),
            });
        self.port_services.insert(id, *service);
        match id.kind {
            PortKind::Publisher | PortKind::Notifier => {
                routes.publishers.push(id);
                topology_writer::write_publisher(control, id, &routes.subscribers);
            }
            PortKind::Subscriber | PortKind::Listener => {
                routes.subscribers.push(id);
                topology_writer::write_all(control, &routes.publishers, &routes.subscribers);
            }
        }
        Ok(())
    }

    /// Removes port `id` from `service` (and the service when it was its
    /// last port); rewrites the topologies it affected. Returns whether it was there.
    pub fn remove(
        &mut self,
        control: &GroupControl<'_>,
        service: &ServiceDescription,
        id: PortId,
    ) -> bool {
        let Some(routes) = self.services.get_mut(service) else {
            return false;
        };
        let list = match id.kind {
            PortKind::Publisher | PortKind::Notifier => &mut routes.publishers,
            PortKind::Subscriber | PortKind::Listener => &mut routes.subscribers,
        };
        let Some(pos) = list.iter().position(|p| *p == id) else {
            return false;
        };
        list.remove(pos);
        self.port_services.remove(&id);
        match id.kind {
            // A leaving publisher's topology is emptied so that nothing
            // (not even a late publish of a hung owner) reaches subscribers.
            PortKind::Publisher | PortKind::Notifier => {
                topology_writer::write_publisher(control, id, &[])
            }
            PortKind::Subscriber | PortKind::Listener => {
                topology_writer::write_all(control, &routes.publishers, &routes.subscribers)
            }
        }
        if routes.publishers.is_empty() && routes.subscribers.is_empty() {
            self.services.remove(service);
        }
        true
    }

    /// Keeps `layout` (checked against the service's type by the caller)
    /// as `service`'s layout when the service has ports and no layout yet.
    pub fn offer_layout(&mut self, service: &ServiceDescription, layout: &TypeLayout) {
        if let Some(routes) = self.services.get_mut(service)
            && !routes.layout.is_known()
            && layout.is_known()
        {
            routes.layout = layout.clone();
        }
    }

    /// The service port `id` belongs to.
    pub fn service_of(&self, id: PortId) -> Option<ServiceDescription> {
        self.port_services.get(&id).copied()
    }

    /// The routes of `service`.
    pub fn get(&self, service: &ServiceDescription) -> Option<&ServiceRoutes> {
        self.services.get(service)
    }

    /// Every service, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &ServiceRoutes> {
        self.services.values()
    }

    /// Number of services with at least one port.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether no service has a port.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> ServiceDescription {
        ServiceDescription::new("Robot", "Base", "Pose").unwrap()
    }

    #[test]
    fn type_mismatch_names_both_types() {
        let mut table = RouteTable::new();
        table.services.insert(
            svc(),
            ServiceRoutes {
                service: svc(),
                port_type: PortType::sized(TypeInfo::of::<u64>()),
                layout: TypeLayout::unknown(),
                publishers: Vec::new(),
                subscribers: Vec::new(),
            },
        );
        let e = table
            .check(
                &svc(),
                &PortType::sized(TypeInfo::of::<[u8; 3]>()),
                Some(PortKind::Publisher),
            )
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`u64` (size 8, align 8)"), "{text}");
        assert!(text.contains("`[u8; 3]` (size 3, align 1)"), "{text}");
        assert!(text.contains("Robot/Base/Pose"), "{text}");
        let u64_type = PortType::sized(TypeInfo::of::<u64>());
        assert!(table.check(&svc(), &u64_type, None).is_ok());
        let slice = PortType {
            shape: zerocp_core::wire::PayloadShape::Slice,
            ..u64_type
        };
        let e = table.check(&svc(), &slice, None).unwrap_err().to_string();
        assert!(
            e.contains("a slice `[u64]` (element size 8, align 8)"),
            "{e}"
        );
        let with_header = PortType {
            user_header: TypeInfo::of::<u32>(),
            ..u64_type
        };
        let e = table.check(&svc(), &with_header, None).unwrap_err();
        assert!(matches!(e, RouteError::UserHeaderMismatch { .. }));
        let e = e.to_string();
        assert!(e.contains("carries no user header"), "{e}");
        assert!(
            e.contains("declares user header `u32` (size 4, align 4)"),
            "{e}"
        );
    }
}
