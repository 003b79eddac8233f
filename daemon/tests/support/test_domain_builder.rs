//! [`TestDomainBuilder`]: the configuration a [`TestDomain`] starts with,
//! written as the daemon's TOML file: small limits and pools
//! ([`DEFAULT_MEMPOOLS`]), a fast heartbeat, a generous registration
//! timeout, and what a test changes (heartbeat, quotas, pools, or a whole
//! file of its own).

use super::TestDomain;

/// The configuration a [`TestDomain`] starts with unless told otherwise.
pub const DEFAULT_MEMPOOLS: &[(u32, u32)] = &[(64, 64), (1024, 32), (16 * 1024, 8)];

/// Builder of a [`TestDomain`].
#[derive(Debug, Clone)]
pub struct TestDomainBuilder {
    heartbeat_interval_ms: u64,
    heartbeat_timeout_ms: u64,
    kill_unresponsive: bool,
    max_processes: u32,
    mempools: Vec<(u32, u32)>,
    quota: Option<(u32, u32)>,
    config_toml: Option<String>,
    log_level: String,
}

impl Default for TestDomainBuilder {
    fn default() -> Self {
        Self {
            heartbeat_interval_ms: 50,
            heartbeat_timeout_ms: 5_000,
            kill_unresponsive: false,
            max_processes: 16,
            mempools: DEFAULT_MEMPOOLS.to_vec(),
            quota: None,
            config_toml: None,
            log_level: "debug".into(),
        }
    }
}

impl TestDomainBuilder {
    /// Heartbeat interval the daemon announces (default 50 ms).
    pub fn heartbeat_interval_ms(mut self, ms: u64) -> Self {
        self.heartbeat_interval_ms = ms;
        self
    }

    /// Heartbeat timeout after which a silent process is unresponsive (default 5 s).
    pub fn heartbeat_timeout_ms(mut self, ms: u64) -> Self {
        self.heartbeat_timeout_ms = ms;
        self
    }

    /// `heartbeat.kill_unresponsive` (default false).
    pub fn kill_unresponsive(mut self, kill: bool) -> Self {
        self.kill_unresponsive = kill;
        self
    }

    /// `limits.max_processes` (default 16).
    pub fn max_processes(mut self, n: u32) -> Self {
        self.max_processes = n;
        self
    }

    /// The mempools as (size, count) pairs (default [`DEFAULT_MEMPOOLS`]).
    pub fn mempools(mut self, pools: &[(u32, u32)]) -> Self {
        self.mempools = pools.to_vec();
        self
    }

    /// `[quota]`: `process_percent` and `port_percent` (default: the
    /// daemon's, half of every pool). `(100, 100)` is no quota, for tests
    /// that empty a pool from one process on purpose.
    pub fn quota(mut self, process_percent: u32, port_percent: u32) -> Self {
        self.quota = Some((process_percent, port_percent));
        self
    }

    /// A complete configuration file, used verbatim (the other settings are ignored).
    pub fn config_toml(mut self, text: &str) -> Self {
        self.config_toml = Some(text.into());
        self
    }

    /// `--log-level` of the daemon (default `debug`; the log is shown when a test fails).
    pub fn log_level(mut self, level: &str) -> Self {
        self.log_level = level.into();
        self
    }

    /// The configuration text this builder gives the daemon.
    pub fn config_text(&self) -> String {
        if let Some(text) = &self.config_toml {
            return text.clone();
        }
        let mut text = format!(
            "[limits]\nmax_processes = {}\nmax_publishers = 32\nmax_subscribers = 64\n\
             register_timeout_ms = 20000\n\n[heartbeat]\ninterval_ms = {}\ntimeout_ms = {}\n\
             kill_unresponsive = {}\n",
            self.max_processes,
            self.heartbeat_interval_ms,
            self.heartbeat_timeout_ms,
            self.kill_unresponsive
        );
        if let Some((process, port)) = self.quota {
            text.push_str(&format!(
                "\n[quota]\nprocess_percent = {process}\nport_percent = {port}\n"
            ));
        }
        for (size, count) in &self.mempools {
            text.push_str(&format!("\n[[mempool]]\nsize = {size}\ncount = {count}\n"));
        }
        text
    }

    /// Starts the daemon and waits until its control socket accepts connections.
    pub fn start(self) -> TestDomain {
        let mut domain = TestDomain::prepare(&self.config_text());
        domain.spawn(&self.log_level);
        domain
    }

    /// Prepares the domain (directories, config) without starting a daemon.
    pub fn prepare(self) -> TestDomain {
        TestDomain::prepare(&self.config_text())
    }
}
