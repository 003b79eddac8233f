//! A hostile participant inside a segment group: seeded pseudo-random
//! writes over a group's control or payload part, to check that nobody
//! outside the group is affected and that nothing trusts what it reads there.
//!
//! A [`Scribbler`] is a small PRNG (splitmix64, no dependency) and what it
//! writes depends only on its seed and the calls made, so a failure found
//! with one seed is replayed by running the same test with
//! `ZEROCP_SCRIBBLE_SEED=<seed>` ([`seed_from_env`]); the processes it
//! disturbs are scheduled differently on every run, so a replay repeats the
//! writes, not necessarily their timing.
//!
//! Each round picks one of the regions it is given (byte ranges of the
//! mapping: the group header, every port, the freelist headers, links,
//! refcounts, chunk headers, payloads, see [`ControlRegions`] and
//! [`payload_regions`]; or a process's own heartbeat slot), so small regions are hit as often as large ones,
//! and writes one of
//!
//! - 1 to 16 random bytes at a random offset;
//! - an aligned `u32` that indexes or counts something plausible: 0, 1, 2,
//!   a small number, a value just below or at `u32::MAX`, `1 << 31`, or
//!   random — the values that pass a careless bounds check or overflow one;
//! - an aligned `u64` of two such words (a queue cell, a freelist head).
//!
//! [`Scribbler::overwrite_u32`] aims instead: it writes such values into
//! chosen words only, each different from what the word held (an attack on
//! words whose damage must be noticed, e.g. [`group_header_words`]).
//!
//! The stores are atomic (relaxed, byte or word sized): the processes of the
//! group access the same memory with atomics, and so does this one.
//!
//! [`Scribbler::cut_freelist`] is the aimed attack: it walks a pool's
//! freelist and ends the chain at a free chunk the seed picks, so every
//! free chunk after it is lost to the pool for good (until the daemon
//! resets the group).

use std::ops::Range;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

use zerocp_core::freelist::FreeListHeader;
use zerocp_core::group_control::GroupHeader;
use zerocp_core::port::{PublisherPort, SubscriberPort};
use zerocp_os_linux::mmap::Mapping;

use super::MappedGroup;

/// The environment variable that fixes the seed of a scribble test.
pub const SEED_ENV: &str = "ZEROCP_SCRIBBLE_SEED";

