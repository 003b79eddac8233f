//! [`BridgeConfig`]: what a bridge forwards and how it reaches Zenoh, read
//! from a TOML file.
//!
//! ```toml
//! name = "zerocp-zenoh"        # the bridge's process name in the domain
//! key_prefix = "zerocp"         # Zenoh key expressions: <prefix>/<service>/<instance>/<event>
//!
//! [zenoh]
//! mode = "peer"                 # or "client"
//! listen = ["tcp/0.0.0.0:7447"]
//! connect = ["tcp/192.168.1.20:7447"]
//!
//! [[outbound]]                  # a ZeroCP service published into Zenoh
//! service = "Robot/Lidar/Scan"
//! type = { name = "u8", size = 1, align = 1 }
//! max_slice_len = 1048576       # a slice of `type`s; leave out for one value per sample
//! congestion = "block"          # or "drop" (the default)
//! priority = "data-high"        # Zenoh's priority of the puts (default "data")
//! max_rate = 10.0               # samples per second at most (default: all)
//!
//! [[inbound]]                   # a Zenoh key expression published into ZeroCP
//! service = "Robot/Cmd/Velocity"
//! type = { name = "robot::Twist", size = 48, align = 8 }
//!
//! [[outbound_server]]           # a request/response service of this domain
//! service = "Map/Main/Tile"
//! request = { name = "u32", size = 4, align = 4 }
//! response = { name = "u8", size = 1, align = 1 }
//! max_response_len = 65536
//! ```
//!
//! `[[inbound_server]]` offers a server across Zenoh to this domain; both
//! server tables are [`ServerRoute`]s.
//!
//! Every field is checked when the file is read: a bad service name or
//! type is a [`ConfigError`] naming the entry, never a failure later.

use std::path::Path;

use serde::Deserialize;
use zerocp::{ServiceDescription, ServiceType, TypeInfo};
use zerocp_core::fixed_string::FixedString;

use crate::server_route::ServerRoute;

/// A bridge's whole configuration (module docs).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// The bridge's process name in its domain (default `zerocp-zenoh`).
    #[serde(default = "default_name")]
    pub name: String,
    /// The first segment of every key expression (default `zerocp`).
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// How to reach Zenoh.
    #[serde(default)]
    pub zenoh: ZenohConfig,
    /// ZeroCP services published into Zenoh.
    #[serde(default)]
    pub outbound: Vec<Route>,
    /// Zenoh key expressions published into ZeroCP services.
    #[serde(default)]
    pub inbound: Vec<Route>,
    /// Request/response services of this domain answered for Zenoh.
    #[serde(default)]
    pub outbound_server: Vec<ServerRoute>,
    /// Request/response services across Zenoh offered to this domain.
    #[serde(default)]
    pub inbound_server: Vec<ServerRoute>,
}

/// The Zenoh session: its mode and endpoints.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZenohConfig {
    /// `"peer"` (default) or `"client"`.
    #[serde(default)]
    pub mode: Mode,
    /// Endpoints to listen on, such as `tcp/0.0.0.0:7447`.
    #[serde(default)]
    pub listen: Vec<String>,
    /// Endpoints to connect to (retried until they answer).
    #[serde(default)]
    pub connect: Vec<String>,
    /// Whether to find peers by UDP multicast (default false: only the
    /// endpoints above).
    #[serde(default)]
    pub multicast_scouting: bool,
}

/// Zenoh's session mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Talks to other peers directly.
    #[default]
    Peer,
    /// Talks through a router.
    Client,
}

/// What a publish into Zenoh does when the network cannot keep up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Congestion {
    /// Drop the sample (counted); local traffic never waits (default).
    #[default]
    Drop,
    /// Wait for room: nothing is lost, the bridge's forwarding slows down.
    Block,
}

/// One forwarded service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// `Service/Instance/Event`.
    pub service: String,
    /// The payload's type (a slice's element type).
    #[serde(rename = "type")]
    pub payload: TypeSpec,
    /// Present for a slice: the longest one, in elements.
    pub max_slice_len: Option<u32>,
    /// What a full network path does with a sample.
    #[serde(default)]
    pub congestion: Congestion,
    /// Zenoh's priority of the samples this bridge puts (outbound routes).
    #[serde(default)]
    pub priority: Priority,
    /// Samples per second forwarded at most; the others are counted as
    /// limited. Unset: every sample.
    pub max_rate: Option<f64>,
}

/// Zenoh's priorities of data, most urgent first: on a busy link a sample
/// of a higher priority goes before the lower ones waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    /// Control loops.
    RealTime,
    /// Interactive traffic, high.
    InteractiveHigh,
    /// Interactive traffic, low.
    InteractiveLow,
    /// Data, high.
    DataHigh,
    /// Data (default).
    #[default]
    Data,
    /// Data, low.
    DataLow,
    /// Bulk transfers.
    Background,
}

