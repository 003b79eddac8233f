//! [`ServiceWatcher`]: being told when services appear, change and
//! disappear, without polling.
//!
//! A watcher is a listener of the daemon's discovery event
//! ([`zerocp_core::discovery`]) and the last list of services it read. The
//! daemon raises the event whenever a port of any service is routed or
//! unrouted (created, removed, its process dead, dropped as unresponsive or
//! revoked); the watcher then takes the event, lists the services again
//! ([`Runtime::services`]) and reports the difference as
//! [`ServiceEvent`]s. Every way of waiting a listener has is the watcher's:
//! [`try_wait`](ServiceWatcher::try_wait) never sleeps,
//! [`wait`](ServiceWatcher::wait) sleeps on the listener's futex with a
//! timeout, a [`WaitSet`](crate::WaitSet) attaches it like a listener, and
//! [`as_fd`](ServiceWatcher::as_fd) gives a descriptor for one's own
//! `poll` loop.
//!
//! **Nothing is missed.** The listener exists before the first list is
//! read, so a change after the list raises the event; the event is taken
//! before the list is read again, so a change during the read raises it
//! once more (an extra list that finds nothing new, never a lost one).
//! Ids coalesce: many changes before a look make one list. After a daemon
//! restart the listener's port is created again on its next call (ids of
//! the old daemon are gone with it), so a new registration epoch also makes
//! the watcher list again: the services the new daemon knows replace the
//! old daemon's, and their difference is reported.
//!
//! **Who may watch.** Listing is open to every connection the daemon's
//! `[access]` rules admit. Watching needs a listener of the discovery
//! event, which the `subscribe` rule of the segment group holding
//! `_zerocp/discovery/services` (`default` unless a group's pattern
//! matches it) must admit.

use std::cell::{Cell, RefCell};
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zerocp_core::discovery::discovery_service;
use zerocp_core::service::ServiceDescription;

use crate::connection::ConnectionState;
use crate::error::{CreateWatcherError, WaitSetWaitError, WakeFdError, WatchError};
use crate::lifecycle::Lifecycle;
use crate::listener::{Listener, ListenerBuilder};
use crate::service_info::ServiceInfo;
use crate::service_query;
use crate::waitset::{Attachable, AttachmentId};

/// Takes of the listener's ids one look makes at most: a bound against a
/// group member that writes the id bitmap without end.
const MAX_TAKES: usize = 64;

/// A change of the set of services, as a [`ServiceWatcher`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceEvent {
    /// A service that was not listed is: its first port was created.
    Appeared(ServiceInfo),
    /// A listed service's ports changed (a port came or went, and others
    /// remain): its new counts.
    Changed(ServiceInfo),
    /// A listed service has no port any more (its last port was removed,
    /// or its owner died or was dropped).
    Disappeared(ServiceDescription),
}

/// Watches the services of the domain appear, change and disappear
/// (module docs); made by [`Runtime::service_watcher`](crate::Runtime::service_watcher).
///
/// `Send`, not `Sync`, like the listener it holds. Dropping it removes its
/// listener port.
///
/// ```no_run
/// use std::time::Duration;
/// use zerocp::{Runtime, ServiceEvent};
///
/// let rt = Runtime::init("inspector")?;
/// let watcher = rt.service_watcher()?;
/// println!("{} services now", watcher.services().len());
/// for event in watcher.wait(Some(Duration::from_secs(1)))? {
///     match event {
///         ServiceEvent::Appeared(info) => println!("+ {}", info.service),
///         ServiceEvent::Changed(info) => println!("~ {}", info.service),
///         ServiceEvent::Disappeared(service) => println!("- {service}"),
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ServiceWatcher {
    lifecycle: Arc<Lifecycle>,
    listener: Listener,
    /// The list the last events were computed against.
    known: RefCell<Vec<ServiceInfo>>,
    /// The registration epoch that list was read in.
    epoch: Cell<Option<u32>>,
}

impl ServiceWatcher {
    /// Creates the listener, then reads the first list (in this order:
    /// module docs).
    pub(crate) fn create(lifecycle: &Arc<Lifecycle>) -> Result<Self, CreateWatcherError> {
        let listener = ListenerBuilder::new(lifecycle, &discovery_service())
            .create()
            .map_err(CreateWatcherError::Listener)?;
        let watcher = Self {
            lifecycle: Arc::clone(lifecycle),
            listener,
            known: RefCell::new(Vec::new()),
            epoch: Cell::new(None),
        };
        watcher.read_list().map_err(CreateWatcherError::Services)?;
        Ok(watcher)
    }

