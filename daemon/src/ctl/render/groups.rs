//! The `groups` answer: segment groups with their patterns, rules, pools and
//! audit findings (a **presentation**: a group's rule scope is a boolean
//! `everyone`; its pools are [`MempoolInfo`]s as `mempools` shows them).
//!
//! JSON shape: `{"schema", "groups":[{"name", "services":[pattern…],
//! "publish":{"everyone", "uids":[…], "gids":[…]}, "subscribe":{…},
//! "mempools":[{"chunk_size", "chunk_count", "used", "min_free", "group",
//! "process_quota", "port_quota"}], "resets", "findings", "last_finding",
//! "last_finding_detail"}]}` (`everyone` is true for `default`, whose lists
//! are then empty: every peer that may connect; `resets`: how often the
//! group was reset onto fresh memory; `findings`: what the audit found in
//! the group's memory, `last_finding` the last one's kind as named in
//! `status`'s `audit`, or null)

use serde::Serialize;
use zerocp_core::wire::{AccessRule, GroupInfo, MempoolInfo, RuleScope};

use super::status::finding_name;
use super::{table, to_json};

#[derive(Serialize)]
struct RuleJson<'a> {
    everyone: bool,
    uids: &'a [u32],
    gids: &'a [u32],
}

#[derive(Serialize)]
struct GroupJson<'a> {
    name: &'a str,
    services: Vec<&'a str>,
    publish: RuleJson<'a>,
    subscribe: RuleJson<'a>,
    mempools: &'a [MempoolInfo],
    resets: u32,
    findings: u64,
    last_finding: Option<&'static str>,
    last_finding_detail: &'a str,
}

fn rule_json(rule: &AccessRule) -> RuleJson<'_> {
    RuleJson {
        everyone: rule.scope == RuleScope::Everyone,
        uids: &rule.uids,
        gids: &rule.gids,
    }
}

fn rule_text(rule: &AccessRule) -> String {
    match rule.scope {
        RuleScope::Everyone => "everyone allowed to connect".into(),
        RuleScope::Listed => format!("uids {:?} gids {:?}", &rule.uids[..], &rule.gids[..]),
    }
}

/// `groups`, human-readable: one block per group, its pools as a table.
pub fn groups_text(groups: &[GroupInfo]) -> String {
    let mut out = String::new();
    for g in groups {
        let services: Vec<&str> = g.patterns.iter().map(|p| p.as_str()).collect();
        let services = if services.is_empty() {
            "(every service no other group claims)".to_owned()
        } else {
            services.join(", ")
        };
        out.push_str(&format!(
            "group {}
",
            g.name.as_str()
        ));
        out.push_str(&format!(
            "  services   {services}
"
        ));
        out.push_str(&format!(
            "  publish    {}
",
            rule_text(&g.publish)
        ));
        out.push_str(&format!(
            "  subscribe  {}
",
            rule_text(&g.subscribe)
        ));
        out.push_str(&format!(
            "  resets     {}
",
            g.resets
        ));
        let rows: Vec<Vec<String>> = g
            .pools
            .iter()
            .map(|p| {
                vec![
                    format!("  {}", p.chunk_size),
                    p.chunk_count.to_string(),
                    p.used.to_string(),
                    p.process_quota.to_string(),
                    p.port_quota.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "  CHUNK SIZE",
                "COUNT",
                "USED",
                "PROCESS QUOTA",
                "PORT QUOTA",
            ],
            &rows,
        ));
        out.push_str(&format!("  findings   {}\n", group_findings_text(g)));
    }
    out
}

/// A group's audit findings: their number and the last one.
fn group_findings_text(g: &GroupInfo) -> String {
    match finding_name(g.last_finding) {
        None => g.findings.to_string(),
        Some(kind) => format!(
            "{} (last: {kind}: {})",
            g.findings,
            g.last_finding_detail.as_str()
        ),
    }
}

/// `groups --json` (shape in the [module docs](self)).
pub fn groups_json(groups: &[GroupInfo]) -> String {
    #[derive(Serialize)]
    struct All<'a> {
        groups: Vec<GroupJson<'a>>,
    }
    to_json(&All {
        groups: groups
            .iter()
            .map(|g| GroupJson {
                name: g.name.as_str(),
                services: g.patterns.iter().map(|p| p.as_str()).collect(),
                publish: rule_json(&g.publish),
                subscribe: rule_json(&g.subscribe),
                mempools: &g.pools,
                resets: g.resets,
                findings: g.findings,
                last_finding: finding_name(g.last_finding),
                last_finding_detail: g.last_finding_detail.as_str(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::wire::FindingKind;

    #[test]
    fn groups_json_shows_patterns_rules_and_pools() {
        use zerocp_core::fixed_string::FixedString;
        fn fs<const N: usize>(s: &str) -> FixedString<N> {
            FixedString::try_from_str(s).unwrap()
        }
        let group = GroupInfo {
            name: fs("nav"),
            patterns: heapless::Vec::from_slice(&[fs("Robot/Nav/*")]).unwrap(),
            publish: AccessRule {
                scope: RuleScope::Listed,
                uids: heapless::Vec::from_slice(&[1000]).unwrap(),
                gids: heapless::Vec::new(),
            },
            subscribe: AccessRule {
                scope: RuleScope::Everyone,
                uids: heapless::Vec::new(),
                gids: heapless::Vec::new(),
            },
            pools: heapless::Vec::from_slice(&[MempoolInfo {
                chunk_size: 64,
                chunk_count: 2,
                used: 1,
                min_free: 1,
                group: fs("nav"),
                process_quota: 1,
                port_quota: 1,
            }])
            .unwrap(),
            resets: 3,
            findings: 2,
            last_finding: FindingKind::GroupHeader,
            last_finding_detail: fs("header of group 1: 1 word (first `state`) restored"),
        };
        assert_eq!(
            groups_json(std::slice::from_ref(&group)),
            r#"{"schema":1,"groups":[{"name":"nav","services":["Robot/Nav/*"],"#.to_owned()
                + r#""publish":{"everyone":false,"uids":[1000],"gids":[]},"#
                + r#""subscribe":{"everyone":true,"uids":[],"gids":[]},"#
                + r#""mempools":[{"chunk_size":64,"chunk_count":2,"used":1,"min_free":1,"group":"nav","#
                + r#""process_quota":1,"port_quota":1}],"#
                + r#""resets":3,"findings":2,"last_finding":"group_header","#
                + r#""last_finding_detail":"header of group 1: 1 word (first `state`) restored"}]}"#
        );
        let text = groups_text(&[group]);
        assert!(text.contains("resets     3"), "{text}");
        assert!(text.contains("group nav"), "{text}");
        assert!(text.contains("uids [1000] gids []"), "{text}");
        assert!(text.contains("everyone allowed to connect"), "{text}");
        assert!(
            text.contains("findings   2 (last: group_header: header of group 1"),
            "{text}"
        );
    }
}
