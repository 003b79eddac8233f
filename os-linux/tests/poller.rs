//! The epoll poller and the eventfd wake-up against the real kernel.

use std::sync::Arc;
use std::time::{Duration, Instant};

use zerocp_os_linux::error::{Errno, PollError};
use zerocp_os_linux::poller::{Events, Interest, Poller};
use zerocp_os_linux::seqpacket::SeqpacketConn;
use zerocp_os_linux::wakeup::Wakeup;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn wait_times_out_without_events() {
    let poller = Poller::new().unwrap();
    let mut events = Events::with_capacity(4);
    let start = Instant::now();
    assert_eq!(
        poller
            .wait(&mut events, Some(Duration::from_millis(30)))
            .unwrap(),
        0
    );
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert!(events.is_empty());
}

#[test]
fn wakeup_from_another_thread_ends_a_wait() {
    let poller = Poller::new().unwrap();
    let wakeup = Arc::new(Wakeup::new().unwrap());
    poller.add(&*wakeup, 9, Interest::Readable).unwrap();
    let notifier = {
        let wakeup = Arc::clone(&wakeup);
        std::thread::spawn(move || wakeup.notify().unwrap())
    };
    let mut events = Events::with_capacity(4);
    assert_eq!(poller.wait(&mut events, Some(WAIT)).unwrap(), 1);
    assert_eq!(events.iter().next().unwrap().token, 9);
    notifier.join().unwrap();
    assert!(wakeup.drain().unwrap());
    // Drained: level-triggered readiness is gone.
    assert_eq!(poller.wait(&mut events, Some(Duration::ZERO)).unwrap(), 0);
}

#[test]
fn events_carry_tokens_and_hangups() {
    let poller = Poller::new().unwrap();
    let (a, b) = SeqpacketConn::pair().unwrap();
    let (c, d) = SeqpacketConn::pair().unwrap();
    poller.add(&a, 1, Interest::Readable).unwrap();
    poller.add(&c, 2, Interest::Readable).unwrap();
    b.send(b"x").unwrap();
    drop(d);
    let mut events = Events::with_capacity(8);
    assert_eq!(poller.wait(&mut events, Some(WAIT)).unwrap(), 2);
    let mut got: Vec<_> = events.iter().collect();
    got.sort_by_key(|e| e.token);
    assert_eq!(events.len(), 2);
    assert_eq!(got[0].token, 1);
    assert!(got[0].readable && !got[0].hangup);
    assert_eq!(got[1].token, 2);
    assert!(got[1].hangup);
}

#[test]
fn modify_switches_interest_and_token() {
    let poller = Poller::new().unwrap();
    let (a, _b) = SeqpacketConn::pair().unwrap();
    poller.add(&a, 1, Interest::Readable).unwrap();
    let mut events = Events::with_capacity(4);
    assert_eq!(poller.wait(&mut events, Some(Duration::ZERO)).unwrap(), 0);
    poller.modify(&a, 5, Interest::Both).unwrap();
    assert_eq!(poller.wait(&mut events, Some(WAIT)).unwrap(), 1);
    let event = events.iter().next().unwrap();
    assert_eq!(
        (event.token, event.writable, event.readable),
        (5, true, false)
    );
    poller.delete(&a).unwrap();
    assert_eq!(poller.wait(&mut events, Some(Duration::ZERO)).unwrap(), 0);
}

#[test]
fn registration_errors_are_typed() {
    let poller = Poller::new().unwrap();
    let wakeup = Wakeup::new().unwrap();
    poller.add(&wakeup, 1, Interest::Readable).unwrap();
    let err = poller.add(&wakeup, 2, Interest::Readable).unwrap_err();
    assert!(
        matches!(
            err,
            PollError::Add {
                token: 2,
                errno: Errno::EXIST,
                ..
            }
        ),
        "{err}"
    );
    poller.delete(&wakeup).unwrap();
    let err = poller.delete(&wakeup).unwrap_err();
    assert!(
        matches!(
            err,
            PollError::Delete {
                errno: Errno::NOENT,
                ..
            }
        ),
        "{err}"
    );
    let err = poller.modify(&wakeup, 3, Interest::Readable).unwrap_err();
    assert!(err.to_string().contains("token 3"), "{err}");
}

#[test]
fn wakeups_coalesce() {
    let wakeup = Wakeup::new().unwrap();
    for _ in 0..100 {
        wakeup.notify().unwrap();
    }
    assert!(wakeup.drain().unwrap());
    assert!(!wakeup.drain().unwrap());
}
