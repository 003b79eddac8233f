//! The `[quota]` section of the configuration, a group's own
//! `[group.quota]`, and the chunk quotas of every pool they give.
//!
//! ```toml
//! [quota]
//! process_percent = 50   # chunks of one pool one process may hold at once
//! port_percent = 50      # chunks of one pool one port may hold at once
//!
//! [[group]]
//! name = "camera"
//! services = ["Camera/*/*"]
//! [group.quota]          # this group's pools only; a key left out is [quota]'s
//! process_percent = 100
//! ```
//!
//! Each is a share of every pool: one process, or one port, may hold at
//! most `percent` of the pool's chunks, rounded down, and at least one
//! ([`zerocp_core::mgmt::quota_of`]). A process holds the chunks it loaned
//! and has not published yet, its publishers' history and the samples it
//! took and has not dropped; a port, a publisher's loans and history or a
//! subscriber's queued and taken samples. So with the defaults no single
//! process or port can empty a pool that others share: a process that loans
//! everything it can is stopped at half of the pool with an error naming
//! the quota, and a subscriber that never takes pins at most half of it
//! (its publishers treat its queue as full there). Both are 1..=100; 100
//! lets one process or port take the whole pool, as before quotas existed.
//!
//! **Why a group may override them.** Groups own their pools, and the
//! right share differs between them: a group whose single camera publisher
//! keeps a deep history of large frames needs most of its pool, while the
//! `default` group, which every application may use, wants no process to
//! have more than its share. The override costs nothing at run time: the
//! daemon writes every pool's resolved quotas into the mgmt segment
//! ([`zerocp_core::mgmt::quota`]), where runtimes read them, and
//! `zerocpctl mempools` shows them. Quotas are not set per pool: a pool
//! that needs another share belongs in a group of its own.

use serde::Deserialize;
use zerocp_core::mgmt::{MAX_QUOTA_PERCENT, PoolQuota};

use crate::config::{ConfigError, DaemonConfig, invalid};

/// Default of both percentages: half of every pool.
pub const DEFAULT_QUOTA_PERCENT: u32 = 50;

/// `[quota]`: the shares of every pool one process and one port may hold.
///
/// ```
/// use zerocp_daemon::config::DaemonConfig;
/// let config = DaemonConfig::from_toml_str("[quota]\nport_percent = 25\n").unwrap();
/// assert_eq!((config.quota.process_percent, config.quota.port_percent), (50, 25));
/// let e = DaemonConfig::from_toml_str("[quota]\nprocess_percent = 0\n").unwrap_err();
/// assert!(e.to_string().contains("quota.process_percent = 0 is out of range 1..=100"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// Percent of each pool's chunks one process may hold at once.
    pub process_percent: u32,
    /// Percent of each pool's chunks one port may hold at once.
    pub port_percent: u32,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self {
            process_percent: DEFAULT_QUOTA_PERCENT,
            port_percent: DEFAULT_QUOTA_PERCENT,
        }
    }
}

/// `[group.quota]`: a group's own shares; a key not given is `[quota]`'s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupQuotaSpec {
    /// Percent of each of the group's pools one process may hold.
    pub process_percent: Option<u32>,
    /// Percent of each of the group's pools one port may hold.
    pub port_percent: Option<u32>,
}

impl QuotaConfig {
    /// Checks both percentages; `key` is the section (`quota`, `group[0].quota`).
    pub(crate) fn validate(&self, key: &str) -> Result<(), ConfigError> {
        for (name, value) in [
            ("process_percent", self.process_percent),
            ("port_percent", self.port_percent),
        ] {
            if !(1..=MAX_QUOTA_PERCENT).contains(&value) {
                return Err(invalid(
                    format!("{key}.{name}"),
                    format!("= {value} is out of range 1..={MAX_QUOTA_PERCENT}"),
                ));
            }
        }
        Ok(())
    }

    /// These shares with a group's own keys in place of the ones it sets.
    pub fn overridden_by(&self, group: &GroupQuotaSpec) -> Self {
        Self {
            process_percent: group.process_percent.unwrap_or(self.process_percent),
            port_percent: group.port_percent.unwrap_or(self.port_percent),
        }
    }
}

/// The quotas of every pool of `config`, group by group (`default` first),
/// each group's pools smallest chunks first (the order of its control
/// part), for the mgmt segment.
pub fn pool_quotas(config: &DaemonConfig) -> Result<Vec<PoolQuota>, ConfigError> {
    let overrides = std::iter::once(None).chain(config.groups.iter().map(|g| g.quota));
    let mut quotas = Vec::new();
    for ((group, layout), own) in (0u32..).zip(config.group_configs()?).zip(overrides) {
        let shares = own.map_or(config.quota, |own| config.quota.overridden_by(&own));
        let key = quota_key(group);
        shares.validate(&key)?;
        for (pool, spec) in (0u32..).zip(layout.mempools()) {
            let quota = PoolQuota::new(
                group,
                pool,
                spec.chunk_count,
                shares.process_percent,
                shares.port_percent,
            )
            .map_err(|e| invalid(&key, format!("cannot apply to mempool {pool}: {e}")))?;
            quotas.push(quota.from_group_override(own.is_some()));
        }
    }
    Ok(quotas)
}

/// The section that sets group `group`'s quotas when it overrides them.
fn quota_key(group: u32) -> String {
    match group.checked_sub(1) {
        None => "quota".to_owned(),
        Some(index) => format!("group[{index}].quota"),
    }
}

