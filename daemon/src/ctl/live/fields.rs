//! Decoding a sample's payload field by field, by the [`TypeLayout`] the
//! daemon keeps for its service (self-describing types, protocol 10), for
//! `zerocpctl echo`.
//!
//! The layout came from another process through the daemon, and the
//! payload from a publisher: neither is trusted. Each field is read with
//! `from_ne_bytes` (the publisher wrote it in this machine's byte order)
//! from a sub-slice taken with a checked range; a field that does not lie
//! inside its element or inside the payload is left out, never read.
//!
//! A field of one element is a number (a `bool` field `true`/`false`, any
//! other byte its number); an array is a list of numbers; opaque bytes are
//! a lower-case hex string. A float that is not finite has no JSON number
//! and is `null`. A slice's elements are decoded one by one, their names
//! prefixed with the index (`[2].x`), for the first [`MAX_SLICE_ELEMENTS`]
//! elements only: the whole payload is in the hex beside them.

use serde_json::Value;
use zerocp::{PayloadShape, ServiceType};
use zerocp_core::type_layout::{FieldKind, LayoutField, TypeLayout};

use super::echo::hex;

/// Elements of a slice payload decoded at most.
pub const MAX_SLICE_ELEMENTS: usize = 32;

/// The fields of `payload`, in the layout's order, named as the layout
/// names them; `None` when the layout is unknown.
///
/// ```
/// use zerocp::{ServiceType, TypeInfo};
/// use zerocp_core::type_layout::{FieldKind, TypeDescription, TypeLayout};
/// use zerocp_daemon::ctl::live::fields::decode;
///
/// let layout = TypeLayout::describe(&TypeDescription::Primitive(FieldKind::U32), 4);
/// let sized = ServiceType::sized(TypeInfo::of::<u32>());
/// let fields = decode(&layout, &sized, &7u32.to_ne_bytes()).unwrap();
/// assert_eq!(fields, [("value".to_owned(), serde_json::json!(7))]);
/// // Too short a payload: the field is not read.
/// assert!(decode(&layout, &sized, &[1, 2]).unwrap().is_empty());
/// ```
pub fn decode(
    layout: &TypeLayout,
    service_type: &ServiceType,
    payload: &[u8],
) -> Option<Vec<(String, Value)>> {
    if !layout.is_known() {
        return None;
    }
    let element_size = service_type.payload.size as usize;
    let mut out = Vec::new();
    match service_type.shape {
        PayloadShape::Sized => decode_element(layout, element_size, payload, "", &mut out),
        PayloadShape::Slice => {
            let elements = payload.chunks_exact(element_size.max(1));
            for (i, element) in elements.take(MAX_SLICE_ELEMENTS).enumerate() {
                let prefix = format!("[{i}].");
                decode_element(layout, element_size, element, &prefix, &mut out);
            }
        }
    }
    Some(out)
}

/// The fields of one element of `element_size` bytes at the start of
/// `bytes`, names prefixed with `prefix`.
fn decode_element(
    layout: &TypeLayout,
    element_size: usize,
    bytes: &[u8],
    prefix: &str,
    out: &mut Vec<(String, Value)>,
) {
    for field in &layout.fields {
        let Some(field_bytes) = field_bytes(field, element_size, bytes) else {
            continue;
        };
        out.push((format!("{prefix}{}", field.name), value(field, field_bytes)));
    }
}

/// The bytes of `field`, when it lies inside the element and the payload.
fn field_bytes<'a>(field: &LayoutField, element_size: usize, bytes: &'a [u8]) -> Option<&'a [u8]> {
    let start = field.offset as usize;
    let end = start.checked_add(field.size()? as usize)?;
    if end > element_size {
        return None;
    }
    bytes.get(start..end)
}

/// The JSON value of a field's bytes (module docs).
fn value(field: &LayoutField, bytes: &[u8]) -> Value {
    if field.kind == FieldKind::Bytes {
        return Value::String(hex(bytes));
    }
    let size = field.kind.size() as usize;
    let mut items = bytes.chunks_exact(size).map(|b| scalar(field.kind, b));
    if field.len == 1 {
        items.next().unwrap_or(Value::Null)
    } else {
        Value::Array(items.collect())
    }
}

