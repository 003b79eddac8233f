//! `zerocpctl echo SERVICE [--count N] [--json]`: every sample as it is
//! published.
//!
//! **Text**: a header line (`#<sequence> from <publisher> at <publish time>,
//! <len> bytes`, and the element count of a slice), the decoded fields as
//! `name: value` lines in the layout's order when the type describes
//! itself, and the payload as a hex dump, 16 bytes a line with their
//! offset and the printable ASCII beside them.
//!
//! **JSON** (`--json`): one object per line, `{"schema", "service", "sequence",
//! "publisher": {"port", "generation"}, "publish_time_ns", "len",
//! "elements", "payload", "fields"}`: `len` the payload's bytes,
//! `elements` a slice's element count (1 for a sized payload), `payload`
//! its bytes in lower-case hex, `publish_time_ns` the publisher's
//! `CLOCK_MONOTONIC` at publishing.
//!
//! **Decoding.** A type that describes itself (`#[derive(ZeroCopySafe)]`,
//! or a primitive) has a layout the daemon keeps for the service
//! ([`Target::layout`]); [`decode_fields`] reads the payload by it
//! ([`super::fields`]) into `fields`, a JSON object of field name to number,
//! `bool`, list of numbers or hex string (`null` for a type without
//! layout, whose samples are only hex).

use std::fmt::Write as _;

use serde::Serialize;
use zerocp::UntypedSample;

use super::fields;
use super::target::Target;
use crate::ctl::render::to_json;

/// The bytes of one hex dump line.
const DUMP_WIDTH: usize = 16;

#[derive(Serialize)]
struct PublisherJson {
    port: u32,
    generation: u32,
}

#[derive(Serialize)]
struct SampleJson<'a> {
    service: &'a str,
    sequence: u64,
    publisher: PublisherJson,
    publish_time_ns: u64,
    len: usize,
    elements: usize,
    payload: String,
    fields: Option<serde_json::Value>,
}

/// The payload's fields as a JSON object, decoded by the service's
/// layout; `None` while no layout is known (module docs).
pub fn decode_fields(target: &Target, payload: &[u8]) -> Option<serde_json::Value> {
    let fields = fields::decode(&target.layout, &target.service_type, payload)?;
    Some(serde_json::Value::Object(fields.into_iter().collect()))
}

/// One sample as one line of JSON (module docs), with its newline.
pub fn sample_json(service: &str, target: &Target, sample: &UntypedSample<'_>) -> String {
    let publisher = sample.publisher();
    let payload = sample.payload();
    let json = SampleJson {
        service,
        sequence: sample.sequence(),
        publisher: PublisherJson {
            port: publisher.port_index(),
            generation: publisher.generation(),
        },
        publish_time_ns: sample.publish_time().as_nanos(),
        len: payload.len(),
        elements: sample.len(),
        payload: hex(payload),
        fields: decode_fields(target, payload),
    };
    let mut line = to_json(&json);
    line.push('\n');
    line
}

/// One sample as text: the header line and the hex dump (module docs).
pub fn sample_text(target: &Target, sample: &UntypedSample<'_>) -> String {
    let payload = sample.payload();
    let publisher = sample.publisher();
    let mut text = format!(
        "#{} from publisher {}.{} at {}, {} bytes",
        sample.sequence(),
        publisher.port_index(),
        publisher.generation(),
        sample.publish_time(),
        payload.len()
    );
    if target.service_type.shape == zerocp::PayloadShape::Slice {
        let _ = write!(text, " ({} elements)", sample.len());
    }
    text.push('\n');
    let decoded = fields::decode(&target.layout, &target.service_type, payload);
    for (name, value) in decoded.unwrap_or_default() {
        let _ = writeln!(text, "  {name}: {value}");
    }
    text.push_str(&hex_dump(payload));
    text
}

/// `bytes` in lower-case hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `bytes` as lines of `offset  hex bytes  |ascii|`, 16 bytes a line.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(DUMP_WIDTH).enumerate() {
        let _ = write!(out, "  {:08x} ", line * DUMP_WIDTH);
        for i in 0..DUMP_WIDTH {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, " {b:02x}");
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  |");
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn the_dump_shows_offsets_bytes_and_printable_ascii() {
        let bytes: Vec<u8> = (0..18).map(|i| b'A' + i).collect();
        let dump = hex_dump(&bytes);
        let lines: Vec<&str> = dump.lines().collect();
        assert_eq!(lines.len(), 2, "{dump}");
        assert!(lines[0].starts_with("  00000000  41 42 43"), "{dump}");
        assert!(lines[0].ends_with("|ABCDEFGHIJKLMNOP|"), "{dump}");
        assert!(lines[1].starts_with("  00000010  51 52 "), "{dump}");
        assert!(lines[1].ends_with("|QR|"), "{dump}");
        assert_eq!(
            hex_dump(&[0x00, 0x20]).trim_end(),
            format!("  00000000  00 20{}  |. |", " ".repeat(42))
        );
    }
}
