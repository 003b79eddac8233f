//! # zerocp
//!
//! Zero-copy publish/subscribe over shared memory, for embedded Linux.
//!
//! An application registers with the domain's daemon, `zerocpd`, through a
//! [`Runtime`], and creates [`Publisher`]s and [`Subscriber`]s of services
//! ([`ServiceDescription`]). A publisher loans a chunk of shared memory,
//! writes its sample into it and publishes it; every subscriber of the
//! service reads those same bytes in place. No payload byte is copied, and
//! neither publishing nor taking makes a system call or reads a clock,
//! except to wake a subscriber that sleeps in [`Subscriber::wait`].
//!
//! ```no_run
//! use std::time::Duration;
//! use zerocp::{Runtime, ServiceDescription, ZeroCopySafe};
//!
//! #[repr(C)]
//! #[derive(Debug, Clone, Copy, ZeroCopySafe)]         // checked: repr, fields, padding
//! struct Pose { x: f64, y: f64, theta: f64 }
//!
//! let rt = Runtime::init("planner")?;                 // zerocpd of $ZEROCP_DOMAIN
//! let svc = ServiceDescription::new("Robot", "Base", "Pose")?;
//!
//! let publisher = rt.publisher::<Pose>(&svc).create()?;
//! let subscriber = rt.subscriber::<Pose>(&svc).queue_capacity(8).create()?;
//!
//! let sample = publisher.loan_uninit()?;              // LoanedSample<MaybeUninit<Pose>>
//! let sample = sample.write(Pose { x: 1.0, y: 2.0, theta: 0.5 });
//! sample.publish()?;
//!
//! subscriber.wait(Some(Duration::from_millis(100)))?; // futex sleep until data
//! while let Some(pose) = subscriber.take()? {         // Sample<Pose>, Deref
//!     println!("{:?}", *pose);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Slices and user headers
//!
//! A payload of changing length is a slice ([`Payload`]): a publisher of
//! `[T]` declares its longest slice, loans any length up to it
//! ([`Publisher::loan_slice_uninit`]) and fills it in place; subscribers
//! get a `&[T]` of the published length. Either kind of port may carry a
//! user header beside the payload ([`PublisherBuilder::user_header`],
//! [`Sample::user_header`]), type-checked by the daemon like the payload.
//!
//! ```no_run
//! # use zerocp::{Runtime, ServiceDescription, ZeroCopySafe};
//! #[repr(C)]
//! #[derive(Clone, Copy, ZeroCopySafe)]
//! struct Scan { revolution: u64 }
//!
//! let rt = Runtime::init("lidar")?;
//! let svc = ServiceDescription::new("Lidar", "Front", "Scan")?;
//! let scans = rt.publisher::<[f32]>(&svc).user_header::<Scan>().max_slice_len(2048).create()?;
//! let mut scan = scans.loan_slice_uninit(1028)?.fill(0.0);  // LoanedSample<[f32], Scan>
//! scan.user_header_mut().revolution = 7;
//! scan.publish()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Request/response
//!
//! A [`Client`] sends a request to one [`Server`] of a service and receives
//! its stream of responses ([`PendingResponse::receive`], `None` at the
//! end); several requests may be in flight. Both ways are zero-copy loans.
//! No server: [`SendRequestError::NoServer`] at once; the server died:
//! [`ResponseError::ServerGone`], never a hang ([`request_response`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use zerocp::{Runtime, ServiceDescription};
//!
//! let rt = Runtime::init("calc")?;
//! let svc = ServiceDescription::new("Calc", "Main", "Add")?;
//! let client = rt.client::<[u32; 2], u64>(&svc).create()?;
//! let pending = client.loan_uninit()?.write([2, 3]).send()?;
//! while let Some(sum) = pending.receive(Some(Duration::from_secs(1)))? {
//!     println!("2 + 3 = {}", *sum);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Events
//!
//! An *event service* carries ids, no payload: a [`Notifier`] raises an
//! [`EventId`] (`0..=255`) in every [`Listener`] of the service, which takes
//! the ids raised since it last looked as an [`EventSet`] ([`Listener::try_wait`],
//! or [`Listener::wait`] asleep on a futex). Ids coalesce: raised three
//! times before a take, an id is taken once. A service name is either an
//! event service or a publish/subscribe service.
//!
//! ```no_run
//! use std::time::Duration;
//! use zerocp::{EventId, Runtime, ServiceDescription};
//!
//! let rt = Runtime::init("mapper")?;
//! let svc = ServiceDescription::new("Robot", "Map", "Updated")?;
//! let listener = rt.listener(&svc).create()?;
//! let notifier = rt.notifier(&svc).create()?;
//! notifier.notify(EventId::new(1)?)?;
//! for id in listener.wait(Some(Duration::from_millis(100)))? {
//!     println!("event {}", id.value());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Discovering services
//!
//! [`Runtime::services`] lists the services of the domain ([`ServiceInfo`]:
//! name, [`MessagingPattern`], type, publishers, subscribers, notifiers,
//! listeners); a [`ServiceWatcher`] reports them appearing, changing and
//! disappearing ([`ServiceEvent`]), woken by an event the daemon raises
//! whenever a port comes or goes (no polling): with a timeout
//! ([`ServiceWatcher::wait`]), without sleeping, through a descriptor or in a
//! [`WaitSet`].
//!
//! ```no_run
//! use std::time::Duration;
//! use zerocp::{Runtime, ServiceEvent};
//!
//! let rt = Runtime::init("inspector")?;
//! let watcher = rt.service_watcher()?;
//! for info in watcher.services() {
//!     println!("{}: {} publishers", info.service, info.publishers);
//! }
//! for event in watcher.wait(Some(Duration::from_secs(1)))? {
//!     if let ServiceEvent::Appeared(info) = event {
//!         println!("new: {} of {}", info.service, info.payload.name.as_str());
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Options
//!
//! - subscriber: [`queue_capacity`](SubscriberBuilder::queue_capacity),
//!   [`full_policy`](SubscriberBuilder::full_policy) (discard the oldest
//!   sample, the default, or block the publisher),
//!   [`history`](SubscriberBuilder::history) wanted on connecting,
//!   [`max_held`](SubscriberBuilder::max_held);
//! - publisher: [`history`](PublisherBuilder::history) kept for late
//!   joiners, [`max_loans`](PublisherBuilder::max_loans),
//!   [`publish_timeout`](PublisherBuilder::publish_timeout) and
//!   [`on_publish_timeout`](PublisherBuilder::on_publish_timeout) (how long a
//!   publish waits for block-publisher subscribers, and what then).
//!
//! ## Chunk quotas
//!
//! The daemon's configuration bounds how many chunks of each mempool one
//! process and one port may hold at once (`[quota]`, half of every pool by
//! default), so no application can empty a pool that others share. A loan
//! or a take beyond them fails with a `QuotaExceeded` error that names the
//! configuration key ([`error::QuotaExceeded`]); a subscriber's queue never
//! holds more than its port quota (its publishers treat it as full there).
//!
//! ## Errors and the daemon's lifetime
//!
//! Every operation has its own error enum ([`error`]). [`Runtime::init`]
//! connects again, after a short jittered wait, when the daemon turned its
//! connection away for room before it could register (the daemon evicts the
//! oldest unregistered connections of a uid that opens too many), for up to
//! 20 s; then it fails with [`InitError::NoRoom`], giving the daemon's
//! reason. Every other refusal (e.g. `AccessDenied`) fails it at once. Once the daemon
//! stops, or dies, every call fails with `DaemonGone`, including a
//! subscriber sleeping in `wait(None)`; nothing hangs or faults (the
//! mappings stay valid until the last port is dropped).
//!
//! A process stopped (`SIGSTOP`, a debugger) or hung for longer than the
//! daemon's heartbeat timeout is dropped: the daemon unroutes its ports at
//! once but keeps the chunks it holds until it exits, so what it loaned or
//! took is never handed to anyone else meanwhile. If it resumes, every call
//! fails with `Unresponsive` (e.g. [`error::LoanError::Unresponsive`]), which
//! says it was dropped for missing heartbeats, also a `wait(None)` it was
//! sleeping in; its samples still read what they held.
//!
//! The daemon can also revoke a single port: when it finds what the port
//! shares with its group corrupt, when it resets the port's segment group
//! onto fresh memory, or when an operator asks. The port's calls then fail
//! with `Revoked` and the [`RevokeReason`] (e.g.
//! [`error::TakeError::Revoked`], also a `wait(None)` sleeping on it, and a
//! `take` only once what was queued is taken); drop the port and create it
//! again. The process learns it over its control connection, never from
//! shared memory other processes could write.
//!
//! ## Logging
//!
//! The runtime logs through the `log` facade. [`logger::AsyncLogger::init`]
//! installs a logger that never blocks the caller: lines go through a
//! lock-free ring to a background writer thread (stderr).
//!
//! ## Payload types
//!
//! Payloads implement the `unsafe` trait [`ZeroCopySafe`]: `repr(C)`, no
//! pointers, no drop glue, no padding, every bit pattern valid.
//! `#[derive(ZeroCopySafe)]` (feature `derive`, on by default) checks all
//! of it at compile time (the last through the fields' own impls) and gives the type its stable name
//! and a description of its fields ([`FieldInfo`]); see the
//! [`zero_copy_safe`] module for the checklist of a hand-written impl.
//! Large payloads are filled in place with [`LoanedSample::write_with`].

