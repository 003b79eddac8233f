//! Wake sockets: which descriptors `WakeSender::adopt` refuses, and that a
//! holder of the sending end who makes it blocking and fills its buffer
//! cannot make a send block (the multi-process version is the daemon's
//! `e2e_hostile_waiter`).

use std::os::fd::{AsFd, OwnedFd};

use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
use zerocp_os_linux::error::WakeSocketError;
use zerocp_os_linux::testing::test_object_name;
use zerocp_os_linux::wake_socket::{Notified, WakeSender, WakeSocket};
use zerocp_os_linux::wakeup::Wakeup;

fn refusal(fd: OwnedFd) -> WakeSocketError {
    WakeSender::adopt(fd).expect_err("adopted")
}

fn socket(kind: SocketType) -> OwnedFd {
    rustix::net::socket_with(AddressFamily::UNIX, kind, SocketFlags::CLOEXEC, None).unwrap()
}

#[test]
fn adopt_takes_only_the_unnamed_seqpacket_end_of_a_pair() {
    let eventfd = Wakeup::new().unwrap().as_fd().try_clone_to_owned().unwrap();
    assert!(matches!(refusal(eventfd), WakeSocketError::Inspect { .. }));

    let (datagram, _peer) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    let e = refusal(datagram);
    assert!(
        e.to_string().contains("an AF_UNIX SOCK_DGRAM socket"),
        "{e}"
    );

    let e = refusal(socket(SocketType::SEQPACKET));
    assert!(e.to_string().contains("an unconnected socket"), "{e}");

    // A socket connected to a listening one (another service) would send
    // the senders' bytes there.
    let name = SocketAddrUnix::new_abstract_name(test_object_name(100).as_bytes()).unwrap();
    let listener = socket(SocketType::SEQPACKET);
    rustix::net::bind(&listener, &name).unwrap();
    rustix::net::listen(&listener, 1).unwrap();
    let client = socket(SocketType::SEQPACKET);
    rustix::net::connect(&client, &name).unwrap();
    let e = refusal(client);
    assert!(e.to_string().contains("connected to a named one"), "{e}");
}

#[test]
fn a_blocking_full_wake_socket_never_blocks_a_send() {
    let wake = WakeSocket::new().unwrap();
    let theirs = wake.sender().as_fd().try_clone_to_owned().unwrap();
    let flags = rustix::fs::fcntl_getfl(&theirs).unwrap();
    rustix::fs::fcntl_setfl(&theirs, flags - rustix::fs::OFlags::NONBLOCK).unwrap();
    let theirs = WakeSender::adopt(theirs).unwrap();
    let mut sent = 0;
    while theirs.notify().unwrap() == Notified::Sent {
        sent += 1;
    }
    assert!(sent > 0);
    // Full: every further send returns at once, and the waiter is readable.
    assert_eq!(wake.sender().notify().unwrap(), Notified::Pending);
    assert!(wake.wait_readable(Some(std::time::Duration::ZERO)).unwrap());
    // A drain takes a bounded number of bytes; what is left keeps it
    // readable, and a full drain empties it.
    assert!(wake.drain().unwrap());
    while wake.drain().unwrap() {}
    assert!(!wake.wait_readable(Some(std::time::Duration::ZERO)).unwrap());
    assert_eq!(theirs.notify().unwrap(), Notified::Sent);
    drop(wake);
    assert_eq!(theirs.notify().unwrap(), Notified::WaiterGone);
}
