//! [`domain_origin`]: the id of the domain a sample was first published
//! in, carried in its [`Attachment`](crate::Attachment) so that no bridge
//! publishes a sample back into the domain it came from.
//!
//! Every bridge of one domain must compute the same id, and two domains
//! that meet through Zenoh must not. The id is a 64-bit FNV-1a hash of the
//! kernel's boot id (`/proc/sys/kernel/random/boot_id`, 128 random bits
//! drawn at every boot) and the domain's name: the bridges of a domain run
//! on one machine in one boot and agree without talking; domains on two
//! machines differ by the boot id, even on machines cloned from one image
//! (a `/etc/machine-id` or a host name can be the same on both), and two
//! domains of one machine differ by name. Two daemons of one machine with
//! the same domain name (in different run directories, or containers that
//! share the kernel) get the same id, and their bridges would drop each
//! other's samples as their own: give such domains different names.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Where the kernel says which boot this is.
const BOOT_ID: &str = "/proc/sys/kernel/random/boot_id";

/// The origin id of `domain` on this machine in this boot (module docs).
///
/// ```no_run
/// let id = zerocp_zenoh::domain_origin("robot")?;
/// assert_eq!(id, zerocp_zenoh::domain_origin("robot")?);
/// assert_ne!(id, zerocp_zenoh::domain_origin("test")?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn domain_origin(domain: &str) -> std::io::Result<u64> {
    let boot = std::fs::read_to_string(BOOT_ID)?;
    Ok(origin_of(boot.trim(), domain))
}

/// The hash of `boot` and `domain`, a zero byte between them.
fn origin_of(boot: &str, domain: &str) -> u64 {
    let bytes = boot.bytes().chain([0]).chain(domain.bytes());
    bytes.fold(FNV_OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_and_domain_both_change_the_origin() {
        let boot = "0e7a6f0c-3c5e-4b5e-9d0e-1f2a3b4c5d6e";
        let other_boot = "0e7a6f0c-3c5e-4b5e-9d0e-1f2a3b4c5d6f";
        let id = origin_of(boot, "robot");
        assert_eq!(id, origin_of(boot, "robot"));
        assert_ne!(id, origin_of(other_boot, "robot"));
        assert_ne!(id, origin_of(boot, "robot2"));
        // The separator keeps "ab" + "c" apart from "a" + "bc".
        assert_ne!(origin_of("ab", "c"), origin_of("a", "bc"));
    }

    #[test]
    fn this_machine_has_a_boot_id() {
        let id = domain_origin("robot").expect("procfs names the boot");
        assert_eq!(id, domain_origin("robot").expect("again"));
    }
}
