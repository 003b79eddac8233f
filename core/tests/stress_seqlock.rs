//! Multi-thread stress of the seqlock: readers racing a busy writer only ever
//! accept consistent snapshots, with non-decreasing versions.
#![cfg(not(loom))]

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use zerocp_core::seqlock::{SeqLock, SeqLockError};

const WRITES: u32 = if cfg!(miri) { 30 } else { 1_000_000 };
const N: usize = 16;
const READERS: usize = 3;

/// Write `k` stores `k % N + 1` words `k, k+1, ...`.
fn payload(k: u32, buf: &mut [u32; N]) -> &[u32] {
    let len = (k as usize % N) + 1;
    for (i, w) in buf[..len].iter_mut().enumerate() {
        *w = k.wrapping_add(i as u32);
    }
    &buf[..len]
}

#[test]
fn readers_accept_only_consistent_snapshots() {
    let lock = SeqLock::<N>::new();
    let done = AtomicBool::new(false);
    let started = Barrier::new(READERS + 1);
    std::thread::scope(|s| {
        s.spawn(|| {
            started.wait();
            let mut buf = [0; N];
            for k in 1..=WRITES {
                lock.write(payload(k, &mut buf)).unwrap();
            }
            done.store(true, Ordering::Release);
        });
        for _ in 0..READERS {
            s.spawn(|| {
                started.wait();
                let (mut out, mut expect) = ([0; N], [0; N]);
                let (mut last_version, mut distinct) = (0, 0u32);
                loop {
                    let finished = done.load(Ordering::Acquire);
                    match lock.read(&mut out) {
                        Ok(snap) if snap.len == 0 => assert_eq!(snap.version, 0),
                        Ok(snap) => {
                            assert!(snap.version >= last_version, "version went back");
                            distinct += u32::from(snap.version != last_version);
                            last_version = snap.version;
                            let want = payload(out[0], &mut expect);
                            assert_eq!(&out[..snap.len], want, "torn snapshot");
                        }
                        Err(SeqLockError::Busy { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                    if finished {
                        break;
                    }
                }
                // The final read after the writer finished always succeeds.
                assert!(distinct > 0);
                assert_eq!(last_version, 2 * WRITES);
            });
        }
    });
}
