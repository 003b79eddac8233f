//! `ChunkHeader`: the 64-byte header at the start of every chunk in the data
//! segment, and where the payload goes after it.
//!
//! Layout (`#[repr(C, align(64))]`, 64 bytes on every target, all fields
//! little-endian machine words; a zero-filled header is a valid, free chunk):
//!
//! | offset | field            | meaning                                         |
//! |-------:|------------------|-------------------------------------------------|
//! | 0      | `version`        | [`CHUNK_HEADER_VERSION`] in the low 16 bits     |
//! | 4      | `chunk_size`     | bytes of the whole chunk, header included       |
//! | 8      | `payload_size`   | bytes of payload written                        |
//! | 12     | `payload_offset` | payload start, from the chunk start             |
//! | 16     | `payload_align`  | payload alignment (power of two, <= 64)         |
//! | 20     | `origin_port`    | publisher port index that loaned the chunk      |
//! | 24     | `sequence`       | per-publisher sequence number                   |
//! | 32     | reserved         | zero (was the refcount, see below)              |
//! | 36     | `mempool`        | index of the pool the chunk belongs to          |
//! | 40     | `chunk_index`    | global chunk index (lets a reader cross-check)  |
//! | 44     | `origin_generation` | generation of that publisher port (never 0)  |
//! | 48     | `publish_time`   | `CLOCK_MONOTONIC` ns when it was published      |
//! | 56     | `exchange[0]`    | request/response word 0 (see below), else zero  |
//! | 60     | `exchange[1]`    | request/response word 1 (see below), else zero  |
//!
//! The two exchange words (version 4; version 3 left offsets 56..64
//! reserved) carry what a request/response exchange needs beside the
//! payload: a request names the client's response port to answer
//! (`[port index, port generation]`), a response names the request it
//! answers and whether it ends the stream (`[request id, flags]`,
//! [`EXCHANGE_LAST`], [`EXCHANGE_NO_PAYLOAD`]). Publish/subscribe leaves them
//! zero. Like the metadata, they are hostile input to the reader: it only
//! compares them with what it already knows (a routed port, a request it
//! sent), never indexes memory with them.
//!
//! `origin_port`, `origin_generation`, `sequence` and `publish_time` are the
//! sample's metadata (version 3; version 2 left offsets 44..64 reserved):
//! readers only report them, never index anything with them.
//!
//! Every field is an atomic from [`crate::sync`], so the header is only ever
//! accessed through `&ChunkHeader` (never `&mut` into shared memory), even when
//! a hostile process writes to it concurrently. The metadata fields are written
//! by the process that loaned the chunk, before it publishes, with `Relaxed`
//! stores: the `Release` push of the chunk index into a subscriber queue (and
//! the `Acquire` pop) orders them, like the payload bytes themselves.
//!
//! Nothing else ever writes a header: holders only read it. The chunk's
//! reference count, which every holder writes when it releases, is kept in the
//! group control part ([`crate::refcount`]); version 1 of this layout had it at
//! offset 32, which version 2 leaves reserved (zero) and never reads. So the
//! data segment (headers and payloads) is written only by loaning publishers,
//! and a process that only subscribes can map it read-only.
//!
//! # The user header
//!
//! A service may carry a user header beside the payload (a second
//! `ZeroCopySafe` type, e.g. a frame id and an exposure time): it starts at
//! offset 64, right after this header (its alignment is at most 64), and the
//! payload follows at the next offset aligned for it,
//! [`payload_offset_after`]. `payload_offset` records where that is; the
//! header's layout is unchanged, and a chunk without user header has its
//! payload at 64 as before. The header does not record the user header's
//! size: both ends know their types, which the daemon checked equal, so a
//! reader compares `payload_offset` with the offset its types imply.
//!
//! A header that another process wrote is checked with
//! [`ChunkHeader::validate`] before the payload location is used.

use core::fmt;

