//! Service patterns: how a `[[group]]` names the services it claims.
//!
//! A pattern is `service/instance/event`: exactly three `/`-separated parts,
//! each either `*` (any value of that whole part) or a name that is valid as
//! that part of a service description (core's validation,
//! [`ServiceDescription::new`]). There is no partial wildcard (`Nav*`), so
//! whether two patterns can match the same service is decidable part by
//! part: they overlap exactly when, in each of the three parts, one of them
//! is `*` or both name the same value ([`ServicePattern::overlaps`]). The
//! configuration rejects overlapping patterns of two different groups, so a
//! service belongs to exactly one group.
//!
//! A service whose part itself contains a `/` (core allows it) can only be
//! matched by `*` in that position: a pattern's parts never contain `/`.

use std::fmt;

use zerocp_core::service::ServiceDescription;

/// One part of a pattern: `*` or an exact name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Any,
    Exact(String),
}

impl Part {
    fn matches(&self, value: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(name) => name == value,
        }
    }

    fn overlaps(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Exact(a), Self::Exact(b)) => a == b,
            _ => true,
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Exact(name) => f.write_str(name),
        }
    }
}

/// A parsed `service/instance/event` pattern.
///
/// ```
/// use zerocp_core::service::ServiceDescription;
/// use zerocp_daemon::service_pattern::ServicePattern;
///
/// let nav = ServicePattern::parse("Robot/Nav/*")?;
/// assert!(nav.matches(&ServiceDescription::new("Robot", "Nav", "Pose")?));
/// assert!(!nav.matches(&ServiceDescription::new("Robot", "Arm", "Pose")?));
/// assert!(nav.overlaps(&ServicePattern::parse("*/Nav/Pose")?));
/// assert!(!nav.overlaps(&ServicePattern::parse("Robot/Arm/*")?));
/// assert!(ServicePattern::parse("Robot/Nav").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePattern {
    parts: [Part; 3],
}

/// A pattern that is not `service/instance/event` of valid parts or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// Not exactly three `/`-separated parts.
    PartCount {
        /// The number of parts found.
        found: usize,
    },
    /// A part is neither `*` nor a valid service name part.
    InvalidPart(zerocp_core::service::ServiceNameError),
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PartCount { found } => write!(
                f,
                "has {found} `/`-separated parts, expected 3 (service/instance/event, `*` for any)"
            ),
            Self::InvalidPart(e) => write!(f, "is not valid: {e}"),
        }
    }
}

impl std::error::Error for PatternError {}

impl ServicePattern {
    /// Parses `text`; each part is `*` or checked like the matching part of
    /// a [`ServiceDescription`].
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let split: Vec<&str> = text.split('/').collect();
        let [service, instance, event] = split[..] else {
            return Err(PatternError::PartCount { found: split.len() });
        };
        // Core's validation, with a valid stand-in for each `*`; the error
        // names the part (service, instance or event).
        fn checked(p: &str) -> &str {
            if p == "*" { "x" } else { p }
        }
        ServiceDescription::new(checked(service), checked(instance), checked(event))
            .map_err(PatternError::InvalidPart)?;
        let part = |p: &str| {
            if p == "*" {
                Part::Any
            } else {
                Part::Exact(p.to_owned())
            }
        };
        Ok(Self {
            parts: [part(service), part(instance), part(event)],
        })
    }

    /// Whether `service` is one of the services the pattern names.
    pub fn matches(&self, service: &ServiceDescription) -> bool {
        let values = [service.service(), service.instance(), service.event()];
        self.parts.iter().zip(values).all(|(p, v)| p.matches(v))
    }

    /// Whether some service matches both patterns.
    pub fn overlaps(&self, other: &Self) -> bool {
        self.parts
            .iter()
            .zip(&other.parts)
            .all(|(a, b)| a.overlaps(b))
    }
}

impl fmt::Display for ServicePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [s, i, e] = &self.parts;
        write!(f, "{s}/{i}/{e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(s: &str, i: &str, e: &str) -> ServiceDescription {
        ServiceDescription::new(s, i, e).unwrap()
    }

    #[test]
    fn parts_are_whole_wildcards_or_exact_names() {
        let p = ServicePattern::parse("*/Nav/Pose").unwrap();
        assert!(p.matches(&svc("Robot", "Nav", "Pose")));
        assert!(p.matches(&svc("Drone", "Nav", "Pose")));
        assert!(!p.matches(&svc("Robot", "Nav", "Poses")));
        assert!(!p.matches(&svc("Robot", "Navi", "Pose")));
        assert_eq!(p.to_string(), "*/Nav/Pose");
        let all = ServicePattern::parse("*/*/*").unwrap();
        assert!(all.matches(&svc("a", "b/c", "d")));
    }

    #[test]
    fn malformed_patterns_say_what_is_wrong() {
        for (text, found) in [("a/b", 2), ("a/b/c/d", 4), ("", 1)] {
            assert_eq!(
                ServicePattern::parse(text),
                Err(PatternError::PartCount { found })
            );
        }
        let e = ServicePattern::parse("Robot//Pose").unwrap_err();
        assert!(e.to_string().contains("instance"), "{e}");
        let e = ServicePattern::parse("Robot/Nav/Po se").unwrap_err();
        assert!(e.to_string().contains("event"), "{e}");
        assert!(ServicePattern::parse("Robot/Na*/Pose").is_err());
    }

    #[test]
    fn overlap_is_decided_part_by_part() {
        let p = |t| ServicePattern::parse(t).unwrap();
        assert!(p("Robot/Nav/*").overlaps(&p("Robot/*/Pose")));
        assert!(p("*/*/*").overlaps(&p("a/b/c")));
        assert!(p("a/b/c").overlaps(&p("a/b/c")));
        assert!(!p("Robot/Nav/*").overlaps(&p("Robot/Arm/*")));
        assert!(!p("*/Nav/Pose").overlaps(&p("*/Nav/Odom")));
    }
}
