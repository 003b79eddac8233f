//! The segment groups in force: which group a service belongs to, and
//! whether a peer may create a publisher or subscriber in it.
//!
//! Group 0 is the implicit `default` group: every service no `[[group]]`
//! pattern matches, the top-level `[[mempool]]`s, open to every process that
//! may connect. `group[i]` of the configuration is group `i + 1`; its index
//! names its memory (its control part's header and pool table, its payload
//! part), so a port's pool is chosen among its group's pools only
//! ([`zerocp_core::mempool::MempoolLayout::pool_for`]).
//!
//! The check runs at `CreatePublisher` / `CreateSubscriber` (and at
//! `CreateNotifier` under the `publish` rule, `CreateListener` under the
//! `subscribe` rule: an event service's sender and receiver), on the uid and
//! primary gid the kernel reported for the process at connection
//! (`SO_PEERCRED`), never on anything a client sends. Root and the daemon's
//! own uid pass every rule. A refusal is an [`AccessDenied`] whose text
//! starts `access denied` and names the peer, the service, the group and
//! the rule.

use std::fmt;

use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::PortKind;

use crate::config::ConfigError;
use crate::group_config::{AccessRuleSpec, DEFAULT_GROUP, GroupSpec, parse_patterns};
use crate::service_pattern::ServicePattern;

/// One segment group, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentGroup {
    /// Its name (`default` for group 0).
    pub name: String,
    /// Its patterns (none for `default`, which takes what no group claims).
    pub patterns: Vec<ServicePattern>,
    /// Who may publish; `None`: every peer that may connect.
    pub publish: Option<AccessRuleSpec>,
    /// Who may subscribe; `None`: every peer that may connect.
    pub subscribe: Option<AccessRuleSpec>,
}

impl SegmentGroup {
    /// The rule for creating a port of `kind` (`None`: open): `publish`
    /// governs publishers and notifiers (the ports that send), `subscribe`
    /// subscribers and listeners (the ports that receive).
    pub fn rule(&self, kind: PortKind) -> Option<&AccessRuleSpec> {
        match kind {
            PortKind::Publisher | PortKind::Notifier => self.publish.as_ref(),
            PortKind::Subscriber | PortKind::Listener => self.subscribe.as_ref(),
        }
    }
}

/// A peer's port creation refused by its service's group rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDenied {
    /// The peer's uid.
    pub uid: u32,
    /// The peer's primary gid.
    pub gid: u32,
    /// Publisher or subscriber.
    pub kind: PortKind,
    /// The service (`service/instance/event`).
    pub service: String,
    /// The group's name.
    pub group: String,
    /// The rule that refused.
    pub rule: AccessRuleSpec,
}

impl fmt::Display for AccessDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, noun) = match self.kind {
            PortKind::Publisher => ("publish", "publish"),
            PortKind::Subscriber => ("subscribe to", "subscribe"),
            PortKind::Notifier => ("notify", "publish"),
            PortKind::Listener => ("listen to", "subscribe"),
        };
        write!(
            f,
            "access denied: uid {} gid {} may not {verb} {}: group {:?} {noun} {}",
            self.uid, self.gid, self.service, self.group, self.rule
        )
    }
}

impl std::error::Error for AccessDenied {}

/// The groups of a daemon, `default` first.
///
/// ```
/// use zerocp_core::service::ServiceDescription;
/// use zerocp_core::wire::PortKind;
/// use zerocp_daemon::config::DaemonConfig;
///
/// let config = DaemonConfig::from_toml_str(
///     "[[group]]\nname = \"nav\"\nservices = [\"Robot/Nav/*\"]\n\
///      publish = { uids = [1000] }\n[[group.mempool]]\nsize = 64\ncount = 4\n",
/// )?;
/// let groups = config.segment_groups()?;
/// let pose = ServiceDescription::new("Robot", "Nav", "Pose")?;
/// assert_eq!(groups.group_of(&pose), 1);
/// assert_eq!(groups.admit(PortKind::Publisher, &pose, 1000, 1000, 500), Ok(1));
/// let e = groups.admit(PortKind::Subscriber, &pose, 1000, 1000, 500).unwrap_err();
/// assert!(e.to_string().starts_with("access denied: uid 1000"));
/// assert_eq!(groups.admit(PortKind::Subscriber, &pose, 0, 0, 500), Ok(1)); // root
/// let other = ServiceDescription::new("Robot", "Arm", "Pose")?;
/// assert_eq!(groups.group_of(&other), 0); // default: open to every peer
/// assert_eq!(groups.admit(PortKind::Subscriber, &other, 1000, 1000, 500), Ok(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentGroups {
    groups: Vec<SegmentGroup>,
}

impl SegmentGroups {
    /// `default`, then one group per `[[group]]` (already validated by
    /// [`crate::config::DaemonConfig::validate`]; patterns are parsed again
    /// here, and a bad one is still an error, not a panic).
    pub fn new(specs: &[GroupSpec]) -> Result<Self, ConfigError> {
        let mut groups = vec![SegmentGroup {
            name: DEFAULT_GROUP.to_owned(),
            patterns: Vec::new(),
            publish: None,
            subscribe: None,
        }];
        for (g, spec) in specs.iter().enumerate() {
            groups.push(SegmentGroup {
                name: spec.name.clone(),
                patterns: parse_patterns(&format!("group[{g}]"), &spec.services)?,
                publish: Some(spec.publish.clone()),
                subscribe: Some(spec.subscribe.clone()),
            });
        }
        Ok(Self { groups })
    }

    /// Every group, `default` (index 0) first.
    pub fn iter(&self) -> impl Iterator<Item = &SegmentGroup> {
        self.groups.iter()
    }

    /// Group `index`, if any.
    pub fn get(&self, index: u32) -> Option<&SegmentGroup> {
        self.groups.get(index as usize)
    }

    /// The name of group `index` (`?` for an index that names no group).
    pub fn name(&self, index: u32) -> &str {
        self.get(index).map_or("?", |g| g.name.as_str())
    }

    /// The index of the group `service` belongs to: the one group whose
    /// pattern matches it (patterns of different groups never overlap), else
    /// 0, `default`.
    pub fn group_of(&self, service: &ServiceDescription) -> u32 {
        self.groups
            .iter()
            .position(|g| g.patterns.iter().any(|p| p.matches(service)))
            .map_or(0, |g| g as u32)
    }

    /// Finds the group of `service` and checks that the peer `uid`/`gid`
    /// may create a `kind` port in it (root and `daemon_uid` always may);
    /// returns the group's index.
    pub fn admit(
        &self,
        kind: PortKind,
        service: &ServiceDescription,
        uid: u32,
        gid: u32,
        daemon_uid: u32,
    ) -> Result<u32, AccessDenied> {
        let index = self.group_of(service);
        let group = &self.groups[index as usize];
        match group.rule(kind) {
            Some(rule) if !rule.admits(uid, gid, daemon_uid) => Err(AccessDenied {
                uid,
                gid,
                kind,
                service: service.to_string(),
                group: group.name.clone(),
                rule: rule.clone(),
            }),
            _ => Ok(index),
        }
    }
}
