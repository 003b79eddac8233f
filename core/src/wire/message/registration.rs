//! Registration: the client's [`Register`] and the daemon's [`Registered`]
//! (which carries the mgmt segment and the process's heartbeat file).

use crate::fixed_string::FixedString;
use crate::wire::codec::wire_struct;

wire_struct! {
    /// Client → daemon: register this connection as a process. The daemon
    /// takes the pid from `SO_PEERCRED`, never from a message.
    pub struct Register {
        /// The client's [`PROTOCOL_VERSION`](crate::wire::PROTOCOL_VERSION).
        pub protocol_version: u8,
        /// A name for introspection (e.g. the executable's).
        pub process_name: FixedString<32>,
    }
}

wire_struct! {
    /// Daemon → client: registration accepted. The frame carries two file
    /// descriptors (`SCM_RIGHTS`): the domain's mgmt segment, **read-only**
    /// (state word, epoch, limits), then this process's own heartbeat file,
    /// read-write (created for this registration, held by nobody else but
    /// the daemon); the sizes here let the runtime check them. A group's
    /// memory comes only with a port in that group ([`PortCreated`](super::PortCreated)).
    pub struct Registered {
        /// The process's slot (the owner of its ports; also names its
        /// heartbeat file).
        pub process_slot: u32,
        /// The daemon's pid.
        pub daemon_pid: u32,
        /// The daemon's epoch (changes at every daemon start).
        pub epoch: u64,
        /// Size of the management segment in bytes.
        pub mgmt_size: u64,
        /// Size of this process's heartbeat file in bytes.
        pub heartbeat_size: u32,
        /// Segment groups of the domain (`default` included).
        pub group_count: u32,
        /// How often the runtime must beat.
        pub heartbeat_interval_ms: u32,
        /// After how long without a beat the process is unresponsive.
        pub heartbeat_timeout_ms: u32,
    }
}
