use super::*;
use crate::type_layout::FieldDescription;
use crate::type_layout::{LayoutError, MAX_LAYOUT_FIELDS};

const U8: TypeDescription = TypeDescription::Primitive(FieldKind::U8);
const F32: TypeDescription = TypeDescription::Primitive(FieldKind::F32);
const F64: TypeDescription = TypeDescription::Primitive(FieldKind::F64);
const OPAQUE: TypeDescription = TypeDescription::Opaque;

const fn field(
    name: &'static str,
    offset: u32,
    size: u32,
    description: &'static TypeDescription,
) -> FieldDescription {
    FieldDescription {
        name,
        offset,
        size,
        description,
    }
}

fn names(layout: &TypeLayout) -> std::vec::Vec<(&str, u32, FieldKind, u32)> {
    layout
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.offset, f.kind, f.len))
        .collect()
}

#[test]
fn primitives_and_arrays_of_them_are_one_field_named_value() {
    let layout = TypeLayout::describe(&F64, 8);
    assert_eq!(names(&layout), [("value", 0, FieldKind::F64, 1)]);
    const ROW: TypeDescription = TypeDescription::Array {
        element: &F32,
        element_size: 4,
        len: 3,
    };
    const MATRIX: TypeDescription = TypeDescription::Array {
        element: &ROW,
        element_size: 12,
        len: 3,
    };
    let layout = TypeLayout::describe(&MATRIX, 36);
    assert_eq!(layout.state, LayoutState::Complete);
    assert_eq!(names(&layout), [("value", 0, FieldKind::F32, 9)]);
}

#[test]
fn opaque_types_have_no_layout_and_opaque_fields_are_bytes() {
    assert_eq!(TypeLayout::describe(&OPAQUE, 16), TypeLayout::unknown());
    const MIXED: TypeDescription = TypeDescription::Struct(&[
        field("id", 0, 16, &OPAQUE),
        field("unit", 16, 0, &OPAQUE),
        field("flag", 16, 1, &U8),
    ]);
    let layout = TypeLayout::describe(&MIXED, 17);
    assert_eq!(
        names(&layout),
        [
            ("id", 0, FieldKind::Bytes, 16),
            ("flag", 16, FieldKind::U8, 1)
        ]
    );
}

#[test]
fn arrays_of_structs_are_indexed() {
    const POINT: TypeDescription =
        TypeDescription::Struct(&[field("x", 0, 4, &F32), field("y", 4, 4, &F32)]);
    const POINTS: TypeDescription = TypeDescription::Array {
        element: &POINT,
        element_size: 8,
        len: 2,
    };
    const CLOUD: TypeDescription =
        TypeDescription::Struct(&[field("stamp", 0, 8, &F64), field("points", 8, 16, &POINTS)]);
    let layout = TypeLayout::describe(&CLOUD, 24);
    assert_eq!(
        names(&layout),
        [
            ("stamp", 0, FieldKind::F64, 1),
            ("points[0].x", 8, FieldKind::F32, 1),
            ("points[0].y", 12, FieldKind::F32, 1),
            ("points[1].x", 16, FieldKind::F32, 1),
            ("points[1].y", 20, FieldKind::F32, 1),
        ]
    );
}

#[test]
fn more_fields_than_the_bound_are_truncated() {
    const POINT: TypeDescription =
        TypeDescription::Struct(&[field("x", 0, 4, &F32), field("y", 4, 4, &F32)]);
    const MANY: TypeDescription = TypeDescription::Array {
        element: &POINT,
        element_size: 8,
        len: 1000,
    };
    let layout = TypeLayout::describe(&MANY, 8000);
    assert_eq!(layout.state, LayoutState::Truncated);
    assert_eq!(layout.fields.len(), MAX_LAYOUT_FIELDS);
    assert_eq!(layout.fields[0].name.as_str(), "value[0].x");
    assert_eq!(layout.fields[31].offset, 15 * 8 + 4);
    assert!(layout.check(8000).is_ok());
}

