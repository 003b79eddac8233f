//! Request/response: a [`Client<Req, Resp>`] asks, the [`Server<Req, Resp>`]
//! it reached answers with a stream of zero or more responses and then
//! ends it; both ways zero-copy.
//!
//! It is composed from publish/subscribe, so routing, access rules, chunk
//! quotas, crash cleanup, audits, introspection and daemon restarts are the
//! ones of its ports (docs/architecture.md, "Request/response"):
//!
//! - a service `S/I/E` has two **channels**, `S/I/E:request` and
//!   `S/I/E:response`; a client owns a publisher of the first
//!   and a subscriber of the second, a server the opposite. Their ports
//!   declare tagged types (`request:<Req>`, `response:<Resp>`), so a plain publisher or subscriber of the channel is
//!   refused with a type mismatch, and plain pub/sub on `S/I/E` itself is
//!   another service;
//! - a request goes to **one** server, the oldest routed one (targeted
//!   delivery in the publisher); its chunk header names the
//!   client's response port (index and generation, the exchange words);
//! - a response goes only to the port the request named, and only if that
//!   port is routed to the server's response publisher; its header names
//!   the request (the low 32 bits of the request's sequence number) and
//!   flags: last of the stream, or only an end-of-stream marker;
//! - a client tells a dead server from a slow one by the server's request
//!   port: while the request is open it checks that this exact port (index
//!   and generation) is still routed, between bounded waits
//!   ([`PendingResponse::receive`]).
//!
//! Both queues block the sender when full (bounded by the sender's send
//! timeout), so no request or response is dropped silently.
//!
//! Requests and responses are any [`Payload`](crate::Payload): a value or
//! a slice. A slice side needs its longest length at creation
//! ([`ClientBuilder::max_request_len`], [`ServerBuilder::max_response_len`])
//! and loans with `loan_slice_uninit`.

mod active_request;
mod client;
mod pending_response;
mod server;

use zerocp_core::fixed_string::FixedString;
use zerocp_core::service::{ServiceDescription, ServiceNameError, TypeInfo};

use crate::service_type::ServiceType;

pub use active_request::{ActiveRequest, LoanedResponse};
pub use client::{Client, ClientBuilder, LoanedRequest};
pub use pending_response::{PendingResponse, Response, SERVER_CHECK_SLICE};
pub use server::{Server, ServerBuilder};

/// A client whose request and response types are known at run time only
/// ([`Runtime::untyped_client`](crate::Runtime::untyped_client)): its
/// requests and responses are the payloads' bytes, checked against the
/// declared [`ServiceType`]s (a loan of a length the type cannot have fails
/// with [`LoanError::PayloadSize`](crate::LoanError::PayloadSize)).
pub type UntypedClient = Client<[u8], [u8]>;

/// A server whose request and response types are known at run time only
/// ([`Runtime::untyped_server`](crate::Runtime::untyped_server)), as
/// [`UntypedClient`] is a client.
pub type UntypedServer = Server<[u8], [u8]>;

/// The types an untyped client or server declares for its two channels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Declared {
    pub(crate) request: ServiceType,
    pub(crate) response: ServiceType,
}

/// The two publish/subscribe channels of a request/response service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channels {
    /// `S/I/E:request`: clients publish, servers subscribe.
    pub(crate) request: ServiceDescription,
    /// `S/I/E:response`: servers publish, clients subscribe.
    pub(crate) response: ServiceDescription,
}

impl Channels {
    /// The channels of `service`; fails when its event name leaves no room
    /// for the suffix.
    pub(crate) fn of(service: &ServiceDescription) -> Result<Self, ServiceNameError> {
        let channel = |suffix: &str| {
            ServiceDescription::new(
                service.service(),
                service.instance(),
                &format!("{}:{suffix}", service.event()),
            )
        };
        Ok(Self {
            request: channel("request")?,
            response: channel("response")?,
        })
    }
}

/// The type a port declares: `plain` (its payload's size, alignment and
/// name), with the name prefixed by `tag` when it is a request/response
/// channel's port ([`REQUEST_TYPE_TAG`](zerocp_core::service::REQUEST_TYPE_TAG)
/// or [`RESPONSE_TYPE_TAG`](zerocp_core::service::RESPONSE_TYPE_TAG); empty
/// for plain publish/subscribe).
pub(crate) fn tagged(tag: &str, plain: TypeInfo) -> TypeInfo {
    if tag.is_empty() {
        return plain;
    }
    TypeInfo {
        name: FixedString::from_str_truncated(&format!("{tag}{}", plain.name.as_str())),
        ..plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port_request;

    #[test]
    fn clients_and_servers_move_to_other_threads() {
        fn send<T: Send>() {}
        send::<Client<u64, [u8; 16]>>();
        send::<Server<u64, [u8; 16]>>();
    }

    #[test]
    fn channels_suffix_the_event_name() {
        let svc = ServiceDescription::new("Calc", "Main", "Add").unwrap();
        let channels = Channels::of(&svc).unwrap();
        assert_eq!(channels.request.to_string(), "Calc/Main/Add:request");
        assert_eq!(channels.response.to_string(), "Calc/Main/Add:response");
    }

    #[test]
    fn an_event_name_without_room_for_the_suffix_is_refused() {
        let long = "e".repeat(zerocp_core::service::MAX_NAME_LEN - 2);
        let svc = ServiceDescription::new("Calc", "Main", &long).unwrap();
        assert!(Channels::of(&svc).is_err());
    }

    #[test]
    fn channel_types_keep_size_and_alignment_and_tag_the_name() {
        let plain = port_request::type_info::<u64>();
        let tagged = tagged(zerocp_core::service::REQUEST_TYPE_TAG, plain);
        assert_eq!((tagged.size, tagged.align), (plain.size, plain.align));
        assert_eq!(tagged.name.as_str(), "request:u64");
        assert_ne!(tagged, plain);
        assert_eq!(super::tagged("", plain), plain);
    }
}
