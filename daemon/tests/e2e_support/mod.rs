//! What the end-to-end tests (`e2e_*.rs`) share besides the daemon harness
//! (`support`): the payload types, their generators and checkers, the
//! roles' small helpers, and the proof of zero copy (where a payload lies in
//! the process's mapping of the data segment).
#![allow(dead_code)]

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use zerocp::{ServiceDescription, ZeroCopySafe};

/// How long a role waits for anything before it fails.
pub const ROLE_DEADLINE: Duration = Duration::from_secs(60);

/// The service `E2E/<instance>/Event`.
pub fn service(instance: &str) -> ServiceDescription {
    ServiceDescription::new("E2E", instance, "Event").expect("valid test service")
}

/// A small message: who sent it, its sequence number, and a check word
/// derived from both (a corrupted or mixed-up sample fails `is_valid`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ZeroCopySafe)]
#[zerocp(type_name = "e2e::Msg")]
pub struct Msg {
    /// Sequence number per publisher, from 0.
    pub seq: u64,
    /// Publisher id (the publisher's pid).
    pub publisher: u64,
    /// `mix(seq, publisher)`.
    pub check: u64,
}

impl Msg {
    /// Message `seq` of `publisher`.
    pub fn new(publisher: u64, seq: u64) -> Self {
        Self {
            seq,
            publisher,
            check: mix(seq, publisher),
        }
    }

    /// Whether the check word matches.
    pub fn is_valid(&self) -> bool {
        self.check == mix(self.seq, self.publisher)
    }
}

fn mix(a: u64, b: u64) -> u64 {
    let mut x = a ^ b.rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^ (x >> 29)
}

/// Size of the large payload.
pub const BIG: usize = 1 << 20;
/// The large payload: 1 MiB of bytes.
pub type Big = [u8; BIG];

/// Fills `bytes` in place for sequence number `seq`: the number in the first
/// 8 bytes, a pseudo-random stream seeded by it, and in the last 8 bytes the
/// FNV-1a checksum of everything before. Returns the checksum.
pub fn fill_big(bytes: &mut Big, seq: u64) -> u64 {
    bytes[..8].copy_from_slice(&seq.to_le_bytes());
    let mut stream = Stream::new(seq);
    for b in &mut bytes[8..BIG - 8] {
        *b = stream.next_byte();
    }
    let sum = fnv1a(&bytes[..BIG - 8]);
    bytes[BIG - 8..].copy_from_slice(&sum.to_le_bytes());
    sum
}

/// Checks a large payload: its stored checksum matches its bytes, and the
/// bytes are exactly what `fill_big` writes for its sequence number.
/// Returns the sequence number.
pub fn check_big(bytes: &Big) -> Result<u64, String> {
    let seq = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let stored = u64::from_le_bytes(bytes[BIG - 8..].try_into().expect("8 bytes"));
    let actual = fnv1a(&bytes[..BIG - 8]);
    if stored != actual {
        return Err(format!(
            "seq {seq}: checksum {actual:#x} != stored {stored:#x}"
        ));
    }
    let mut stream = Stream::new(seq);
    let mut expected = FNV_OFFSET;
    for b in seq.to_le_bytes() {
        expected = fnv_step(expected, b);
    }
    for _ in 8..BIG - 8 {
        expected = fnv_step(expected, stream.next_byte());
    }
    if expected != actual {
        return Err(format!(
            "seq {seq}: content differs from what was published"
        ));
    }
    Ok(seq)
}

struct Stream(u64);

impl Stream {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1)
    }

    fn next_byte(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 24) as u8
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv_step(hash: u64, byte: u8) -> u64 {
    (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, &b| fnv_step(h, b))
}

/// One mapping of the domain's data segment in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataMapping {
    /// First address.
    pub start: usize,
    /// One past the last address.
    pub end: usize,
    /// Whether it is writable (`rw-s` rather than `r--s` in `/proc/self/maps`).
    pub writable: bool,
}

/// This process's mappings of the domain's data segment (from
/// `/proc/self/maps`): one read-only mapping once registered, and a second,
/// writable one once it has a publisher.
pub fn data_mappings(domain: &str) -> Vec<DataMapping> {
    let name = format!("/memfd:zerocp.{domain}.default.payload ");
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter(|l| l.contains(&name))
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            Some(DataMapping {
                start: usize::from_str_radix(start, 16).ok()?,
                end: usize::from_str_radix(end, 16).ok()?,
                writable: fields.next()?.starts_with("rw"),
            })
        })
        .collect()
}

/// The read-only mapping of the data segment (every registered process has one).
pub fn data_mapping(domain: &str) -> Option<(usize, usize)> {
    data_mappings(domain)
        .into_iter()
        .find(|m| !m.writable)
        .map(|m| (m.start, m.end))
}

/// Offset of `addr` in the data segment, asserting it lies inside one of
/// this process's mappings of it: the payload is read where the publisher
/// wrote it.
pub fn offset_in_data_segment(domain: &str, addr: usize, len: usize) -> usize {
    let mappings = data_mappings(domain);
    let mapping = mappings
        .iter()
        .find(|m| addr >= m.start && addr + len <= m.end)
        .unwrap_or_else(|| {
            panic!("payload {addr:#x}+{len} is outside every data segment mapping {mappings:?}")
        });
    addr - mapping.start
}

