//! The query client: one connection to the daemon, unregistered, asking the
//! introspection queries and collecting paged answers, and making the
//! operator's requests (reset a group, revoke a port), over the shared
//! [`ControlClient`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zerocp_core::fixed_string::FixedString;
use zerocp_core::service::ServiceDescription;
use zerocp_core::type_layout::TypeLayout;
use zerocp_core::wire::{
    ErrorCode, GroupInfo, GroupReset, MempoolInfo, Message, PAGE_END, PageRequest, PortInfo,
    PortKind, PortRevoked, ProcessInfo, ResetGroup, RevokePort, Status,
};
use zerocp_os_linux::control_client::{ControlClient, ControlError};
use zerocp_os_linux::error::{Errno, ErrnoText, NameError, RunDirError, SocketError};
use zerocp_os_linux::names::{DomainName, DomainPaths};

/// How long to wait for each reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Most pages collected for one list (a bound against a misbehaving peer).
const MAX_PAGES: usize = 100_000;

/// A query failed.
#[derive(Debug)]
pub enum CtlError {
    /// The domain name is invalid.
    Domain(NameError),
    /// No run directory could be determined.
    RunDir(RunDirError),
    /// Nobody answers on the domain's socket (the daemon is not running?).
    NotRunning {
        /// The domain.
        domain: String,
        /// The socket path tried.
        socket: PathBuf,
        /// Why the connection failed.
        source: SocketError,
    },
    /// The daemon runs, but the socket's permissions refuse this user.
    AccessDenied {
        /// The domain.
        domain: String,
        /// The socket path tried.
        socket: PathBuf,
        /// `EACCES` or `EPERM`.
        source: SocketError,
    },
    /// Sending or receiving failed.
    Socket(SocketError),
    /// No reply within [`REPLY_TIMEOUT`].
    Timeout {
        /// The socket path.
        socket: PathBuf,
    },
    /// The daemon closed the connection.
    Closed {
        /// The socket path.
        socket: PathBuf,
    },
    /// The daemon had no room for this connection at any attempt: it
    /// evicted it for newer unregistered connections of the same uid, or
    /// of the uid holding the most.
    NoRoom {
        /// Connections tried.
        attempts: u32,
        /// The daemon's last reason.
        detail: String,
    },
    /// The daemon refused the query (or this connection).
    Refused {
        /// Its error code.
        code: ErrorCode,
        /// Its explanation.
        detail: String,
    },
    /// The reply was not what the protocol says.
    Protocol(String),
    /// The daemon knows no port of this service.
    NoSuchService {
        /// The service, `Service/Instance/Event`.
        service: String,
        /// The domain asked.
        domain: String,
    },
}

impl fmt::Display for CtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Domain(e) => write!(f, "{e}"),
            Self::RunDir(e) => write!(f, "{e}"),
            Self::NotRunning {
                domain,
                socket,
                source,
            } => {
                write!(
                    f,
                    "zerocpd is not running for domain {domain}: nothing answers on {}",
                    socket.display()
                )?;
                match source.errno() {
                    Some(errno) => write!(f, " ({})", ErrnoText(errno)),
                    None => write!(f, " ({source})"),
                }
            }
            Self::AccessDenied {
                domain,
                socket,
                source,
            } => {
                write!(
                    f,
                    "access to zerocpd of domain {domain} refused: cannot connect to {}",
                    socket.display()
                )?;
                if let Some(errno) = source.errno() {
                    write!(f, " ({})", ErrnoText(errno))?;
                }
                write!(
                    f,
                    "; the socket's owner and mode do not let uid {} in: see [access] \
                     (socket_mode, uids, gids) in the daemon's configuration",
                    rustix::process::getuid().as_raw()
                )
            }
            Self::Socket(e) => write!(f, "{e}"),
            Self::Timeout { socket } => write!(
                f,
                "no reply from zerocpd on {} within {} s",
                socket.display(),
                REPLY_TIMEOUT.as_secs()
            ),
            Self::Closed { socket } => {
                write!(f, "zerocpd closed the connection on {}", socket.display())
            }
            Self::NoRoom { attempts, detail } => write!(
                f,
                "zerocpd had no room for this connection ({attempts} attempts): LimitReached: \
                 {detail}"
            ),
            Self::Refused { code, detail } => write!(f, "zerocpd refused: {code}: {detail}"),
            Self::Protocol(what) => write!(f, "unexpected reply from zerocpd: {what}"),
            Self::NoSuchService { service, domain } => write!(
                f,
                "no port of service {service} in domain {domain} (is its publisher running?)"
            ),
        }
    }
}

