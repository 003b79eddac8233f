//! One snapshot: the queries a frame of `top` is made of, asked together.
//!
//! A snapshot is the registered processes, every port with its counters and
//! every mempool, asked on one new connection (an unregistered connection
//! is closed by the daemon after its register timeout, so `top` does not
//! keep one open between frames), with the instant the answers came back:
//! the rates of a frame are the counters' differences between two
//! snapshots divided by the time between them ([`super::rates`]). A daemon
//! with no room for the connection is asked again as every query is
//! (`ctl::retrying`).

use std::time::Instant;

use zerocp_core::wire::{MempoolInfo, PortInfo, ProcessInfo};

use crate::ctl::{CtlClient, CtlError, retrying};

/// What the daemon answered at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The domain asked.
    pub domain: String,
    /// When the last answer arrived.
    pub at: Instant,
    /// The registered processes.
    pub processes: Vec<ProcessInfo>,
    /// Every port, ordered by service.
    pub ports: Vec<PortInfo>,
    /// Every mempool.
    pub mempools: Vec<MempoolInfo>,
}

impl Snapshot {
    /// Asks the daemon of `domain` (`None`: `ZEROCP_DOMAIN`, else
    /// `default`) for one snapshot.
    ///
    /// ```
    /// use zerocp_daemon::ctl::CtlError;
    /// use zerocp_daemon::ctl::top::Snapshot;
    /// match Snapshot::take(Some("doc-top-no-daemon")) {
    ///     Err(CtlError::NotRunning { .. } | CtlError::RunDir(_)) => {}
    ///     other => panic!("expected no daemon, got {other:?}"),
    /// }
    /// ```
    pub fn take(domain: Option<&str>) -> Result<Self, CtlError> {
        retrying(|| {
            let mut client = CtlClient::connect(domain)?;
            let processes = client.processes()?;
            let ports = client.ports()?;
            let mempools = client.mempools()?;
            Ok(Self {
                domain: client.domain().to_owned(),
                at: Instant::now(),
                processes,
                ports,
                mempools,
            })
        })
    }
}