/// The seed named by [`SEED_ENV`] (decimal or `0x` hex), else one taken
/// from the clock and the pid. Print it: it is what replays a failure.
///
/// # Panics
///
/// When the variable is set but is not a number.
pub fn seed_from_env() -> u64 {
    match std::env::var(SEED_ENV) {
        Ok(text) => parse_seed(&text)
            .unwrap_or_else(|| panic!("{SEED_ENV}={text:?} is not a decimal or 0x hex number")),
        Err(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            SplitMix64(now ^ u64::from(std::process::id()).rotate_left(32)).next()
        }
    }
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// splitmix64: a tiny, well-mixed PRNG.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What a [`Scribbler`] wrote so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Scribbled {
    /// Writes made.
    pub writes: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// Seeded writes of hostile values (module docs).
#[derive(Debug, Clone)]
pub struct Scribbler {
    rng: SplitMix64,
    done: Scribbled,
}

impl Scribbler {
    /// A scribbler whose writes follow from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            done: Scribbled::default(),
        }
    }

    /// What was written so far.
    pub fn scribbled(&self) -> Scribbled {
        self.done
    }

    /// Makes `rounds` writes into `regions` (byte ranges) of `mapping`.
    ///
    /// # Panics
    ///
    /// When `mapping` is not writable, `regions` is empty or a region is
    /// empty or outside the mapping.
    pub fn scribble(&mut self, mapping: &Mapping, regions: &[Range<usize>], rounds: u32) {
        assert!(mapping.is_writable(), "scribbling needs a writable mapping");
        assert!(!regions.is_empty(), "nothing to scribble over");
        for region in regions {
            assert!(
                region.start < region.end && region.end <= mapping.len(),
                "region {region:?} outside the mapping of {} bytes",
                mapping.len()
            );
        }
        for _ in 0..rounds {
            let region = regions[self.rng.below(regions.len())].clone();
            match self.rng.below(3) {
                0 => self.bytes(mapping, region),
                1 => self.word32(mapping, region),
                _ => self.word64(mapping, region),
            }
        }
    }

    fn bytes(&mut self, mapping: &Mapping, region: Range<usize>) {
        let at = region.start + self.rng.below(region.len());
        let len = (1 + self.rng.below(16)).min(region.end - at);
        let random = self.rng.next().to_le_bytes();
        let more = self.rng.next().to_le_bytes();
        for (i, &byte) in random.iter().chain(&more).take(len).enumerate() {
            // SAFETY: `at + i < region.end <= mapping.len()` (checked in
            // `scribble`), and the mapping is writable; every access of this
            // process to shared memory is atomic, so no data race.
            unsafe { AtomicU8::from_ptr(mapping.as_ptr().wrapping_add(at + i)) }
                .store(byte, Ordering::Relaxed);
        }
        self.count(len);
    }

    fn word32(&mut self, mapping: &Mapping, region: Range<usize>) {
        let Some(at) = self.aligned(&region, 4) else {
            return self.bytes(mapping, region);
        };
        let value = self.plausible();
        // SAFETY: `at` is 4-aligned with `at + 4 <= region.end <=
        // mapping.len()`, the mapping (page-aligned) is writable, and every
        // access of this process to it is atomic.
        unsafe { AtomicU32::from_ptr(mapping.as_ptr().wrapping_add(at).cast()) }
            .store(value, Ordering::Relaxed);
        self.count(4);
    }

    fn word64(&mut self, mapping: &Mapping, region: Range<usize>) {
        let Some(at) = self.aligned(&region, 8) else {
            return self.word32(mapping, region);
        };
        let value = u64::from(self.plausible()) << 32 | u64::from(self.plausible());
        // SAFETY: as in `word32`, 8-aligned and 8 bytes inside the region.
        unsafe { AtomicU64::from_ptr(mapping.as_ptr().wrapping_add(at).cast()) }
            .store(value, Ordering::Relaxed);
        self.count(8);
    }

    /// Makes `rounds` writes of aligned `u32` words of `mapping`, each at
    /// one of `offsets` (4-aligned byte offsets), each a plausible value
    /// that differs from the word's current one: every write is a change
    /// (a targeted attack on words whose damage must be noticed). Later
    /// writes of a word can put back its first value; if every word ends as
    /// it began, the first offset is changed once more, so the damage is
    /// always there to notice.
    ///
    /// # Panics
    ///
    /// When `mapping` is not writable, `offsets` is empty or an offset is
    /// unaligned or outside the mapping.
    pub fn overwrite_u32(&mut self, mapping: &Mapping, offsets: &[usize], rounds: u32) {
        assert!(mapping.is_writable(), "scribbling needs a writable mapping");
        assert!(!offsets.is_empty(), "nothing to overwrite");
        for &at in offsets {
            assert!(
                at.is_multiple_of(4) && at + 4 <= mapping.len(),
                "word at {at} is unaligned or outside the mapping of {} bytes",
                mapping.len()
            );
        }
        let word = |at: usize| {
            // SAFETY: `at` is 4-aligned with `at + 4 <= mapping.len()`
            // (checked above), the mapping is writable, and every access of
            // this process to it is atomic.
            unsafe { AtomicU32::from_ptr(mapping.as_ptr().wrapping_add(at).cast()) }
        };
        let before: Vec<u32> = offsets
            .iter()
            .map(|&at| word(at).load(Ordering::Relaxed))
            .collect();
        for _ in 0..rounds {
            let at = offsets[self.rng.below(offsets.len())];
            self.change(word(at));
        }
        let unchanged = offsets
            .iter()
            .zip(&before)
            .all(|(&at, &was)| word(at).load(Ordering::Relaxed) == was);
        if rounds > 0 && unchanged {
            self.change(word(offsets[0]));
        }
    }

    /// Writes a plausible value other than its current one into `word`.
    fn change(&mut self, word: &AtomicU32) {
        let value = self.plausible();
        let current = word.load(Ordering::Relaxed);
        word.store(
            if value == current { value ^ 1 } else { value },
            Ordering::Relaxed,
        );
        self.count(4);
    }

    /// A random `align`-aligned offset of `align` bytes inside `region`.
    fn aligned(&mut self, region: &Range<usize>, align: usize) -> Option<usize> {
        let first = region.start.next_multiple_of(align);
        let slots = region.end.checked_sub(first)? / align;
        (slots > 0).then(|| first + self.rng.below(slots) * align)
    }

    /// Cuts the freelist of mempool `pool` of `group` short: ends the chain
    /// (link word `END`) after a free chunk the seed picks, leaving at
    /// least one chunk on the list and losing at least one. Returns how
    /// many free chunks it lost, or `None` when fewer than two are free.
    /// Meant for a quiet pool (nobody popping or pushing meanwhile).
    pub fn cut_freelist(&mut self, group: &MappedGroup, pool: u32) -> Option<u32> {
        let control = group.control();
        let (layout, config) = (*control.layout(), *control.config());
        let header = layout.freelist_offset(pool).expect("a pool of the group") as usize;
        let (links, count) = layout.links_range(pool, &config).expect("its links");
        let map = group.control_mapping();
        let word = |offset: usize| {
            // SAFETY: `offset` is a 4-aligned offset of the freelist header
            // or of a link word of the pool, inside the mapping (the layout
            // says so); this process accesses them atomically only.
            unsafe { AtomicU32::from_ptr(map.as_ptr().wrapping_add(offset).cast()) }
        };
        let link = |chunk: u32| word(links as usize + 4 * chunk as usize);
        // The head's low word is the top index (little-endian u64).
        let mut chain = vec![word(header).load(Ordering::Relaxed)];
        while let Some(&at) = chain.last() {
            if at >= count || chain.len() > count as usize {
                chain.pop();
                break;
            }
            chain.push(link(at).load(Ordering::Relaxed));
        }
        let free = chain.len();
        if free < 2 {
            return None;
        }
        let last = chain[self.rng.below(free - 1)];
        link(last).store(zerocp_core::freelist::END, Ordering::Relaxed);
        self.count(4);
        let kept = chain.iter().position(|&c| c == last).expect("on the chain") + 1;
        Some((free - kept) as u32)
    }

    /// A value an index, count or stamp might plausibly hold.
    fn plausible(&mut self) -> u32 {
        let random = self.rng.next() as u32;
        match self.rng.below(10) {
            0 => 0,
            1 => 1,
            2 => 2,
            3 => random % 8,
            4 => random % 300,
            5 => u32::MAX,
            6 => u32::MAX - 1 - random % 4,
            7 => 1 << 31,
            _ => random,
        }
    }

    fn count(&mut self, bytes: usize) {
        self.done.writes += 1;
        self.done.bytes += bytes as u64;
    }
}

