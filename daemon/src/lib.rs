//! # zerocp-daemon
//!
//! The ZeroCP daemon `zerocpd` and its control plane, Diroute, plus the
//! client side of `zerocpctl`. The binaries are thin: `src/bin/zerocpd.rs`
//! parses the command line and calls [`daemon::run`]; `src/bin/zerocpctl.rs`
//! calls [`ctl`].
//!
//! | module | owns |
//! |---|---|
//! | [`config`] | the TOML configuration, its defaults and validation |
//! | [`group_config`] | the `[[group]]` tables: segment groups, their rules and pools |
//! | [`limits_config`] | `[limits]`: processes, ports, queues, history, unregistered connections |
//! | [`mempool_config`] | the `[[mempool]]` tables: size classes, defaults, validation |
//! | [`quota_config`] | `[quota]` and `[group.quota]`: the chunk quotas of every pool |
//! | [`service_pattern`] | `service/instance/event` patterns with whole-part `*` |
//! | [`segment_groups`] | which group a service belongs to; the publish/subscribe checks |
//! | [`daemon`] | start (lock, stale cleanup, segments, socket) and stop |
//! | [`segment_owner`] | creating and mapping the mgmt segment (and the helpers group memory uses) |
//! | [`group_memory`] | one incarnation of a segment group's control and payload parts and their chunk manager |
//! | [`diroute`] | the epoll event loop: listener, clients, pidfds, signals, ticks |
//! | [`stop_signals`] | SIGTERM, SIGINT, SIGHUP, SIGQUIT as descriptors for that loop |
//! | [`sd_notify`] | readiness, status, watchdog and stopping for systemd |
//! | [`client_connection`] | one client connection and its frame I/O |
//! | [`connection_refusals`] | connections turned away: counters, one log line per kind and second |
//! | [`control_plane`] | the state and every change to it (register, ports, death) |
//! | [`request_error`] | `RequestError`: a refused request's code and detail |
//! | [`daemon_identity`] | `DaemonIdentity`: pid, uid, epoch, domain and memory sizes, fixed at start |
//! | [`pending_limits`] | the limits on unregistered connections and whom a newcomer evicts |
//! | [`process_manager`] | registered processes, their slots, pidfds, heartbeat files |
//! | [`heartbeat_file`] | one process's heartbeat, in a memory file shared with it only |
//! | [`port_id`] | `PortId`: kind, slot index and generation of one port |
//! | [`port_registry`] | port slot allocation with generations; a slot's daemon-written parts |
//! | [`port_type`] | what a port's samples carry (payload, slice or not, user header) and the chunk bytes they need |
//! | [`route_table`] | services → ports, type checks, which subscribers each publisher serves |
//! | [`topology_writer`] | writing publishers' topologies into their group's control part |
//! | [`heartbeat_scheduler`] | tick timing and heartbeat timeouts |
//! | [`history_notice`] | telling a publisher's owner that a subscriber wants its history (`HistoryWanted`) |
//! | [`unresponsive`] | a heartbeat timeout: unrouting at once, reclaiming only at the exit |
//! | [`reclaim`] | returning a dead or removed port's chunks |
//! | [`audit`] | the audit of shared memory: when it runs, and `on_corruption`, where every counted finding goes |
//! | [`audit_response`] | what the daemon does about a finding: revoke the port, reset the group, or nothing more |
//! | [`audit_config`] | `[audit]`: the audit's interval, and when a group with a corrupt pool is reset |
//! | [`audit_findings`] | `Finding`: what the audit found, and whom it affects |
//! | [`audit_ledger`] | which findings count, rate-limited logging, the counters |
//! | [`group_audit`] | the audit of one group's control part |
//! | [`chunk_accounting`] | reference counts against listed references, in a consistent snapshot |
//! | [`heartbeat_audit`] | the audit of the heartbeat slots |
//! | [`revocation`] | revoking a port while its owner lives, and telling the owner |
//! | [`group_reset`] | resetting a segment group onto fresh memory (by request, when chunks were lost, on a corrupt pool) |
//! | [`operator`] | the requests only root and the daemon's uid may make: reset a group, revoke a port |
//! | [`introspection`] | status, processes, ports, mempool and group queries |
//! | [`service_layout`] | the type layout a port request carries: checked, kept per service, the service layout query |
//! | [`ctl`] | `zerocpctl`: queries over the control socket, tables and JSON; the live commands `echo`, `hz`, `bw` ([`ctl::live`], a subscriber through the runtime `zerocp`) |
//! | [`cli`] | what both command lines share: help, version, the bad-command-line exit |
//! | [`logging`] | the stderr logger (journal priorities or timestamps) |
//!
//! ## Built-in defaults (no config file)
//!
//! Mempools 128 B×1024, 1 KiB×512, 16 KiB×128, 128 KiB×32, 1 MiB×8, 4 MiB×4;
//! limits 64 processes, 256 publishers, 1024 subscribers, queue capacity 256,
//! history 32; heartbeat every 100 ms, timeout 3 s; socket and shared memory
//! mode 0660; chunk quotas of half of every pool per process and per port
//! ([`quota_config`]). See [`config`] and `daemon/zerocpd.example.toml`.
//!
//! ## Connections
//!
//! A connection may send the introspection queries (`QueryStatus`,
//! `QueryProcesses`, `QueryServices`, `QueryMempools`, `QueryGroups`,
//! `QueryServiceLayout`) and
//! the operator's requests (`ResetGroup`, `RevokePort`: root and the
//! daemon's uid only, [`operator`]) without registering; that is how
//! `zerocpctl` works. Everything else needs `Register` first
//! (one per connection).
//!
//! Nobody can lock the others out with connections ([`diroute`]'s
//! admission, [`pending_limits`]):
//!
//! - A peer whose uid and gid `[access]` does not admit is answered
//!   `AccessDenied` at accept and closed at once: it never holds a slot.
//! - A newcomer is never refused for room. Unregistered connections are
//!   limited per uid (`limits.max_pending_per_uid`, 8) and in all
//!   (`limits.max_pending_connections`, 64); a newcomer beyond a limit
//!   evicts the oldest unregistered connection of its own uid (per-uid
//!   limit) or of the uid holding the most (total), which is told why
//!   (`LimitReached`, naming the limit) and closed. A flood thus evicts the
//!   flooder's own connections; `zerocpctl` and applications of other uids
//!   always get in. Of the flooder's own uid, a connection gives way only
//!   after `max_pending_per_uid - 1` newer ones, its queued frames are served
//!   at accept, and the runtime and `zerocpctl` connect again after a
//!   jittered backoff when evicted.
//! - An unregistered connection lives `limits.register_timeout_ms` from its
//!   accept; queries do not extend it (a client that queries every second
//!   can no longer keep a slot). Registered connections are not limited.
//! - Every connection turned away is told why (an `Error` frame with
//!   request id 0 before the close), counted (`Status`:
//!   `refused_connections`, `evicted_connections`, `expired_connections`;
//!   `zerocpctl status`) and logged at most once per second per kind, as a
//!   summary by uid ([`connection_refusals`]).

