//! The `[[group]]` tables of the configuration: segment groups.
//!
//! A segment group is a set of services with its own mempools and its own
//! rules for who may publish and who may subscribe:
//!
//! ```toml
//! [[group]]
//! name = "nav"                          # 1..32 of [A-Za-z0-9_-]; not "default"
//! services = ["Robot/Nav/*"]            # service/instance/event, `*` = one whole part
//! publish   = { uids = [1000], gids = [] }   # who may create publishers
//! subscribe = { uids = [1001], gids = [1000] } # who may create subscribers
//! [[group.mempool]]
//! size = 1024
//! count = 64
//! [group.quota]                         # optional: the group's own chunk quotas
//! process_percent = 100                 # (see crate::quota_config)
//! ```
//!
//! Every service no group claims belongs to the implicit group `default`,
//! which uses the top-level `[[mempool]]`s and is open to every process the
//! `[access]` table lets connect. A missing `publish` or `subscribe` admits
//! nobody but root and the daemon's own uid (who may always do everything).
//!
//! Validation names the key of the first mistake (`group[1].services[0]`,
//! `group[0].mempool[2].size`…): bad or duplicate names, malformed patterns
//! (see [`crate::service_pattern`]), a group without patterns or mempools,
//! more than [`MAX_GROUP_PATTERNS`] patterns or [`MAX_RULE_IDS`] ids in a
//! rule, and two groups whose patterns overlap: overlaps are rejected when
//! the configuration is loaded (never resolved by order or specificity), so
//! a service always belongs to exactly one group.

use serde::Deserialize;
use zerocp_core::wire::{MAX_GROUP_NAME_LEN, MAX_GROUP_PATTERNS, MAX_RULE_IDS};

use crate::config::{ConfigError, MempoolSpec, invalid, validate_mempools};
use crate::quota_config::GroupQuotaSpec;
use crate::service_pattern::ServicePattern;

/// The name of the implicit group of every service no `[[group]]` claims.
pub const DEFAULT_GROUP: &str = "default";

/// One `[[group]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Its name: 1 to 32 of `[A-Za-z0-9_-]`, not `default`.
    pub name: String,
    /// Its service patterns (`service/instance/event`, `*` = one whole part).
    pub services: Vec<String>,
    /// Who may create publishers of its services.
    #[serde(default)]
    pub publish: AccessRuleSpec,
    /// Who may create subscribers of its services.
    #[serde(default)]
    pub subscribe: AccessRuleSpec,
    /// Its mempools (`[[group.mempool]]`), used by its ports only.
    #[serde(rename = "mempool", default)]
    pub mempools: Vec<MempoolSpec>,
    /// Most publisher ports of the group at once (its control part has a
    /// slot for each); [`DEFAULT_GROUP_MAX_PUBLISHERS`] when not given.
    #[serde(default = "default_max_publishers")]
    pub max_publishers: u32,
    /// Most subscriber ports of the group at once;
    /// [`DEFAULT_GROUP_MAX_SUBSCRIBERS`] when not given.
    #[serde(default = "default_max_subscribers")]
    pub max_subscribers: u32,
    /// Most notifier ports of the group at once (0..=65536);
    /// [`DEFAULT_GROUP_MAX_NOTIFIERS`] when not given.
    #[serde(default = "default_max_notifiers")]
    pub max_notifiers: u32,
    /// Most listener ports of the group at once (0..=65536);
    /// [`DEFAULT_GROUP_MAX_LISTENERS`] when not given.
    #[serde(default = "default_max_listeners")]
    pub max_listeners: u32,
    /// Its own chunk quotas (`[group.quota]`), replacing `[quota]`'s keys
    /// it sets for its pools ([`crate::quota_config`]).
    #[serde(default)]
    pub quota: Option<GroupQuotaSpec>,
}

/// `max_publishers` of a `[[group]]` that does not set it.
pub const DEFAULT_GROUP_MAX_PUBLISHERS: u32 = 16;
/// `max_subscribers` of a `[[group]]` that does not set it.
pub const DEFAULT_GROUP_MAX_SUBSCRIBERS: u32 = 64;

