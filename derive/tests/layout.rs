//! The layout a derived type gives tools: its `DESCRIPTION` flattened by
//! `TypeLayout::describe`, as the runtime sends it with every port. The
//! offsets must be the compiler's (`core::mem::offset_of!`), nested
//! derived structs flattened with dotted names.

use core::mem::offset_of;

use zerocp::ZeroCopySafe;
use zerocp::type_layout::{FieldKind, LayoutState, TypeDescription, TypeLayout};

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Header {
    stamp: u64,
    frame: u32,
    _pad: [u8; 4],
}

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Scan {
    header: Header,
    id: u128,
    ranges: [f32; 8],
    grid: [[i16; 2]; 4],
}

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Point(f32, f32);

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Path {
    points: [Point; 2],
    count: u32,
}

#[derive(ZeroCopySafe)]
#[repr(C)]
struct Empty;

fn layout_of<T: ZeroCopySafe>() -> TypeLayout {
    TypeLayout::describe(&T::DESCRIPTION, size_of::<T>() as u32)
}

fn fields(layout: &TypeLayout) -> Vec<(String, usize, FieldKind, u32)> {
    layout
        .fields
        .iter()
        .map(|f| (f.name.as_str().to_owned(), f.offset as usize, f.kind, f.len))
        .collect()
}

fn row(name: &str, offset: usize, kind: FieldKind, len: u32) -> (String, usize, FieldKind, u32) {
    (name.to_owned(), offset, kind, len)
}

#[test]
fn nested_structs_are_flattened_at_the_compilers_offsets() {
    let layout = layout_of::<Scan>();
    assert_eq!(layout.state, LayoutState::Complete);
    let header = offset_of!(Scan, header);
    assert_eq!(
        fields(&layout),
        [
            row(
                "header.stamp",
                header + offset_of!(Header, stamp),
                FieldKind::U64,
                1
            ),
            row(
                "header.frame",
                header + offset_of!(Header, frame),
                FieldKind::U32,
                1
            ),
            row(
                "header._pad",
                header + offset_of!(Header, _pad),
                FieldKind::U8,
                4
            ),
            row("id", offset_of!(Scan, id), FieldKind::Bytes, 16),
            row("ranges", offset_of!(Scan, ranges), FieldKind::F32, 8),
            row("grid", offset_of!(Scan, grid), FieldKind::I16, 8),
        ]
    );
    assert!(layout.check(size_of::<Scan>() as u32).is_ok());
}

#[test]
fn arrays_of_derived_structs_are_indexed_and_tuple_fields_numbered() {
    let points = offset_of!(Path, points);
    let second = points + size_of::<Point>();
    assert_eq!(
        fields(&layout_of::<Path>()),
        [
            row(
                "points[0].0",
                points + offset_of!(Point, 0),
                FieldKind::F32,
                1
            ),
            row(
                "points[0].1",
                points + offset_of!(Point, 1),
                FieldKind::F32,
                1
            ),
            row(
                "points[1].0",
                second + offset_of!(Point, 0),
                FieldKind::F32,
                1
            ),
            row(
                "points[1].1",
                second + offset_of!(Point, 1),
                FieldKind::F32,
                1
            ),
            row("count", offset_of!(Path, count), FieldKind::U32, 1),
        ]
    );
}

#[test]
fn primitives_describe_themselves_and_unit_structs_have_no_fields() {
    assert_eq!(
        fields(&layout_of::<[u16; 3]>()),
        [row("value", 0, FieldKind::U16, 3)]
    );
    let empty = layout_of::<Empty>();
    assert_eq!(empty.state, LayoutState::Complete);
    assert!(empty.fields.is_empty());
    assert_eq!(u128::DESCRIPTION, TypeDescription::Opaque);
    assert!(!layout_of::<u128>().is_known());
}
