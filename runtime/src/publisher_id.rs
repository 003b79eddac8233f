//! [`PublisherId`]: which publisher sent a sample.
//!
//! A publisher is named by its port: the port's index in its segment
//! group and the generation of that allocation of the slot (the daemon's
//! own name for it, as `zerocpctl services` shows the index). The pair is
//! unique among the publishers a subscriber can hear (all publishers of a
//! service are in the service's one group), and a reused slot gets a new
//! generation, so a publisher that died and one that took its slot differ.
//!
//! The publisher writes both numbers into the header of every chunk it
//! loans; [`Sample::publisher`](crate::Sample::publisher) reads them back
//! and [`Publisher::id`](crate::Publisher::id) shows the publisher's own,
//! so the two compare equal. After a daemon restart a publisher's port is
//! created again and its id changes (its sequence numbers go on).
//! On the subscriber side the id is what the chunk header says: shared
//! memory another process writes, reported as read and never used to
//! find anything.

use std::fmt;

/// The publisher port that sent a sample: its index in the service's
/// segment group and its generation.
///
/// ```no_run
/// # let rt = zerocp::Runtime::init("doc")?;
/// # let svc = zerocp::ServiceDescription::new("Robot", "Base", "Pose")?;
/// let publisher = rt.publisher::<u64>(&svc).create()?;
/// let subscriber = rt.subscriber::<u64>(&svc).create()?;
/// publisher.loan_uninit()?.write(7).publish()?;
/// let sample = subscriber.take()?.expect("queued");
/// assert_eq!(sample.publisher(), publisher.id());
/// println!("{} sent #{}", sample.publisher(), sample.sequence());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublisherId {
    port: u32,
    generation: u32,
}

impl PublisherId {
    pub(crate) fn new(port: u32, generation: u32) -> Self {
        Self { port, generation }
    }

    /// The publisher's port index in its segment group.
    pub fn port_index(&self) -> u32 {
        self.port
    }

    /// The generation of the port slot's allocation (never 0 for a port
    /// the daemon created).
    pub fn generation(&self) -> u32 {
        self.generation
    }
}

impl fmt::Display for PublisherId {
    /// `publisher port 3 (generation 7)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "publisher port {} (generation {})",
            self.port, self.generation
        )
    }
}