/// `max_notifiers` of a `[[group]]` that does not set it.
pub const DEFAULT_GROUP_MAX_NOTIFIERS: u32 = 16;
/// `max_listeners` of a `[[group]]` that does not set it.
pub const DEFAULT_GROUP_MAX_LISTENERS: u32 = 64;

fn default_max_notifiers() -> u32 {
    DEFAULT_GROUP_MAX_NOTIFIERS
}

fn default_max_listeners() -> u32 {
    DEFAULT_GROUP_MAX_LISTENERS
}

fn default_max_publishers() -> u32 {
    DEFAULT_GROUP_MAX_PUBLISHERS
}

fn default_max_subscribers() -> u32 {
    DEFAULT_GROUP_MAX_SUBSCRIBERS
}

/// `publish = { uids = […], gids = […] }`: the peers a rule admits, besides
/// root and the daemon's own uid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessRuleSpec {
    /// Uids admitted.
    pub uids: Vec<u32>,
    /// Primary gids admitted.
    pub gids: Vec<u32>,
}

impl AccessRuleSpec {
    /// Whether a peer with `uid` and primary `gid` is admitted; root and
    /// `daemon_uid` always are.
    ///
    /// ```
    /// use zerocp_daemon::group_config::AccessRuleSpec;
    /// let rule = AccessRuleSpec { uids: vec![1000], gids: vec![50] };
    /// assert!(rule.admits(1000, 1000, 999));
    /// assert!(rule.admits(1234, 50, 999));
    /// assert!(rule.admits(0, 0, 999) && rule.admits(999, 999, 999));
    /// assert!(!rule.admits(1001, 1001, 999));
    /// ```
    pub fn admits(&self, uid: u32, gid: u32, daemon_uid: u32) -> bool {
        uid == 0 || uid == daemon_uid || self.uids.contains(&uid) || self.gids.contains(&gid)
    }
}

impl std::fmt::Display for AccessRuleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "allows uids {:?} gids {:?}", self.uids, self.gids)
    }
}

/// Checks every `[[group]]`; the error names the first offending key.
pub fn validate_groups(groups: &[GroupSpec]) -> Result<(), ConfigError> {
    let mut claimed: Vec<(usize, usize, ServicePattern)> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let key = format!("group[{g}]");
        validate_name(&key, &group.name)?;
        if let Some(other) = groups[..g].iter().position(|o| o.name == group.name) {
            return Err(invalid(
                format!("{key}.name"),
                format!("= {:?} duplicates group[{other}].name", group.name),
            ));
        }
        let patterns = parse_patterns(&key, &group.services)?;
        for (p, pattern) in patterns.into_iter().enumerate() {
            if let Some((og, op, other)) = claimed.iter().find(|(og, _, o)| {
                // Overlaps inside one group are harmless: same group either way.
                *og != g && o.overlaps(&pattern)
            }) {
                return Err(invalid(
                    format!("{key}.services[{p}]"),
                    format!(
                        "= \"{pattern}\" overlaps group[{og}].services[{op}] = \"{other}\" \
                         (group {:?}): a service must belong to exactly one group",
                        groups[*og].name
                    ),
                ));
            }
            claimed.push((g, p, pattern));
        }
        validate_rule(&format!("{key}.publish"), &group.publish)?;
        validate_rule(&format!("{key}.subscribe"), &group.subscribe)?;
        if group.mempools.is_empty() {
            return Err(invalid(
                format!("{key}.mempool"),
                "must list at least one [[group.mempool]]",
            ));
        }
        validate_mempools(&format!("{key}.mempool"), &group.mempools)?;
        validate_port_limit(&format!("{key}.max_publishers"), group.max_publishers)?;
        validate_port_limit(&format!("{key}.max_subscribers"), group.max_subscribers)?;
    }
    Ok(())
}

fn validate_port_limit(key: &str, value: u32) -> Result<(), ConfigError> {
    let max = zerocp_core::group_control::MAX_PORTS_LIMIT;
    if value == 0 || value > max {
        return Err(invalid(key, format!("= {value} is out of range 1..={max}")));
    }
    Ok(())
}

