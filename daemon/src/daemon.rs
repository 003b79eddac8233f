//! Starting and stopping `zerocpd`: everything around the event loop.
//!
//! Start, in this order (each step's failure is a clear error and undoes the
//! steps before it):
//! 1. configuration (`--config`, else `/etc/zerocp/zerocpd.toml`, else defaults);
//! 2. domain (`--domain`, else `ZEROCP_DOMAIN`, else the config's `domain`,
//!    else `default`) and its paths (`zerocp_os_linux::names::DomainPaths`);
//! 3. the domain's lock file — a second daemon stops here, naming the first
//!    one's pid and the lock file;
//! 4. the mgmt segment and every group's control and payload parts, as sealed
//!    memory files, committed with fallocate as far as they are used from
//!    the start (the port records later, slot by slot; the payload at start
//!    unless `[memory] commit_pools = "on-touch"`:
//!    [`crate::segment_owner`], [`crate::group_memory`]; a killed daemon
//!    leaves none behind, so there is nothing stale to remove);
//! 5. the control socket (a stale socket file is replaced), mode from the config;
//! 6. `READY=1` to the service manager (under systemd, [`crate::sd_notify`]);
//! 7. the event loop, until a stop signal: SIGTERM, SIGINT, SIGHUP or SIGQUIT
//!    ([`crate::stop_signals`], whose handlers are installed before step 1,
//!    so a signal during start-up stops the daemon cleanly as soon as the
//!    loop runs).
//!
//! Stop: `STOPPING=1` to the service manager, the event loop's shutdown
//! (mgmt `SHUTTING_DOWN`, `Shutdown` to every client, sleepers woken), then
//! the daemon lets go of its segments (the kernel frees them once no runtime
//! maps them any more), the socket and the lock file are removed, and so is the
//! run directory if this daemon created it and nothing else lives there (a
//! directory it found, e.g. systemd's `RuntimeDirectory=`, stays); `zerocpd`
//! exits 0.

use std::fmt;
use std::path::PathBuf;

use zerocp_core::group_control::GroupConfig;
use zerocp_os_linux::clock::monotonic_ms;
use zerocp_os_linux::error::{LockError, NameError, RunDirError, SocketError};
use zerocp_os_linux::lockfile::LockFile;
use zerocp_os_linux::names::{DomainName, DomainPaths};
use zerocp_os_linux::seqpacket::SeqpacketListener;

use crate::config::{ConfigError, DaemonConfig};
use crate::control_plane::{ControlPlane, DaemonIdentity};
use crate::diroute::{Diroute, DirouteError};
use crate::group_memory::GroupMemory;
use crate::sd_notify::ServiceManager;
use crate::segment_owner::{SegmentOwner, SegmentOwnerError};
use crate::stop_signals::{StopSignal, StopSignals};

/// What `zerocpd`'s command line chose.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// `--domain`.
    pub domain: Option<String>,
    /// `--config`.
    pub config: Option<PathBuf>,
}

/// The daemon could not start (or its event loop failed).
#[derive(Debug)]
pub enum DaemonError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// The domain name is invalid.
    Domain(NameError),
    /// No run directory for the socket and lock file.
    RunDir(RunDirError),
    /// Another daemon serves the domain.
    AlreadyRunning {
        /// The domain.
        domain: DomainName,
        /// The other daemon's pid, if its lock file says.
        pid: Option<u32>,
        /// The lock file.
        lock: PathBuf,
    },
    /// The lock file could not be taken or removed.
    Lock(LockError),
    /// The shared-memory segments could not be created.
    Segments(SegmentOwnerError),
    /// The control socket could not be bound.
    Socket(SocketError),
    /// The event loop failed.
    Diroute(DirouteError),
    /// SIGXFSZ could not be caught (see [`run`]).
    FileSizeSignal(std::io::Error),
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "{e}"),
            Self::Domain(e) => write!(f, "{e}"),
            Self::RunDir(e) => write!(f, "{e}"),
            Self::AlreadyRunning { domain, pid, lock } => {
                write!(f, "domain {domain} is already served by zerocpd")?;
                if let Some(pid) = pid {
                    write!(f, " pid {pid}")?;
                }
                write!(f, " (lock file {})", lock.display())
            }
            Self::Lock(e) => write!(f, "{e}"),
            Self::Segments(e) => write!(f, "{e}"),
            Self::Socket(e) => write!(f, "{e}"),
            Self::Diroute(e) => write!(f, "{e}"),
            Self::FileSizeSignal(e) => write!(f, "cannot catch SIGXFSZ: {e}"),
        }
    }
}

impl std::error::Error for DaemonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::Domain(e) => Some(e),
            Self::RunDir(e) => Some(e),
            Self::Lock(e) => Some(e),
            Self::Segments(e) => Some(e),
            Self::Socket(e) => Some(e),
            Self::Diroute(e) => Some(e),
            Self::FileSizeSignal(e) => Some(e),
            Self::AlreadyRunning { .. } => None,
        }
    }
}

/// The domain to serve: `--domain`, else `ZEROCP_DOMAIN`, else the config's, else `default`.
///
/// ```
/// use zerocp_daemon::config::DaemonConfig;
/// use zerocp_daemon::daemon::resolve_domain;
/// let config = DaemonConfig::from_toml_str("domain = \"robot\"\n").unwrap();
/// assert_eq!(resolve_domain(Some("car"), &config).unwrap().as_str(), "car");
/// assert!(resolve_domain(Some("no/slashes"), &config).is_err());
/// ```
pub fn resolve_domain(cli: Option<&str>, config: &DaemonConfig) -> Result<DomainName, NameError> {
    if let Some(name) = cli {
        return DomainName::new(name);
    }
    let env_set =
        std::env::var_os(zerocp_os_linux::names::DOMAIN_ENV).is_some_and(|v| !v.is_empty());
    match (&config.domain, env_set) {
        (Some(name), false) => DomainName::new(name),
        _ => DomainName::from_env(),
    }
}

