//! SEQPACKET sockets against the real kernel, within one process.

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use std::os::fd::AsFd;
use zerocp_os_linux::error::{Errno, SocketError};

use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::names::SegmentName;
use zerocp_os_linux::seqpacket::{
    MAX_FDS, MAX_PATH_LEN, RecvResult, SeqpacketConn, SeqpacketListener,
};
use zerocp_os_linux::shm::SharedMemory;
use zerocp_os_linux::testing::{atomic_u32_at, test_object_name};

/// A socket path no other test uses; removed (and checked gone) on drop.
struct SockPath(PathBuf);

impl SockPath {
    fn new(tag: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!("zerocp-t-{tag}-{}-{n}.sock", std::process::id())))
    }
}

impl Drop for SockPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        assert!(!self.0.exists(), "{} left behind", self.0.display());
    }
}

const WAIT: Duration = Duration::from_secs(10);

/// Binds at `path`, connects a client and accepts it.
fn connected(path: &Path) -> (SeqpacketListener, SeqpacketConn, SeqpacketConn) {
    let listener = SeqpacketListener::bind(path, 0o600).unwrap();
    let client = SeqpacketConn::connect(path).unwrap();
    let server = listener.accept().unwrap().expect("pending connection");
    (listener, client, server)
}

#[test]
fn frames_keep_their_boundaries_both_ways() {
    let path = SockPath::new("frames");
    let (_listener, client, server) = connected(&path.0);
    client.send(b"one").unwrap();
    client.send(b"second frame").unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        server.recv_timeout(&mut buf, WAIT).unwrap(),
        RecvResult::Frame(3)
    );
    assert_eq!(&buf[..3], b"one");
    assert_eq!(
        server.recv_timeout(&mut buf, WAIT).unwrap(),
        RecvResult::Frame(12)
    );
    assert_eq!(&buf[..12], b"second frame");
    server.send(b"reply").unwrap();
    assert_eq!(client.recv(&mut buf).unwrap(), RecvResult::Frame(5));
    assert_eq!(&buf[..5], b"reply");
}

#[test]
fn descriptors_travel_with_their_frame_and_keep_their_access() {
    let (a, b) = SeqpacketConn::pair().unwrap();
    let name = SegmentName::new(&format!("zerocp.{}", test_object_name(64))).unwrap();
    let shm = SharedMemory::create(&name, 4096).unwrap();
    let ro = shm.read_only().unwrap();
    a.send_with_fds(b"segments", &[shm.as_fd(), ro.as_fd()])
        .unwrap();
    a.send(b"no fds").unwrap();
    let mut buf = [0u8; 64];
    let mut fds = Vec::new();
    assert_eq!(
        b.recv_timeout_with_fds(&mut buf, WAIT, &mut fds).unwrap(),
        RecvResult::Frame(8)
    );
    assert_eq!(fds.len(), 2);
    let mut fds = fds.into_iter();
    let rw = SharedMemory::from_fd(fds.next().unwrap(), name.clone()).unwrap();
    let got_ro = SharedMemory::from_fd(fds.next().unwrap(), name).unwrap();
    assert!(rw.is_writable());
    assert!(!got_ro.is_writable());
    // The received descriptor maps the same memory.
    let mine = Mapping::map(&shm, true).unwrap();
    let theirs = Mapping::map(&rw, true).unwrap();
    atomic_u32_at(&theirs, 128)
        .unwrap()
        .store(9, Ordering::Release);
    assert_eq!(
        atomic_u32_at(&mine, 128).unwrap().load(Ordering::Acquire),
        9
    );
    // The next frame carries none, and the vector says so.
    let mut fds = Vec::new();
    assert_eq!(
        b.recv_timeout_with_fds(&mut buf, WAIT, &mut fds).unwrap(),
        RecvResult::Frame(6)
    );
    assert!(fds.is_empty());
}

#[test]
fn plain_receives_drop_descriptors_and_sends_are_bounded() {
    let (a, b) = SeqpacketConn::pair().unwrap();
    let name = SegmentName::new(&format!("zerocp.{}", test_object_name(64))).unwrap();
    let shm = SharedMemory::create(&name, 4096).unwrap();
    let too_many = vec![shm.as_fd(); MAX_FDS + 1];
    assert!(matches!(
        a.send_with_fds(b"x", &too_many),
        Err(SocketError::TooManyFds { count, max: MAX_FDS, .. }) if count == MAX_FDS + 1
    ));
    assert_eq!(descriptors_of(&name), 1);
    a.send_with_fds(b"planted", &[shm.as_fd()]).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        b.recv_timeout(&mut buf, WAIT).unwrap(),
        RecvResult::Frame(7)
    );
    // The kernel closed the attached descriptor: this process still has one.
    assert_eq!(descriptors_of(&name), 1);
}