pub mod audit;
pub mod audit_config;
pub mod audit_findings;
pub mod audit_ledger;
pub mod audit_response;
#[cfg(test)]
mod audit_response_tests;
#[cfg(test)]
mod audit_tests;
pub mod chunk_accounting;
pub mod cli;
pub mod client_connection;
pub mod config;
pub mod connection_refusals;
pub mod control_plane;
#[cfg(test)]
mod control_plane_tests;
pub mod ctl;
pub mod daemon;
pub mod daemon_identity;
pub mod diroute;
pub mod discovery_notice;
#[cfg(test)]
mod discovery_notice_tests;
pub mod group_audit;
pub mod group_config;
pub mod group_memory;
pub mod group_reset;
pub mod heartbeat_audit;
pub mod heartbeat_file;
pub mod heartbeat_scheduler;
pub mod history_notice;
#[cfg(test)]
mod history_notice_tests;
pub mod introspection;
pub mod limits_config;
pub mod logging;
pub mod memory_config;
pub mod mempool_config;
pub mod operator;
pub mod pending_limits;
pub mod port_id;
pub mod port_registry;
pub mod port_type;
pub mod process_counters;
pub mod process_manager;
pub mod quota_config;
pub mod reclaim;
#[cfg(test)]
mod recovery_tests;
pub mod request_error;
pub mod revocation;
pub mod route_table;
pub mod sd_notify;
pub mod segment_groups;
pub mod segment_owner;
pub mod sender_notice;
pub mod service_layout;
pub mod service_pattern;
pub mod slot_table;
pub mod stop_signals;
pub mod topology_writer;
pub mod unresponsive;
pub mod wake_fd_requests;
pub mod wake_fds;