use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// Layout version of [`ChunkHeader`].
pub const CHUNK_HEADER_VERSION: u16 = 4;
/// Flag in a response's exchange word 1: the last response of its request's
/// stream.
pub const EXCHANGE_LAST: u32 = 1;
/// Flag in a response's exchange word 1: the chunk only marks the end of the
/// stream; its payload is zeroed and not a response.
pub const EXCHANGE_NO_PAYLOAD: u32 = 2;
/// Size (and alignment) of [`ChunkHeader`] in bytes.
pub const CHUNK_HEADER_SIZE: u32 = 64;
/// Largest payload alignment supported: the header's own alignment, so a
/// payload placed right after the header is aligned for any type up to it.
pub const MAX_PAYLOAD_ALIGN: u32 = 64;

/// The header at the start of every chunk (see the [module docs](self) for the
/// layout).
///
/// ```
/// use zerocp_core::chunk_header::{ChunkHeader, ChunkInit};
///
/// let header = ChunkHeader::zeroed(); // in real use: a reference into the data segment
/// header.init(&ChunkInit {
///     chunk_size: 256, payload_size: 24, payload_align: 8, user_header_size: 0,
///     origin_port: 3, origin_generation: 5, sequence: 1, mempool: 0, chunk_index: 17,
/// })?;
/// header.set_publish_time(1_000_000);
/// let payload = header.validate(256)?;
/// assert_eq!((payload.offset, payload.size), (64, 24));
/// assert_eq!((header.sequence(), header.chunk_index()), (1, 17));
/// assert_eq!((header.origin_generation(), header.publish_time()), (5, 1_000_000));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[repr(C, align(64))]
#[derive(Debug)]
pub struct ChunkHeader {
    version: AtomicU32,
    chunk_size: AtomicU32,
    payload_size: AtomicU32,
    payload_offset: AtomicU32,
    payload_align: AtomicU32,
    origin_port: AtomicU32,
    sequence: AtomicU64,
    /// Version 1's refcount word; now zero, never read or written.
    _reserved_refcount: AtomicU32,
    mempool: AtomicU32,
    chunk_index: AtomicU32,
    origin_generation: AtomicU32,
    publish_time: AtomicU64,
    exchange: [AtomicU32; 2],
}

#[cfg(not(loom))]
const _: () = assert!(size_of::<ChunkHeader>() == CHUNK_HEADER_SIZE as usize);
#[cfg(not(loom))]
const _: () = assert!(align_of::<ChunkHeader>() == 64);

/// What the loaning process writes into a header before publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkInit {
    /// Bytes of the whole chunk, header included (the pool's stride).
    pub chunk_size: u32,
    /// Bytes of payload.
    pub payload_size: u32,
    /// Payload alignment (power of two, at most [`MAX_PAYLOAD_ALIGN`]).
    pub payload_align: u32,
    /// Bytes of the user header between this header and the payload (0:
    /// none); the payload starts at [`payload_offset_after`] of it.
    pub user_header_size: u32,
    /// Publisher port index.
    pub origin_port: u32,
    /// Generation of that publisher port.
    pub origin_generation: u32,
    /// Sequence number.
    pub sequence: u64,
    /// Mempool index.
    pub mempool: u32,
    /// Global chunk index.
    pub chunk_index: u32,
}

/// Where the payload of a validated chunk lies, relative to the chunk start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadRange {
    /// Offset from the chunk start.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// A payload alignment that cannot be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PayloadAlignError {
    /// The alignment is not a power of two.
    NotPowerOfTwo {
        /// The alignment given.
        align: u32,
    },
    /// The alignment is larger than [`MAX_PAYLOAD_ALIGN`].
    TooLarge {
        /// The alignment given.
        align: u32,
        /// The largest supported alignment.
        max: u32,
    },
}

impl fmt::Display for PayloadAlignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPowerOfTwo { align } => {
                write!(f, "payload alignment {align} is not a power of two")
            }
            Self::TooLarge { align, max } => {
                write!(f, "payload alignment {align} exceeds the maximum of {max}")
            }
        }
    }
}

impl core::error::Error for PayloadAlignError {}

