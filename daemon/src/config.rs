//! The daemon's configuration: the TOML file `zerocpd --config FILE` reads.
//!
//! Every key is optional; a missing key takes the built-in default, which is
//! sized for a desktop (see `daemon/zerocpd.example.toml` for a commented copy):
//!
//! ```toml
//! domain = "default"            # overridden by --domain and ZEROCP_DOMAIN
//!
//! [limits]
//! max_processes = 64            # processes registered at once
//! max_publishers = 256          # publisher ports at once (default group)
//! max_subscribers = 1024        # subscriber ports at once (default group)
//! max_notifiers = 64            # notifier ports at once (default group, 0..=65536)
//! max_listeners = 256           # listener ports at once (default group, 0..=65536)
//! max_queue_capacity = 256      # largest queue a subscriber may ask for (<= 256)
//! max_history = 32              # deepest publisher history (<= 32)
//! max_pending_connections = 64  # connections not (yet) registered, e.g. zerocpctl
//! max_pending_per_uid = 8       # of those, per uid (a newcomer evicts the oldest)
//! register_timeout_ms = 5000    # an unregistered connection lives this long from its accept
//!
//! [heartbeat]
//! interval_ms = 100             # how often runtimes beat (told at registration)
//! timeout_ms = 3000             # a process silent this long is unrouted (reclaimed at exit)
//! kill_unresponsive = false     # true: SIGKILL such a process (through its pidfd)
//!
//! [audit]                       # see crate::audit_config
//! interval_ms = 1000            # audit what the daemon owns in shared memory; 0: off
//! on_corrupt_pool = "reset-when-empty"  # or "reset-now": when to reset a group with a corrupt pool
//!
//! [access]
//! uids = []                     # besides root and the daemon's own uid
//! gids = []                     # primary groups allowed to connect
//! socket_mode = 0o660           # file mode of the control socket
//!
//! [quota]                       # shares of every pool (see crate::quota_config)
//! process_percent = 50          # chunks of one pool one process may hold at once
//! port_percent = 50             # chunks of one pool one port may hold at once
//!
//! [memory]                      # see crate::memory_config
//! commit_pools = "at-start"     # or "on-touch": a chunk's pages when first written
//!
//! [[mempool]]                   # one table per size class (crate::mempool_config)
//! size = 128                    # chunk size in bytes (the payload capacity)
//! count = 1024                  # number of chunks
//!
//! [[group]]                     # a segment group (see crate::group_config)
//! name = "nav"
//! services = ["Robot/Nav/*"]
//! publish = { uids = [1000], gids = [] }
//! subscribe = { uids = [1001], gids = [1000] }
//! max_publishers = 16           # the group's own port limits (defaults 16, 64)
//! max_subscribers = 64
//! [[group.mempool]]             # the group's own pools
//! size = 1024
//! count = 64
//! [group.quota]                 # the group's own shares (default: [quota]'s)
//! process_percent = 100
//! ```
//!
//! The defaults' mempools are 128 B×1024, 1 KiB×512, 16 KiB×128, 128 KiB×32,
//! 1 MiB×8 and 4 MiB×4 (about 31 MiB of shared memory). Each group, `default`
//! included, gets memory of its own: a control part sized by its port
//! limits and pools, and a payload part holding its pools' chunks.
//!
//! Unknown keys are rejected (`deny_unknown_fields`), and [`DaemonConfig::validate`]
//! checks every value, so a mistake is reported with the key that holds it,
//! e.g. `mempool[2].size must be > 0`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::audit_config::AuditConfig;
use crate::group_config::{GroupSpec, validate_groups};
pub use crate::limits_config::Limits;
use crate::memory_config::MemoryConfig;
pub(crate) use crate::mempool_config::validate_mempools;
pub use crate::mempool_config::{MempoolSpec, default_mempools};
use crate::quota_config::QuotaConfig;
use crate::segment_groups::SegmentGroups;

/// Where `zerocpd` looks for its configuration when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/zerocp/zerocpd.toml";

/// Largest heartbeat interval accepted (one minute).
const MAX_HEARTBEAT_INTERVAL_MS: u64 = 60_000;