/// Publishes `Msg::new(publisher_id, seq)` for every `seq` in `seqs`.
pub fn publish_seq(
    publisher: &zerocp::Publisher<Msg>,
    publisher_id: u64,
    seqs: std::ops::Range<u64>,
) {
    for seq in seqs {
        publisher
            .loan_uninit()
            .expect("loan")
            .write(Msg::new(publisher_id, seq))
            .publish()
            .expect("publish");
    }
}

/// Publishes `Msg::new(pid, seq)` on `service` every `pace` until `stop`
/// is set. When its port is revoked it says `revoked: <error>`, creates the
/// port again and says `recreated`; a second revocation fails the role.
pub fn publish_recreating(
    rt: &zerocp::Runtime,
    service: &ServiceDescription,
    pace: Duration,
    stop: &std::sync::atomic::AtomicBool,
) {
    use zerocp::{LoanError, PublishError};
    let create = || rt.publisher::<Msg>(service).create().expect("publisher");
    let mut publisher = create();
    say("publishing");
    let id = u64::from(std::process::id());
    let (mut seq, mut revoked) = (0, false);
    while !stop.load(std::sync::atomic::Ordering::Acquire) {
        let error = match publisher.loan_uninit() {
            Ok(sample) => match sample.write(Msg::new(id, seq)).publish() {
                Ok(()) => None,
                Err(e @ PublishError::Revoked { .. }) => Some(e.to_string()),
                Err(e) => panic!("publish: {e}"),
            },
            Err(e @ LoanError::Revoked { .. }) => Some(e.to_string()),
            Err(e) => panic!("loan: {e}"),
        };
        seq += 1;
        if let Some(error) = error {
            assert!(!revoked, "revoked twice: {error}");
            revoked = true;
            say(format!("revoked: {error}"));
            drop(publisher);
            publisher = create();
            say("recreated");
        }
        std::thread::sleep(pace);
    }
}

/// Set once the parent closes this process's stdin (or sends anything).
pub fn stop_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    std::thread::spawn(move || {
        let mut line = String::new();
        drop(std::io::stdin().lock().read_line(&mut line));
        flag.store(true, Ordering::Release);
    });
    stop
}

/// Publishes `Msg::new(pid, seq)` with `publisher` every `pace` until
/// `stop` is set; says `publishing` first and `published <n>` at the end.
pub fn publish_until_stopped(
    publisher: &zerocp::Publisher<Msg>,
    pace: Duration,
    stop: &std::sync::atomic::AtomicBool,
) {
    say("publishing");
    let id = u64::from(std::process::id());
    let mut seq = 0;
    while !stop.load(std::sync::atomic::Ordering::Acquire) {
        publisher
            .loan_uninit()
            .expect("the publisher's loan")
            .write(Msg::new(id, seq))
            .publish()
            .expect("the publisher's publish");
        seq += 1;
        std::thread::sleep(pace);
    }
    say(format!("published {seq}"));
}

/// Says `ready`, then takes messages until the parent's `expect <n>` line
/// on stdin says how many there are, checking each is valid and that the
/// sequence numbers run 0, 1, 2, … without a gap; sleeps at most `poll`
/// between looks, and says `received <n>` at the end.
pub fn receive_in_order(subscriber: &zerocp::Subscriber<Msg>, poll: Duration) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let expected = std::sync::Arc::new(AtomicU64::new(u64::MAX));
    let target = std::sync::Arc::clone(&expected);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("a line from the parent");
            if let Some(n) = line.strip_prefix("expect ") {
                target.store(n.parse().expect("a count"), Ordering::Release);
            }
        }
    });
    say("ready");
    let deadline = deadline();
    let mut next = 0u64;
    while next < expected.load(Ordering::Acquire) {
        match subscriber.take().expect("the subscriber's take") {
            Some(msg) => {
                assert!(msg.is_valid(), "a corrupt message {:?}", *msg);
                assert_eq!(msg.seq, next, "messages out of order");
                next += 1;
            }
            None => {
                let wait = left(deadline, "the messages").min(poll);
                subscriber.wait(Some(wait)).expect("the subscriber's wait");
            }
        }
    }
    say(format!("received {next}"));
}

/// The domain of this (child) process.
pub fn domain() -> String {
    std::env::var("ZEROCP_DOMAIN").expect("ZEROCP_DOMAIN set for the child")
}

/// Prints one line for the parent and flushes it.
pub fn say(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("write to the parent");
    out.flush().expect("flush to the parent");
}

/// Waits for the parent to send `expected` on stdin (a line).
pub fn expect_command(expected: &str) {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .expect("read a command from the parent");
    assert_eq!(
        line.trim_end(),
        expected,
        "unexpected command from the parent"
    );
}

/// A deadline `ROLE_DEADLINE` from now.
pub fn deadline() -> Instant {
    Instant::now() + ROLE_DEADLINE
}

/// Time left until `deadline`; panics when it passed.
pub fn left(deadline: Instant, what: &str) -> Duration {
    let left = deadline.saturating_duration_since(Instant::now());
    assert!(!left.is_zero(), "timed out waiting for {what}");
    left
}

/// Argument `i` of a role, parsed.
pub fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> T
where
    T::Err: std::fmt::Debug,
{
    args.get(i)
        .unwrap_or_else(|| panic!("role argument {i} missing"))
        .parse()
        .unwrap_or_else(|e| panic!("role argument {i} ({:?}): {e:?}", args[i]))
}