/// The key that set `quota`'s percentage `name` (`process_percent`,
/// `port_percent`): `quota.NAME`, or `group[i].quota.NAME` when the group
/// overrides it.
///
/// ```
/// use zerocp_core::mgmt::PoolQuota;
/// use zerocp_daemon::quota_config::key_of;
/// let quota = PoolQuota::new(2, 0, 8, 50, 50).unwrap();
/// assert_eq!(key_of(&quota, "port_percent"), "quota.port_percent");
/// let own = quota.from_group_override(true);
/// assert_eq!(key_of(&own, "port_percent"), "group[1].quota.port_percent");
/// ```
pub fn key_of(quota: &PoolQuota, name: &str) -> String {
    let section = if quota.is_group_override() {
        quota_key(quota.group())
    } else {
        quota_key(0)
    };
    format!("{section}.{name}")
}

/// Checks that a publisher history of `history` samples leaves room to
/// loan in the port quota of its pool (history and loans share it: a
/// history as deep as the quota would stop every loan after it filled).
/// The error says so, naming the quota's key, the pool and `group_name`.
/// A pool without a quota (the daemon records one for every pool) has no
/// bound.
pub fn check_history(
    quota: Option<&PoolQuota>,
    history: u32,
    group_name: &str,
) -> Result<(), String> {
    let Some(quota) = quota.filter(|q| history >= q.port()) else {
        return Ok(());
    };
    Err(format!(
        "history {history} leaves no chunk to loan: {} = {} gives a port {} of the {} chunks \
         of mempool {} of group \"{group_name}\"",
        key_of(quota, "port_percent"),
        quota.port_percent(),
        quota.port(),
        quota.chunk_count(),
        quota.pool(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAV: &str = "[[group]]\nname = \"nav\"\nservices = [\"a/b/c\"]\n\
                       [[group.mempool]]\nsize = 64\ncount = 10\n";

    fn error_of(text: &str) -> String {
        DaemonConfig::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_half_of_every_pool() {
        let config = DaemonConfig::default();
        assert_eq!(config.quota, QuotaConfig::default());
        let quotas = pool_quotas(&config).unwrap();
        assert_eq!(quotas.len(), config.mempools.len());
        // The default pools, smallest first: 128 B × 1024 … 4 MiB × 4.
        let shares: Vec<(u32, u32)> = quotas.iter().map(|q| (q.process(), q.port())).collect();
        assert_eq!(
            shares,
            [(512, 512), (256, 256), (64, 64), (16, 16), (4, 4), (2, 2)]
        );
        assert!(quotas.iter().all(|q| !q.is_group_override()));
    }

    #[test]
    fn percentages_are_checked_naming_the_key() {
        let e = error_of("[quota]\nport_percent = 101\n");
        assert!(
            e.contains("invalid config: quota.port_percent = 101 is out of range 1..=100"),
            "{e}"
        );
        let e = error_of("[quota]\nprocess_percent = 0\n");
        assert!(e.contains("quota.process_percent = 0"), "{e}");
        let e = error_of("[quota]\nshare = 3\n");
        assert!(e.contains("share"), "{e}");
        let e = error_of(&format!("{NAV}[group.quota]\nport_percent = 0\n"));
        assert!(e.contains("group[0].quota.port_percent = 0"), "{e}");
        let e = error_of(&format!("{NAV}[group.quota]\nper_port = 3\n"));
        assert!(e.contains("per_port"), "{e}");
    }

    #[test]
    fn a_group_overrides_only_what_it_sets() {
        let text = format!(
            "[quota]\nprocess_percent = 40\nport_percent = 20\n{NAV}[group.quota]\nprocess_percent = 100\n"
        );
        let config = DaemonConfig::from_toml_str(&text).unwrap();
        let quotas = pool_quotas(&config).unwrap();
        let nav = quotas.iter().find(|q| q.group() == 1).unwrap();
        assert_eq!(
            (nav.process(), nav.port(), nav.is_group_override()),
            (10, 2, true)
        );
        let default = quotas.iter().find(|q| q.group() == 0).unwrap();
        assert_eq!(
            (default.process_percent(), default.port_percent()),
            (40, 20)
        );
        assert!(!default.is_group_override());
    }

    #[test]
    fn a_history_must_leave_room_to_loan() {
        let quota = PoolQuota::new(0, 3, 8, 50, 50).unwrap();
        assert_eq!(check_history(Some(&quota), 3, "default"), Ok(()));
        assert_eq!(check_history(None, 99, "default"), Ok(()));
        let e = check_history(Some(&quota), 4, "default").unwrap_err();
        assert_eq!(
            e,
            "history 4 leaves no chunk to loan: quota.port_percent = 50 gives a port 4 of the \
             8 chunks of mempool 3 of group \"default\""
        );
        assert!(e.len() <= 128, "fits an error reply: {e}");
    }

    #[test]
    fn small_pools_keep_one_chunk_per_process_and_port() {
        let config = DaemonConfig::from_toml_str(
            "[quota]\nprocess_percent = 1\n[[mempool]]\nsize = 64\ncount = 3\n",
        )
        .unwrap();
        let quotas = pool_quotas(&config).unwrap();
        assert_eq!((quotas[0].process(), quotas[0].port()), (1, 1));
        let mgmt = config.mgmt_config().unwrap();
        assert_eq!(mgmt.quotas().entries(), quotas.as_slice());
    }
}
