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
//! | [`mempool_config`] | the `[[mempool]]` tables: size classes, defaults, validation |
//! | [`quota_config`] | `[quota]` and `[group.quota]`: the chunk quotas of every pool |
//! | [`service_pattern`] | `service/instance/event` patterns with whole-part `*` |
//! | [`segment_groups`] | which group a service belongs to; the publish/subscribe checks |
//! | [`daemon`] | start (lock, stale cleanup, segments, socket) and stop |
//! | [`segment_owner`] | creating, mapping and unlinking the mgmt and data segments |
//! | [`diroute`] | the epoll event loop: listener, clients, pidfds, signals, ticks |
//! | [`stop_signals`] | SIGTERM, SIGINT, SIGHUP, SIGQUIT as descriptors for that loop |
//! | [`sd_notify`] | readiness, status, watchdog and stopping for systemd |
//! | [`client_connection`] | one client connection and its frame I/O |
//! | [`control_plane`] | the state and every change to it (register, ports, death) |
//! | [`process_manager`] | registered processes, their slots, pidfds, heartbeat files |
//! | [`heartbeat_file`] | one process's heartbeat, in a memory file shared with it only |
//! | [`port_id`] | `PortId`: kind, slot index and generation of one port |
//! | [`port_registry`] | port slot allocation with generations; a slot's daemon-written parts |
//! | [`route_table`] | services → ports, type checks, which subscribers each publisher serves |
//! | [`topology_writer`] | writing publishers' topologies into their group's control part |
//! | [`heartbeat_scheduler`] | tick timing and heartbeat timeouts |
//! | [`unresponsive`] | a heartbeat timeout: unrouting at once, reclaiming only at the exit |
//! | [`reclaim`] | returning a dead or removed port's chunks |
//! | [`introspection`] | status, processes, ports, mempool and group queries |
//! | [`ctl`] | `zerocpctl`: queries over the control socket, tables and JSON |
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
//! `QueryProcesses`, `QueryServices`, `QueryMempools`, `QueryGroups`) without registering;
//! that is how `zerocpctl` works. Everything else needs `Register` first
//! (one per connection). Unregistered connections are limited
//! (`limits.max_pending_connections`) and dropped after
//! `limits.register_timeout_ms` without a frame.

pub mod cli;
pub mod client_connection;
pub mod config;
pub mod control_plane;
#[cfg(test)]
mod control_plane_tests;
pub mod ctl;
pub mod daemon;
pub mod diroute;
pub mod group_config;
pub mod heartbeat_file;
pub mod heartbeat_scheduler;
pub mod introspection;
pub mod logging;
pub mod mempool_config;
pub mod port_id;
pub mod port_registry;
pub mod process_manager;
pub mod quota_config;
pub mod reclaim;
pub mod route_table;
pub mod sd_notify;
pub mod segment_groups;
pub mod segment_owner;
pub mod service_pattern;
pub mod stop_signals;
pub mod topology_writer;
pub mod unresponsive;
