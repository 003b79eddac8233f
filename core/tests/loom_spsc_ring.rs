//! Loom model of the SPSC ring: records arrive complete, in order, across the
//! wrap-around, and every byte access is ordered (loom checks the cells).
//!
//! The models build only with `--cfg loom` (`ci/loom.sh`); see `loom_support`.

mod loom_support;

#[cfg(loom)]
mod models {
    use loom::thread;
    use zerocp_core::spsc_ring::SpscRing;

    use crate::loom_support::model;

    const RECORDS: [&[u8]; 3] = [b"ab", b"cde", b"f"];

    #[test]
    fn records_arrive_in_order_across_the_wrap() {
        model(|| {
            // Loom threads need 'static borrows; one small ring per execution.
            let ring: &'static mut SpscRing<16> = Box::leak(Box::new(SpscRing::new()));
            let (mut producer, mut consumer) = ring.split();
            let writer = thread::spawn(move || {
                for record in RECORDS {
                    // 6 + 7 bytes fill the ring; the third record must wait for
                    // space and then wraps around the end.
                    while producer.push(record).is_err() {
                        thread::yield_now();
                    }
                }
            });
            let mut out = [0u8; SpscRing::<16>::MAX_RECORD];
            for record in RECORDS {
                let n = loop {
                    match consumer.pop(&mut out) {
                        Some(n) => break n,
                        None => thread::yield_now(),
                    }
                };
                assert_eq!(&out[..n], record);
            }
            assert_eq!(consumer.pop(&mut out), None);
            writer.join().unwrap();
        });
    }
}