/// How many descriptors of this process refer to the segment `name`.
fn descriptors_of(name: &SegmentName) -> usize {
    let target = format!("/memfd:{name} (deleted)");
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|link| link.as_os_str() == target.as_str())
        .count()
}

#[test]
fn oversized_frame_is_reported_and_dropped_alone() {
    let path = SockPath::new("trunc");
    let (_listener, client, server) = connected(&path.0);
    client.send(&[7u8; 100]).unwrap();
    client.send(b"next").unwrap();
    let mut small = [0u8; 10];
    assert_eq!(
        server.recv_timeout(&mut small, WAIT).unwrap(),
        RecvResult::TooLarge { len: 100 }
    );
    assert_eq!(
        server.recv_timeout(&mut small, WAIT).unwrap(),
        RecvResult::Frame(4)
    );
    assert_eq!(&small[..4], b"next");
}

#[test]
fn accept_without_client_is_none_and_accepted_conns_are_nonblocking() {
    let path = SockPath::new("nonblock");
    let (listener, client, server) = connected(&path.0);
    assert!(listener.accept().unwrap().is_none());
    let mut buf = [0u8; 8];
    assert_eq!(server.recv(&mut buf).unwrap(), RecvResult::WouldBlock);
    server.set_nonblocking(false).unwrap();
    let start = Instant::now();
    assert_eq!(
        server
            .recv_timeout(&mut buf, Duration::from_millis(30))
            .unwrap(),
        RecvResult::TimedOut
    );
    assert!(start.elapsed() >= Duration::from_millis(30));
    client.set_nonblocking(true).unwrap();
    assert_eq!(client.recv(&mut buf).unwrap(), RecvResult::WouldBlock);
}

#[test]
fn closing_one_end_is_seen_by_the_other() {
    let path = SockPath::new("close");
    let (_listener, client, server) = connected(&path.0);
    client.send(b"last words").unwrap();
    drop(client);
    let mut buf = [0u8; 64];
    // Frames sent before the close are still delivered, then Closed.
    assert_eq!(
        server.recv_timeout(&mut buf, WAIT).unwrap(),
        RecvResult::Frame(10)
    );
    assert_eq!(
        server.recv_timeout(&mut buf, WAIT).unwrap(),
        RecvResult::Closed
    );
    // Sending to the vanished peer is EPIPE, not a SIGPIPE that kills us.
    let err = server.send(b"anyone?").unwrap_err();
    assert!(err.is_disconnected(), "{err}");
}

/// A peer that closes with frames of ours unread (a daemon refusing a
/// client that already sent its request) makes the kernel report
/// `ECONNRESET` once; the frame it sent before closing is still delivered.
#[test]
fn a_frame_sent_before_a_reset_is_still_delivered() {
    let path = SockPath::new("reset");
    let (_listener, client, server) = connected(&path.0);
    client.send(b"request nobody reads").unwrap();
    server.send(b"refused").unwrap();
    drop(server);
    let mut buf = [0u8; 64];
    assert_eq!(
        client.recv_timeout(&mut buf, WAIT).unwrap(),
        RecvResult::Frame(7)
    );
    assert_eq!(&buf[..7], b"refused");
    assert_eq!(
        client.recv_timeout(&mut buf, WAIT).unwrap(),
        RecvResult::Closed
    );
    // Without a frame behind it, the reset reads as closed.
    let path = SockPath::new("reset-empty");
    let (_listener, client, server) = connected(&path.0);
    client.send(b"request nobody reads").unwrap();
    drop(server);
    assert_eq!(client.recv(&mut buf).unwrap(), RecvResult::Closed);
}

#[test]
fn shutdown_reads_as_closed_on_the_peer() {
    let (a, b) = SeqpacketConn::pair().unwrap();
    a.send(b"x").unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(b.recv(&mut buf).unwrap(), RecvResult::Frame(1));
    a.shutdown().unwrap();
    assert_eq!(b.recv(&mut buf).unwrap(), RecvResult::Closed);
}

#[test]
fn empty_frames_are_refused() {
    let (a, _b) = SeqpacketConn::pair().unwrap();
    assert!(matches!(a.send(b""), Err(SocketError::EmptyFrame { .. })));
}

