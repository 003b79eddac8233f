//! The `mempools` answer: every pool's usage and quotas.
//!
//! JSON shape (a **derived shape**: each [`MempoolInfo`] serialised as it
//! is, so a field added to it appears here too):
//! `{"schema", "mempools":[{"chunk_size", "chunk_count", "used", "min_free", "group",
//! "process_quota", "port_quota"}]}` (the quotas in chunks)

use serde::Serialize;
use zerocp_core::wire::MempoolInfo;

use super::{table, to_json};

/// `mempools`, human-readable.
pub fn mempools_text(pools: &[MempoolInfo]) -> String {
    let rows: Vec<Vec<String>> = pools
        .iter()
        .map(|p| {
            vec![
                p.group.as_str().to_owned(),
                p.chunk_size.to_string(),
                p.chunk_count.to_string(),
                p.used.to_string(),
                p.min_free.to_string(),
                p.process_quota.to_string(),
                p.port_quota.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "GROUP",
            "CHUNK SIZE",
            "COUNT",
            "USED",
            "MIN FREE",
            "PROCESS QUOTA",
            "PORT QUOTA",
        ],
        &rows,
    )
}

/// `mempools --json`: exactly
/// `{"schema":1,"mempools":[{"chunk_size":N,"chunk_count":N,"used":N,"min_free":N,"group":"NAME",
/// "process_quota":N,"port_quota":N}, …]}`.
///
/// ```
/// use zerocp_core::fixed_string::FixedString;
/// use zerocp_core::wire::MempoolInfo;
/// let group = FixedString::try_from_str("default").unwrap();
/// let pools = [MempoolInfo {
///     chunk_size: 128, chunk_count: 4, used: 1, min_free: 2, group,
///     process_quota: 2, port_quota: 1,
/// }];
/// assert_eq!(
///     zerocp_daemon::ctl::render::mempools_json(&pools),
///     r#"{"schema":1,"mempools":[{"chunk_size":128,"chunk_count":4,"used":1,"min_free":2,"group":"default","#
///         .to_owned()
///         + r#""process_quota":2,"port_quota":1}]}"#
/// );
/// ```
pub fn mempools_json(pools: &[MempoolInfo]) -> String {
    #[derive(Serialize)]
    struct All<'a> {
        mempools: &'a [MempoolInfo],
    }
    to_json(&All { mempools: pools })
}
