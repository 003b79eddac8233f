//! Listing the services: the daemon's ports query (`QueryServices`, paged)
//! sent over this process's own control connection, grouped into
//! [`ServiceInfo`]s ([`crate::service_info`]).
//!
//! It is the query `zerocpctl services` sends, answered on any connection
//! the daemon's `[access]` rules admit: listing needs no new message and no
//! right beyond connecting, and shows every service of the domain,
//! whichever segment group it is in (names, types and port counts; no
//! memory of a group is handed out with it).
//!
//! The pages are consistent each, not together: a port created or removed
//! between two pages can be missed or listed twice. A watcher re-queries
//! after every change it is told of, so the next list is right again.

use zerocp_core::wire::{ErrorCode, Message, PAGE_END, PageRequest, PortInfo};

use crate::error::{ControlError, ServicesError};
use crate::registration::Registration;
use crate::service_info::{ServiceInfo, services_of};

/// Most pages read for one list (a bound against a daemon that never says
/// `PAGE_END`; far more than any configuration's ports).
const MAX_PAGES: u32 = 100_000;

/// Every service the daemon knows now, in name order.
pub(crate) fn services(registration: &Registration) -> Result<Vec<ServiceInfo>, ServicesError> {
    ports(registration).map(|ports| services_of(&ports))
}

/// Every port the daemon knows now, in its order.
pub(crate) fn ports(registration: &Registration) -> Result<Vec<PortInfo>, ServicesError> {
    let mut ports: Vec<PortInfo> = Vec::new();
    let mut start = 0;
    for _ in 0..MAX_PAGES {
        let (entries, next) = page(registration, start)?;
        ports.extend(entries);
        if next == PAGE_END {
            return Ok(ports);
        }
        if next <= start {
            return Err(ServicesError::Protocol {
                detail: format!("the page from {start} names {next} as the next page"),
            });
        }
        start = next;
    }
    Err(ServicesError::Protocol {
        detail: format!("more than {MAX_PAGES} pages"),
    })
}

/// One page of ports from `start`, and where the next one starts.
fn page(registration: &Registration, start: u32) -> Result<(Vec<PortInfo>, u32), ServicesError> {
    let request = Message::QueryServices(PageRequest { start });
    match registration.call(&request) {
        Ok(Message::PortsPage(page)) => Ok((page.entries.to_vec(), page.next)),
        Ok(Message::Error(e)) if e.code == ErrorCode::ShuttingDown => {
            registration.mark_gone();
            Err(gone(registration))
        }
        Ok(Message::Error(e)) => Err(ServicesError::Refused {
            code: e.code,
            detail: e.detail.as_str().to_owned(),
        }),
        Ok(other) => Err(ServicesError::Control(ControlError::Unexpected {
            request: request.kind(),
            got: other.kind(),
        })),
        Err(ControlError::Closed) => Err(gone(registration)),
        Err(e) => Err(ServicesError::Control(e)),
    }
}

/// The error of a registration whose daemon is gone (or dropped it).
fn gone(registration: &Registration) -> ServicesError {
    registration
        .gone()
        .unwrap_or_else(|| registration.daemon_gone())
        .into()
}
