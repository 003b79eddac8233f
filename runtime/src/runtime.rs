//! [`Runtime`]: the public face of this process's registration with the
//! daemon of its domain. `Runtime::init` registers ([`crate::lifecycle`],
//! [`crate::registration`]); the handle makes publishers and subscribers,
//! which keep the registration alive on their own.

use std::sync::Arc;

use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::PortInfo;

use crate::connection::ConnectionState;
use crate::connection_watcher::ConnectionWatcher;
use crate::error::{CreateWatcherError, InitError, ServicesError};
use crate::lifecycle::Lifecycle;
use crate::listener::ListenerBuilder;
use crate::notifier::NotifierBuilder;
use crate::payload::Payload;
use crate::publisher::{PublisherBuilder, UntypedPublisherBuilder};
use crate::request_response::{ClientBuilder, Declared, ServerBuilder};
use crate::runtime_builder::RuntimeBuilder;
use crate::service_info::ServiceInfo;
use crate::service_query;
use crate::service_type::ServiceType;
use crate::service_watcher::ServiceWatcher;
use crate::subscriber::{SubscriberBuilder, UntypedSubscriberBuilder};

/// A process registered with `zerocpd`: the factory of publishers and
/// subscribers.
///
/// ```no_run
/// use zerocp::{Runtime, ServiceDescription};
///
/// let rt = Runtime::init("planner")?; // the daemon of $ZEROCP_DOMAIN
/// let svc = ServiceDescription::new("Robot", "Base", "Pose")?;
/// let publisher = rt.publisher::<[f64; 3]>(&svc).history(1).create()?;
/// publisher.loan_uninit()?.write([1.0, 2.0, 0.5]).publish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Lifecycle>,
}

impl Runtime {
    /// Registers this process, under `name`, with the daemon of the domain
    /// named by `ZEROCP_DOMAIN` (default `default`), whose socket is looked
    /// up in `ZEROCP_RUN_DIR` (else the standard run directories).
    ///
    /// `name` is what `zerocpctl processes` shows: 1 to 32 bytes, no control
    /// characters.
    ///
    /// The runtime registers again by itself when the daemon went away and
    /// came back; [`Runtime::builder`] turns that off.
    pub fn init(name: &str) -> Result<Self, InitError> {
        Self::builder(name).init()
    }

