//! [`Attachment`]: what travels beside a payload in Zenoh, so that the far
//! side can check the type, Zenoh subscribers other than bridges can see
//! the ZeroCP publisher's sequence number, and no bridge publishes a sample
//! back into the domain it came from.
//!
//! Layout (little-endian, 24 bytes and the name):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `ZCPB` |
//! | 4 | 1 | version (1) |
//! | 5 | 1 | reserved: written 0, not read |
//! | 6 | 2 | type name length `n` |
//! | 8 | 8 | origin: the id of the domain the sample was published in ([`domain_origin`](crate::domain_origin)) |
//! | 16 | 8 | the ZeroCP publisher's sequence number |
//! | 24 | n | the type name, UTF-8 |
//!
//! The payload's bytes travel unchanged as the sample's payload.

/// The first bytes of every attachment.
const MAGIC: [u8; 4] = *b"ZCPB";
/// The layout above.
const VERSION: u8 = 1;
/// Bytes before the type name.
const FIXED: usize = 24;

/// A sample's attachment (module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The id of the domain the sample was published in.
    pub origin: u64,
    /// The ZeroCP publisher's sequence number.
    pub sequence: u64,
    /// The payload's type name.
    pub type_name: String,
}

/// Why bytes are not an attachment of this layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentError {
    /// Shorter than the layout says.
    Truncated(usize),
    /// Not `ZCPB`: not sent by a ZeroCP bridge.
    Magic,
    /// Another version of the layout.
    Version(u8),
    /// The type name is not UTF-8.
    TypeName,
}

impl std::fmt::Display for AttachmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated(n) => write!(f, "an attachment of {n} bytes is truncated"),
            Self::Magic => f.write_str("the attachment is not a ZeroCP bridge's"),
            Self::Version(v) => write!(f, "attachment version {v}, this bridge reads {VERSION}"),
            Self::TypeName => f.write_str("the attachment's type name is not UTF-8"),
        }
    }
}

impl std::error::Error for AttachmentError {}

impl Attachment {
    /// The attachment's bytes.
    ///
    /// ```
    /// use zerocp_zenoh::Attachment;
    ///
    /// let sent = Attachment { origin: 7, sequence: 42, type_name: "u8".into() };
    /// assert_eq!(Attachment::decode(&sent.encode())?, sent);
    /// # Ok::<(), zerocp_zenoh::AttachmentError>(())
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let name = self.type_name.as_bytes();
        let len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        let mut out = Vec::with_capacity(FIXED + name.len());
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&self.origin.to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&name[..usize::from(len)]);
        out
    }

    /// Reads an attachment; every length is checked against `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, AttachmentError> {
        let fixed: &[u8; FIXED] = bytes
            .get(..FIXED)
            .and_then(|b| b.try_into().ok())
            .ok_or(AttachmentError::Truncated(bytes.len()))?;
        if fixed[..4] != MAGIC {
            return Err(AttachmentError::Magic);
        }
        if fixed[4] != VERSION {
            return Err(AttachmentError::Version(fixed[4]));
        }
        let len = usize::from(u16::from_le_bytes([fixed[6], fixed[7]]));
        let name = bytes
            .get(FIXED..FIXED + len)
            .ok_or(AttachmentError::Truncated(bytes.len()))?;
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&fixed[at..at + 8]);
            u64::from_le_bytes(b)
        };
        Ok(Self {
            origin: word(8),
            sequence: word(16),
            type_name: String::from_utf8(name.to_vec()).map_err(|_| AttachmentError::TypeName)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Attachment {
        Attachment {
            origin: 0x0102_0304_0506_0708,
            sequence: u64::MAX,
            type_name: "robot::Twist".into(),
        }
    }

    #[test]
    fn every_prefix_of_an_attachment_is_refused() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(
                matches!(
                    Attachment::decode(&bytes[..cut]),
                    Err(AttachmentError::Truncated(_))
                ),
                "{cut}"
            );
        }
        assert_eq!(Attachment::decode(&bytes), Ok(sample()));
    }

    #[test]
    fn foreign_and_newer_attachments_are_refused() {
        let mut bytes = sample().encode();
        bytes[4] = 2;
        assert_eq!(Attachment::decode(&bytes), Err(AttachmentError::Version(2)));
        bytes[0] = b'X';
        assert_eq!(Attachment::decode(&bytes), Err(AttachmentError::Magic));
        let mut bad_name = sample().encode();
        let last = bad_name.len() - 1;
        bad_name[last] = 0xff;
        assert_eq!(
            Attachment::decode(&bad_name),
            Err(AttachmentError::TypeName)
        );
    }
}
