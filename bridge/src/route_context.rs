//! [`RouteContext`]: what every route of a bridge starts from.

use std::sync::Arc;

use zenoh::Session;
use zerocp::Runtime;

use crate::bridge::Counters;

/// The bridge's domain and Zenoh session, where its keys live, the
/// domain's id ([`crate::domain_origin`]) and the counters every route
/// adds to.
#[derive(Clone, Copy)]
pub(crate) struct RouteContext<'a> {
    pub(crate) runtime: &'a Arc<Runtime>,
    pub(crate) session: &'a Session,
    pub(crate) key_prefix: &'a str,
    pub(crate) origin: u64,
    pub(crate) counters: &'a Arc<Counters>,
}
