//! [`TypeLayout::describe`]: flattening a [`TypeDescription`] tree into
//! the bounded field list.
//!
//! - A primitive, or an array of primitives (also nested, `[[f32; 3]; 3]`,
//!   contiguous since arrays have no padding), is one field of `len`
//!   elements.
//! - A struct's fields are flattened with dotted names (`pose.x`); an
//!   array of structs gives one group per element (`points[0].x`).
//! - Bytes described as opaque are one [`FieldKind::Bytes`] field of
//!   their size; zero-sized fields are left out.
//! - A top-level primitive or array is named `value` (`value[0].x`).
//! - Past [`MAX_LAYOUT_FIELDS`](super::MAX_LAYOUT_FIELDS) fields the layout is
//!   [`LayoutState::Truncated`]; a name longer than [`MAX_FIELD_NAME_LEN`]
//!   is cut at a character boundary; nesting deeper than [`MAX_DEPTH`] is
//!   opaque bytes (a hand-written description could loop).
//!
//! The result is checked against the type's size ([`TypeLayout::check`]):
//! a description that does not fit its type (only a hand-written one can
//! be wrong) gives [`TypeLayout::unknown`], never an error.

use core::fmt::{self, Write};

use super::{FieldKind, LayoutField, LayoutState, MAX_FIELD_NAME_LEN, TypeDescription, TypeLayout};
use crate::fixed_string::FixedString;

/// Deepest nesting of structs and arrays flattened.
pub const MAX_DEPTH: u32 = 8;

impl TypeLayout {
    /// The layout of a type of `size` bytes described by `description`
    /// (see the [module docs](self) for the flattening rules).
    ///
    /// ```
    /// use zerocp_core::type_layout::{
    ///     FieldDescription, FieldKind, LayoutState, TypeDescription, TypeLayout,
    /// };
    ///
    /// const F64: TypeDescription = TypeDescription::Primitive(FieldKind::F64);
    /// const XY: TypeDescription = TypeDescription::Struct(&[
    ///     FieldDescription { name: "x", offset: 0, size: 8, description: &F64 },
    ///     FieldDescription { name: "y", offset: 8, size: 8, description: &F64 },
    /// ]);
    /// const POSE: TypeDescription = TypeDescription::Struct(&[
    ///     FieldDescription { name: "pos", offset: 0, size: 16, description: &XY },
    ///     FieldDescription { name: "theta", offset: 16, size: 8, description: &F64 },
    /// ]);
    /// let layout = TypeLayout::describe(&POSE, 24);
    /// assert_eq!(layout.state, LayoutState::Complete);
    /// let names: Vec<_> = layout.fields.iter().map(|f| (f.name.as_str(), f.offset)).collect();
    /// assert_eq!(names, [("pos.x", 0), ("pos.y", 8), ("theta", 16)]);
    /// ```
    pub fn describe(description: &TypeDescription, size: u32) -> Self {
        if matches!(description, TypeDescription::Opaque) {
            return Self::unknown();
        }
        let mut builder = Builder {
            layout: Self {
                state: LayoutState::Complete,
                fields: heapless::Vec::new(),
            },
        };
        let top = if matches!(description, TypeDescription::Struct(_)) {
            Name::default()
        } else {
            Name::of("value")
        };
        builder.emit(&top, 0, size, description, 0);
        let layout = builder.layout;
        match layout.check(size) {
            Ok(()) => layout,
            Err(_) => Self::unknown(),
        }
    }
}

/// The layout being built.
struct Builder {
    layout: TypeLayout,
}

impl Builder {
    fn full(&self) -> bool {
        self.layout.state == LayoutState::Truncated
    }

    /// Appends a field, or marks the layout truncated when it is full.
    fn push(&mut self, name: &Name, offset: u32, kind: FieldKind, len: u32) {
        if len == 0 || self.full() {
            return;
        }
        let field = LayoutField {
            name: name.fixed(),
            offset,
            kind,
            len,
        };
        if self.layout.fields.push(field).is_err() {
            self.layout.state = LayoutState::Truncated;
        }
    }

    /// The fields of `size` bytes at `offset` described by `description`.
    fn emit(
        &mut self,
        name: &Name,
        offset: u32,
        size: u32,
        description: &TypeDescription,
        depth: u32,
    ) {
        if depth > MAX_DEPTH {
            return self.push(name, offset, FieldKind::Bytes, size);
        }
        if let Some((kind, len)) = primitive_run(description, depth) {
            return self.push(name, offset, kind, len);
        }
        match *description {
            TypeDescription::Opaque | TypeDescription::Primitive(_) => {
                self.push(name, offset, FieldKind::Bytes, size)
            }
            TypeDescription::Array {
                element,
                element_size,
                len,
            } => {
                if matches!(element, TypeDescription::Opaque) {
                    return self.push(name, offset, FieldKind::Bytes, size);
                }
                for i in 0..len {
                    let Some(at) = element_size
                        .checked_mul(i)
                        .and_then(|o| o.checked_add(offset))
                    else {
                        return;
                    };
                    if self.full() {
                        return;
                    }
                    let mut item = name.clone();
                    // A cut name is still a name: the error only means "cut".
                    let _ = write!(item, "[{i}]");
                    self.emit(&item, at, element_size, element, depth + 1);
                }
            }
            TypeDescription::Struct(fields) => {
                for field in fields {
                    let Some(at) = offset.checked_add(field.offset) else {
                        return;
                    };
                    let child = name.join(field.name);
                    self.emit(&child, at, field.size, field.description, depth + 1);
                }
            }
        }
    }
}

/// A primitive or a (nested) array of primitives: its kind and element count.
fn primitive_run(description: &TypeDescription, depth: u32) -> Option<(FieldKind, u32)> {
    if depth > MAX_DEPTH {
        return None;
    }
    match *description {
        TypeDescription::Primitive(kind) => Some((kind, 1)),
        TypeDescription::Array { element, len, .. } => {
            let (kind, inner) = primitive_run(element, depth + 1)?;
            Some((kind, inner.checked_mul(len)?))
        }
        TypeDescription::Opaque | TypeDescription::Struct(_) => None,
    }
}

/// A field name being built, cut at [`MAX_FIELD_NAME_LEN`] bytes on a
/// character boundary.
#[derive(Clone, Default)]
struct Name {
    bytes: [u8; MAX_FIELD_NAME_LEN],
    len: usize,
}

impl Name {
    fn of(part: &str) -> Self {
        let mut name = Self::default();
        let _ = name.write_str(part);
        name
    }

    /// `self.part`, or `part` at the top.
    fn join(&self, part: &str) -> Self {
        let mut name = self.clone();
        if name.len > 0 {
            let _ = name.write_char('.');
        }
        let _ = name.write_str(part);
        name
    }

    fn as_str(&self) -> &str {
        // Only whole characters are ever appended (`write_str`).
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    fn fixed(&self) -> FixedString<MAX_FIELD_NAME_LEN> {
        FixedString::from_str_truncated(self.as_str())
    }
}

impl Write for Name {
    /// Appends the characters of `s` that fit; `Err` when some did not.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let end = self.len + c.len_utf8();
            let Some(dst) = self.bytes.get_mut(self.len..end) else {
                return Err(fmt::Error);
            };
            c.encode_utf8(dst);
            self.len = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
