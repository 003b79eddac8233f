//! [`PublishTimedOut`]: a block-publisher subscriber kept its queue full for
//! longer than the publisher's publish timeout.

use std::fmt;
use std::time::Duration;

/// A publish (or [`update_connections`](crate::Publisher::update_connections))
/// gave up on a subscriber: its policy is
/// [`FullPolicy::BlockPublisher`](crate::FullPolicy) and its queue stayed
/// full (or at its port quota) for the publisher's
/// [`publish_timeout`](crate::PublisherBuilder::publish_timeout). That
/// subscriber did not get the sample; every other one did. Returned only
/// when the publisher chose
/// [`PublishTimeout::Fail`](crate::PublishTimeout::Fail); the drop is
/// counted in both ports' statistics either way.
///
/// ```
/// use std::time::Duration;
/// use zerocp::error::PublishTimedOut;
/// let e = PublishTimedOut {
///     group: 0,
///     subscriber: 3,
///     waited: Duration::from_millis(100),
///     timeout: Duration::from_millis(100),
/// };
/// assert!(e.to_string().contains("subscriber port 3 of group 0"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishTimedOut {
    /// The subscriber's segment group (0: `default`).
    pub group: u32,
    /// The subscriber's port index in its group (as `zerocpctl services` shows).
    pub subscriber: u32,
    /// How long this call waited for it: zero when an earlier publish had
    /// already timed out on it and it has not taken a sample since (a
    /// stalled subscriber is not waited for again).
    pub waited: Duration,
    /// The publisher's publish timeout.
    pub timeout: Duration,
}

impl fmt::Display for PublishTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            group,
            subscriber,
            waited,
            timeout,
        } = self;
        write!(
            f,
            "publish timed out on subscriber port {subscriber} of group {group} \
             (block-publisher policy): "
        )?;
        if waited.is_zero() {
            write!(
                f,
                "it has kept its queue full since an earlier publish timed out on it, so this \
                 one did not wait"
            )?;
        } else {
            write!(
                f,
                "its queue stayed full for {waited:?} (publish_timeout {timeout:?})"
            )?;
        }
        write!(f, "; it did not get the sample, every other subscriber did")
    }
}

impl std::error::Error for PublishTimedOut {}