#[test]
fn long_names_are_cut_at_a_character_boundary() {
    const INNER: TypeDescription =
        TypeDescription::Struct(&[field("a_rather_long_inner_name_é", 0, 1, &U8)]);
    const OUTER: TypeDescription =
        TypeDescription::Struct(&[field("an_outer_field_name", 0, 1, &INNER)]);
    let layout = TypeLayout::describe(&OUTER, 1);
    let name = layout.fields[0].name.as_str();
    assert!(name.len() <= MAX_FIELD_NAME_LEN, "{name}");
    assert!("an_outer_field_name.a_rather_long_inner_name_é".starts_with(name));
}

#[test]
fn a_description_that_does_not_fit_its_type_gives_no_layout() {
    const WRONG: TypeDescription = TypeDescription::Struct(&[field("x", 4, 8, &F64)]);
    assert_eq!(TypeLayout::describe(&WRONG, 8), TypeLayout::unknown());
    const OVERFLOW: TypeDescription = TypeDescription::Struct(&[field("x", u32::MAX, 8, &F64)]);
    assert_eq!(TypeLayout::describe(&OVERFLOW, 8), TypeLayout::unknown());
}

#[test]
fn deep_nesting_becomes_bytes() {
    struct Chain;
    impl Chain {
        const L0: TypeDescription = TypeDescription::Struct(&[field("a", 0, 1, &U8)]);
        const L1: TypeDescription = TypeDescription::Struct(&[field("b", 0, 1, &Self::L0)]);
        const L2: TypeDescription = TypeDescription::Struct(&[field("c", 0, 1, &Self::L1)]);
        const L3: TypeDescription = TypeDescription::Struct(&[field("d", 0, 1, &Self::L2)]);
        const L4: TypeDescription = TypeDescription::Struct(&[field("e", 0, 1, &Self::L3)]);
        const L5: TypeDescription = TypeDescription::Struct(&[field("f", 0, 1, &Self::L4)]);
        const L6: TypeDescription = TypeDescription::Struct(&[field("g", 0, 1, &Self::L5)]);
        const L7: TypeDescription = TypeDescription::Struct(&[field("h", 0, 1, &Self::L6)]);
        const L8: TypeDescription = TypeDescription::Struct(&[field("i", 0, 1, &Self::L7)]);
        const L9: TypeDescription = TypeDescription::Struct(&[field("j", 0, 1, &Self::L8)]);
    }
    let layout = TypeLayout::describe(&Chain::L9, 1);
    assert_eq!(layout.fields.len(), 1);
    assert_eq!(layout.fields[0].kind, FieldKind::Bytes);
    assert_eq!(layout.fields[0].name.as_str(), "j.i.h.g.f.e.d.c.b");
}

#[test]
fn check_names_what_is_wrong() {
    let mut layout = TypeLayout::describe(&F64, 8);
    assert!(layout.check(8).is_ok());
    assert!(matches!(
        layout.check(4),
        Err(LayoutError::OutOfBounds {
            index: 0,
            end: Some(8),
            type_size: 4,
            ..
        })
    ));
    layout.fields[0].len = 0;
    assert!(matches!(
        layout.check(8),
        Err(LayoutError::ZeroLength { .. })
    ));
    layout.fields[0].len = u32::MAX;
    let e = layout.check(8).unwrap_err();
    assert_eq!(
        std::format!("{e}"),
        "layout field 0 (`value`) at offset 0 ends past u32::MAX, past the type's size 8"
    );
    layout.fields[0].len = 1;
    layout.fields[0].name = FixedString::new();
    assert_eq!(layout.check(8), Err(LayoutError::EmptyName { index: 0 }));
    layout.state = LayoutState::Unknown;
    assert_eq!(
        layout.check(8),
        Err(LayoutError::FieldsWithoutLayout { count: 1 })
    );
}
