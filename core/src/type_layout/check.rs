//! [`TypeLayout::check`]: a received layout is hostile input (a client
//! wrote it, or a hand-written description built it); before any tool uses
//! an offset of it, every field must lie inside the type.

use core::fmt;

use super::{LayoutState, MAX_FIELD_NAME_LEN, TypeLayout};
use crate::fixed_string::FixedString;

/// Why a [`TypeLayout`] does not fit the type it claims to describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LayoutError {
    /// [`LayoutState::Unknown`] with fields.
    FieldsWithoutLayout {
        /// How many fields it carried.
        count: usize,
    },
    /// A field without a name.
    EmptyName {
        /// Its position in the list.
        index: usize,
    },
    /// A field of zero elements.
    ZeroLength {
        /// Its position in the list.
        index: usize,
        /// Its name.
        name: FixedString<MAX_FIELD_NAME_LEN>,
    },
    /// A field that ends past the type's size (or whose end overflows).
    OutOfBounds {
        /// Its position in the list.
        index: usize,
        /// Its name.
        name: FixedString<MAX_FIELD_NAME_LEN>,
        /// Its offset.
        offset: u32,
        /// Its end (offset plus its elements' bytes), `None` on overflow.
        end: Option<u32>,
        /// The type's size.
        type_size: u32,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FieldsWithoutLayout { count } => {
                write!(
                    f,
                    "layout state Unknown with {count} fields (it must have none)"
                )
            }
            Self::EmptyName { index } => write!(f, "layout field {index} has an empty name"),
            Self::ZeroLength { index, name } => {
                write!(f, "layout field {index} (`{name}`) has 0 elements")
            }
            Self::OutOfBounds {
                index,
                name,
                offset,
                end,
                type_size,
            } => {
                write!(f, "layout field {index} (`{name}`) at offset {offset} ")?;
                match end {
                    Some(end) => write!(f, "ends at {end}, "),
                    None => f.write_str("ends past u32::MAX, "),
                }?;
                write!(f, "past the type's size {type_size}")
            }
        }
    }
}

impl core::error::Error for LayoutError {}

impl TypeLayout {
    /// Checks that the layout describes a type of `type_size` bytes (an
    /// element's size, for a slice): every field named, of at least one
    /// element, inside the type; an unknown layout without fields. Names
    /// are UTF-8 and kinds known by construction (the wire decoder checks
    /// both).
    ///
    /// ```
    /// use zerocp_core::fixed_string::FixedString;
    /// use zerocp_core::type_layout::{FieldKind, LayoutField, LayoutState, TypeLayout};
    ///
    /// let mut layout = TypeLayout { state: LayoutState::Complete, fields: Default::default() };
    /// let field = LayoutField {
    ///     name: FixedString::from_str_truncated("x"),
    ///     offset: 4,
    ///     kind: FieldKind::F64,
    ///     len: 1,
    /// };
    /// layout.fields.push(field).unwrap();
    /// assert!(layout.check(12).is_ok());
    /// let e = layout.check(8).unwrap_err();
    /// assert_eq!(e.to_string(), "layout field 0 (`x`) at offset 4 ends at 12, past the type's size 8");
    /// ```
    pub fn check(&self, type_size: u32) -> Result<(), LayoutError> {
        if self.state == LayoutState::Unknown && !self.fields.is_empty() {
            return Err(LayoutError::FieldsWithoutLayout {
                count: self.fields.len(),
            });
        }
        for (index, field) in self.fields.iter().enumerate() {
            let name = field.name;
            if name.is_empty() {
                return Err(LayoutError::EmptyName { index });
            }
            if field.len == 0 {
                return Err(LayoutError::ZeroLength { index, name });
            }
            let end = field.end();
            if end.is_none_or(|end| end > type_size) {
                return Err(LayoutError::OutOfBounds {
                    index,
                    name,
                    offset: field.offset,
                    end,
                    type_size,
                });
            }
        }
        Ok(())
    }
}
