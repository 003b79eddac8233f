//! ZeroCP's C API: the library `zerocp_c` (`libzerocp_c.a`,
//! `libzerocp_c.so`) and its header `include/zerocp.h`, generated from
//! this crate by cbindgen (`scripts/ffi-header.sh`; the test
//! `tests/header.rs` fails when the checked-in header is not current).
//!
//! The API is the runtime's ([`zerocp`]) seen through seven kinds of handles
//! (runtime, service, publisher, subscriber, notifier, listener, wait set)
//! and plain C structs:
//!
//! | module | owns |
//! |---|---|
//! | [`error`] | `zerocp_result_t`, `zerocp_error_t`: a code per call and a message in the caller's struct |
//! | `boundary` | the panic boundary every exported function runs its body in |
//! | `handles` | handle ids with generations: stale, forged and wrong-kind handles are errors |
//! | [`runtime_api`] | runtimes |
//! | [`service_api`] | service descriptions |
//! | [`payload_type`] | `zerocp_type_t`: a payload type by name, size and alignment |
//! | [`publisher_api`] | publishers over the runtime's `UntypedPublisher`: loan, publish, release |
//! | [`subscriber_api`] | subscribers over the `UntypedSubscriber`: take, release, wait |
//! | [`copy_api`] | publish and take as a copy, one call each: for small payloads |
//! | [`event_api`] | notifiers and listeners: event ids without payload |
//! | [`waitset_api`] | wait sets over the runtime's `WaitSet`: one wait for several subscribers, listeners, intervals, deadlines and descriptors, with the reason for each |
//! | [`waitset_attach_api`] | attaching to a wait set and detaching |
//! | `watched_port` | a subscriber or listener as a wait set sees it, locked only for each look |
//! | `watched_fd` | an application's descriptor in a wait set |
//!
//! Every exported function checks each pointer it is given for NULL,
//! never aborts on bad input, and catches panics (README.md of this crate,
//! and docs/architecture.md, "The C API"). The Rust items are public so
//! cbindgen and the tests see them; Rust programs use [`zerocp`] itself.
//!
//! ```
//! use zerocp_c::error::{zerocp_error_t, zerocp_result_t};
//! use zerocp_c::service_api::{zerocp_service_create, zerocp_service_t};
//!
//! let mut service = zerocp_service_t::default();
//! let mut error = zerocp_error_t { code: 0, message: [0; 256] };
//! // SAFETY: NUL-terminated strings, writable out and error structs.
//! let code = unsafe {
//!     zerocp_service_create(c"Robot".as_ptr(), c"Base".as_ptr(), c"bad name!".as_ptr(), &mut service, &mut error)
//! };
//! assert_eq!(code, zerocp_result_t::ZEROCP_ERR_INVALID_ARGUMENT);
//! ```
#![allow(non_camel_case_types)]

mod boundary;
mod classify;
pub mod copy_api;
pub mod error;
pub mod event_api;
mod handles;
pub mod payload_type;
pub mod publisher_api;
pub mod runtime_api;
pub mod service_api;
pub mod subscriber_api;
mod text;
pub mod waitset_api;
pub mod waitset_attach_api;
mod watched_fd;
mod watched_port;
