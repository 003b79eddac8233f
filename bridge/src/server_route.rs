//! [`ServerRoute`]: one request/response service bridged between a domain
//! and Zenoh, as the configuration names it.
//!
//! ```toml
//! [[outbound_server]]           # a server of this domain, asked from Zenoh
//! service = "Map/Main/Tile"
//! request = { name = "u32", size = 4, align = 4 }
//! response = { name = "u8", size = 1, align = 1 }
//! max_response_len = 65536      # responses are slices of `response`s
//! timeout_ms = 5000             # the longest one exchange may last
//!
//! [[inbound_server]]            # a server across Zenoh, asked from this domain
//! service = "Calc/Main/Add"
//! request = { name = "calc::Pair", size = 8, align = 4 }
//! response = { name = "u64", size = 8, align = 8 }
//! ```
//!
//! As for publish/subscribe routes, a side with a `max_*_len` is a slice of
//! its type (the longest, in elements), a side without one a value.

use serde::Deserialize;
use zerocp::{ServiceDescription, ServiceType};

use crate::config::{TypeSpec, parse_service};

/// The longest exchange by default: 5 s.
const DEFAULT_TIMEOUT_MS: u64 = 5_000;

/// One bridged request/response service (module docs).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerRoute {
    /// `Service/Instance/Event`.
    pub service: String,
    /// The request's type (a slice's element type).
    pub request: TypeSpec,
    /// The responses' type (a slice's element type).
    pub response: TypeSpec,
    /// Present when requests are slices: the longest, in elements.
    pub max_request_len: Option<u32>,
    /// Present when responses are slices: the longest, in elements.
    pub max_response_len: Option<u32>,
    /// The longest one exchange may last, from the request to the end of
    /// its responses, in milliseconds (default 5000). An outbound server's
    /// bridge stops waiting for the domain's server then; an inbound
    /// server's Zenoh query ends then.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

impl ServerRoute {
    /// The service, parsed.
    pub fn service(&self) -> Result<ServiceDescription, String> {
        parse_service(&self.service)
    }

    /// The request's type, checked.
    pub fn request_type(&self) -> Result<ServiceType, String> {
        self.request.service_type(self.max_request_len)
    }

    /// The responses' type, checked.
    pub fn response_type(&self) -> Result<ServiceType, String> {
        self.response.service_type(self.max_response_len)
    }

    /// The service and its request and response types, checked.
    pub(crate) fn resolve(&self) -> Result<(ServiceDescription, ServiceType, ServiceType), String> {
        Ok((self.service()?, self.request_type()?, self.response_type()?))
    }

    /// Checks every field; the error names the field.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        self.service().map_err(|e| ("service", e))?;
        self.request_type().map_err(|e| ("request", e))?;
        self.response_type().map_err(|e| ("response", e))?;
        let least_one = "must be at least 1".to_string();
        if self.max_request_len == Some(0) {
            return Err(("max_request_len", least_one));
        }
        if self.max_response_len == Some(0) {
            return Err(("max_response_len", least_one));
        }
        if self.timeout_ms == 0 {
            return Err(("timeout_ms", least_one));
        }
        Ok(())
    }
}