/// The offset of a payload with alignment `align` from the chunk start:
/// the header size rounded up to `align` (so always 64 for supported values).
///
/// ```
/// use zerocp_core::chunk_header::payload_offset;
/// assert_eq!(payload_offset(8), Ok(64));
/// assert!(payload_offset(128).is_err());
/// ```
pub const fn payload_offset(align: u32) -> Result<u32, PayloadAlignError> {
    if !align.is_power_of_two() {
        return Err(PayloadAlignError::NotPowerOfTwo { align });
    }
    if align > MAX_PAYLOAD_ALIGN {
        return Err(PayloadAlignError::TooLarge {
            align,
            max: MAX_PAYLOAD_ALIGN,
        });
    }
    // `align <= 64` divides 64: this cannot overflow.
    Ok(CHUNK_HEADER_SIZE.div_ceil(align) * align)
}

/// The offset of a payload with alignment `align` that follows a user
/// header of `user_header_size` bytes (at offset 64): `64 + user_header_size`
/// rounded up to `align`. Saturates at `u32::MAX` (no chunk holds that), so
/// an absurd size is refused where the chunk size is checked.
///
/// ```
/// use zerocp_core::chunk_header::payload_offset_after;
/// assert_eq!(payload_offset_after(0, 8), Ok(64));
/// assert_eq!(payload_offset_after(12, 8), Ok(80));
/// assert_eq!(payload_offset_after(12, 1), Ok(76));
/// ```
pub const fn payload_offset_after(
    user_header_size: u32,
    align: u32,
) -> Result<u32, PayloadAlignError> {
    let first = match payload_offset(align) {
        Ok(offset) => offset,
        Err(e) => return Err(e),
    };
    let end = first as u64 + user_header_size as u64;
    let offset = end.div_ceil(align as u64) * align as u64;
    if offset > u32::MAX as u64 {
        Ok(u32::MAX)
    } else {
        Ok(offset as u32)
    }
}

/// A header (written by another process) that does not describe a usable chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HeaderError {
    /// The version is not [`CHUNK_HEADER_VERSION`].
    Version {
        /// The raw version word found.
        found: u32,
    },
    /// The chunk size is not the one of the pool the chunk is in.
    ChunkSize {
        /// The size found.
        found: u32,
        /// The pool's stride.
        expected: u32,
    },
    /// The payload alignment is invalid.
    Align(PayloadAlignError),
    /// The payload offset is below the header's end or not a multiple of
    /// the payload's alignment.
    PayloadOffset {
        /// The offset found.
        found: u32,
        /// The smallest offset the alignment allows (no user header).
        expected: u32,
    },
    /// The payload runs past the end of the chunk.
    PayloadTooLarge {
        /// The payload size found.
        size: u32,
        /// Bytes available after the payload offset.
        capacity: u32,
    },
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version { found } => write!(
                f,
                "chunk header version word {found:#x}, expected {CHUNK_HEADER_VERSION}"
            ),
            Self::ChunkSize { found, expected } => {
                write!(f, "chunk size {found}, expected {expected}")
            }
            Self::Align(e) => write!(f, "chunk header: {e}"),
            Self::PayloadOffset { found, expected } => {
                write!(f, "payload offset {found}, expected {expected}")
            }
            Self::PayloadTooLarge { size, capacity } => {
                write!(
                    f,
                    "payload size {size} exceeds the chunk's capacity {capacity}"
                )
            }
        }
    }
}

impl core::error::Error for HeaderError {}

