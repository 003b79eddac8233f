//! Rates between two snapshots: how fast each port's counters moved.
//!
//! The daemon reports counters (a publisher's `published`, a subscriber's
//! `received` and `dropped`), not rates; `top` asks twice and divides the
//! difference by the time between the two answers. A port is known across
//! the two by its [`PortKey`] (group, kind, index and owner pid). A counter
//! that went down belongs to a port created again at the same place (its
//! counters restart at 0), and a port seen only in the second snapshot was
//! created in between: in both cases the whole current value was counted
//! within the interval. A port only in the first snapshot has gone and has
//! no rate.
//!
//! Pure functions of the two lists and the interval, so they are tested
//! without a daemon.

use std::collections::HashMap;
use std::time::Duration;

use zerocp_core::wire::{PortInfo, PortKind};

/// A port's identity from one snapshot to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortKey {
    /// Its segment group.
    pub group: u32,
    /// Publisher, subscriber, notifier or listener.
    pub kind: PortKind,
    /// Its index in the group.
    pub index: u32,
    /// Its owner's pid.
    pub pid: u32,
}

impl PortKey {
    /// The key of `port`.
    pub fn of(port: &PortInfo) -> Self {
        Self {
            group: port.group,
            kind: port.kind,
            index: port.port_index,
            pid: port.owner_pid,
        }
    }
}

/// How fast one port's counters moved, per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PortRate {
    /// Samples published (a publisher) or taken (a subscriber).
    pub samples_per_s: f64,
    /// Samples dropped from a subscriber's queue (0 for a publisher).
    pub drops_per_s: f64,
}

/// What a counter counted between two readings: the difference, or all of
/// `current` if there was no earlier reading or the counter restarted.
pub fn delta(previous: Option<u64>, current: u64) -> u64 {
    match previous {
        Some(before) if current >= before => current - before,
        _ => current,
    }
}

/// The samples a port's own counter counts: published for a publisher,
/// taken for a subscriber, none for an event port.
fn samples(port: &PortInfo) -> u64 {
    match port.kind {
        PortKind::Publisher => port.published,
        PortKind::Subscriber => port.received,
        PortKind::Notifier | PortKind::Listener => 0,
    }
}

/// The rate of every port of `current`, from the counters of `previous`
/// taken `elapsed` earlier; empty for a zero interval.
pub fn port_rates(
    previous: &[PortInfo],
    current: &[PortInfo],
    elapsed: Duration,
) -> HashMap<PortKey, PortRate> {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return HashMap::new();
    }
    let before: HashMap<PortKey, &PortInfo> =
        previous.iter().map(|p| (PortKey::of(p), p)).collect();
    current
        .iter()
        .map(|port| {
            let key = PortKey::of(port);
            let earlier = before.get(&key);
            let samples = delta(earlier.map(|p| samples(p)), samples(port));
            let drops = delta(earlier.map(|p| p.dropped), port.dropped);
            let rate = PortRate {
                samples_per_s: samples as f64 / seconds,
                drops_per_s: drops as f64 / seconds,
            };
            (key, rate)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use zerocp_core::service::{ServiceDescription, TypeInfo};

    /// A port of `S/I/<event>` for the tests of `top`.
    pub(crate) fn port(event: &str, kind: PortKind, index: u32, pid: u32) -> PortInfo {
        PortInfo::new(
            ServiceDescription::new("S", "I", event).expect("a service"),
            kind,
            index,
            0,
            pid,
            TypeInfo::of::<u64>(),
        )
    }

    #[test]
    fn a_delta_is_the_difference_or_everything_after_a_restart() {
        assert_eq!(delta(Some(10), 25), 15);
        assert_eq!(delta(Some(10), 10), 0);
        assert_eq!(delta(None, 7), 7);
        assert_eq!(delta(Some(100), 4), 4, "created again: counts from 0");
    }

    #[test]
    fn rates_divide_each_ports_delta_by_the_interval() {
        let mut publisher = port("E", PortKind::Publisher, 0, 10);
        let mut subscriber = port("E", PortKind::Subscriber, 1, 11);
        publisher.published = 100;
        subscriber.received = 50;
        subscriber.dropped = 3;
        let before = [publisher.clone(), subscriber.clone()];
        publisher.published = 150;
        subscriber.received = 70;
        subscriber.dropped = 8;
        let rates = port_rates(
            &before,
            &[publisher.clone(), subscriber.clone()],
            Duration::from_millis(500),
        );
        let of = |p: &PortInfo| rates[&PortKey::of(p)];
        assert_eq!(of(&publisher).samples_per_s, 100.0);
        assert_eq!(of(&publisher).drops_per_s, 0.0);
        assert_eq!(of(&subscriber).samples_per_s, 40.0);
        assert_eq!(of(&subscriber).drops_per_s, 10.0);
    }

    #[test]
    fn a_port_new_in_the_interval_counts_all_and_a_reused_index_is_another_port() {
        let mut old = port("E", PortKind::Publisher, 0, 10);
        old.published = 1000;
        let mut newcomer = port("E", PortKind::Publisher, 0, 20);
        newcomer.published = 5;
        let rates = port_rates(&[old], &[newcomer.clone()], Duration::from_secs(1));
        assert_eq!(rates.len(), 1, "the old port has gone");
        assert_eq!(rates[&PortKey::of(&newcomer)].samples_per_s, 5.0);
    }

    #[test]
    fn no_interval_no_rates() {
        let p = port("E", PortKind::Publisher, 0, 10);
        assert!(
            port_rates(
                std::slice::from_ref(&p),
                std::slice::from_ref(&p),
                Duration::ZERO
            )
            .is_empty()
        );
    }
}
