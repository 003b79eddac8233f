//! The operator's answers: what `reset-group` and `revoke-port` did.
//!
//! JSON shapes:
//! - `reset-group`: `{"schema", "group", "index", "incarnation", "revoked"}` (the
//!   group's name and index, the incarnation of its new memory, the ports
//!   revoked)
//! - `revoke-port`: `{"schema", "group", "kind", "port", "generation", "reason"}`

use serde::Serialize;
use zerocp_core::wire::{GroupReset, PortRevoked};

use super::to_json;

/// `reset-group`: what the daemon did to group `name`.
pub fn reset_text(name: &str, done: &GroupReset) -> String {
    format!(
        "group {name} (index {}) reset onto fresh memory (incarnation {}): {} ports revoked\n",
        done.group, done.incarnation, done.revoked
    )
}

/// `reset-group --json` (shape in the [module docs](self)).
pub fn reset_json(name: &str, done: &GroupReset) -> String {
    #[derive(Serialize)]
    struct Reset<'a> {
        group: &'a str,
        index: u32,
        incarnation: u32,
        revoked: u32,
    }
    to_json(&Reset {
        group: name,
        index: done.group,
        incarnation: done.incarnation,
        revoked: done.revoked,
    })
}

/// `revoke-port`: the port revoked.
pub fn revoked_text(port: &PortRevoked) -> String {
    format!(
        "revoked {} port {} of group {} (generation {}): {}\n",
        port.kind.noun(),
        port.port_index,
        port.group,
        port.generation,
        port.reason.explanation()
    )
}

/// `revoke-port --json` (shape in the [module docs](self)).
pub fn revoked_json(port: &PortRevoked) -> String {
    #[derive(Serialize)]
    struct Revoked {
        group: u32,
        kind: &'static str,
        port: u32,
        generation: u32,
        reason: &'static str,
    }
    to_json(&Revoked {
        group: port.group,
        kind: port.kind.noun(),
        port: port.port_index,
        generation: port.generation,
        reason: port.reason.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::wire::PortKind;

    #[test]
    fn reset_and_revoke_answers_name_what_was_done() {
        use zerocp_core::wire::RevokeReason;
        let done = GroupReset {
            group: 2,
            incarnation: 1,
            revoked: 4,
        };
        assert_eq!(
            reset_json("nav", &done),
            r#"{"schema":1,"group":"nav","index":2,"incarnation":1,"revoked":4}"#
        );
        assert_eq!(
            reset_text("nav", &done),
            "group nav (index 2) reset onto fresh memory (incarnation 1): 4 ports revoked\n"
        );
        let port = PortRevoked {
            kind: PortKind::Subscriber,
            port_index: 3,
            group: 1,
            generation: 9,
            reason: RevokeReason::Operator,
        };
        assert_eq!(
            revoked_json(&port),
            r#"{"schema":1,"group":1,"kind":"subscriber","port":3,"generation":9,"reason":"Operator"}"#
        );
        assert!(
            revoked_text(&port).starts_with("revoked subscriber port 3 of group 1 (generation 9)")
        );
    }
}