/// A type as every port of the service declares it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeSpec {
    /// The type's name (`#[zerocp(type_name)]`, or `u8` … for primitives).
    pub name: String,
    /// Its size in bytes.
    pub size: u32,
    /// Its alignment in bytes.
    pub align: u32,
}

/// A configuration that cannot be used, and why.
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The text is not a bridge configuration.
    Parse(toml::de::Error),
    /// An entry is invalid.
    Invalid {
        /// Which entry (`outbound[0].service`).
        entry: String,
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read { path, error } => write!(f, "cannot read {path}: {error}"),
            Self::Parse(e) => write!(f, "not a bridge configuration: {e}"),
            Self::Invalid { entry, reason } => write!(f, "{entry}: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

fn default_name() -> String {
    "zerocp-zenoh".to_string()
}

fn default_prefix() -> String {
    "zerocp".to_string()
}

impl BridgeConfig {
    /// Reads and checks the configuration at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.display().to_string(),
            error,
        })?;
        Self::parse(&text)
    }

    /// Parses and checks a configuration.
    ///
    /// ```
    /// use zerocp_zenoh::BridgeConfig;
    ///
    /// let config = BridgeConfig::parse(r#"
    ///     [[outbound]]
    ///     service = "Robot/Base/Odom"
    ///     type = { name = "u64", size = 8, align = 8 }
    /// "#)?;
    /// assert_eq!(config.outbound[0].service, "Robot/Base/Odom");
    /// assert!(BridgeConfig::parse("[[outbound]]\nservice = \"x\"\ntype = { name = \"u8\", size = 1, align = 1 }").is_err());
    /// # Ok::<(), zerocp_zenoh::ConfigError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(ConfigError::Parse)?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |entry: String, reason: String| ConfigError::Invalid { entry, reason };
        if self.key_prefix.is_empty() || self.key_prefix.contains(['*', '$', '#', '?']) {
            return Err(invalid(
                "key_prefix".into(),
                format!("{:?} is not a plain key expression", self.key_prefix),
            ));
        }
        let outbound = self
            .outbound
            .iter()
            .enumerate()
            .map(|(i, r)| ("outbound", i, r));
        let inbound = self
            .inbound
            .iter()
            .enumerate()
            .map(|(i, r)| ("inbound", i, r));
        let routes = outbound.chain(inbound);
        for (side, i, route) in routes {
            let at = |field: &str| format!("{side}[{i}].{field}");
            route
                .service()
                .map_err(|reason| invalid(at("service"), reason))?;
            route
                .service_type()
                .map_err(|reason| invalid(at("type"), reason))?;
            if route.max_slice_len == Some(0) {
                return Err(invalid(at("max_slice_len"), "must be at least 1".into()));
            }
            if let Some(rate) = route.max_rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
                return Err(invalid(
                    at("max_rate"),
                    format!("{rate} is not a positive number of samples per second"),
                ));
            }
        }
        self.check_servers()
    }

    /// Checks the server routes; a service may not be bridged both ways
    /// (the bridge's client would reach its own server and ask Zenoh
    /// again, for ever).
    fn check_servers(&self) -> Result<(), ConfigError> {
        let outbound =
            (self.outbound_server.iter().enumerate()).map(|(i, r)| ("outbound_server", i, r));
        let inbound =
            (self.inbound_server.iter().enumerate()).map(|(i, r)| ("inbound_server", i, r));
        let mut seen = std::collections::HashMap::new();
        for (side, i, route) in outbound.chain(inbound) {
            let invalid = |field: &str, reason: String| ConfigError::Invalid {
                entry: format!("{side}[{i}].{field}"),
                reason,
            };
            route.check().map_err(|(field, e)| invalid(field, e))?;
            if let Some(first) = seen.insert(route.service.as_str(), side) {
                return Err(invalid(
                    "service",
                    format!("{} is bridged twice (also in {first})", route.service),
                ));
            }
        }
        Ok(())
    }
}

impl Route {
    /// The service, parsed.
    pub fn service(&self) -> Result<ServiceDescription, String> {
        parse_service(&self.service)
    }

    /// The service type, checked.
    pub fn service_type(&self) -> Result<ServiceType, String> {
        self.payload.service_type(self.max_slice_len)
    }
}

/// `Service/Instance/Event`, parsed.
pub(crate) fn parse_service(text: &str) -> Result<ServiceDescription, String> {
    let mut parts = text.split('/');
    let (Some(s), Some(i), Some(e), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("{text:?} is not Service/Instance/Event"));
    };
    ServiceDescription::new(s, i, e).map_err(|e| e.to_string())
}

