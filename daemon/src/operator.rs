//! The operator's requests: resetting a segment group (`ResetGroup`,
//! `zerocpctl reset-group NAME`) and revoking a port (`RevokePort`,
//! `zerocpctl revoke-port GROUP KIND INDEX`).
//!
//! They interrupt other processes, so only root and the daemon's own uid may
//! make them; anyone else gets `AccessDenied` naming the rule, e.g.
//! `access denied: uid 1001 may not reset group "nav": only root and the
//! daemon's uid 1000 may`. Like the queries, and unlike port requests, they
//! need no registration: `zerocpctl` never registers (it takes no process
//! slot and is no member of any group), and the uid comes from the
//! connection's `SO_PEERCRED` either way.

use zerocp_core::wire::{ErrorCode, GroupReset, PortRevoked, ResetGroup, RevokePort, RevokeReason};
use zerocp_os_linux::seqpacket::PeerCredentials;

use crate::control_plane::{ControlPlane, RequestError};
use crate::group_reset::{ResetCause, ResetGroupError};
use crate::revocation::RevokeError;

fn refused(code: ErrorCode, detail: String) -> RequestError {
    RequestError { code, detail }
}

impl ControlPlane<'_> {
    /// `ResetGroup` from a peer with `creds`.
    pub fn reset_group_request(
        &mut self,
        creds: &PeerCredentials,
        msg: &ResetGroup,
    ) -> Result<GroupReset, RequestError> {
        let name = msg.group.as_str();
        self.check_operator(creds, &format!("reset group \"{name}\""))?;
        let group = self.group_named(name)?;
        let done = self
            .reset_group(group, ResetCause::Operator { uid: creds.uid })
            .map_err(|e| {
                let code = match e {
                    ResetGroupError::NoSuchGroup(_) => ErrorCode::InvalidArgument,
                    ResetGroupError::Memory { .. } => ErrorCode::LimitReached,
                };
                refused(code, e.to_string())
            })?;
        Ok(GroupReset {
            group: done.group,
            incarnation: done.incarnation,
            revoked: done.revoked,
        })
    }

    /// `RevokePort` from a peer with `creds`.
    pub fn revoke_port_request(
        &mut self,
        creds: &PeerCredentials,
        msg: &RevokePort,
    ) -> Result<PortRevoked, RequestError> {
        let what = format!(
            "revoke {} port {} of group {}",
            msg.kind.noun(),
            msg.port_index,
            msg.group
        );
        self.check_operator(creds, &what)?;
        let id = self
            .live_port(msg.group, msg.kind, msg.port_index)
            .ok_or_else(|| {
                refused(
                    ErrorCode::NoSuchPort,
                    format!("cannot {what}: no process has such a port"),
                )
            })?;
        let reason = RevokeReason::Operator;
        self.revoke_port(id, reason).map_err(|e| {
            let code = match e {
                RevokeError::NoSuchPort(_) => ErrorCode::NoSuchPort,
                RevokeError::NotRouted(_) => ErrorCode::InvalidArgument,
            };
            refused(code, format!("cannot {what}: {e}"))
        })?;
        Ok(PortRevoked {
            kind: id.kind,
            port_index: id.index,
            group: id.group,
            generation: id.generation,
            reason,
        })
    }

    /// Only root and the daemon's uid may `what`.
    fn check_operator(&self, creds: &PeerCredentials, what: &str) -> Result<(), RequestError> {
        let daemon_uid = self.identity.uid;
        if creds.uid == 0 || creds.uid == daemon_uid {
            return Ok(());
        }
        let detail = format!(
            "access denied: uid {} may not {what}: only root and the daemon's uid {daemon_uid} \
             may",
            creds.uid
        );
        log::warn!("pid {}: refused: {detail}", creds.pid);
        Err(refused(ErrorCode::AccessDenied, detail))
    }

    /// The index of the group called `name`.
    fn group_named(&self, name: &str) -> Result<u32, RequestError> {
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(|g| g as u32)
            .ok_or_else(|| {
                let names: Vec<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
                refused(
                    ErrorCode::InvalidArgument,
                    format!(
                        "there is no segment group \"{name}\" (the groups: {})",
                        names.join(", ")
                    ),
                )
            })
    }
}
