//! A field's type as text for `zerocp::FieldInfo::type_name`: the type as written
//! in the declaration (`[f32; 9]`, `Header`), for observability tools that
//! print a sample field by field.
//!
//! `core::any::type_name` is not usable in a constant, and the field's own
//! `ZeroCopySafe::TYPE_NAME` is empty for primitives and arrays, so the
//! derive writes the source text, with the spaces the token printer puts
//! around punctuation removed.

use quote::ToTokens;
use syn::Type;

/// `ty` as written, e.g. `[f32; 9]` rather than the token printer's
/// `[f32 ; 9]`.
pub(crate) fn of(ty: &Type) -> String {
    let printed = ty.to_token_stream().to_string();
    let mut text = String::with_capacity(printed.len());
    let mut chars = printed.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let prev = text.chars().last();
        let drop_space = c == ' '
            && (matches!(next, Some(';' | ',' | ']' | ')' | '>' | ':' | '<'))
                || matches!(prev, Some('[' | '(' | '<' | ':' | '&')));
        if !drop_space {
            text.push(c);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::of;

    #[test]
    fn text_is_the_type_as_written() {
        let cases = [
            ("[f32; 9]", "[f32; 9]"),
            ("u64", "u64"),
            ("[[u8; 4]; 2]", "[[u8; 4]; 2]"),
            ("crate::msg::Header", "crate::msg::Header"),
        ];
        for (written, expected) in cases {
            let ty: syn::Type = syn::parse_str(written).unwrap();
            assert_eq!(of(&ty), expected);
        }
    }
}