impl ChunkHeader {
    /// An all-zero header (a free chunk), for use outside shared memory
    /// (tests, staging). In shared memory the zero-filled segment already is one.
    pub fn zeroed() -> Self {
        Self {
            version: AtomicU32::new(0),
            chunk_size: AtomicU32::new(0),
            payload_size: AtomicU32::new(0),
            payload_offset: AtomicU32::new(0),
            payload_align: AtomicU32::new(0),
            origin_port: AtomicU32::new(0),
            sequence: AtomicU64::new(0),
            _reserved_refcount: AtomicU32::new(0),
            mempool: AtomicU32::new(0),
            chunk_index: AtomicU32::new(0),
            origin_generation: AtomicU32::new(0),
            publish_time: AtomicU64::new(0),
            exchange: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Writes the metadata of a freshly loaned chunk. Call only while holding
    /// the chunk exclusively (just popped from the freelist); its reference
    /// count is set apart, in the group control part ([`crate::refcount`]).
    pub fn init(&self, init: &ChunkInit) -> Result<(), HeaderError> {
        let offset = payload_offset_after(init.user_header_size, init.payload_align)
            .map_err(HeaderError::Align)?;
        let capacity = init.chunk_size.saturating_sub(offset);
        if init.payload_size > capacity {
            return Err(HeaderError::PayloadTooLarge {
                size: init.payload_size,
                capacity,
            });
        }
        // Relaxed everywhere: the chunk is exclusively ours; the Release push
        // that publishes it orders these stores for every reader.
        self.version
            .store(u32::from(CHUNK_HEADER_VERSION), Ordering::Relaxed);
        self.chunk_size.store(init.chunk_size, Ordering::Relaxed);
        self.payload_size
            .store(init.payload_size, Ordering::Relaxed);
        self.payload_offset.store(offset, Ordering::Relaxed);
        self.payload_align
            .store(init.payload_align, Ordering::Relaxed);
        self.origin_port.store(init.origin_port, Ordering::Relaxed);
        self.origin_generation
            .store(init.origin_generation, Ordering::Relaxed);
        self.sequence.store(init.sequence, Ordering::Relaxed);
        self.publish_time.store(0, Ordering::Relaxed);
        for word in &self.exchange {
            word.store(0, Ordering::Relaxed);
        }
        self.mempool.store(init.mempool, Ordering::Relaxed);
        self.chunk_index.store(init.chunk_index, Ordering::Relaxed);
        Ok(())
    }

    /// Checks the header against the stride of the pool the chunk lies in and
    /// returns where its payload is (the offset is at least 64 and aligned
    /// for the payload; whether a user header of the right size precedes it
    /// is the reader's check). Use before touching the payload of a
    /// chunk another process described.
    pub fn validate(&self, pool_stride: u32) -> Result<PayloadRange, HeaderError> {
        let version = self.version.load(Ordering::Relaxed);
        if version != u32::from(CHUNK_HEADER_VERSION) {
            return Err(HeaderError::Version { found: version });
        }
        let chunk_size = self.chunk_size();
        if chunk_size != pool_stride {
            return Err(HeaderError::ChunkSize {
                found: chunk_size,
                expected: pool_stride,
            });
        }
        // Read once: another process may change the word meanwhile, and
        // the checked value is the one divided by.
        let align = self.payload_align();
        let expected = payload_offset(align).map_err(HeaderError::Align)?;
        let offset = self.payload_offset();
        // A user header moves the payload up (module docs); the reader
        // compares the offset with the one its types imply.
        if offset < expected || !offset.is_multiple_of(align) {
            return Err(HeaderError::PayloadOffset {
                found: offset,
                expected,
            });
        }
        let size = self.payload_size();
        let capacity = chunk_size.saturating_sub(offset);
        if size > capacity {
            return Err(HeaderError::PayloadTooLarge { size, capacity });
        }
        Ok(PayloadRange { offset, size })
    }

    /// The layout version (the low 16 bits of the version word).
    pub fn version(&self) -> u16 {
        (self.version.load(Ordering::Relaxed) & 0xFFFF) as u16
    }

    /// Bytes of the whole chunk, header included.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size.load(Ordering::Relaxed)
    }

    /// Bytes of payload.
    pub fn payload_size(&self) -> u32 {
        self.payload_size.load(Ordering::Relaxed)
    }

    /// Offset of the payload from the chunk start.
    pub fn payload_offset(&self) -> u32 {
        self.payload_offset.load(Ordering::Relaxed)
    }

    /// Alignment of the payload.
    pub fn payload_align(&self) -> u32 {
        self.payload_align.load(Ordering::Relaxed)
    }

    /// Index of the publisher port that loaned the chunk.
    pub fn origin_port(&self) -> u32 {
        self.origin_port.load(Ordering::Relaxed)
    }

    /// Sequence number given by the publisher.
    pub fn sequence(&self) -> u64 {
        self.sequence.load(Ordering::Relaxed)
    }

    /// Sets the sequence number (by the loaner, before publishing).
    pub fn set_sequence(&self, sequence: u64) {
        // Relaxed: ordered by the publishing Release push, as in `init`.
        self.sequence.store(sequence, Ordering::Relaxed);
    }

    /// Generation of the publisher port that loaned the chunk (with
    /// [`origin_port`](Self::origin_port) it names the publisher exactly).
    pub fn origin_generation(&self) -> u32 {
        self.origin_generation.load(Ordering::Relaxed)
    }

    /// When the chunk was published: `CLOCK_MONOTONIC` in nanoseconds, as
    /// the publisher read it (0 until then).
    pub fn publish_time(&self) -> u64 {
        self.publish_time.load(Ordering::Relaxed)
    }

    /// Sets the publish time (by the loaner, right before publishing).
    pub fn set_publish_time(&self, nanos: u64) {
        // Relaxed: ordered by the publishing Release push, as in `init`.
        self.publish_time.store(nanos, Ordering::Relaxed);
    }

    /// The request/response exchange words (module docs): zero unless a
    /// client or server wrote them.
    pub fn exchange(&self) -> [u32; 2] {
        [
            self.exchange[0].load(Ordering::Relaxed),
            self.exchange[1].load(Ordering::Relaxed),
        ]
    }

    /// Sets the exchange words (by the loaner, before publishing).
    ///
    /// ```
    /// use zerocp_core::chunk_header::{ChunkHeader, EXCHANGE_LAST};
    /// let header = ChunkHeader::zeroed();
    /// header.set_exchange([7, EXCHANGE_LAST]);
    /// assert_eq!(header.exchange(), [7, EXCHANGE_LAST]);
    /// ```
    pub fn set_exchange(&self, words: [u32; 2]) {
        // Relaxed: ordered by the publishing Release push, as in `init`.
        self.exchange[0].store(words[0], Ordering::Relaxed);
        self.exchange[1].store(words[1], Ordering::Relaxed);
    }

    /// Index of the mempool the chunk belongs to.
    pub fn mempool(&self) -> u32 {
        self.mempool.load(Ordering::Relaxed)
    }

    /// Global index of the chunk.
    pub fn chunk_index(&self) -> u32 {
        self.chunk_index.load(Ordering::Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn init(size: u32, align: u32) -> ChunkInit {
        ChunkInit {
            chunk_size: 128,
            payload_size: size,
            payload_align: align,
            user_header_size: 0,
            origin_port: 9,
            origin_generation: 4,
            sequence: 42,
            mempool: 2,
            chunk_index: 77,
        }
    }

    #[test]
    fn payload_offsets() {
        for align in [1, 2, 4, 8, 16, 32, 64] {
            assert_eq!(payload_offset(align), Ok(64));
        }
        assert_eq!(
            payload_offset(0),
            Err(PayloadAlignError::NotPowerOfTwo { align: 0 })
        );
        assert_eq!(
            payload_offset(12),
            Err(PayloadAlignError::NotPowerOfTwo { align: 12 })
        );
        assert_eq!(
            payload_offset(128),
            Err(PayloadAlignError::TooLarge {
                align: 128,
                max: 64
            })
        );
    }

    #[test]
    fn init_then_validate() {
        let h = ChunkHeader::zeroed();
        assert_eq!(h.validate(128), Err(HeaderError::Version { found: 0 }));
        h.init(&init(64, 8)).unwrap();
        assert_eq!(
            h.validate(128),
            Ok(PayloadRange {
                offset: 64,
                size: 64
            })
        );
        assert_eq!(
            h.validate(192),
            Err(HeaderError::ChunkSize {
                found: 128,
                expected: 192
            })
        );
        assert_eq!(
            (h.version(), h.origin_port(), h.sequence()),
            (CHUNK_HEADER_VERSION, 9, 42)
        );
        assert_eq!((h.mempool(), h.chunk_index()), (2, 77));
        assert_eq!((h.origin_generation(), h.publish_time()), (4, 0));
        assert_eq!(
            h.init(&init(65, 8)),
            Err(HeaderError::PayloadTooLarge {
                size: 65,
                capacity: 64
            })
        );
        h.init(&init(3, 8)).unwrap();
        h.set_sequence(43);
        h.set_publish_time(u64::MAX);
        assert_eq!(
            h.validate(128),
            Ok(PayloadRange {
                offset: 64,
                size: 3
            })
        );
        assert_eq!((h.sequence(), h.publish_time()), (43, u64::MAX));
        // A new loan clears the previous publish time.
        h.init(&init(3, 8)).unwrap();
        assert_eq!(h.publish_time(), 0);
    }

    #[test]
    fn user_header_moves_the_payload() {
        assert_eq!(payload_offset_after(0, 64), Ok(64));
        assert_eq!(payload_offset_after(1, 64), Ok(128));
        assert_eq!(payload_offset_after(24, 4), Ok(88));
        assert_eq!(payload_offset_after(u32::MAX, 8), Ok(u32::MAX));
        assert!(payload_offset_after(8, 3).is_err());
        let h = ChunkHeader::zeroed();
        let with_header = ChunkInit {
            user_header_size: 12,
            ..init(40, 8)
        };
        h.init(&with_header).unwrap();
        assert_eq!(
            h.validate(128),
            Ok(PayloadRange {
                offset: 80,
                size: 40
            })
        );
        assert_eq!(
            h.init(&ChunkInit {
                user_header_size: 12,
                ..init(49, 8)
            }),
            Err(HeaderError::PayloadTooLarge {
                size: 49,
                capacity: 48
            })
        );
    }

    /// A loan clears the exchange words a previous request or response
    /// left in the chunk: a plain sample never carries stale ones.
    #[test]
    fn init_clears_the_exchange_words() {
        let h = ChunkHeader::zeroed();
        h.set_exchange([9, EXCHANGE_LAST | EXCHANGE_NO_PAYLOAD]);
        h.init(&init(3, 8)).unwrap();
        assert_eq!(h.exchange(), [0, 0]);
    }

    /// The documented offsets (module docs), the same on every target.
    #[test]
    fn field_offsets() {
        use core::mem::offset_of;
        assert_eq!(offset_of!(ChunkHeader, origin_port), 20);
        assert_eq!(offset_of!(ChunkHeader, sequence), 24);
        assert_eq!(offset_of!(ChunkHeader, chunk_index), 40);
        assert_eq!(offset_of!(ChunkHeader, origin_generation), 44);
        assert_eq!(offset_of!(ChunkHeader, publish_time), 48);
        assert_eq!(offset_of!(ChunkHeader, exchange), 56);
    }

    #[test]
    fn validate_rejects_corrupt_fields() {
        let h = ChunkHeader::zeroed();
        h.init(&init(8, 8)).unwrap();
        h.payload_offset.store(8, Ordering::Relaxed);
        assert_eq!(
            h.validate(128),
            Err(HeaderError::PayloadOffset {
                found: 8,
                expected: 64
            })
        );
        h.payload_offset.store(68, Ordering::Relaxed);
        assert!(matches!(
            h.validate(128),
            Err(HeaderError::PayloadOffset { found: 68, .. })
        ));
        h.payload_offset.store(64, Ordering::Relaxed);
        h.payload_align.store(3, Ordering::Relaxed);
        assert!(matches!(h.validate(128), Err(HeaderError::Align(_))));
        h.payload_align.store(8, Ordering::Relaxed);
        h.payload_size.store(u32::MAX, Ordering::Relaxed);
        assert!(matches!(
            h.validate(128),
            Err(HeaderError::PayloadTooLarge { .. })
        ));
        h.version.store(0x0001_0003, Ordering::Relaxed);
        assert_eq!(h.version(), 3);
        assert!(matches!(h.validate(128), Err(HeaderError::Version { .. })));
    }
}
