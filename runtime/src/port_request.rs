//! Creating and removing ports through the daemon.
//!
//! A publisher or subscriber is created by a request that carries the
//! service and the payload's [`TypeInfo`]; the daemon checks the type against
//! the service's other ports, picks the mempool, sets the port up in its
//! group's control part and answers with the port's group, index and
//! generation and the incarnation of the group's memory, with the group's
//! descriptors (see [`crate::segment_mappings`]; a control part whose
//! header does not attach is asked for once more, see [`create_mapped`]).
//! The runtime then checks that port (in range, active, owned by this
//! process) before it touches it. Dropping a port sends `RemovePort` naming
//! it exactly ([`PortKey`]); the daemon then releases whatever the port
//! still references (history, queue), or only forgets it when a reset of
//! its group took it.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use zerocp_core::fixed_string::FixedString;
use zerocp_core::port::PortControl;
use zerocp_core::port::PortState;
use zerocp_core::service::{ServiceDescription, TypeInfo};
use zerocp_core::wire::{ErrorCode, Message, PortCreated, PortKind, RemovePort};

use crate::ZeroCopySafe;
use crate::error::{ControlError, MapSegmentsError, PortRequestError};
use crate::port_status::PortKey;
use crate::registration::Registration;
use crate::segment_mappings::GroupMappings;

/// Create requests a port makes at most: a group control part that fails
/// to attach because of a header word is asked for once more.
const CREATE_ATTEMPTS: usize = 2;

/// The [`TypeInfo`] the daemon compares for `T`: size, alignment and
/// [`ZeroCopySafe::type_name`].
pub(crate) fn type_info<T: ZeroCopySafe>() -> TypeInfo {
    TypeInfo {
        size: u32::try_from(size_of::<T>()).unwrap_or(u32::MAX),
        align: u32::try_from(align_of::<T>()).unwrap_or(u32::MAX),
        name: FixedString::from_str_truncated(T::type_name()),
    }
}

/// Sends a create request; returns the reply (the port's group and index)
/// and the descriptors it carried.
pub(crate) fn create(
    shared: &Registration,
    request: &Message,
    service: &ServiceDescription,
    size: u32,
) -> Result<(PortCreated, Vec<OwnedFd>), PortRequestError> {
    match shared.call_with_fds(request) {
        Ok((Message::PublisherCreated(reply), fds))
            if matches!(request, Message::CreatePublisher(_)) =>
        {
            Ok((reply, fds))
        }
        Ok((Message::SubscriberCreated(reply), fds))
            if matches!(request, Message::CreateSubscriber(_)) =>
        {
            Ok((reply, fds))
        }
        Ok((Message::NotifierCreated(reply), fds))
            if matches!(request, Message::CreateNotifier(_)) =>
        {
            Ok((reply, fds))
        }
        Ok((Message::ListenerCreated(reply), fds))
            if matches!(request, Message::CreateListener(_)) =>
        {
            Ok((reply, fds))
        }
        Ok((Message::Error(e), _)) => {
            let detail = e.detail.as_str().to_owned();
            let service = service.to_string();
            Err(match e.code {
                ErrorCode::TypeMismatch => PortRequestError::TypeMismatch { service, detail },
                ErrorCode::AccessDenied => PortRequestError::AccessDenied { service, detail },
                ErrorCode::PayloadTooLarge => PortRequestError::PayloadTooLarge {
                    service,
                    size,
                    detail,
                },
                ErrorCode::ShuttingDown => {
                    shared.mark_gone();
                    shared.gone().unwrap_or_else(|| shared.daemon_gone()).into()
                }
                code => PortRequestError::Rejected {
                    service,
                    code,
                    detail,
                },
            })
        }
        Ok((other, _)) => Err(PortRequestError::Control(ControlError::Unexpected {
            request: request.kind(),
            got: other.kind(),
        })),
        Err(ControlError::Closed) => {
            Err(shared.gone().unwrap_or_else(|| shared.daemon_gone()).into())
        }
        Err(e) => Err(PortRequestError::Control(e)),
    }
}

/// Sends a create request for a `kind` port of `service` and maps the
/// port's group from the reply's descriptors; returns the reply and the
/// group's mappings.
///
/// The header of a group's control part (and its freelist headers) is the
/// daemon's: another process of the group can scribble over it, and the
/// daemon restores it before every `PortCreated` reply. So when the part
/// fails to attach because of a header word, the port is removed and the
/// request made once more; a second such failure is
/// [`PortRequestError::CorruptGroup`] (the daemon logs and counts what it
/// restored: `zerocpctl status`).
pub(crate) fn create_mapped(
    shared: &Registration,
    request: &Message,
    service: &ServiceDescription,
    size: u32,
    kind: PortKind,
) -> Result<(PortCreated, Arc<GroupMappings>), PortRequestError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (created, fds) = create(shared, request, service, size)?;
        let error = match shared.segments().group(&created, kind, fds) {
            Ok(group) => return Ok((created, group)),
            Err(error) => error,
        };
        remove(shared, PortKey::of(kind, &created));
        match error {
            MapSegmentsError::Control(error)
                if error.is_header_word() && attempts < CREATE_ATTEMPTS =>
            {
                log::warn!(
                    "the control part of segment group {} did not attach ({error}); asking the \
                     daemon again, which repairs its header",
                    created.group
                );
            }
            MapSegmentsError::Control(error) if error.is_header_word() => {
                return Err(PortRequestError::CorruptGroup {
                    service: service.to_string(),
                    group: created.group,
                    error,
                });
            }
            other => return Err(PortRequestError::Payload(other)),
        }
    }
}

/// Checks that the port the daemon answered with is active and belongs to
/// this process; removes it again (and fails) otherwise.
pub(crate) fn check_owned(
    shared: &Registration,
    key: PortKey,
    control: Option<&PortControl>,
) -> Result<(), PortRequestError> {
    let owned = control.is_some_and(|c| {
        c.state() == Some(PortState::Active) && c.settings().owner_slot == shared.slot()
    });
    if owned {
        Ok(())
    } else {
        remove(shared, key);
        Err(PortRequestError::InvalidPort { index: key.index })
    }
}

/// Asks the daemon to remove the port `key` names, a port of this process
/// (errors are logged: the daemon reclaims the port anyway when the
/// process goes).
pub(crate) fn remove(shared: &Registration, key: PortKey) {
    if shared.is_gone() {
        return;
    }
    let PortKey {
        kind,
        group,
        index,
        generation,
    } = key;
    let request = Message::RemovePort(RemovePort {
        kind,
        port_index: index,
        group,
        generation,
    });
    match shared.call(&request) {
        Ok(Message::PortRemoved) | Err(ControlError::Closed) => {}
        Ok(Message::Error(e)) => {
            log::warn!(
                "cannot remove {kind:?} port {index}: {:?}: {}",
                e.code,
                e.detail.as_str()
            );
        }
        Ok(other) => log::warn!("the daemon answered RemovePort with {:?}", other.kind()),
        Err(e) => log::warn!("cannot remove {kind:?} port {index}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    struct Pose {
        _x: f64,
        _frame: u32,
    }
    // SAFETY: repr(C) of a float and an integer; no pointers, no drop glue.
    unsafe impl ZeroCopySafe for Pose {
        const TYPE_NAME: &'static str = "robot::Pose";
    }

    #[test]
    fn type_info_uses_the_stable_name() {
        let info = type_info::<Pose>();
        assert_eq!((info.size, info.align), (16, 8));
        assert_eq!(info.name.as_str(), "robot::Pose");
        assert_eq!(type_info::<[u8; 3]>().name.as_str(), "[u8; 3]");
    }
}
