//! The Prometheus text exposition format, version 0.0.4, as `metrics`
//! writes it: metric families, each a `# HELP` and a `# TYPE` line and its
//! samples (`name{label="value",…} value`), and the same families as JSON.
//!
//! Only what `metrics` needs: counters and gauges, integer counts and
//! seconds, label values escaped as the format says (`\\`, `\"`, `\n`:
//! service and process names are the applications' words). Every sample
//! starts with the labels the [`Families`] were made with (the domain).

use std::fmt::{self, Write as _};

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
        }
    }
}

/// A sample's value: a count, or seconds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value {
    Count(u64),
    Seconds(f64),
}

impl Value {
    /// Seconds from nanoseconds.
    pub(super) fn from_ns(ns: u64) -> Self {
        Self::Seconds(ns as f64 / 1e9)
    }

    /// Seconds from milliseconds.
    pub(super) fn from_ms(ms: u64) -> Self {
        Self::Seconds(ms as f64 / 1e3)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Seconds(s) => write!(f, "{s}"),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Count(n) => s.serialize_u64(*n),
            Self::Seconds(x) => s.serialize_f64(*x),
        }
    }
}

/// Label names and values, in order (a JSON object).
#[derive(Debug, Clone, Default)]
pub(super) struct Labels(Vec<(&'static str, String)>);

impl Labels {
    /// These labels and `name="value"`.
    pub(super) fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.0.push((name, value.to_string()));
        self
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[derive(Debug, serde::Serialize)]
struct Sample {
    labels: Labels,
    value: Value,
}

/// One metric family: name, type, help and samples.
#[derive(Debug, serde::Serialize)]
pub(super) struct Family {
    name: &'static str,
    #[serde(rename = "type", serialize_with = "kind_name")]
    kind: Kind,
    help: &'static str,
    samples: Vec<Sample>,
}

fn kind_name<S: Serializer>(kind: &Kind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.name())
}

/// Families being collected, in the order they are started.
pub(super) struct Families {
    common: Labels,
    all: Vec<Family>,
}

impl Families {
    /// No family yet; every sample will start with the `common` labels.
    pub(super) fn new(common: Labels) -> Self {
        Self {
            common,
            all: Vec::new(),
        }
    }

    /// Starts family `name` (no sample yet).
    pub(super) fn family(&mut self, name: &'static str, kind: Kind, help: &'static str) {
        self.all.push(Family {
            name,
            kind,
            help,
            samples: Vec::new(),
        });
    }

    /// A sample of the last family started.
    pub(super) fn sample(&mut self, labels: &Labels, value: Value) {
        let mut all = self.common.clone();
        all.0.extend(labels.0.iter().cloned());
        if let Some(family) = self.all.last_mut() {
            family.samples.push(Sample { labels: all, value });
        }
    }

    /// A family of one sample with the common labels only.
    pub(super) fn single(
        &mut self,
        (name, kind, help): (&'static str, Kind, &'static str),
        value: Value,
    ) {
        self.family(name, kind, help);
        self.sample(&Labels::default(), value);
    }

    /// The families, for JSON.
    pub(super) fn into_vec(self) -> Vec<Family> {
        self.all
    }

    /// The families in the text format.
    pub(super) fn text(&self) -> String {
        let mut out = String::new();
        for family in &self.all {
            // Writing into a String cannot fail.
            let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
            let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.name());
            for sample in &family.samples {
                let labels: Vec<String> = sample
                    .labels
                    .0
                    .iter()
                    .map(|(name, value)| format!("{name}=\"{}\"", escaped(value)))
                    .collect();
                let _ = writeln!(
                    out,
                    "{}{{{}}} {}",
                    family.name,
                    labels.join(","),
                    sample.value
                );
            }
        }
        out
    }
}

/// A label value escaped for the text format: `\`, `"` and newlines.
fn escaped(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_written_with_help_type_and_escaped_labels() {
        let mut f = Families::new(Labels::default().with("domain", "d"));
        f.family("zerocp_x_total", Kind::Counter, "Xs.");
        f.sample(
            &Labels::default().with("name", "a\"b\\c\nd"),
            Value::Count(3),
        );
        f.single(
            ("zerocp_y_seconds", Kind::Gauge, "Y."),
            Value::from_ms(1500),
        );
        assert_eq!(
            f.text(),
            "# HELP zerocp_x_total Xs.\n# TYPE zerocp_x_total counter\n\
             zerocp_x_total{domain=\"d\",name=\"a\\\"b\\\\c\\nd\"} 3\n\
             # HELP zerocp_y_seconds Y.\n# TYPE zerocp_y_seconds gauge\n\
             zerocp_y_seconds{domain=\"d\"} 1.5\n"
        );
        let json = serde_json::to_string(&f.into_vec()).unwrap();
        assert!(
            json.starts_with(
                r#"[{"name":"zerocp_x_total","type":"counter","help":"Xs.","samples":[{"labels":{"domain":"d","#
            ),
            "{json}"
        );
        assert!(json.ends_with(r#""value":1.5}]}]"#), "{json}");
    }
}