impl std::error::Error for CtlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Domain(e) => Some(e),
            Self::RunDir(e) => Some(e),
            Self::NotRunning { source, .. } | Self::AccessDenied { source, .. } => Some(source),
            Self::Socket(e) => Some(e),
            _ => None,
        }
    }
}

/// A connection to the daemon of one domain, for queries.
///
/// ```
/// use zerocp_daemon::ctl::{CtlClient, CtlError};
/// match CtlClient::connect(Some("doc-no-daemon")) {
///     Err(CtlError::NotRunning { socket, .. }) => {
///         assert!(socket.ends_with("doc-no-daemon.sock"))
///     }
///     Err(CtlError::RunDir(_)) => {} // no run directory on this machine at all
///     other => panic!("expected no daemon, got {other:?}"),
/// }
/// ```
#[derive(Debug)]
pub struct CtlClient {
    client: ControlClient,
    path: PathBuf,
    domain: String,
}

impl CtlClient {
    /// Connects to the daemon of `domain` (`None`: `ZEROCP_DOMAIN`, else `default`).
    pub fn connect(domain: Option<&str>) -> Result<Self, CtlError> {
        let domain = match domain {
            Some(name) => DomainName::new(name),
            None => DomainName::from_env(),
        }
        .map_err(CtlError::Domain)?;
        let paths = DomainPaths::for_client(&domain).map_err(CtlError::RunDir)?;
        let mut client = Self::connect_path(&paths.socket).map_err(|e| match e {
            CtlError::Socket(source)
                if matches!(source.errno(), Some(Errno::ACCESS | Errno::PERM)) =>
            {
                CtlError::AccessDenied {
                    domain: domain.to_string(),
                    socket: paths.socket.clone(),
                    source,
                }
            }
            CtlError::Socket(source) => CtlError::NotRunning {
                domain: domain.to_string(),
                socket: paths.socket.clone(),
                source,
            },
            other => other,
        })?;
        client.domain = domain.to_string();
        Ok(client)
    }