fn lock_domain(paths: &DomainPaths) -> Result<LockFile, DaemonError> {
    LockFile::acquire(&paths.lock).map_err(|e| match e {
        LockError::AlreadyLocked { path, holder_pid } => DaemonError::AlreadyRunning {
            domain: paths.domain.clone(),
            pid: holder_pid,
            lock: path,
        },
        other => DaemonError::Lock(other),
    })
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Runs the daemon until a stop signal; `Ok` after a clean stop.
///
/// SIGXFSZ is caught and ignored: a file-size limit (`RLIMIT_FSIZE`) below
/// a segment's size then makes creating it fail with `EFBIG`, reported with
/// the segment's name, instead of killing the daemon without a word.
pub fn run(options: &DaemonOptions) -> Result<StopSignal, DaemonError> {
    let signals =
        StopSignals::install().map_err(|e| DaemonError::Diroute(DirouteError::Signals(e)))?;
    let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGXFSZ, ignored)
        .map_err(DaemonError::FileSizeSignal)?;
    let (config, source) =
        DaemonConfig::load_default(options.config.as_deref()).map_err(DaemonError::Config)?;
    match &source {
        Some(path) => log::info!("configuration from {}", path.display()),
        None => log::info!("no configuration file, using built-in defaults"),
    }
    let domain = resolve_domain(options.domain.as_deref(), &config).map_err(DaemonError::Domain)?;
    let (paths, run_dir) = DomainPaths::for_daemon(&domain).map_err(DaemonError::RunDir)?;
    let locked = lock_domain(&paths);
    let served = locked.and_then(|lock| {
        let served = serve(config, &paths, signals);
        let removed = lock.remove().map_err(DaemonError::Lock);
        served.and_then(|signal| removed.map(|()| signal))
    });
    for (dir, errno) in run_dir.remove_created() {
        log::warn!("run directory {} stays: {errno}", dir.display());
    }
    let signal = served?;
    log::info!("domain {domain}: stopped cleanly");
    Ok(signal)
}

/// Everything that happens while the lock is held.
fn serve(
    config: DaemonConfig,
    paths: &DomainPaths,
    signals: StopSignals,
) -> Result<StopSignal, DaemonError> {
    let mgmt_config = config.mgmt_config().map_err(DaemonError::Config)?;
    let groups = config.segment_groups().map_err(DaemonError::Config)?;
    let group_configs: Vec<(String, GroupConfig)> = config
        .group_configs()
        .map_err(DaemonError::Config)?
        .into_iter()
        .map(|c| (groups.name(c.group()).to_owned(), c))
        .collect();
    let segments =
        SegmentOwner::create(&paths.domain, &mgmt_config).map_err(DaemonError::Segments)?;
    let parts = group_configs
        .iter()
        .map(|(name, group)| {
            let commit = config.memory.commit_pools;
            GroupMemory::create(&paths.domain, name, group, 0, commit)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(DaemonError::Segments)?;
    let pid = std::process::id();
    let epoch = epoch_now();
    let signal = {
        let mgmt = segments
            .init_mgmt(&mgmt_config, pid, epoch)
            .map_err(DaemonError::Segments)?;
        let (control_size, data_size) = parts
            .iter()
            .map(GroupMemory::sizes)
            .fold((0, 0), |(control, data), (c, d)| (control + c, data + d));
        let identity = DaemonIdentity {
            pid,
            uid: rustix::process::getuid().as_raw(),
            epoch,
            started_ms: monotonic_ms(),
            mgmt_size: segments.mgmt_segment().size() as u64,
            domain: paths.domain.clone(),
            control_size,
            data_size,
        };
        let listener =
            SeqpacketListener::bind_replacing_stale(&paths.socket, config.access.socket_mode)
                .map_err(DaemonError::Socket)?;
        log_ready(paths, &config, &segments, &identity);
        let mut service = ServiceManager::from_env(monotonic_ms());
        service.ready(&format!(
            "serving domain {} on {}",
            paths.domain,
            paths.socket.display()
        ));
        let plane = ControlPlane::new(mgmt, parts, config, groups, identity);
        let mut diroute = Diroute::new(plane, &segments, listener, signals, service)
            .map_err(DaemonError::Diroute)?;
        let result = diroute.run().map_err(DaemonError::Diroute);
        let listener = diroute.shutdown();
        drop(listener);
        result?
    };
    Ok(signal)
}

fn log_ready(
    paths: &DomainPaths,
    config: &DaemonConfig,
    segments: &SegmentOwner,
    identity: &DaemonIdentity,
) {
    log::info!(
        "serving domain {} on {} (pid {}); shared memory {} ({} bytes), {} segment groups \
         ({} bytes of control parts, {} bytes of payload parts); limits: {} processes, \
         {} publishers, {} subscribers in `default`; heartbeat {}/{} ms",
        paths.domain,
        paths.socket.display(),
        identity.pid,
        segments.mgmt_segment().name(),
        identity.mgmt_size,
        config.group_count(),
        identity.control_size,
        identity.data_size,
        config.limits.max_processes,
        config.limits.max_publishers,
        config.limits.max_subscribers,
        config.heartbeat.interval_ms,
        config.heartbeat.timeout_ms,
    );
}
