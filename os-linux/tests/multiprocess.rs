//! The wrappers across real process boundaries: each test re-executes this
//! binary to run a role in a child (`zerocp_os_linux::testing::role`) and
//! checks what the other side sees.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{
    CHILD_DEADLINE, child_mapping, segment_args, test_segment, unique_tmp_path, wait_for,
    wait_until_sleeping,
};
use zerocp_os_linux::error::LockError;
use zerocp_os_linux::futex::{WaitOutcome, futex_wait, futex_wake};
use zerocp_os_linux::lockfile::LockFile;
use zerocp_os_linux::mmap::Mapping;
use zerocp_os_linux::pidfd::PidFd;
use zerocp_os_linux::poller::{Events, Interest, Poller};
use zerocp_os_linux::seqpacket::{RecvResult, SeqpacketConn, SeqpacketListener};
use zerocp_os_linux::testing::atomic_u32_at;
use zerocp_os_linux::testing::role::{role_args, spawn_child};

const WORDS: usize = 64;
const CHILD_AREA: usize = 4096;

fn pattern(i: usize) -> u32 {
    (i as u32).wrapping_mul(0x9E37_79B9) ^ 0x5A5A
}

#[test]
fn shared_memory_is_shared_with_a_child() {
    let shm = test_segment(2 * CHILD_AREA);
    let map = Mapping::map(&shm, true).unwrap();
    for i in 0..WORDS {
        // Release: published before the child exists; the ordering is
        // belt and braces, process creation already orders it.
        atomic_u32_at(&map, 4 * i)
            .unwrap()
            .store(pattern(i), Ordering::Release);
    }
    spawn_child(
        "child_checks_and_writes_shm",
        &segment_args(&shm).each_ref().map(String::as_str),
        &[],
    )
    .expect_success(CHILD_DEADLINE);
    for i in 0..WORDS {
        let got = atomic_u32_at(&map, CHILD_AREA + 4 * i)
            .unwrap()
            .load(Ordering::Acquire);
        assert_eq!(got, !pattern(i), "word {i} of the child's area");
    }
}

#[test]
#[ignore = "a child role, run by spawn_child: not a test"]
fn child_checks_and_writes_shm() {
    let Some((shm, map)) = child_mapping("child_checks_and_writes_shm") else {
        return;
    };
    assert_eq!(shm.size(), 2 * CHILD_AREA);
    for i in 0..WORDS {
        assert_eq!(
            atomic_u32_at(&map, 4 * i).unwrap().load(Ordering::Acquire),
            pattern(i)
        );
        atomic_u32_at(&map, CHILD_AREA + 4 * i)
            .unwrap()
            .store(!pattern(i), Ordering::Release);
    }
}

/// Offsets in the futex test's segment.
const TID: usize = 0;
const WORD: usize = 4;
const WOKEN: usize = 8;

#[test]
fn futex_wake_crosses_processes() {
    let shm = test_segment(4096);
    let map = Mapping::map(&shm, true).unwrap();
    let mut child = spawn_child(
        "child_wakes_parent",
        &segment_args(&shm).each_ref().map(String::as_str),
        &[],
    );
    let tid = rustix::thread::gettid()
        .as_raw_nonzero()
        .get()
        .unsigned_abs();
    // Release: the child reads the tid with Acquire before inspecting us.
    atomic_u32_at(&map, TID)
        .unwrap()
        .store(tid, Ordering::Release);
    let word = atomic_u32_at(&map, WORD).unwrap();
    let outcome = futex_wait(word, 0, Some(CHILD_DEADLINE)).unwrap();
    // The child wakes us only once we sleep, so this is a real wake-up.
    assert_eq!(outcome, WaitOutcome::Woken);
    // Acquire pairs with the child's Release store before its wake.
    assert_eq!(word.load(Ordering::Acquire), 1);
    child.expect_success(CHILD_DEADLINE);
    // A private futex would have found no waiter in the other process.
    assert_eq!(
        atomic_u32_at(&map, WOKEN).unwrap().load(Ordering::Acquire),
        1
    );
}

#[test]
#[ignore = "a child role, run by spawn_child: not a test"]
fn child_wakes_parent() {
    let Some((_shm, map)) = child_mapping("child_wakes_parent") else {
        return;
    };
    let tid_word = atomic_u32_at(&map, TID).unwrap();
    assert!(wait_for(CHILD_DEADLINE, || tid_word
        .load(Ordering::Acquire)
        != 0));
    let parent = std::os::unix::process::parent_id();
    wait_until_sleeping(parent, tid_word.load(Ordering::Acquire));
    let word = atomic_u32_at(&map, WORD).unwrap();
    // Release: the parent's Acquire load after waking sees the 1.
    word.store(1, Ordering::Release);
    let woken = futex_wake(word, 1).unwrap();
    atomic_u32_at(&map, WOKEN)
        .unwrap()
        .store(woken, Ordering::Release);
}

