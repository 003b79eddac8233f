//! `zerocpctl`: look at a running domain.
//!
//! `zerocpctl [--domain NAME] status | processes | services | mempools | groups [--json]`
//! connects to the domain's control socket and sends introspection queries
//! without registering (the daemon answers them on any connection that passes
//! its access check), so it takes no process slot and leaves no trace.
//! `reset-group NAME` and `revoke-port GROUP KIND INDEX` are the operator's
//! requests (root and the daemon's uid only, `zerocp_daemon::operator`):
//! they interrupt the processes of the group or the port's owner, who are
//! told why. The
//! domain is `--domain`, else `ZEROCP_DOMAIN`, else `default`; the socket is
//! found like a runtime finds it (`ZEROCP_RUN_DIR`, `/run/zerocp`,
//! `$XDG_RUNTIME_DIR/zerocp`, `/tmp/zerocp-<uid>`).
//!
//! Output is an aligned table, or with `--json` one line of JSON whose shape
//! [`render`] documents. When no daemon answers, the error names the socket
//! path and the exit status is 1.

pub mod client;
pub mod render;

pub use client::{CtlClient, CtlError};
use zerocp_core::wire::PortKind;

/// What to show, or do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The daemon's status.
    Status,
    /// Registered processes.
    Processes,
    /// Services and their ports.
    Services,
    /// Mempool usage.
    Mempools,
    /// Segment groups: patterns, rules, pools.
    Groups,
    /// Reset the segment group of this name onto fresh memory.
    ResetGroup(String),
    /// Revoke a port.
    RevokePort {
        /// Its segment group's index.
        group: u32,
        /// Publisher or subscriber.
        kind: PortKind,
        /// Its index in the group.
        index: u32,
    },
}

/// Runs `query` against the daemon of `domain` and returns the text to print.
pub fn run(domain: Option<&str>, query: Query, json: bool) -> Result<String, CtlError> {
    let mut client = CtlClient::connect(domain)?;
    let text = match query {
        Query::Status => {
            let status = client.status()?;
            let fields = render::status_fields(
                client.domain(),
                client.path().display().to_string(),
                &status,
            );
            if json {
                render::status_json(&fields)
            } else {
                render::status_text(&fields)
            }
        }
        Query::Processes => {
            let processes = client.processes()?;
            if json {
                render::processes_json(&processes)
            } else {
                render::processes_text(&processes)
            }
        }
        Query::Services => {
            let ports = client.ports()?;
            if json {
                render::services_json(&ports)
            } else {
                render::services_text(&ports)
            }
        }
        Query::Mempools => {
            let pools = client.mempools()?;
            if json {
                render::mempools_json(&pools)
            } else {
                render::mempools_text(&pools)
            }
        }
        Query::Groups => {
            let groups = client.groups()?;
            if json {
                render::groups_json(&groups)
            } else {
                render::groups_text(&groups)
            }
        }
        Query::ResetGroup(name) => {
            let done = client.reset_group(&name)?;
            if json {
                render::reset_json(&name, &done)
            } else {
                render::reset_text(&name, &done)
            }
        }
        Query::RevokePort { group, kind, index } => {
            let port = client.revoke_port(group, kind, index)?;
            if json {
                render::revoked_json(&port)
            } else {
                render::revoked_text(&port)
            }
        }
    };
    Ok(text)
}
