//! [`HostileMember`]: a process inside a segment group with exactly the
//! rights any publisher of that group has, and the will to abuse them.
//!
//! It registers as a raw client (no runtime: it beats only when told, see
//! [`HostileMember::beat`]) and creates a publisher in the group, and holds
//! what that gives it: the group's control and payload parts writable
//! ([`MappedGroup`]) and its own heartbeat file. It checks on the way that
//! the domain's mgmt segment is not among them (its descriptor is
//! read-only: mapping it writable fails with `EACCES`). Tests write over
//! what it holds with a seeded [`super::scribble::Scribbler`].

use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::io::Errno;
use zerocp_core::heartbeat::HeartbeatSlot;
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::{CONTROL_PART, DomainName, DomainPaths, PAYLOAD_PART, SegmentName};
use zerocp_os_linux::shm::SharedMemory;

use super::{MappedGroup, RawClient, TestDomain, kernel_maps_writable};

/// A registered process with a publisher in one group (module docs).
pub struct HostileMember {
    /// Its registration: dropping it ends the process's registration.
    pub client: RawClient,
    /// The group's parts, as its publisher received them.
    pub group: MappedGroup,
    /// Its own heartbeat file.
    pub heartbeat: Mapping,
    /// The group's index.
    pub group_index: u32,
    /// Its publisher's port index.
    pub port: u32,
}

impl HostileMember {
    /// Registers as `name` on `domain` and creates a `u64` publisher on
    /// `service`, which belongs to the group `group` (its name).
    pub fn join(domain: &TestDomain, name: &str, service: &str, group: &str) -> Self {
        let domain_name = DomainName::new(domain.domain()).expect("valid");
        Self::join_at(&domain.socket_path(), &domain_name, name, service, group)
    }

    /// As [`join`](Self::join), from a child process: the domain is the one
    /// its environment names (`ZEROCP_DOMAIN`, `ZEROCP_RUN_DIR`, as
    /// [`TestDomain::envs`] sets them).
    pub fn join_from_env(name: &str, service: &str, group: &str) -> Self {
        let domain = std::env::var("ZEROCP_DOMAIN").expect("ZEROCP_DOMAIN is set");
        let domain = DomainName::new(&domain).expect("valid");
        let paths = DomainPaths::for_client(&domain).expect("the domain's run directory");
        Self::join_at(&paths.socket, &domain, name, service, group)
    }

    fn join_at(
        socket: &Path,
        domain_name: &DomainName,
        name: &str,
        service: &str,
        group: &str,
    ) -> Self {
        let mut client = RawClient::connect(socket);
        let (registered, fds) = client.register_with_segments(name);
        let [mgmt, heartbeat] = <[OwnedFd; 2]>::try_from(fds).expect("two descriptors");
        let mgmt_name = SegmentName::mgmt(domain_name);
        let mgmt = SharedMemory::from_fd(mgmt, mgmt_name).expect("a sealed mgmt segment");
        assert!(
            Mapping::map(&mgmt, true).is_err(),
            "mapped the mgmt segment writable"
        );
        assert_eq!(kernel_maps_writable(&mgmt), Err(Errno::ACCESS));
        let name = SegmentName::heartbeat(domain_name, registered.process_slot);
        let heartbeat = SharedMemory::from_fd(heartbeat, name).expect("a sealed heartbeat file");
        let heartbeat = Mapping::map(&heartbeat, true).expect("map the heartbeat file");
        let (created, fds) = client.create_publisher_with_segments::<u64>(service, 0);
        let names = [CONTROL_PART, PAYLOAD_PART]
            .map(|part| SegmentName::group_part(domain_name, group, part));
        Self {
            client,
            group: MappedGroup::from_reply(created.group, fds, names, true),
            heartbeat,
            group_index: created.group,
            port: created.port_index,
        }
    }

    /// Its heartbeat slot, in its own mapping of its heartbeat file.
    pub fn heartbeat_slot(&self) -> &HeartbeatSlot {
        // SAFETY: a `HeartbeatSlot` is atomics only, valid for any bits and
        // only ever accessed atomically; `ref_at` checks bounds and
        // alignment, and the reference borrows the mapping.
        unsafe { self.heartbeat.ref_at::<HeartbeatSlot>(0) }.expect("the slot at offset 0")
    }

    /// Beats once, as a runtime's heartbeat thread would.
    pub fn beat(&self) {
        self.heartbeat_slot()
            .beat(zerocp_os_linux::clock::monotonic_ms());
    }
}
