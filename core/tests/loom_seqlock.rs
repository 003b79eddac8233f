//! Loom model of the seqlock: a reader never accepts a torn snapshot, and a
//! reader after the writer finished sees the last write.
//!
//! The models build only with `--cfg loom` (`ci/loom.sh`); see `loom_support`.

mod loom_support;

#[cfg(loom)]
mod models {
    use loom::sync::Arc;
    use loom::thread;
    use zerocp_core::seqlock::{SeqLock, SeqLockError};

    use crate::loom_support::model;

    /// Write `k` stores `k + 1` words, all equal to `k`: a snapshot is
    /// consistent exactly when its length matches its word values.
    fn payload(k: u32) -> Vec<u32> {
        vec![k; k as usize + 1]
    }

    fn assert_consistent(out: &[u32; 3], len: usize) {
        let k = out[0];
        if len == 0 {
            return; // the initial, empty snapshot
        }
        assert_eq!(len, k as usize + 1, "length of write {k} with {out:?}");
        assert!(
            out[..len].iter().all(|&w| w == k),
            "torn snapshot {:?}",
            &out[..len]
        );
    }

    #[test]
    fn reader_never_sees_a_torn_snapshot() {
        model(|| {
            let lock = Arc::new(SeqLock::<3>::new());
            let writer = {
                let lock = lock.clone();
                thread::spawn(move || {
                    lock.write(&payload(1)).unwrap();
                    lock.write(&payload(2)).unwrap();
                })
            };
            let mut out = [0; 3];
            let mut last_version = 0;
            for _ in 0..2 {
                match lock.read(&mut out) {
                    Ok(s) => {
                        assert!(s.version % 2 == 0 && s.version >= last_version);
                        last_version = s.version;
                        assert_consistent(&out, s.len);
                    }
                    Err(e) => assert!(matches!(e, SeqLockError::Busy { .. }), "{e}"),
                }
            }
            writer.join().unwrap();
            let s = lock.read(&mut out).unwrap();
            assert_eq!((s.version, &out[..s.len]), (4, &payload(2)[..]));
        });
    }

    #[test]
    fn version_change_then_read_sees_that_write() {
        model(|| {
            let lock = Arc::new(SeqLock::<3>::new());
            let writer = {
                let lock = lock.clone();
                thread::spawn(move || lock.write(&payload(0)).unwrap())
            };
            if lock.version() == 2 {
                let mut out = [0; 3];
                let s = lock.read(&mut out).unwrap();
                assert_eq!((s.version, &out[..s.len]), (2, &payload(0)[..]));
            }
            writer.join().unwrap();
        });
    }
}
