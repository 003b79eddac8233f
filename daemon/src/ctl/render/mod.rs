//! Rendering query answers: aligned tables for people, JSON for programs.
//!
//! One module per answer, each documenting the JSON shape it writes next to
//! the code that writes it: [`status`], [`processes`], [`services`],
//! [`info`] (one service with its owners' process names),
//! [`mempools`], [`groups`] and the operator's answers ([`operator`]:
//! `reset-group`, `revoke-port`), [`metrics`] (its format in
//! `exposition`); [`table()`] is the aligned table every
//! human-readable answer is printed as. Everything is re-exported here, so
//! `render::status_json` and the like are the paths callers use.
//!
//! The JSON shapes are part of the CLI contract (tests check them); keys
//! appear in the order the structs declare them. Every JSON answer starts
//! with `"schema": `[`JSON_SCHEMA`], the version of the shapes
//! `docs/cli-json.md` describes: within one version keys are only ever
//! added, never removed, renamed or given another meaning; anything else
//! bumps it.
//!
//! **Derived shapes.** Where the JSON of an answer is exactly the fields of
//! its wire type, the wire type is serialised as it is (`zerocp-core`'s
//! feature `serde` derives `Serialize` for it): a
//! [`Status`](zerocp_core::wire::Status) after the domain and the socket
//! (flattened into one object), and each
//! [`MempoolInfo`](zerocp_core::wire::MempoolInfo). A field added to those
//! wire types thus appears in the JSON too, which the tests (exact strings)
//! make a deliberate change.
//!
//! **Presentations.** Processes, services and groups are shown, not
//! mirrored: a process's `slot` is the wire's `process_slot` and its `state`
//! a word, not a code; services group the wire's flat list of ports under
//! each service, with the service as one string and the type's fields
//! renamed; a group's rule scope is a boolean `everyone`. Their JSON structs
//! stay in their modules, so the shape does not follow the wire messages.

mod exposition;
pub mod groups;
pub mod info;
pub mod mempools;
pub mod metrics;
pub mod operator;
pub mod processes;
pub mod services;
pub mod status;
mod table;

use serde::Serialize;

pub use groups::{groups_json, groups_text};
pub use info::{info_json, info_text};
pub use mempools::{mempools_json, mempools_text};
pub use metrics::{Scrape, metrics_json, metrics_text};
pub use operator::{reset_json, reset_text, revoked_json, revoked_text};
pub use processes::{processes_json, processes_text};
pub use services::{services_json, services_text};
pub use status::{StatusJson, status_fields, status_json, status_text};
pub use table::table;

/// Version of the JSON shapes (`docs/cli-json.md`), the first key of every
/// JSON answer.
pub const JSON_SCHEMA: u32 = 1;

/// An answer's JSON object after `"schema"`.
#[derive(Serialize)]
struct Versioned<'a, T> {
    schema: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// `value` (a struct: its fields become keys) as one line of JSON, after
/// `"schema": JSON_SCHEMA`; every JSON the CLI writes goes through here,
/// the live commands' lines included.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // Serialising plain structs of strings, numbers and JSON values
    // (flattened ones included) cannot fail.
    serde_json::to_string(&Versioned {
        schema: JSON_SCHEMA,
        body: value,
    })
    .unwrap_or_default()
}
