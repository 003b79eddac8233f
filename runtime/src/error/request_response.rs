//! The errors of request/response ([`crate::request_response`]): creating a
//! client or server, sending a request, receiving its responses, and
//! sending a response. Each wraps the publish/subscribe error of the port
//! underneath for what it shares with pub/sub (daemon gone, revoked,
//! quotas) and adds what only an exchange has: no server, a server gone, a
//! client gone.

use std::fmt;

use zerocp_core::service::ServiceNameError;

use super::{CreatePortError, PublishError, TakeError, WaitError};

/// Creating a [`Client`](crate::Client) or a [`Server`](crate::Server) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CreateExchangeError {
    /// The service's event name with the channel suffix (`:request`,
    /// `:response`) is not a valid event name (too long).
    Name(ServiceNameError),
    /// Creating one of its two ports failed (e.g. a plain publisher or
    /// subscriber already uses the channel: a type mismatch).
    Port(CreatePortError),
}

impl fmt::Display for CreateExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(e) => write!(f, "request/response channel name: {e}"),
            Self::Port(e) => write!(f, "request/response port: {e}"),
        }
    }
}

impl std::error::Error for CreateExchangeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Name(e) => Some(e),
            Self::Port(e) => Some(e),
        }
    }
}

/// Sending a request failed; the request was released.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendRequestError {
    /// No server of the service is routed.
    NoServer,
    /// The server's request queue stayed full past the client's send
    /// timeout.
    ServerBusy {
        /// The server's request port index.
        server_port: u32,
    },
    /// The client's response port, which the request names, is unusable
    /// (the daemon gone, or it refused to re-create the port after a
    /// restart).
    ResponsePort(TakeError),
    /// Publishing the request failed as a publish does.
    Publish(PublishError),
}

impl fmt::Display for SendRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoServer => f.write_str("no server offers this service"),
            Self::ServerBusy { server_port } => write!(
                f,
                "the server (request port {server_port}) kept its request queue full past the \
                 send timeout"
            ),
            Self::ResponsePort(e) => write!(f, "the client's response port: {e}"),
            Self::Publish(e) => write!(f, "cannot send the request: {e}"),
        }
    }
}

impl std::error::Error for SendRequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::ResponsePort(e) => Some(e),
            Self::Publish(e) => Some(e),
            Self::NoServer | Self::ServerBusy { .. } => None,
        }
    }
}

/// Receiving a response of a pending request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseError {
    /// The server the request went to died or was removed before it ended
    /// the stream of responses.
    ServerGone {
        /// That server's request port index.
        server_port: u32,
    },
    /// No response came within the timeout.
    TimedOut,
    /// Taking from the client's response queue failed (e.g. `TooManyHeld`:
    /// responses held and parked for other pending requests fill
    /// `max_held`).
    Take(TakeError),
    /// Waiting on the client's response queue failed.
    Wait(WaitError),
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerGone { server_port } => write!(
                f,
                "the server (request port {server_port}) died or was removed before it answered \
                 the request in full"
            ),
            Self::TimedOut => f.write_str("no response within the timeout"),
            Self::Take(e) => write!(f, "cannot take a response: {e}"),
            Self::Wait(e) => write!(f, "cannot wait for a response: {e}"),
        }
    }
}

impl std::error::Error for ResponseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Take(e) => Some(e),
            Self::Wait(e) => Some(e),
            Self::ServerGone { .. } | Self::TimedOut => None,
        }
    }
}

/// Sending a response (or the end of a stream) failed; the chunk was
/// released.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RespondError {
    /// The client that sent the request is no longer routed (it died or
    /// was dropped), or the request named a port that is not a client.
    ClientGone {
        /// The response port index the request named.
        client_port: u32,
    },
    /// The client's response queue stayed full past the server's send
    /// timeout.
    ClientBusy {
        /// The client's response port index.
        client_port: u32,
    },
    /// Loaning the end-of-stream marker failed ([`crate::ActiveRequest::finish`]).
    Loan(super::LoanError),
    /// Publishing the response failed as a publish does.
    Publish(PublishError),
}

impl fmt::Display for RespondError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientGone { client_port } => write!(
                f,
                "the client (response port {client_port}) is gone, or the request named no client"
            ),
            Self::ClientBusy { client_port } => write!(
                f,
                "the client (response port {client_port}) kept its response queue full past the \
                 send timeout"
            ),
            Self::Loan(e) => write!(f, "cannot loan the end-of-stream marker: {e}"),
            Self::Publish(e) => write!(f, "cannot send the response: {e}"),
        }
    }
}

impl std::error::Error for RespondError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Loan(e) => Some(e),
            Self::Publish(e) => Some(e),
            Self::ClientGone { .. } | Self::ClientBusy { .. } => None,
        }
    }
}
