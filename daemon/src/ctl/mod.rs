//! `zerocpctl`: look at a running domain.
//!
//! `zerocpctl [--domain NAME] status | processes | services | info SERVICE |
//! mempools | groups | metrics [--json]` connects to the domain's control
//! socket and sends introspection queries without registering (the daemon
//! answers them on any connection that passes its access check), so it takes
//! no process slot and leaves no trace. `echo`, `hz` and `bw` are different:
//! they watch samples as they flow, as a registered subscriber ([`live`]).
//! `top` asks the same queries again every interval, on a new connection
//! each time, and shows their counters as rates in a live terminal view or,
//! with `--once`, one frame of text or JSON ([`top`]).
//! `reset-group NAME` and `revoke-port GROUP KIND INDEX` are the operator's
//! requests (root and the daemon's uid only, `zerocp_daemon::operator`):
//! they interrupt the processes of the group or the port's owner, who are
//! told why. The
//! domain is `--domain`, else `ZEROCP_DOMAIN`, else `default`; the socket is
//! found like a runtime finds it (`ZEROCP_RUN_DIR`, `/run/zerocp`,
//! `$XDG_RUNTIME_DIR/zerocp`, `/tmp/zerocp-<uid>`).
//!
//! Output is an aligned table, or with `--json` one line of JSON whose shape
//! [`render`] documents (`docs/cli-json.md`); `metrics` prints the
//! Prometheus text format ([`render::metrics`]). When no daemon answers, the error names the socket
//! path and the exit status is 1.
//!
//! A daemon flooded with connections of this user's uid may evict
//! `zerocpctl`'s unregistered connection before it is answered, to make
//! room for newer ones (`LimitReached`, see `zerocp_daemon::pending_limits`):
//! the query then runs again on a new connection, after a short jittered
//! wait, [`ATTEMPTS`] times in all; if every attempt is turned away the
//! error says so and gives the daemon's reason.

pub mod client;
pub mod live;
pub mod render;
pub mod top;

use std::time::Duration;

use zerocp_os_linux::backoff::Backoff;

pub use client::{CtlClient, CtlError};
use zerocp_core::type_layout::TypeLayout;
use zerocp_core::wire::PortKind;

/// Connections tried for one query when the daemon has no room.
pub const ATTEMPTS: u32 = 6;
/// The first wait before connecting again (jittered down to half); it
/// doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(20);
/// The longest wait between two attempts.
const MAX_RETRY: Duration = Duration::from_millis(500);

/// What to show, or do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The daemon's status.
    Status,
    /// Registered processes.
    Processes,
    /// Services and their ports.
    Services,
    /// One service (written `Service/Instance/Event`): its type and its
    /// ports with their owners' process names.
    Info(String),
    /// Mempool usage.
    Mempools,
    /// Segment groups: patterns, rules, pools.
    Groups,
    /// Every counter and gauge, in the Prometheus text format.
    Metrics,
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

/// Runs `query` against the daemon of `domain` and returns the text to
/// print; on a new connection again while the daemon has no room for it
/// (module docs).
pub fn run(domain: Option<&str>, query: Query, json: bool) -> Result<String, CtlError> {
    retrying(|| run_once(domain, &query, json))
}

/// Runs `attempt` until it succeeds or fails otherwise than for lack of
/// room, at most [`ATTEMPTS`] times, with jittered waits in between.
pub(crate) fn retrying<T>(mut attempt: impl FnMut() -> Result<T, CtlError>) -> Result<T, CtlError> {
    let mut backoff = Backoff::new(FIRST_RETRY, MAX_RETRY);
    let mut attempts = 1;
    loop {
        match attempt() {
            Err(CtlError::NoRoom { .. }) if attempts < ATTEMPTS => {
                std::thread::sleep(backoff.next_wait());
                attempts += 1;
            }
            Err(CtlError::NoRoom { detail, .. }) => {
                return Err(CtlError::NoRoom { attempts, detail });
            }
            result => return result,
        }
    }
}

/// One attempt of [`run`], on one connection.
fn run_once(domain: Option<&str>, query: &Query, json: bool) -> Result<String, CtlError> {
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
        Query::Info(service) => {
            let ports = client.service_ports(service)?;
            let processes = client.processes()?;
            // `service_ports` returns at least one port.
            let layout = match ports.first() {
                Some(port) => client.service_layout(&port.service)?,
                None => TypeLayout::unknown(),
            };
            if json {
                render::info_json(&ports, &processes, &layout)
            } else {
                render::info_text(&ports, &processes, &layout)
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
        Query::Metrics => {
            let status = client.status()?;
            let (processes, ports) = (client.processes()?, client.ports()?);
            let mempools = client.mempools()?;
            let scrape = render::Scrape {
                domain: client.domain(),
                status: &status,
                processes: &processes,
                ports: &ports,
                mempools: &mempools,
            };
            if json {
                render::metrics_json(&scrape)
            } else {
                render::metrics_text(&scrape)
            }
        }
        Query::ResetGroup(name) => {
            let done = client.reset_group(name)?;
            if json {
                render::reset_json(name, &done)
            } else {
                render::reset_text(name, &done)
            }
        }
        Query::RevokePort { group, kind, index } => {
            let port = client.revoke_port(*group, *kind, *index)?;
            if json {
                render::revoked_json(&port)
            } else {
                render::revoked_text(&port)
            }
        }
    };
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::wire::ErrorCode;

    fn no_room() -> CtlError {
        CtlError::NoRoom {
            attempts: 1,
            detail: "evicted: no room".into(),
        }
    }

    #[test]
    fn a_query_turned_away_for_room_runs_again_a_few_times_then_says_why() {
        let mut calls = 0;
        let ok = retrying(|| {
            calls += 1;
            if calls < 3 { Err(no_room()) } else { Ok(calls) }
        });
        assert_eq!(ok.unwrap(), 3);

        let mut calls = 0;
        let e = retrying::<()>(|| {
            calls += 1;
            Err(no_room())
        })
        .unwrap_err();
        assert_eq!(calls, ATTEMPTS);
        let text = e.to_string();
        assert!(text.contains(&format!("({ATTEMPTS} attempts)")), "{text}");
        assert!(text.ends_with("LimitReached: evicted: no room"), "{text}");

        let mut calls = 0;
        let e = retrying::<()>(|| {
            calls += 1;
            Err(CtlError::Refused {
                code: ErrorCode::AccessDenied,
                detail: "uid 7".into(),
            })
        })
        .unwrap_err();
        assert_eq!(calls, 1, "{e}");
    }
}