// The derive names the trait `::zerocp::ZeroCopySafe`; this makes that path
// resolve in this crate's own unit tests too.
extern crate self as zerocp;

mod adaptive_spin;
mod connection;
mod connection_event;
mod connection_watcher;
pub mod error;
mod event_port;
mod field_info;
mod heartbeat_thread;
mod history_on_connect;
mod lifecycle;
mod listener;
mod loaned_sample;
mod loaned_slice;
pub mod logger;
mod mapped;
mod notifier;
pub mod payload;
mod port_cell;
mod port_owner;
mod port_request;
mod port_status;
mod publisher;
mod publisher_id;
mod quota;
mod register_request;
mod registration;
pub mod request_response;
mod runtime;
mod runtime_builder;
mod sample;
mod segment_mappings;
mod service_info;
mod service_query;
mod service_type;
mod service_watcher;
mod slots;
mod socket_watch;
mod subscriber;
mod timestamp;
mod topology;
mod untyped_loan;
mod untyped_sample;
mod wait;
mod waitset;
mod wake_fd_request;
pub mod zero_copy_safe;

pub use adaptive_spin::DEFAULT_WAIT_SPINS;
pub use connection::ConnectionState;
pub use connection_event::ConnectionEvent;
pub use connection_watcher::ConnectionWatcher;
pub use error::{
    AttachError, CreateExchangeError, CreatePortError, CreateWatcherError, InitError, LoanError,
    NotifyError, PortNotRecreated, PublishError, RespondError, ResponseError, SendRequestError,
    ServicesError, TakeError, UpdateConnectionsError, WaitError, WaitSetCreateError,
    WaitSetWaitError, WakeFdError, WatchError,
};
pub use field_info::FieldInfo;
pub use heartbeat_thread::HeartbeatStartError;
pub use listener::{Listener, ListenerBuilder};
pub use loaned_sample::LoanedSample;
pub use loaned_slice::SliceLengthError;
pub use notifier::{Notifier, NotifierBuilder};
pub use payload::Payload;
pub use publisher::publish_timeout::{DEFAULT_PUBLISH_TIMEOUT, PublishTimeout};
pub use publisher::{
    DEFAULT_MAX_LOANS, Publisher, PublisherBuilder, UntypedPublisher, UntypedPublisherBuilder,
};
pub use publisher_id::PublisherId;
pub use registration::MAX_PROCESS_NAME_LEN;
pub use request_response::{
    ActiveRequest, Client, ClientBuilder, LoanedRequest, LoanedResponse, PendingResponse, Response,
    Server, ServerBuilder, UntypedClient, UntypedServer,
};
pub use runtime::Runtime;
pub use runtime_builder::{DEFAULT_RECONNECT_CEILING, RuntimeBuilder};
pub use sample::Sample;
pub use service_info::{MessagingPattern, ServiceInfo};
pub use service_type::ServiceType;
pub use service_watcher::{ServiceEvent, ServiceWatcher};
pub use subscriber::{
    DEFAULT_MAX_HELD, DEFAULT_QUEUE_CAPACITY, Subscriber, SubscriberBuilder, UntypedSubscriber,
    UntypedSubscriberBuilder,
};
pub use timestamp::Timestamp;
pub use untyped_loan::UntypedLoan;
pub use untyped_sample::UntypedSample;
pub use waitset::{Attachable, Attachment, AttachmentId, Readiness, WaitSet, WaitSetEvents};
pub use zero_copy_safe::ZeroCopySafe;
pub use zerocp_core::event::{EventId, EventIdError, EventIter, EventSet, MAX_EVENT_ID};
pub use zerocp_core::port::FullPolicy;
pub use zerocp_core::service::{ServiceDescription, ServiceNameError, TypeInfo};
pub use zerocp_core::type_layout;
pub use zerocp_core::wire::{ErrorCode, PayloadShape, PortInfo, PortKind, RevokeReason};
/// `#[derive(ZeroCopySafe)]`: the checked impl of [`ZeroCopySafe`] for a
/// `#[repr(C)]` struct (feature `derive`, on by default). See the
/// [`zero_copy_safe`] module for what it checks.
#[cfg(feature = "derive")]
pub use zerocp_derive::ZeroCopySafe;

// Ports move between threads; the runtime handle is shared between them.
const _: () = {
    const fn send<T: Send>() {}
    const fn send_sync<T: Send + Sync>() {}
    send::<Publisher<u64>>();
    send::<Subscriber<[u8; 16]>>();
    send::<UntypedSubscriber>();
    send::<Notifier>();
    send::<Listener>();
    send::<ServiceWatcher>();
    send_sync::<Runtime>();
};