/// The whole configuration of one daemon.
///
/// ```
/// use zerocp_daemon::config::DaemonConfig;
/// let config = DaemonConfig::from_toml_str("[limits]\nmax_processes = 8\n").unwrap();
/// assert_eq!(config.limits.max_processes, 8);
/// assert_eq!(config.mempools.len(), 6); // the defaults
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonConfig {
    /// Domain served when neither `--domain` nor `ZEROCP_DOMAIN` names one.
    pub domain: Option<String>,
    /// Sizes of the registries.
    pub limits: Limits,
    /// Liveness checking.
    pub heartbeat: HeartbeatConfig,
    /// Who may connect, and file modes.
    pub access: AccessConfig,
    /// The audit of shared memory and what to do about what it finds
    /// ([`crate::audit_config`]).
    pub audit: AuditConfig,
    /// Chunk quotas: the shares of every pool one process and one port may hold.
    pub quota: QuotaConfig,
    /// When the mempools' memory is committed ([`crate::memory_config`]).
    pub memory: MemoryConfig,
    /// The mempools (size classes) of the `default` group, in the order written.
    #[serde(rename = "mempool")]
    pub mempools: Vec<MempoolSpec>,
    /// The segment groups (`[[group]]`), in the order written.
    #[serde(rename = "group")]
    pub groups: Vec<GroupSpec>,
}

/// `[heartbeat]`: how runtimes prove they are alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeartbeatConfig {
    /// How often a runtime writes its heartbeat (and how often the daemon checks).
    pub interval_ms: u64,
    /// A process whose heartbeat is older than this is unresponsive: it is
    /// unrouted at once, its chunks and slots are reclaimed when it exits
    /// (see [`crate::unresponsive`]).
    pub timeout_ms: u64,
    /// Kill an unresponsive process (`SIGKILL` through its pidfd) instead of
    /// waiting for it to exit by itself; off by default, since a process
    /// stopped in a debugger is not necessarily broken.
    pub kill_unresponsive: bool,
}

/// `[access]`: who may connect and the modes of the files the daemon creates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessConfig {
    /// Uids allowed besides root and the daemon's own uid.
    pub uids: Vec<u32>,
    /// Primary gids allowed to connect.
    pub gids: Vec<u32>,
    /// Mode of the control socket file (only the permission bits, `0o777`).
    /// The segments have no mode to configure: they are handed to each
    /// registered process as descriptors, never opened by name.
    pub socket_mode: u32,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            domain: None,
            limits: Limits::default(),
            heartbeat: HeartbeatConfig::default(),
            access: AccessConfig::default(),
            audit: AuditConfig::default(),
            quota: QuotaConfig::default(),
            memory: MemoryConfig::default(),
            mempools: default_mempools(),
            groups: Vec::new(),
        }
    }
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        Self {
            interval_ms: 100,
            timeout_ms: 3_000,
            kill_unresponsive: false,
        }
    }
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            uids: Vec::new(),
            gids: Vec::new(),
            socket_mode: 0o660,
        }
    }
}

