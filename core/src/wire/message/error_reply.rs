//! A refused request: the daemon's [`ErrorReply`] and its [`ErrorCode`].

use crate::fixed_string::FixedString;
use crate::wire::codec::{wire_enum, wire_struct};

wire_enum! {
    /// Why the daemon refused a request (see [`ErrorReply::detail`] for the
    /// specifics).
    pub enum ErrorCode: u16 {
        /// The request frame did not decode.
        Malformed = 1,
        /// The client speaks a protocol version the daemon does not.
        UnsupportedVersion = 2,
        /// The request needs a registered connection.
        NotRegistered = 3,
        /// The connection is already registered.
        AlreadyRegistered = 4,
        /// A service description is not valid.
        ServiceNameInvalid = 5,
        /// The port's type differs from the service's other ports.
        TypeMismatch = 6,
        /// The payload type is larger than the largest mempool chunk.
        PayloadTooLarge = 7,
        /// A configured limit (processes, ports, queue capacity) is reached.
        LimitReached = 8,
        /// No such port (or it is not this process's).
        NoSuchPort = 9,
        /// The daemon failed internally.
        Internal = 10,
        /// The daemon is stopping.
        ShuttingDown = 11,
        /// The peer's credentials are not allowed.
        AccessDenied = 12,
        /// A request argument is out of range (e.g. a queue capacity of 0).
        InvalidArgument = 13,
        /// The request is not valid in this direction or state.
        UnexpectedMessage = 14,
        /// No port of the caller is routed to the port it asked about.
        NotRouted = 15,
        /// The port has no wake descriptor (its owner never armed it).
        NotArmed = 16,
    }
}

wire_struct! {
    /// Daemon → client: the request failed.
    pub struct ErrorReply {
        /// What kind of failure.
        pub code: ErrorCode,
        /// Human-readable specifics (names, values).
        pub detail: FixedString<128>,
    }
}

impl ErrorReply {
    /// An error reply; `detail` is cut at a character boundary to fit.
    pub fn new(code: ErrorCode, detail: &str) -> Self {
        Self {
            code,
            detail: FixedString::from_str_truncated(detail),
        }
    }
}