fn validate_name(key: &str, name: &str) -> Result<(), ConfigError> {
    let key = format!("{key}.name");
    if name.is_empty() || name.len() > MAX_GROUP_NAME_LEN {
        return Err(invalid(
            key,
            format!("= {name:?} must be 1 to {MAX_GROUP_NAME_LEN} characters"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(invalid(
            key,
            format!("= {name:?} has {c:?}; only A-Z, a-z, 0-9, `_` and `-` are allowed"),
        ));
    }
    if name == DEFAULT_GROUP {
        return Err(invalid(
            key,
            format!("= {name:?} is reserved for the implicit group of unclaimed services"),
        ));
    }
    Ok(())
}

/// Parses the patterns of `group[…]`, naming the first bad one.
pub(crate) fn parse_patterns(
    key: &str,
    services: &[String],
) -> Result<Vec<ServicePattern>, ConfigError> {
    if services.is_empty() {
        return Err(invalid(
            format!("{key}.services"),
            "must list at least one service pattern",
        ));
    }
    if services.len() > MAX_GROUP_PATTERNS {
        return Err(invalid(
            format!("{key}.services"),
            format!(
                "lists {} patterns, at most {MAX_GROUP_PATTERNS} allowed",
                services.len()
            ),
        ));
    }
    services
        .iter()
        .enumerate()
        .map(|(p, text)| {
            ServicePattern::parse(text)
                .map_err(|e| invalid(format!("{key}.services[{p}]"), format!("= {text:?} {e}")))
        })
        .collect()
}

fn validate_rule(key: &str, rule: &AccessRuleSpec) -> Result<(), ConfigError> {
    for (field, ids) in [("uids", &rule.uids), ("gids", &rule.gids)] {
        if ids.len() > MAX_RULE_IDS {
            return Err(invalid(
                format!("{key}.{field}"),
                format!("lists {} ids, at most {MAX_RULE_IDS} allowed", ids.len()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::DaemonConfig;

    const POOL: &str = "[[group.mempool]]\nsize = 64\ncount = 4\n";

    fn group(name: &str, services: &str) -> String {
        format!("[[group]]\nname = \"{name}\"\nservices = [{services}]\n{POOL}")
    }

    fn error_of(text: &str) -> String {
        DaemonConfig::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn the_contract_shape_parses() {
        let text = "[[group]]\nname = \"nav\"\nservices = [\"Robot/Nav/*\"]\n\
                    publish   = { uids = [1000], gids = [] }\n\
                    subscribe = { uids = [1001], gids = [1000] }\n\
                    [[group.mempool]]\nsize = 1024\ncount = 64\n";
        let config = DaemonConfig::from_toml_str(text).unwrap();
        let nav = &config.groups[0];
        assert_eq!((nav.name.as_str(), nav.services.len()), ("nav", 1));
        assert_eq!(nav.publish.uids, [1000]);
        assert_eq!(nav.subscribe.gids, [1000]);
        let groups = config.group_configs().unwrap();
        assert_eq!(groups.len(), 2);
        let nav_pools = groups[1].mempools();
        assert_eq!(nav_pools.len(), 1);
        assert_eq!((nav_pools[0].chunk_size, nav_pools[0].group), (1024, 1));
        assert_eq!(groups[0].mempools().len(), 6, "the 6 default pools");
        assert_eq!(
            (groups[1].max_publishers(), groups[1].max_subscribers()),
            (
                super::DEFAULT_GROUP_MAX_PUBLISHERS,
                super::DEFAULT_GROUP_MAX_SUBSCRIBERS
            )
        );
    }

    #[test]
    fn names_are_checked_and_unique() {
        let e = error_of(&group("default", "\"a/b/c\""));
        assert!(e.contains("group[0].name") && e.contains("reserved"), "{e}");
        let e = error_of(&group("na v", "\"a/b/c\""));
        assert!(e.contains("group[0].name"), "{e}");
        let e = error_of(&group("", "\"a/b/c\""));
        assert!(e.contains("group[0].name"), "{e}");
        let e = error_of(&group(&"x".repeat(33), "\"a/b/c\""));
        assert!(e.contains("group[0].name"), "{e}");
        assert!(DaemonConfig::from_toml_str(&group(&"x".repeat(32), "\"a/b/c\"")).is_ok());
        let e = error_of(&(group("nav", "\"a/b/c\"") + &group("nav", "\"d/e/f\"")));
        assert!(
            e.contains("group[1].name = \"nav\" duplicates group[0].name"),
            "{e}"
        );
    }

    #[test]
    fn patterns_are_checked_naming_the_entry() {
        let e = error_of(&group("nav", "\"a/b/c\", \"Robot/Nav\""));
        assert!(e.contains("group[0].services[1]") && e.contains("3"), "{e}");
        let e = error_of(&group("nav", "\"Robot/N v/*\""));
        assert!(
            e.contains("group[0].services[0]") && e.contains("instance"),
            "{e}"
        );
        let e = error_of(&group("nav", ""));
        assert!(e.contains("group[0].services must list"), "{e}");
        let nine: Vec<String> = (0..9).map(|i| format!("\"a/b/{i}\"")).collect();
        let e = error_of(&group("nav", &nine.join(",")));
        assert!(e.contains("group[0].services lists 9"), "{e}");
    }

    #[test]
    fn overlapping_groups_are_rejected() {
        let text = group("nav", "\"Robot/Nav/*\"") + &group("pose", "\"x/y/z\", \"*/*/Pose\"");
        let e = error_of(&text);
        assert!(
            e.contains("group[1].services[1] = \"*/*/Pose\" overlaps group[0].services[0]"),
            "{e}"
        );
        let disjoint = group("nav", "\"Robot/Nav/*\"") + &group("arm", "\"Robot/Arm/*\"");
        assert!(DaemonConfig::from_toml_str(&disjoint).is_ok());
    }

    #[test]
    fn groups_need_valid_pools_and_bounded_rules() {
        let e = error_of("[[group]]\nname = \"nav\"\nservices = [\"a/b/c\"]\n");
        assert!(e.contains("group[0].mempool must list"), "{e}");
        let e = error_of(
            "[[group]]\nname = \"nav\"\nservices = [\"a/b/c\"]\n\
             [[group.mempool]]\nsize = 64\ncount = 1\n[[group.mempool]]\nsize = 64\ncount = 0\n",
        );
        assert!(e.contains("group[0].mempool[1].count must be > 0"), "{e}");
        let uids: Vec<String> = (0..17).map(|i| i.to_string()).collect();
        let e = error_of(&format!(
            "[[group]]\nname = \"nav\"\nservices = [\"a/b/c\"]\n\
             subscribe = {{ uids = [{}] }}\n{POOL}",
            uids.join(",")
        ));
        assert!(e.contains("group[0].subscribe.uids lists 17"), "{e}");
        let e = error_of("[[group]]\nname = \"nav\"\nservices = [\"a/b/c\"]\nwho = 1\n");
        assert!(e.contains("who"), "{e}");
        let many: String = (0..27)
            .map(|i| group(&format!("g{i}"), &format!("\"a/b/{i}\"")))
            .collect();
        let e = error_of(&many);
        assert!(e.contains("33 pools in all, at most 32"), "{e}");
    }

    #[test]
    fn the_same_size_in_two_groups_is_two_pools() {
        let text = "[[mempool]]\nsize = 64\ncount = 2\n".to_owned() + &group("nav", "\"a/b/c\"");
        let config = DaemonConfig::from_toml_str(&text).unwrap();
        let sizes: Vec<(u32, u32)> = config
            .group_configs()
            .unwrap()
            .iter()
            .flat_map(|g| g.mempools().iter().map(|p| (p.group, p.chunk_size)))
            .collect();
        assert_eq!(sizes, [(0, 64), (1, 64)]);
    }

    #[test]
    fn port_limits_of_a_group_are_checked() {
        let nav =
            |keys: &str| format!("[[group]]\nname = \"nav\"\nservices = [\"a/b/c\"]\n{keys}{POOL}");
        let text = nav("max_publishers = 2\nmax_subscribers = 3\n");
        let config = DaemonConfig::from_toml_str(&text).unwrap();
        let limits = config.group_configs().unwrap()[1];
        assert_eq!((limits.max_publishers(), limits.max_subscribers()), (2, 3));
        let e = error_of(&nav("max_publishers = 0\n"));
        assert!(
            e.contains("group[0].max_publishers") && e.contains("1..="),
            "{e}"
        );
        let e = error_of(&nav("max_subscribers = 70000\n"));
        assert!(e.contains("group[0].max_subscribers"), "{e}");
    }
}