impl TypeSpec {
    /// The type, checked: a slice of it when `max_slice_len` is given,
    /// else one value.
    pub fn service_type(&self, max_slice_len: Option<u32>) -> Result<ServiceType, String> {
        let name = FixedString::try_from_str(&self.name).map_err(|e| format!("name: {e}"))?;
        if self.name.is_empty()
            || self.size == 0
            || !self.align.is_power_of_two()
            || !self.size.is_multiple_of(self.align)
        {
            return Err(format!(
                "{} of size {} and alignment {} is not a type (size a multiple of a power-of-two alignment)",
                self.name, self.size, self.align
            ));
        }
        let info = TypeInfo {
            name,
            size: self.size,
            align: self.align,
        };
        Ok(match max_slice_len {
            Some(_) => ServiceType::slice(info),
            None => ServiceType::sized(info),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: &str =
        "service = \"Robot/Base/Odom\"\ntype = { name = \"u64\", size = 8, align = 8 }\n";

    fn invalid_entry(text: &str) -> String {
        match BridgeConfig::parse(text) {
            Err(ConfigError::Invalid { entry, .. }) => entry,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_key_is_read() {
        let config = BridgeConfig::parse(&format!(
            "name = \"b\"\nkey_prefix = \"robot7\"\n[zenoh]\nmode = \"client\"\n\
             connect = [\"tcp/10.0.0.1:7447\"]\n[[inbound]]\n{ROUTE}\
             congestion = \"block\"\npriority = \"real-time\"\nmax_rate = 2.5\n"
        ))
        .expect("a valid configuration");
        let route = &config.inbound[0];
        assert_eq!(config.zenoh.mode, Mode::Client);
        assert_eq!(route.congestion, Congestion::Block);
        assert_eq!(route.priority, Priority::RealTime);
        assert_eq!(route.max_rate, Some(2.5));
        assert_eq!(config.key_prefix, "robot7");
    }

    #[test]
    fn bad_entries_are_named() {
        let rate = format!("[[outbound]]\n{ROUTE}max_rate = -1.0\n");
        assert_eq!(invalid_entry(&rate), "outbound[0].max_rate");
        let len = format!("[[outbound]]\n{ROUTE}[[inbound]]\n{ROUTE}max_slice_len = 0\n");
        assert_eq!(invalid_entry(&len), "inbound[0].max_slice_len");
        let align =
            "[[inbound]]\nservice = \"A/B/C\"\ntype = { name = \"x\", size = 6, align = 3 }\n";
        assert_eq!(invalid_entry(align), "inbound[0].type");
        assert_eq!(invalid_entry("key_prefix = \"a/*\"\n"), "key_prefix");
    }

    const SERVER: &str = "service = \"Calc/Main/Add\"\n\
        request = { name = \"u32\", size = 4, align = 4 }\n\
        response = { name = \"u8\", size = 1, align = 1 }\n";

    #[test]
    fn server_routes_are_read_and_checked() {
        let config = BridgeConfig::parse(&format!(
            "[[outbound_server]]\n{SERVER}max_response_len = 64\ntimeout_ms = 250\n"
        ))
        .expect("a valid configuration");
        let route = &config.outbound_server[0];
        assert_eq!(route.timeout_ms, 250);
        assert_eq!(
            route.response_type().unwrap().shape,
            zerocp::PayloadShape::Slice
        );
        assert_eq!(
            route.request_type().unwrap().shape,
            zerocp::PayloadShape::Sized
        );
        let both = format!("[[outbound_server]]\n{SERVER}[[inbound_server]]\n{SERVER}");
        assert_eq!(invalid_entry(&both), "inbound_server[0].service");
        let twice = format!("[[inbound_server]]\n{SERVER}[[inbound_server]]\n{SERVER}");
        assert_eq!(invalid_entry(&twice), "inbound_server[1].service");
        let zero = format!("[[inbound_server]]\n{SERVER}max_request_len = 0\n");
        assert_eq!(invalid_entry(&zero), "inbound_server[0].max_request_len");
        let never = format!("[[outbound_server]]\n{SERVER}timeout_ms = 0\n");
        assert_eq!(invalid_entry(&never), "outbound_server[0].timeout_ms");
    }

    #[test]
    fn unknown_keys_and_values_are_refused() {
        for text in [
            format!("[[outbound]]\n{ROUTE}priority = \"urgent\"\n"),
            format!("[[outbound]]\n{ROUTE}reliability = \"best-effort\"\n"),
            "[zenoh]\nmode = \"router\"\n".to_string(),
        ] {
            assert!(
                matches!(BridgeConfig::parse(&text), Err(ConfigError::Parse(_))),
                "{text}"
            );
        }
    }
}