/// The regions of a group's control part worth hitting one by one, by how
/// much of the group a write there can stop: the group header (a runtime
/// then refuses to attach), the freelist headers (likewise, when the
/// capacity or head is off), and the records (every publisher and
/// subscriber port, the links, the refcounts).
#[derive(Debug, Clone)]
pub struct ControlRegions {
    /// The group header.
    pub header: Range<usize>,
    /// The freelist header of every mempool.
    pub freelists: Vec<Range<usize>>,
    /// Every port, the links and the refcounts.
    pub records: Vec<Range<usize>>,
}

/// The offsets of every `u32` word of a group header that holds something
/// (the 448 bytes before its padding): for [`Scribbler::overwrite_u32`].
pub fn group_header_words() -> Vec<usize> {
    (0..448).step_by(4).collect()
}

impl ControlRegions {
    /// The regions of `group`'s control part, read from its (still valid)
    /// header: call it before scribbling.
    pub fn of(group: &MappedGroup) -> Self {
        let control = group.control();
        let layout = *control.layout();
        let config = *control.config();
        let sized = |size: usize| move |offset: u64| offset as usize..offset as usize + size;
        let publishers = (0..config.max_publishers()).filter_map(|i| layout.publisher_offset(i));
        let subscribers = (0..config.max_subscribers()).filter_map(|i| layout.subscriber_offset(i));
        let pools = config.mempools().len() as u32;
        let chunks = layout.refcount_count() as usize;
        let mut records: Vec<_> = publishers
            .map(sized(size_of::<PublisherPort>()))
            .chain(subscribers.map(sized(size_of::<SubscriberPort>())))
            .collect();
        records.push(sized(4 * chunks)(layout.links_offset()));
        records.push(sized(4 * chunks)(layout.refcounts_offset()));
        Self {
            header: 0..size_of::<GroupHeader>(),
            freelists: (0..pools)
                .filter_map(|pool| layout.freelist_offset(pool))
                .map(sized(size_of::<FreeListHeader>()))
                .collect(),
            records,
        }
    }

    /// The records and the freelist headers.
    pub fn with_freelists(&self) -> Vec<Range<usize>> {
        self.records
            .iter()
            .chain(&self.freelists)
            .cloned()
            .collect()
    }

    /// Every region.
    pub fn all(&self) -> Vec<Range<usize>> {
        let mut all = self.with_freelists();
        all.push(self.header.clone());
        all
    }
}

/// The regions of a group's payload part: every chunk's 64-byte header and
/// its payload. Call it before scribbling (it reads the control part).
pub fn payload_regions(group: &MappedGroup) -> Vec<Range<usize>> {
    let pools = group.pools();
    let layout = pools.layout();
    let mut regions = Vec::new();
    for pool in layout.pools() {
        for chunk in pool.first_chunk()..pool.first_chunk() + pool.chunk_count() {
            let start = layout.chunk_offset(chunk).expect("a chunk of the layout") as usize;
            regions.push(start..start + 64);
            regions.push(start + 64..start + pool.stride() as usize);
        }
    }
    regions
}