    /// Connects to the control socket at `path`.
    pub fn connect_path(path: &Path) -> Result<Self, CtlError> {
        let client = ControlClient::connect(path).map_err(CtlError::Socket)?;
        let domain = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self {
            client,
            path: path.to_owned(),
            domain,
        })
    }

    /// The domain (for [`connect_path`](Self::connect_path): the socket file's stem).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends `msg` and returns the reply to it; an `Error` reply (including
    /// the daemon refusing the connection) is [`CtlError::Refused`], and a
    /// connection the daemon had no room for [`CtlError::NoRoom`].
    pub fn request(&mut self, msg: &Message) -> Result<Message, CtlError> {
        let socket = || self.path.clone();
        match self.client.request(msg, REPLY_TIMEOUT) {
            Ok(Message::Error(e)) => Err(CtlError::Refused {
                code: e.code,
                detail: e.detail.as_str().to_owned(),
            }),
            Ok(reply) => Ok(reply),
            Err(ControlError::Refused {
                code: ErrorCode::LimitReached,
                detail,
            }) => Err(CtlError::NoRoom {
                attempts: 1,
                detail,
            }),
            Err(ControlError::Refused { code, detail }) => Err(CtlError::Refused { code, detail }),
            Err(ControlError::Closed) => Err(CtlError::Closed { socket: socket() }),
            Err(ControlError::Timeout { .. }) => Err(CtlError::Timeout { socket: socket() }),
            Err(ControlError::Send(e) | ControlError::Recv(e)) => Err(CtlError::Socket(e)),
            Err(e) => Err(CtlError::Protocol(e.to_string())),
        }
    }

    /// The daemon's status.
    pub fn status(&mut self) -> Result<Status, CtlError> {
        match self.request(&Message::QueryStatus)? {
            Message::Status(status) => Ok(status),
            other => Err(unexpected(&other)),
        }
    }

    /// Every registered process.
    pub fn processes(&mut self) -> Result<Vec<ProcessInfo>, CtlError> {
        self.paged(Message::QueryProcesses, |reply| match reply {
            Message::ProcessesPage(page) => Ok((page.entries.to_vec(), page.next)),
            other => Err(unexpected(&other)),
        })
    }

    /// Every port, ordered by service.
    pub fn ports(&mut self) -> Result<Vec<PortInfo>, CtlError> {
        self.paged(Message::QueryServices, |reply| match reply {
            Message::PortsPage(page) => Ok((page.entries.to_vec(), page.next)),
            other => Err(unexpected(&other)),
        })
    }

    /// The ports of the service written `service` (`Service/Instance/Event`),
    /// at least one ([`CtlError::NoSuchService`] for none).
    pub fn service_ports(&mut self, service: &str) -> Result<Vec<PortInfo>, CtlError> {
        let ports: Vec<PortInfo> = self
            .ports()?
            .into_iter()
            .filter(|p| p.service.to_string() == service)
            .collect();
        if ports.is_empty() {
            return Err(CtlError::NoSuchService {
                service: service.to_owned(),
                domain: self.domain.clone(),
            });
        }
        Ok(ports)
    }

    /// The layout the daemon keeps for `service`'s payload type; unknown
    /// when no port of it described its type, or when the service lost its
    /// last port since it was listed.
    pub fn service_layout(&mut self, service: &ServiceDescription) -> Result<TypeLayout, CtlError> {
        match self.request(&Message::QueryServiceLayout(*service)) {
            Ok(Message::ServiceLayout(reply)) if reply.service == *service => Ok(reply.layout),
            Ok(other) => Err(unexpected(&other)),
            Err(CtlError::Refused {
                code: ErrorCode::NoSuchPort,
                ..
            }) => Ok(TypeLayout::unknown()),
            Err(e) => Err(e),
        }
    }

    /// Usage of every mempool.
    pub fn mempools(&mut self) -> Result<Vec<MempoolInfo>, CtlError> {
        match self.request(&Message::QueryMempools)? {
            Message::Mempools(m) => Ok(m.pools.to_vec()),
            other => Err(unexpected(&other)),
        }
    }

    /// Every segment group, `default` first.
    pub fn groups(&mut self) -> Result<Vec<GroupInfo>, CtlError> {
        self.paged(Message::QueryGroups, |reply| match reply {
            Message::GroupsPage(page) => Ok((page.entries.to_vec(), page.next)),
            other => Err(unexpected(&other)),
        })
    }

    /// Resets the segment group called `name` onto fresh memory (root and
    /// the daemon's uid only).
    pub fn reset_group(&mut self, name: &str) -> Result<GroupReset, CtlError> {
        let group = FixedString::try_from_str(name).map_err(|_| CtlError::Refused {
            code: ErrorCode::InvalidArgument,
            detail: format!("there is no segment group \"{name}\" (the name is too long)"),
        })?;
        match self.request(&Message::ResetGroup(ResetGroup { group }))? {
            Message::GroupReset(done) => Ok(done),
            other => Err(unexpected(&other)),
        }
    }

    /// Revokes the `kind` port `port_index` of group `group` (root and the
    /// daemon's uid only).
    pub fn revoke_port(
        &mut self,
        group: u32,
        kind: PortKind,
        port_index: u32,
    ) -> Result<PortRevoked, CtlError> {
        let request = Message::RevokePort(RevokePort {
            kind,
            port_index,
            group,
        });
        match self.request(&request)? {
            Message::PortRevoked(port) => Ok(port),
            other => Err(unexpected(&other)),
        }
    }

    fn paged<T>(
        &mut self,
        query: impl Fn(PageRequest) -> Message,
        page: impl Fn(Message) -> Result<(Vec<T>, u32), CtlError>,
    ) -> Result<Vec<T>, CtlError> {
        let mut all = Vec::new();
        let mut start = 0;
        for _ in 0..MAX_PAGES {
            let (entries, next) = page(self.request(&query(PageRequest { start }))?)?;
            all.extend(entries);
            if next == PAGE_END {
                return Ok(all);
            }
            if next <= start {
                return Err(CtlError::Protocol(format!(
                    "page from {start} names {next} as the next page"
                )));
            }
            start = next;
        }
        Err(CtlError::Protocol(format!("more than {MAX_PAGES} pages")))
    }
}

fn unexpected(reply: &Message) -> CtlError {
    CtlError::Protocol(format!(
        "{:?} is not the answer to this request",
        reply.kind()
    ))
}
