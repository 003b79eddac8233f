//! [`PortNotRecreated`]: a port that the restarted daemon would not create
//! again with the options it was created with (its payload type no longer
//! fits the service's other ports, no mempool is large enough any more, the
//! daemon's rules deny it now, ...). The data-path errors of the operations
//! that re-attach a port carry it (`NotRecreated`).

use std::fmt;
use std::sync::Arc;

use zerocp_core::service::ServiceDescription;
use zerocp_core::wire::PortKind;

use super::CreatePortReason;

/// Why a port of this process was not created again on the restarted
/// daemon: which port (kind, service, its index on the old daemon) and the
/// daemon's or the runtime's reason ([`CreatePortReason`]).
///
/// The runtime asks the daemon once per reconnection: every later call of
/// the port returns this same failure (two are equal when they are the same
/// failure) until the runtime registered again, then it asks once more.
/// The port's other calls fail alike; the process's other ports go on.
///
/// ```no_run
/// use zerocp::LoanError;
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Camera", "Front", "Frame")?;
/// # let publisher = rt.publisher::<[u8; 4096]>(&svc).create()?;
/// match publisher.loan_uninit() {
///     Err(LoanError::NotRecreated(e)) if e.reason().to_string().contains("too large") => {
///         eprintln!("{e}: drop this publisher");
///     }
///     other => drop(other),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PortNotRecreated(Arc<Failure>);

#[derive(Debug)]
struct Failure {
    kind: PortKind,
    service: ServiceDescription,
    old_index: u32,
    reason: CreatePortReason,
}

impl PortNotRecreated {
    pub(crate) fn new(
        kind: PortKind,
        service: ServiceDescription,
        old_index: u32,
        reason: CreatePortReason,
    ) -> Self {
        Self(Arc::new(Failure {
            kind,
            service,
            old_index,
            reason,
        }))
    }

    /// Publisher or subscriber.
    pub fn kind(&self) -> PortKind {
        self.0.kind
    }

    /// The port's service.
    pub fn service(&self) -> &ServiceDescription {
        &self.0.service
    }

    /// Why the port could not be created again.
    pub fn reason(&self) -> &CreatePortReason {
        &self.0.reason
    }
}

impl PartialEq for PortNotRecreated {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for PortNotRecreated {}

impl fmt::Display for PortNotRecreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Failure {
            kind,
            service,
            old_index,
            reason,
        } = &*self.0;
        write!(
            f,
            "the {} on {service} (port {old_index} before the daemon restarted) could not be \
             created again on the restarted daemon: {reason}",
            kind.noun()
        )
    }
}

impl std::error::Error for PortNotRecreated {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.reason)
    }
}

/// The error of each re-attaching operation for a port not created again.
macro_rules! from_not_recreated {
    ($($error:ty),*) => {$(
        impl From<PortNotRecreated> for $error {
            fn from(e: PortNotRecreated) -> Self {
                Self::NotRecreated(e)
            }
        }
    )*};
}

from_not_recreated!(
    super::WakeFdError,
    super::LoanError,
    super::UpdateConnectionsError,
    super::TakeError,
    super::WaitError,
    super::NotifyError
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PortRequestError;

    #[test]
    fn names_the_port_and_the_reason() {
        let service = ServiceDescription::new("Camera", "Front", "Frame").unwrap();
        let e = PortNotRecreated::new(
            PortKind::Publisher,
            service,
            3,
            PortRequestError::PayloadTooLarge {
                service: service.to_string(),
                size: 8192,
                detail: "the largest chunk is 4096 bytes".into(),
            }
            .into(),
        );
        let text = e.to_string();
        assert!(
            text.starts_with("the publisher on Camera/Front/Frame (port 3"),
            "{text}"
        );
        assert!(text.contains("8192 bytes is too large"), "{text}");
        assert_eq!(e, e.clone());
        let other = PortNotRecreated::new(
            PortKind::Publisher,
            service,
            3,
            PortRequestError::InvalidPort { index: 3 }.into(),
        );
        assert_ne!(e, other, "another failure");
        assert_eq!(e.kind(), PortKind::Publisher);
    }
}