/// One element of `kind` from its bytes (exactly `kind.size()` of them).
fn scalar(kind: FieldKind, b: &[u8]) -> Value {
    match kind {
        FieldKind::U8 => ne(b).map(u8::from_ne_bytes).into(),
        FieldKind::U16 => ne(b).map(u16::from_ne_bytes).into(),
        FieldKind::U32 => ne(b).map(u32::from_ne_bytes).into(),
        FieldKind::U64 => ne(b).map(u64::from_ne_bytes).into(),
        FieldKind::I8 => ne(b).map(i8::from_ne_bytes).into(),
        FieldKind::I16 => ne(b).map(i16::from_ne_bytes).into(),
        FieldKind::I32 => ne(b).map(i32::from_ne_bytes).into(),
        FieldKind::I64 => ne(b).map(i64::from_ne_bytes).into(),
        FieldKind::F32 => ne(b).map(f32::from_ne_bytes).into(),
        FieldKind::F64 => ne(b).map(f64::from_ne_bytes).into(),
        FieldKind::Bool => match b {
            [0] => Value::Bool(false),
            [1] => Value::Bool(true),
            [other] => (*other).into(),
            _ => Value::Null,
        },
        FieldKind::Bytes => Value::String(hex(b)),
    }
}

/// `b` as an array of `N` bytes, when it is exactly that long.
fn ne<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    b.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use zerocp::TypeInfo;
    use zerocp_core::fixed_string::FixedString;
    use zerocp_core::type_layout::LayoutState;

    fn field(name: &str, offset: u32, kind: FieldKind, len: u32) -> LayoutField {
        LayoutField {
            name: FixedString::from_str_truncated(name),
            offset,
            kind,
            len,
        }
    }

    fn layout(fields: &[LayoutField]) -> TypeLayout {
        TypeLayout {
            state: LayoutState::Complete,
            fields: heapless::Vec::from_slice(fields).unwrap(),
        }
    }

    fn info(size: u32) -> TypeInfo {
        TypeInfo {
            size,
            align: 1,
            name: FixedString::from_str_truncated("T"),
        }
    }

    #[test]
    fn kinds_decode_to_numbers_bools_arrays_and_hex() {
        let mut payload = Vec::new();
        payload.extend(1.5f64.to_ne_bytes());
        payload.extend((-3i16).to_ne_bytes());
        payload.extend([1, 7]);
        payload.extend([10u16, 20].iter().flat_map(|v| v.to_ne_bytes()));
        payload.extend([0xab, 0xcd]);
        let layout = layout(&[
            field("x", 0, FieldKind::F64, 1),
            field("d", 8, FieldKind::I16, 1),
            field("on", 10, FieldKind::Bool, 1),
            field("odd", 11, FieldKind::Bool, 1),
            field("pair", 12, FieldKind::U16, 2),
            field("raw", 16, FieldKind::Bytes, 2),
        ]);
        let fields = decode(&layout, &ServiceType::sized(info(18)), &payload).unwrap();
        let expected = [
            ("x", json!(1.5)),
            ("d", json!(-3)),
            ("on", json!(true)),
            ("odd", json!(7)),
            ("pair", json!([10, 20])),
            ("raw", json!("abcd")),
        ];
        let expected: Vec<_> = expected.map(|(n, v)| (n.to_owned(), v)).into();
        assert_eq!(fields, expected);
    }

    #[test]
    fn fields_outside_the_element_or_the_payload_are_not_read() {
        let layout = layout(&[
            field("inside", 0, FieldKind::U8, 1),
            field("past_type", 3, FieldKind::U16, 1),
            field("past_payload", 2, FieldKind::U8, 1),
            field("huge", 0, FieldKind::U64, u32::MAX),
        ]);
        let fields = decode(&layout, &ServiceType::sized(info(4)), &[9, 8]).unwrap();
        assert_eq!(fields, [("inside".to_owned(), json!(9))]);
        assert_eq!(
            decode(&TypeLayout::unknown(), &ServiceType::sized(info(4)), &[]),
            None
        );
    }

    #[test]
    fn slices_decode_their_first_elements_by_index() {
        let layout = layout(&[field("v", 0, FieldKind::U8, 1)]);
        let payload: Vec<u8> = (0..40).collect();
        let fields = decode(&layout, &ServiceType::slice(info(1)), &payload).unwrap();
        assert_eq!(fields.len(), MAX_SLICE_ELEMENTS);
        assert_eq!(fields[3], ("[3].v".to_owned(), json!(3)));
    }
}