    /// The services as of the last list read (at creation, or at the last
    /// call that reported events), in name order.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.known.borrow().clone()
    }

    /// The changes since the last look, without sleeping: empty when the
    /// daemon raised nothing (no list is read then), else the difference
    /// between the last list and a new one (possibly empty: a port that
    /// came and went in between).
    ///
    /// Fails as [`Listener::try_wait`] does ([`WatchError::Wait`]: the
    /// daemon gone, restarting, or having dropped this process), or when
    /// the new list cannot be read ([`WatchError::Services`]).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// let watcher = rt.service_watcher()?;
    /// for event in watcher.try_wait()? {
    ///     println!("{event:?}");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_wait(&self) -> Result<Vec<ServiceEvent>, WatchError> {
        if self.take_changed()? {
            self.refresh()
        } else {
            Ok(Vec::new())
        }
    }

    /// Sleeps until the set of services changed or `timeout` passes
    /// (`None`: no limit), then returns the changes (empty after a
    /// timeout). A change that a new list does not show (a port created
    /// and removed again) does not end the wait. Fails as
    /// [`try_wait`](Self::try_wait), also while asleep.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// let watcher = rt.service_watcher()?;
    /// let events = watcher.wait(Some(Duration::from_millis(500)))?;
    /// println!("{} changes", events.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Vec<ServiceEvent>, WatchError> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let events = self.try_wait()?;
            if !events.is_empty() {
                return Ok(events);
            }
            let left = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(Vec::new()),
                },
                // No timeout, or one too large for the clock: no limit.
                None => None,
            };
            // Ids the wait took are a change the loop's next `try_wait`
            // would not see: list again now. None (the timeout): look once
            // more, then give up at the deadline.
            if !self.listener.wait(left)?.is_empty() {
                let events = self.refresh()?;
                if !events.is_empty() {
                    return Ok(events);
                }
            }
        }
    }

    /// Lists the services again now and returns the difference to the last
    /// list, whether or not the daemon raised anything (for an application
    /// that wants to re-read on a timer of its own).
    ///
    /// ```no_run
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// let watcher = rt.service_watcher()?;
    /// let events = watcher.refresh()?;
    /// # let _ = events;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn refresh(&self) -> Result<Vec<ServiceEvent>, WatchError> {
        let old = self.known.borrow().clone();
        self.read_list()?;
        Ok(diff(&old, &self.known.borrow()))
    }

    /// The watcher's wake descriptor (its listener's, [`Listener::as_fd`]):
    /// readable when the daemon raised the discovery event. When it is,
    /// call [`try_wait`](Self::try_wait) (it takes every pending id, which
    /// re-arms the descriptor); then wait again.
    ///
    /// ```no_run
    /// use std::os::fd::AsRawFd;
    /// # let rt = zerocp::Runtime::init("doc")?;
    /// let watcher = rt.service_watcher()?;
    /// println!("add fd {} to your epoll set", watcher.as_fd()?.as_raw_fd());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        self.listener.as_fd()
    }

    /// Takes every pending id of the listener (until a take finds none,
    /// which re-arms its descriptor, or [`MAX_TAKES`]: the descriptor then
    /// stays readable); whether any was pending, or the runtime registered
    /// again since the last list.
    fn take_changed(&self) -> Result<bool, WatchError> {
        let mut changed = false;
        for _ in 0..MAX_TAKES {
            if self.listener.try_wait()?.is_empty() {
                break;
            }
            changed = true;
        }
        Ok(changed || self.reconnected())
    }

    /// Whether the runtime is connected in another registration epoch than
    /// the one the last list was read in.
    fn reconnected(&self) -> bool {
        match self.lifecycle.connection_state() {
            ConnectionState::Connected { epoch } => self.epoch.get() != Some(epoch),
            ConnectionState::Disconnected | ConnectionState::Gone => false,
        }
    }

    /// Reads the list and the epoch it was read in.
    fn read_list(&self) -> Result<(), crate::error::ServicesError> {
        let epoch = match self.lifecycle.connection_state() {
            ConnectionState::Connected { epoch } => Some(epoch),
            ConnectionState::Disconnected | ConnectionState::Gone => None,
        };
        let list = service_query::services(&self.lifecycle.registration())?;
        *self.known.borrow_mut() = list;
        self.epoch.set(epoch);
        Ok(())
    }
}