#[test]
fn peer_credentials_are_this_process() {
    let path = SockPath::new("cred");
    let (_listener, client, server) = connected(&path.0);
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    for conn in [&client, &server] {
        let cred = conn.peer_credentials().unwrap();
        assert_eq!(
            (cred.pid, cred.uid, cred.gid),
            (std::process::id(), uid, gid)
        );
    }
}

#[test]
fn socket_file_gets_the_mode_and_goes_with_the_listener() {
    let path = SockPath::new("mode");
    let listener = SeqpacketListener::bind(&path.0, 0o660).unwrap();
    let mode = rustix::fs::stat(&path.0).unwrap().st_mode & 0o777;
    assert_eq!(mode, 0o660);
    assert_eq!(listener.path(), path.0);
    drop(listener);
    assert!(!path.0.exists());
    assert!(matches!(
        SeqpacketListener::bind(&path.0, 0o1777),
        Err(SocketError::InvalidMode { mode: 0o1777, .. })
    ));
    assert!(!path.0.exists());
}

#[test]
fn connecting_to_nothing_names_the_path_and_hints_at_the_daemon() {
    let path = SockPath::new("missing");
    let err = SeqpacketConn::connect(&path.0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::NOENT));
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to {}: no such file or directory (ENOENT); \
             is the daemon running (and in this domain)?",
            path.0.display()
        )
    );
}

#[test]
fn stale_socket_is_refused_or_replaced_on_request() {
    let path = SockPath::new("stale");
    // std leaves the file behind when its listener goes: a stale socket.
    drop(UnixListener::bind(&path.0).unwrap());
    assert!(path.0.exists());
    let err = SeqpacketConn::connect(&path.0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::CONNREFUSED));
    let err = SeqpacketListener::bind(&path.0, 0o600).unwrap_err();
    assert!(
        matches!(
            err,
            SocketError::Bind {
                errno: Errno::ADDRINUSE,
                ..
            }
        ),
        "{err}"
    );
    let listener = SeqpacketListener::bind_replacing_stale(&path.0, 0o600).unwrap();
    let _client = SeqpacketConn::connect(&path.0).unwrap();
    assert!(listener.accept().unwrap().is_some());
}

#[test]
fn a_replaced_socket_file_survives_the_old_listener() {
    let path = SockPath::new("replaced");
    let old = SeqpacketListener::bind(&path.0, 0o600).unwrap();
    let new = SeqpacketListener::bind_replacing_stale(&path.0, 0o600).unwrap();
    drop(old);
    assert!(
        path.0.exists(),
        "the old listener removed the new one's socket"
    );
    let _client = SeqpacketConn::connect(&path.0).unwrap();
    assert!(new.accept().unwrap().is_some());
}

#[test]
fn non_socket_files_are_never_removed() {
    let path = SockPath::new("regular");
    std::fs::write(&path.0, b"precious").unwrap();
    let err = SeqpacketListener::bind_replacing_stale(&path.0, 0o600).unwrap_err();
    assert!(matches!(err, SocketError::NotASocket { .. }), "{err}");
    assert_eq!(std::fs::read(&path.0).unwrap(), b"precious");
}

#[test]
fn overlong_paths_are_rejected_before_any_syscall() {
    let path = PathBuf::from(format!("/tmp/{}", "x".repeat(MAX_PATH_LEN)));
    assert!(matches!(
        SeqpacketListener::bind(&path, 0o600),
        Err(SocketError::PathTooLong {
            max: MAX_PATH_LEN,
            ..
        })
    ));
    assert!(matches!(
        SeqpacketConn::connect(&path),
        Err(SocketError::PathTooLong { .. })
    ));
    assert!(!path.exists());
}

/// A listener that accepts nothing fills its backlog; a bounded connect then
/// fails with `EAGAIN` instead of waiting for it (a plain connect would wait
/// here for good).
#[test]
fn a_connect_within_a_timeout_gives_up_on_a_full_backlog() {
    let path = SockPath::new("full");
    let listener = SeqpacketListener::bind(&path.0, 0o600).unwrap();
    let mut queued = Vec::new();
    let refused = loop {
        match SeqpacketConn::connect_within(&path.0, Duration::from_millis(20)) {
            Ok(conn) => queued.push(conn),
            Err(e) => break e,
        }
        assert!(queued.len() <= 4096, "the backlog never filled");
    };
    assert!(
        matches!(&refused, SocketError::Connect { errno, .. } if *errno == Errno::AGAIN),
        "{refused}"
    );
    assert!(refused.to_string().contains("backlog"), "{refused}");
    // The queued connections are kept until here: they fill the backlog.
    assert!(
        !queued.is_empty(),
        "no connection before the backlog filled"
    );
    drop(listener);
}
