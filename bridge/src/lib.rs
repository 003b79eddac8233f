//! `zerocp-zenoh`: a bridge between one ZeroCP domain and Zenoh, so that
//! chosen services reach other machines (a robot's second computer, a
//! vehicle computer, a developer's laptop).
//!
//! The bridge is an ordinary ZeroCP process of its domain (`zerocpctl`
//! lists it and its ports) and a Zenoh session. It forwards the services
//! its [`BridgeConfig`] names: outbound ones from the domain into Zenoh,
//! inbound ones from Zenoh into the domain, each on the key expression
//! [`key_expr`] gives, with the payload's bytes unchanged and an
//! [`Attachment`] carrying the type name and the publisher's sequence
//! number. The [`Bridge`] module docs say how it avoids loops and what it
//! counts. Zenoh and its dependencies stay in this crate: an application
//! that links only `zerocp` links none of them.
//!
//! Run it as `zerocp-zenoh --config bridge.toml` (see the crate's
//! README.md).

mod attachment;
mod bridge;
mod bridge_mark;
mod config;
mod inbound;
mod inbound_server;
mod key_expr;
mod origin;
mod outbound;
mod outbound_server;
mod rate_limit;
mod route_context;
mod server_route;

pub use attachment::{Attachment, AttachmentError};
pub use bridge::{Bridge, Counters, StartError};
pub use bridge_mark::MARK_SERVICE;
pub use config::{
    BridgeConfig, ConfigError, Congestion, Mode, Priority, Route, TypeSpec, ZenohConfig,
};
pub use key_expr::key_expr;
pub use origin::domain_origin;
pub use server_route::ServerRoute;
