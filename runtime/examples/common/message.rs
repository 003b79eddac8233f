//! The message type the `publisher`, `subscriber` and `demo` examples share.
#![allow(dead_code)] // shared by several examples, each uses a part of it

use zerocp::ZeroCopySafe;

/// The service every example uses: `Examples/Demo/Counter`.
pub const SERVICE: (&str, &str, &str) = ("Examples", "Demo", "Counter");

/// One message: a counter, the time it was sent and a short text.
///
/// Integers and a byte array: every bit pattern is a valid value (`text()`
/// checks the length and the UTF-8 before use). The derive checks the rest
/// (repr, fields, no padding) and names it the same in every example
/// binary, whatever module declares it.
#[repr(C)]
#[derive(Debug, Clone, Copy, ZeroCopySafe)]
#[zerocp(type_name = "zerocp_examples::Counter")]
pub struct Counter {
    /// Counts up from 0 per publisher.
    pub count: u64,
    /// `CLOCK_MONOTONIC` of the publisher when it published, in nanoseconds.
    pub sent_ns: u64,
    /// Publisher's pid.
    pub pid: u32,
    /// Bytes of `text` used.
    pub text_len: u32,
    /// UTF-8 text.
    pub text: [u8; 48],
}

impl Counter {
    /// A message `count` with `text` (cut to 48 bytes at a character boundary).
    pub fn new(count: u64, sent_ns: u64, text: &str) -> Self {
        let mut end = text.len().min(48);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; 48];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        Self {
            count,
            sent_ns,
            pid: std::process::id(),
            text_len: end as u32,
            text: bytes,
        }
    }

    /// The text, or a placeholder when the bytes are not valid.
    pub fn text(&self) -> &str {
        let len = (self.text_len as usize).min(self.text.len());
        std::str::from_utf8(&self.text[..len]).unwrap_or("<invalid text>")
    }
}

/// `CLOCK_MONOTONIC` now, in nanoseconds (comparable between processes).
pub fn now_ns() -> u64 {
    zerocp_os_linux::clock::monotonic_ns()
}