    /// Starts building a runtime registered as `name`, with options
    /// ([`RuntimeBuilder`]).
    ///
    /// ```no_run
    /// use zerocp::Runtime;
    ///
    /// let rt = Runtime::builder("planner").reconnect(false).init()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(name: &str) -> RuntimeBuilder {
        RuntimeBuilder::new(name)
    }

    pub(crate) fn from_lifecycle(inner: Arc<Lifecycle>) -> Self {
        Self { inner }
    }

    /// Starts building a publisher of `P` on `service`: a [`ZeroCopySafe`](crate::ZeroCopySafe)
    /// type `T`, or a slice `[T]` of one ([`Payload`]; a slice publisher
    /// needs [`max_slice_len`](PublisherBuilder::max_slice_len)).
    pub fn publisher<P: ?Sized + Payload>(
        &self,
        service: &ServiceDescription,
    ) -> PublisherBuilder<'_, P> {
        PublisherBuilder::new(&self.inner, service)
    }

    /// Starts building a subscriber of `P` on `service`: a [`ZeroCopySafe`](crate::ZeroCopySafe)
    /// type `T`, or a slice `[T]` of one ([`Payload`]).
    pub fn subscriber<P: ?Sized + Payload>(
        &self,
        service: &ServiceDescription,
    ) -> SubscriberBuilder<'_, P> {
        SubscriberBuilder::new(&self.inner, service)
    }

    /// Starts building a subscriber of `service` whose type is the value
    /// `service_type` rather than a Rust type ([`UntypedSubscriber`](crate::UntypedSubscriber)): for
    /// tools that observe services they were not compiled for. The daemon
    /// checks the type as for any port.
    pub fn untyped_subscriber(
        &self,
        service: &ServiceDescription,
        service_type: ServiceType,
    ) -> UntypedSubscriberBuilder<'_> {
        UntypedSubscriberBuilder::new(&self.inner, service, service_type)
    }

    /// Starts building a publisher of `service` whose type is the value
    /// `service_type` rather than a Rust type ([`UntypedPublisher`](crate::UntypedPublisher)):
    /// for bindings to other languages (the C API). The daemon checks the
    /// type as for any port, so Rust subscribers receive its samples only
    /// when the name, size and alignment are their type's.
    pub fn untyped_publisher(
        &self,
        service: &ServiceDescription,
        service_type: ServiceType,
    ) -> UntypedPublisherBuilder<'_> {
        UntypedPublisherBuilder::new(&self.inner, service, service_type)
    }

    /// Starts building a client of the request/response service `service`
    /// ([`Client`](crate::Client)); either side may be a slice
    /// ([`Payload`]).
    pub fn client<Req: ?Sized + Payload, Resp: ?Sized + Payload>(
        &self,
        service: &ServiceDescription,
    ) -> ClientBuilder<'_, Req, Resp> {
        ClientBuilder::new(&self.inner, service)
    }

    /// Starts building a server of the request/response service `service`
    /// ([`Server`](crate::Server)); either side may be a slice
    /// ([`Payload`]).
    pub fn server<Req: ?Sized + Payload, Resp: ?Sized + Payload>(
        &self,
        service: &ServiceDescription,
    ) -> ServerBuilder<'_, Req, Resp> {
        ServerBuilder::new(&self.inner, service)
    }

    /// Starts building a client of the request/response service `service`
    /// whose types are known at run time only ([`UntypedClient`](crate::UntypedClient)),
    /// for bridges and bindings: its ports declare `request` and
    /// `response` (checked by the daemon against the service's servers as
    /// for any client), and its requests and responses are the payloads'
    /// bytes. A slice type's
    /// [`max_request_len`](ClientBuilder::max_request_len) counts the
    /// declared elements; `loan_slice_uninit` counts bytes.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use zerocp::{ServiceType, TypeInfo};
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Calc", "Main", "Add")?;
    /// let pair = ServiceType::sized(TypeInfo::of::<[u32; 2]>());
    /// let sum = ServiceType::sized(TypeInfo::of::<u64>());
    /// let client = rt.untyped_client(&svc, pair, sum).create()?;
    /// let mut request = client.loan_slice_uninit(8)?;
    /// request.write_with(|bytes| {
    ///     bytes[..4].copy_from_slice(&2u32.to_ne_bytes());
    ///     bytes[4..].copy_from_slice(&3u32.to_ne_bytes());
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn untyped_client(
        &self,
        service: &ServiceDescription,
        request: ServiceType,
        response: ServiceType,
    ) -> ClientBuilder<'_, [u8], [u8]> {
        ClientBuilder::untyped(&self.inner, service, Declared { request, response })
    }

    /// Starts building a server of the request/response service `service`
    /// whose types are known at run time only ([`UntypedServer`](crate::UntypedServer)),
    /// as [`untyped_client`](Self::untyped_client) builds a client. A slice
    /// type's [`max_response_len`](ServerBuilder::max_response_len) counts
    /// the declared elements; `loan_slice_uninit` counts bytes.
    ///
    /// ```no_run
    /// use zerocp::{ServiceType, TypeInfo};
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// # let svc = zerocp::ServiceDescription::new("Text", "Main", "Upper")?;
    /// let text = ServiceType::slice(TypeInfo::of::<u8>());
    /// let server = rt.untyped_server(&svc, text, text).max_response_len(64).create()?;
    /// if let Some(request) = server.receive()? {
    ///     let upper = request.to_ascii_uppercase();
    ///     request.loan_slice_uninit(upper.len())?.write_from_slice(&upper)?.send_last()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn untyped_server(
        &self,
        service: &ServiceDescription,
        request: ServiceType,
        response: ServiceType,
    ) -> ServerBuilder<'_, [u8], [u8]> {
        ServerBuilder::untyped(&self.inner, service, Declared { request, response })
    }

    /// Starts building a notifier of the event service `service`
    /// ([`Notifier`](crate::Notifier)).
    pub fn notifier(&self, service: &ServiceDescription) -> NotifierBuilder<'_> {
        NotifierBuilder::new(&self.inner, service)
    }

    /// Starts building a listener of the event service `service`
    /// ([`Listener`](crate::Listener)).
    pub fn listener(&self, service: &ServiceDescription) -> ListenerBuilder<'_> {
        ListenerBuilder::new(&self.inner, service)
    }

    /// Every service of the domain now, in name order: its name, pattern,
    /// type and the ports of each kind ([`ServiceInfo`]), as the daemon
    /// answers its ports query over this process's connection. Every
    /// process the daemon admits may list every service, in every segment
    /// group (names, types and counts only).
    ///
    /// ```no_run
    /// use zerocp::Runtime;
    ///
    /// let rt = Runtime::init("inspector")?;
    /// for info in rt.services()? {
    ///     println!("{} {:?}: {} publishers, {} subscribers",
    ///         info.service, info.pattern, info.publishers, info.subscribers);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn services(&self) -> Result<Vec<ServiceInfo>, ServicesError> {
        service_query::services(&self.inner.registration())
    }

    /// Every port of the domain now, one [`PortInfo`] each: its service,
    /// kind, index, owner's pid and counters, as the daemon answers the
    /// query [`Runtime::services`] groups. A sample's
    /// [`PublisherId::port_index`](crate::PublisherId::port_index) finds
    /// its publisher here, and so the process that published it.
    ///
    /// ```no_run
    /// use zerocp::{PortKind, Runtime};
    ///
    /// let rt = Runtime::init("inspector")?;
    /// for port in rt.ports()?.iter().filter(|p| p.kind == PortKind::Publisher) {
    ///     println!("{} port {} of pid {}", port.service, port.port_index, port.owner_pid);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ports(&self) -> Result<Vec<PortInfo>, ServicesError> {
        service_query::ports(&self.inner.registration())
    }

    /// A watcher of the services: it lists them now
    /// ([`ServiceWatcher::services`]) and then reports them appearing,
    /// changing and disappearing, woken by the daemon (no polling), blocking
    /// with a timeout, without blocking, or in a [`WaitSet`](crate::WaitSet).
    /// Its listener of the daemon's discovery event needs the `subscribe`
    /// rule of that event's segment group.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use zerocp::{Runtime, WaitSet};
    ///
    /// let rt = Runtime::init("inspector")?;
    /// let watcher = rt.service_watcher()?;
    /// let waitset = WaitSet::new()?;
    /// let changes = waitset.attach(&watcher)?;
    /// if waitset.wait(Some(Duration::from_secs(1)))?.contains(&changes) {
    ///     for event in watcher.try_wait()? {
    ///         println!("{event:?}");
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn service_watcher(&self) -> Result<ServiceWatcher, CreateWatcherError> {
        ServiceWatcher::create(&self.inner)
    }

    /// The name this process registered with.
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// The domain this process belongs to.
    pub fn domain(&self) -> &str {
        self.inner.domain().as_str()
    }

    /// Whether this process is connected to the daemon now: a thin alias
    /// of [`Runtime::connection_state`] being
    /// [`ConnectionState::Connected`] (`false` while the daemon restarts,
    /// once it is gone for good, or once it dropped this process for
    /// missing heartbeats). `connection_state` says which of those it is.
    ///
    /// ```no_run
    /// use zerocp::Runtime;
    ///
    /// let rt = Runtime::init("planner")?;
    /// assert!(rt.is_daemon_alive());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_daemon_alive(&self) -> bool {
        matches!(self.connection_state(), ConnectionState::Connected { .. })
    }

    /// The state of this process's connection to the daemon: connected (at
    /// which registration epoch), disconnected (registering again), or gone
    /// for good ([`ConnectionState`]).
    ///
    /// ```no_run
    /// use zerocp::{ConnectionState, Runtime};
    ///
    /// let rt = Runtime::init("planner")?;
    /// if rt.connection_state() == ConnectionState::Disconnected {
    ///     println!("the daemon restarts; calls fail for now");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connection_state(&self) -> ConnectionState {
        self.inner.connection_state()
    }

    /// A handle that blocks until the connection state changes
    /// ([`ConnectionWatcher::wait_change`]); it does not keep the runtime
    /// alive, and wakes with [`ConnectionState::Gone`] once the runtime
    /// ended. To be told of every change without a thread of one's own,
    /// see [`RuntimeBuilder::on_connection_change`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use zerocp::{ConnectionState, Runtime};
    ///
    /// let rt = Runtime::init("planner")?;
    /// let watcher = rt.connection_watcher();
    /// let state = watcher.wait_change(watcher.state(), Some(Duration::from_millis(500)));
    /// println!("connection: {state:?}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connection_watcher(&self) -> ConnectionWatcher {
        ConnectionWatcher::new(self.inner.connection())
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("name", &self.inner.name())
            .field("domain", &self.inner.domain().as_str())
            .field("slot", &self.inner.registration().slot())
            .finish()
    }
}
