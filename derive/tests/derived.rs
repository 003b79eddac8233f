//! What `#[derive(ZeroCopySafe)]` gives the types it accepts: named, tuple,
//! unit and transparent structs, nested derived types, explicit padding
//! fields, and the `type_name` attribute.

use zerocp::{FieldInfo, ZeroCopySafe};

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Header {
    stamp: u64,
    frame: u32,
    // Explicit, so no byte of the struct is padding.
    _pad: [u8; 4],
}

#[derive(ZeroCopySafe)]
#[repr(C)]
#[zerocp(type_name = "lidar::Scan")]
struct Scan {
    header: Header,
    ranges: [f32; 8],
}

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Pair(u16, i16);

#[derive(ZeroCopySafe)]
#[repr(transparent)]
struct Meters(f64);

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Empty;

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Keyword {
    r#type: u32,
}

#[derive(ZeroCopySafe)]
#[repr(C, align(8))]
struct Aligned {
    a: u32,
    b: u32,
}

fn field(name: &'static str, type_name: &'static str, offset: u32, size: u32) -> FieldInfo {
    FieldInfo {
        name,
        type_name,
        offset,
        size,
    }
}

#[test]
fn type_name_is_the_bare_name_or_the_given_one() {
    assert_eq!(Header::TYPE_NAME, "Header");
    assert_eq!(Header::type_name(), "Header");
    assert_eq!(Scan::TYPE_NAME, "lidar::Scan");
    assert_eq!(Scan::type_name(), "lidar::Scan");
    assert_eq!(Pair::type_name(), "Pair");
}

#[test]
fn fields_list_name_type_offset_and_size_in_order() {
    assert_eq!(
        Header::FIELDS,
        [
            field("stamp", "u64", 0, 8),
            field("frame", "u32", 8, 4),
            field("_pad", "[u8; 4]", 12, 4),
        ]
    );
    assert_eq!(
        Scan::FIELDS,
        [
            field("header", "Header", 0, 16),
            field("ranges", "[f32; 8]", 16, 32)
        ]
    );
    assert_eq!(
        Pair::FIELDS,
        [field("0", "u16", 0, 2), field("1", "i16", 2, 2)]
    );
    assert_eq!(Meters::FIELDS, [field("0", "f64", 0, 8)]);
    assert!(Empty::FIELDS.is_empty());
    assert_eq!(Keyword::FIELDS, [field("type", "u32", 0, 4)]);
    assert_eq!(Aligned::FIELDS.len(), 2);
}

#[test]
fn fields_cover_the_whole_type() {
    fn covered<T: ZeroCopySafe>() -> usize {
        T::FIELDS.iter().map(|f| f.size as usize).sum()
    }
    assert_eq!(covered::<Header>(), size_of::<Header>());
    assert_eq!(covered::<Scan>(), size_of::<Scan>());
    assert_eq!(covered::<Pair>(), size_of::<Pair>());
    assert_eq!(covered::<Meters>(), size_of::<Meters>());
    assert_eq!(covered::<Empty>(), size_of::<Empty>());
    assert_eq!(covered::<Aligned>(), size_of::<Aligned>());
}