/// Loading or checking a configuration failed.
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key or a value of the wrong type.
    Parse {
        /// The file (`None` for text given directly).
        path: Option<PathBuf>,
        /// The parser's message (it names the key and line).
        message: String,
    },
    /// A value is out of range; `key` is its dotted path, e.g. `mempool[2].size`.
    Invalid {
        /// The key, e.g. `heartbeat.timeout_ms`.
        key: String,
        /// What is wrong with its value.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => {
                write!(f, "cannot read config file {}: {source}", path.display())
            }
            Self::Parse {
                path: Some(path),
                message,
            } => write!(
                f,
                "invalid config file {}: {}",
                path.display(),
                message.trim_end()
            ),
            Self::Parse {
                path: None,
                message,
            } => write!(f, "invalid config: {}", message.trim_end()),
            Self::Invalid { key, reason } => write!(f, "invalid config: {key} {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

impl DaemonConfig {
    /// Reads, parses and validates `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, Some(path))
    }

    /// `--config FILE` if given, else [`DEFAULT_CONFIG_PATH`] when it exists,
    /// else the built-in defaults. Returns the config and the file it came from.
    pub fn load_default(explicit: Option<&Path>) -> Result<(Self, Option<PathBuf>), ConfigError> {
        if let Some(path) = explicit {
            return Ok((Self::load(path)?, Some(path.to_path_buf())));
        }
        let default = Path::new(DEFAULT_CONFIG_PATH);
        if default.exists() {
            return Ok((Self::load(default)?, Some(default.to_path_buf())));
        }
        Ok((Self::default(), None))
    }

    /// Parses and validates TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, None)
    }

    fn parse(text: &str, path: Option<&Path>) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.map(Path::to_path_buf),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value; the error names the first offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(domain) = &self.domain {
            zerocp_os_linux::names::DomainName::new(domain)
                .map_err(|e| invalid("domain", format!("= {domain:?} is not valid: {e}")))?;
        }
        self.limits.validate()?;
        self.heartbeat.validate()?;
        self.access.validate()?;
        self.audit.validate()?;
        self.quota.validate("quota")?;
        if self.mempools.is_empty() {
            return Err(invalid("mempool", "must list at least one [[mempool]]"));
        }
        validate_mempools("mempool", &self.mempools)?;
        validate_groups(&self.groups)?;
        let pools =
            self.mempools.len() + self.groups.iter().map(|g| g.mempools.len()).sum::<usize>();
        let max = zerocp_core::mempool::MAX_MEMPOOLS;
        if pools > max {
            return Err(invalid(
                "mempool",
                format!("and [[group.mempool]] list {pools} pools in all, at most {max} allowed"),
            ));
        }
        self.mgmt_config()?;
        self.group_configs().map(|_| ())
    }

    /// The segment groups, `default` (group 0) first, for the control plane.
    pub fn segment_groups(&self) -> Result<SegmentGroups, ConfigError> {
        SegmentGroups::new(&self.groups)
    }

    /// The limits the domain's mgmt segment is laid out for, and the
    /// quotas of every pool it records.
    pub fn mgmt_config(&self) -> Result<zerocp_core::mgmt::MgmtConfig, ConfigError> {
        let quotas = crate::quota_config::pool_quotas(self)?;
        zerocp_core::mgmt::MgmtConfig::new(self.limits.max_processes, self.group_count())
            .and_then(|mgmt| mgmt.with_quotas(&quotas))
            .map_err(|e| match e {
                zerocp_core::mgmt::MgmtConfigError::LimitOutOfRange { name, value, max } => {
                    invalid(
                        format!("limits.{name}"),
                        format!("= {value} is out of range 1..={max}"),
                    )
                }
                zerocp_core::mgmt::MgmtConfigError::Quota(e) => {
                    invalid("quota", format!("cannot be recorded: {e}"))
                }
                other => invalid("limits", format!("cannot be laid out: {other}")),
            })
    }

    /// Segment groups, `default` included.
    pub fn group_count(&self) -> u32 {
        self.groups.len() as u32 + 1
    }

    /// The port limits and mempools every group's control part is laid out
    /// for, `default` (group 0: `[limits]` and the top-level pools) first,
    /// then `group[i]` as group `i + 1`.
    pub fn group_configs(
        &self,
    ) -> Result<Vec<zerocp_core::group_control::GroupConfig>, ConfigError> {
        let default = (
            "limits".to_owned(),
            "mempool".to_owned(),
            self.limits.max_publishers,
            self.limits.max_subscribers,
            (self.limits.max_notifiers, self.limits.max_listeners),
            &self.mempools,
        );
        let configured = self.groups.iter().enumerate().map(|(i, g)| {
            (
                format!("group[{i}]"),
                format!("group[{i}].mempool"),
                g.max_publishers,
                g.max_subscribers,
                (g.max_notifiers, g.max_listeners),
                &g.mempools,
            )
        });
        std::iter::once(default)
            .chain(configured)
            .enumerate()
            .map(
                |(group, (limits_key, pools_key, publishers, subscribers, events, pools))| {
                    let group = group as u32;
                    let pools: Vec<zerocp_core::mempool::MempoolConfig> = pools
                        .iter()
                        .map(|p| zerocp_core::mempool::MempoolConfig {
                            chunk_size: p.size,
                            chunk_count: p.count,
                            group,
                        })
                        .collect();
                    zerocp_core::group_control::GroupConfig::new(
                        group,
                        publishers,
                        subscribers,
                        &pools,
                    )
                    .and_then(|c| c.with_event_ports(events.0, events.1))
                    .map_err(|e| group_config_error(&limits_key, &pools_key, e))
                },
            )
            .collect()
    }
}

fn group_config_error(
    limits_key: &str,
    pools_key: &str,
    e: zerocp_core::group_control::GroupConfigError,
) -> ConfigError {
    use zerocp_core::group_control::GroupConfigError as E;
    match e {
        E::LimitOutOfRange { name, value, max } => invalid(
            format!("{limits_key}.{name}"),
            format!("= {value} is out of range 1..={max}"),
        ),
        other => invalid(pools_key, format!("cannot be laid out: {other}")),
    }
}

impl HeartbeatConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.interval_ms == 0 || self.interval_ms > MAX_HEARTBEAT_INTERVAL_MS {
            return Err(invalid(
                "heartbeat.interval_ms",
                format!(
                    "= {} is out of range 1..={MAX_HEARTBEAT_INTERVAL_MS}",
                    self.interval_ms
                ),
            ));
        }
        if self.timeout_ms < self.interval_ms.saturating_mul(2) {
            return Err(invalid(
                "heartbeat.timeout_ms",
                format!(
                    "= {} must be at least twice heartbeat.interval_ms ({})",
                    self.timeout_ms, self.interval_ms
                ),
            ));
        }
        Ok(())
    }
}