impl std::fmt::Debug for ServiceWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceWatcher")
            .field("services", &self.known.borrow().len())
            .field("listener", &self.listener)
            .finish()
    }
}

/// A watcher waits in a [`WaitSet`](crate::WaitSet) as its listener does:
/// ready when the daemon raised the discovery event; then call
/// [`ServiceWatcher::try_wait`].
impl Attachable for ServiceWatcher {
    fn wake_fd(&self) -> Result<BorrowedFd<'_>, WakeFdError> {
        self.listener.wake_fd()
    }
    fn has_data(&self) -> bool {
        self.listener.has_data()
    }
    fn clear_pending(&self) {
        self.listener.clear_pending();
    }
    fn drain_wake_fd(&self) {
        self.listener.drain_wake_fd();
    }
    fn take_sender_gone(&self) -> bool {
        false
    }
    fn stopped(&self, attachment: AttachmentId) -> Option<WaitSetWaitError> {
        self.listener.stopped(attachment)
    }
}

/// The events that turn the list `old` into `new` (both in name order, as
/// [`crate::service_info`] makes them), in name order.
pub(crate) fn diff(old: &[ServiceInfo], new: &[ServiceInfo]) -> Vec<ServiceEvent> {
    let mut events = Vec::new();
    let (mut old, mut new) = (old.iter().peekable(), new.iter().peekable());
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => return events,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(o), Some(n)) => o.service.cmp(&n.service),
        };
        match order {
            std::cmp::Ordering::Less => {
                if let Some(gone) = old.next() {
                    events.push(ServiceEvent::Disappeared(gone.service));
                }
            }
            std::cmp::Ordering::Greater => {
                if let Some(came) = new.next() {
                    events.push(ServiceEvent::Appeared(came.clone()));
                }
            }
            std::cmp::Ordering::Equal => {
                if let (Some(was), Some(is)) = (old.next(), new.next())
                    && was != is
                {
                    events.push(ServiceEvent::Changed(is.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocp_core::service::TypeInfo;
    use zerocp_core::wire::PayloadShape;

    use crate::service_info::MessagingPattern;

    fn info(event: &str, publishers: u32, subscribers: u32) -> ServiceInfo {
        ServiceInfo {
            service: ServiceDescription::new("Robot", "Base", event).unwrap(),
            pattern: MessagingPattern::PublishSubscribe,
            payload: TypeInfo::of::<u64>(),
            shape: PayloadShape::Sized,
            publishers,
            subscribers,
            notifiers: 0,
            listeners: 0,
        }
    }

    #[test]
    fn equal_lists_make_no_event() {
        let list = [info("A", 1, 1), info("B", 0, 2)];
        assert!(diff(&list, &list).is_empty());
        assert!(diff(&[], &[]).is_empty());
    }

    #[test]
    fn new_services_appear_and_missing_ones_disappear_in_name_order() {
        let old = [info("A", 1, 0), info("C", 1, 0)];
        let new = [info("B", 1, 1), info("C", 1, 0), info("D", 0, 1)];
        assert_eq!(
            diff(&old, &new),
            [
                ServiceEvent::Disappeared(old[0].service),
                ServiceEvent::Appeared(new[0].clone()),
                ServiceEvent::Appeared(new[2].clone()),
            ]
        );
    }

    #[test]
    fn changed_counts_are_reported_with_the_new_ones() {
        let old = [info("A", 1, 1)];
        let new = [info("A", 1, 2)];
        assert_eq!(diff(&old, &new), [ServiceEvent::Changed(new[0].clone())]);
    }

    #[test]
    fn everything_disappears_into_an_empty_list_and_appears_from_one() {
        let list = [info("A", 1, 0), info("B", 0, 1)];
        assert_eq!(
            diff(&list, &[]),
            [
                ServiceEvent::Disappeared(list[0].service),
                ServiceEvent::Disappeared(list[1].service),
            ]
        );
        assert_eq!(
            diff(&[], &list),
            [
                ServiceEvent::Appeared(list[0].clone()),
                ServiceEvent::Appeared(list[1].clone()),
            ]
        );
    }
}
