//! The sequence number every benchmark carries in the first 8 bytes of a
//! payload (native byte order; the rest of the payload is never touched, as
//! in the peer's cases).

/// Writes `seq` into the first 8 bytes of `bytes` (nothing when shorter).
pub fn write_seq(bytes: &mut [u8], seq: u64) {
    if let Some(head) = bytes.first_chunk_mut::<8>() {
        *head = seq.to_ne_bytes();
    }
}

/// The sequence number in the first 8 bytes of `bytes` (0 when shorter).
pub fn read_seq(bytes: &[u8]) -> u64 {
    bytes
        .first_chunk::<8>()
        .map_or(0, |b| u64::from_ne_bytes(*b))
}