impl AccessConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let (key, mode) = ("access.socket_mode", self.socket_mode);
        if mode & !0o777 != 0 {
            return Err(invalid(
                key,
                format!("= {mode:#o} has bits outside 0o777 (permission bits only)"),
            ));
        }
        if mode & 0o600 != 0o600 {
            return Err(invalid(
                key,
                format!("= {mode:#o} must let the owner read and write (0o600)"),
            ));
        }
        Ok(())
    }

    /// Whether a peer with these credentials may use the daemon.
    pub fn allows(&self, uid: u32, gid: u32, daemon_uid: u32) -> bool {
        uid == 0 || uid == daemon_uid || self.uids.contains(&uid) || self.gids.contains(&gid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        DaemonConfig::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_valid_and_desktop_sized() {
        let config = DaemonConfig::from_toml_str("").unwrap();
        assert_eq!(config, DaemonConfig::default());
        assert_eq!(config.limits.max_processes, 64);
        let bytes: u64 = config
            .mempools
            .iter()
            .map(|p| u64::from(p.size) * u64::from(p.count))
            .sum();
        assert!(bytes < 64 << 20, "defaults use {bytes} bytes");
    }

    #[test]
    fn example_file_is_the_defaults() {
        let text = include_str!("../zerocpd.example.toml");
        assert_eq!(
            DaemonConfig::from_toml_str(text).unwrap(),
            DaemonConfig::default()
        );
    }

    #[test]
    fn errors_name_the_key() {
        let e = error_of("[[mempool]]\nsize = 64\ncount = 1\n[[mempool]]\nsize = 0\ncount = 4\n");
        assert!(e.contains("mempool[1].size must be > 0"), "{e}");
        let e = error_of("[[mempool]]\nsize = 64\ncount = 0\n");
        assert!(e.contains("mempool[0].count must be > 0"), "{e}");
        let e = error_of("[heartbeat]\ninterval_ms = 100\ntimeout_ms = 150\n");
        assert!(e.contains("heartbeat.timeout_ms"), "{e}");
        let e = error_of("domain = \"a.b\"\n");
        assert!(e.contains("invalid config: domain"), "{e}");
        let e = error_of("[limits]\nmax_processes = 0\n");
        assert!(e.contains("limits.max_processes"), "{e}");
        let e = error_of("[limits]\nmax_pending_per_uid = 0\n");
        assert!(e.contains("limits.max_pending_per_uid must be > 0"), "{e}");
        let e = error_of("[limits]\nmax_queue_capacity = 100000\n");
        assert!(e.contains("limits.max_queue_capacity"), "{e}");
        let e = error_of("[access]\nsocket_mode = 0o7777\n");
        assert!(e.contains("access.socket_mode"), "{e}");
        let e = error_of("[[mempool]]\nsize = 64\ncount = 1\n[[mempool]]\nsize = 64\ncount = 2\n");
        assert!(
            e.contains("mempool[1].size = 64 duplicates mempool[0].size"),
            "{e}"
        );
    }

    #[test]
    fn unknown_and_mistyped_keys_are_named() {
        let e = error_of("[limits]\nmax_procs = 3\n");
        assert!(e.contains("max_procs"), "{e}");
        let e = error_of("[heartbeat]\ninterval_ms = \"fast\"\n");
        assert!(e.contains("interval_ms"), "{e}");
        let e = error_of("[heartbeat]\nkill_unresponsive = 1\n");
        assert!(e.contains("kill_unresponsive"), "{e}");
        let e = error_of("[heartbeat]\nkill_unresponsive = \"yes\"\n");
        assert!(e.contains("kill_unresponsive"), "{e}");
    }

    #[test]
    fn kill_unresponsive_is_off_unless_asked_for() {
        assert!(!DaemonConfig::default().heartbeat.kill_unresponsive);
        let config =
            DaemonConfig::from_toml_str("[heartbeat]\nkill_unresponsive = true\n").unwrap();
        assert!(config.heartbeat.kill_unresponsive);
        assert_eq!(config.heartbeat.timeout_ms, 3_000);
    }

    #[test]
    fn access_allows_root_self_and_listed() {
        let access = AccessConfig {
            uids: vec![1001],
            gids: vec![50],
            ..AccessConfig::default()
        };
        assert!(access.allows(0, 0, 1000));
        assert!(access.allows(1000, 1000, 1000));
        assert!(access.allows(1001, 1, 1000));
        assert!(access.allows(1002, 50, 1000));
        assert!(!access.allows(1002, 51, 1000));
    }
}