#[test]
fn peer_credentials_name_the_child() {
    let path = unique_tmp_path(".sock");
    let listener = SeqpacketListener::bind(&path, 0o600).unwrap();
    let mut child = spawn_child("child_connects", &[path.to_str().unwrap()], &[]);
    let poller = Poller::new().unwrap();
    poller.add(&listener, 1, Interest::Readable).unwrap();
    let mut events = Events::with_capacity(4);
    assert!(
        poller.wait(&mut events, Some(CHILD_DEADLINE)).unwrap() > 0,
        "no connection"
    );
    let conn = listener
        .accept()
        .unwrap()
        .expect("readable listener has a connection");
    let cred = conn.peer_credentials().unwrap();
    assert_eq!(cred.pid, child.pid());
    assert_eq!(cred.uid, rustix::process::getuid().as_raw());
    assert_eq!(cred.gid, rustix::process::getgid().as_raw());
    let mut buf = [0u8; 32];
    assert_eq!(
        conn.recv_timeout(&mut buf, CHILD_DEADLINE).unwrap(),
        RecvResult::Frame(5)
    );
    assert_eq!(&buf[..5], b"hello");
    conn.send(&child.pid().to_le_bytes()).unwrap();
    child.expect_success(CHILD_DEADLINE);
    drop(listener);
    assert!(!path.exists());
}

#[test]
#[ignore = "a child role, run by spawn_child: not a test"]
fn child_connects() {
    let Some(args) = role_args("child_connects") else {
        return;
    };
    let conn = SeqpacketConn::connect(std::path::Path::new(&args[0])).unwrap();
    conn.send(b"hello").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(
        conn.recv_timeout(&mut buf, CHILD_DEADLINE).unwrap(),
        RecvResult::Frame(4)
    );
    // The parent saw our real pid and echoes it.
    assert_eq!(
        u32::from_le_bytes(buf[..4].try_into().unwrap()),
        std::process::id()
    );
    let cred = conn.peer_credentials().unwrap();
    assert_eq!(cred.pid, std::os::unix::process::parent_id());
}

#[test]
fn lock_file_excludes_other_processes_until_released() {
    let path = unique_tmp_path(".lock");
    let arg = |expect: &str| format!("{expect}:{}", path.display());
    let lock = LockFile::acquire(&path).unwrap();
    spawn_child("child_tries_lock", &[&arg("held")], &[]).expect_success(CHILD_DEADLINE);
    drop(lock);
    // The child takes the free lock; its exit releases it again.
    spawn_child("child_tries_lock", &[&arg("free")], &[]).expect_success(CHILD_DEADLINE);
    LockFile::acquire(&path).unwrap().remove().unwrap();
    assert!(!path.exists());
}

#[test]
#[ignore = "a child role, run by spawn_child: not a test"]
fn child_tries_lock() {
    let Some(args) = role_args("child_tries_lock") else {
        return;
    };
    let (expect, path) = args[0].split_once(':').unwrap();
    let path = std::path::Path::new(path);
    match (expect, LockFile::acquire(path)) {
        ("held", Err(LockError::AlreadyLocked { holder_pid, .. })) => {
            assert_eq!(holder_pid, Some(std::os::unix::process::parent_id()));
        }
        ("free", Ok(lock)) => assert_eq!(lock.path(), path),
        (expect, other) => panic!("expected the lock {expect}, got {other:?}"),
    }
}

#[test]
fn pidfd_reports_a_child_exit() {
    let mut child = spawn_child("child_waits_for_stdin_eof", &[], &[]);
    let pidfd = PidFd::open(child.pid()).unwrap();
    assert!(!pidfd.wait_exit(Some(Duration::ZERO)).unwrap());
    assert!(!pidfd.wait_exit(Some(Duration::from_millis(10))).unwrap());
    let poller = Poller::new().unwrap();
    poller.add(&pidfd, 42, Interest::Readable).unwrap();
    let mut events = Events::with_capacity(4);
    assert_eq!(poller.wait(&mut events, Some(Duration::ZERO)).unwrap(), 0);
    child.close_stdin(); // EOF: the child returns and exits
    assert!(
        poller.wait(&mut events, Some(CHILD_DEADLINE)).unwrap() > 0,
        "no exit event"
    );
    let event = events.iter().next().unwrap();
    assert_eq!((event.token, event.readable), (42, true));
    assert!(pidfd.wait_exit(Some(CHILD_DEADLINE)).unwrap());
    assert!(pidfd.wait_exit(Some(Duration::ZERO)).unwrap());
    let status = child.wait(CHILD_DEADLINE);
    assert!(status.success());
    // Reaped: the pidfd still says dead, whatever reuses the pid later.
    assert!(pidfd.wait_exit(Some(Duration::ZERO)).unwrap());
}

#[test]
#[ignore = "a child role, run by spawn_child: not a test"]
fn child_waits_for_stdin_eof() {
    if role_args("child_waits_for_stdin_eof").is_none() {
        return;
    }
    let mut sink = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink).unwrap();
}
