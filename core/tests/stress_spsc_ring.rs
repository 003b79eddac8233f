//! Stress of the SPSC ring: records of random lengths, including ones that
//! wrap around the end, arrive complete and in order.
#![cfg(not(loom))]

use std::time::{Duration, Instant};
use zerocp_core::spsc_ring::SpscRing;

const RECORDS: u32 = if cfg!(miri) { 60 } else { 300_000 };
const DEADLINE: Duration = Duration::from_secs(120);
const RING: usize = 256;

/// Deterministic record `i`: length in `0..=MAX_RECORD`, bytes derived from `i`.
fn record(i: u32, buf: &mut [u8; RING]) -> &[u8] {
    let mut x = i.wrapping_mul(0x9E37_79B9) ^ 0x5bd1_e995;
    x ^= x >> 15;
    let len = x as usize % (SpscRing::<RING>::MAX_RECORD + 1);
    for (k, b) in buf[..len].iter_mut().enumerate() {
        *b = (i as usize + k * 31) as u8;
    }
    &buf[..len]
}

#[test]
fn random_length_records_arrive_intact_and_in_order() {
    let mut ring = SpscRing::<RING>::new();
    let (mut producer, mut consumer) = ring.split();
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut buf = [0; RING];
            for i in 0..RECORDS {
                let rec = record(i, &mut buf);
                while producer.push(rec).is_err() {
                    assert!(start.elapsed() < DEADLINE, "producer stuck at record {i}");
                    std::thread::yield_now();
                }
            }
        });
        let (mut out, mut want) = ([0; SpscRing::<RING>::MAX_RECORD], [0; RING]);
        for i in 0..RECORDS {
            let n = loop {
                if let Some(n) = consumer.pop(&mut out) {
                    break n;
                }
                assert!(start.elapsed() < DEADLINE, "consumer stuck at record {i}");
                std::thread::yield_now();
            };
            assert_eq!(&out[..n], record(i, &mut want), "record {i}");
        }
        assert_eq!(consumer.pop(&mut out), None);
    });
}
